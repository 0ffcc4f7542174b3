// Imports one CSV file into an lmdb:// store in a process of its own and prints, as JSON, the rows
// imported, the time taken and the process's peak RSS before and after the import, so a test (or a
// person, on a file of gigabytes) can see that memory stays bounded whatever the file's size.
//
// usage: node test/io/csv-import-child.mjs <store dir> <file.csv> [index column] [rows per chunk]

import { importFile } from "../../dist/io.js";
import { Arctic } from "../../dist/node.js";

const [path, file, index, chunkRows] = process.argv.slice(2);
const ac = new Arctic(`lmdb://${path}`);
const lib = await ac.getLibrary("lib", { createIfMissing: true });
const before = process.resourceUsage().maxRSS * 1024;
const started = performance.now();
const options = { ...(index ? { index } : {}), ...(chunkRows ? { chunkRows: Number(chunkRows) } : {}) };
const item = await importFile(lib, "big", file, options);
const seconds = (performance.now() - started) / 1000;
const peak = process.resourceUsage().maxRSS * 1024;
await ac.close();
console.log(
  JSON.stringify({ rows: item.rows, version: item.version, seconds, rssBefore: before, rssPeak: peak }),
);
