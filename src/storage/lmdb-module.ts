import type * as Lmdb from "lmdb";
import { StorageError } from "../errors.ts";

/**
 * The parts of the `lmdb` package floe uses. The package is not imported here: loading it loads its
 * native addon, which Deno allows only with `--allow-env --allow-read --allow-ffi`, so a program that
 * only uses `mem://` would need them too. Each runtime entry that has LMDB hands the module over with
 * `provideLmdb` (Node and Bun on import; Deno on import when those permissions are granted).
 */
export type LmdbModule = Pick<typeof Lmdb, "ABORT" | "openAsClass">;

let provided: LmdbModule | null = null;
let missing: () => StorageError = () =>
  new StorageError("LMDB is not loaded in this runtime; use 'mem://' here, or run on Node, Bun or Deno.");

/** Gives floe the `lmdb` package, loaded by the runtime entry. */
export function provideLmdb(module: LmdbModule): void {
  provided = module;
}

/** Sets the error `lmdbModule()` throws while no module was provided (why it could not be loaded). */
export function lmdbUnavailable(error: () => StorageError): void {
  missing = error;
}

/** The `lmdb` package; a `StorageError` saying why when the runtime could not load it. */
export function lmdbModule(): LmdbModule {
  if (!provided) throw missing();
  return provided;
}
