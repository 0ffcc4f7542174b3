// Tests that use floe's LMDB storage from src/ directly, without a runtime entry: give it the `lmdb`
// package, as runtimes/node.ts does on import.
import * as lmdb from "lmdb";
import { provideLmdb } from "../src/storage/lmdb-module.ts";

provideLmdb(lmdb);
