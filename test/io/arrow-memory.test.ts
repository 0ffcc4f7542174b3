import { execFile } from "node:child_process";
import { closeSync, existsSync, openSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AsyncByteQueue, RecordBatchFileWriter, RecordBatchStreamWriter } from "apache-arrow";
import { describe, expect, it } from "vitest";
import { DataFrame } from "../../runtimes/node.ts";
import { toArrow } from "../../src/arrow/index.ts";
import { tempDir } from "../helpers.ts";

// An Arrow IPC stream of about 200 MB imports in bounded memory (issue 24, item 3): the import runs in
// a child process (test/io/arrow-import-child.mjs, over the built dist/) that samples its private
// memory (RssAnon + RssShmem: LMDB's mapped pages are the page cache, not the process's) and reads
// every row back. The stream comes from a Node file stream, read batch by batch; a file-format file of
// the same rows, imported by path, is read by its footer a batch at a time. The child's JS heap is
// capped at 64 MB, as in csv-memory.test.ts: an uncapped V8 lets some 60 MB of garbage (heap and
// ArrayBuffers) sit uncollected, which would blur the measure; the data itself could never fit. A
// stream a quarter the size must peak at about the same memory: memory does not grow with the input.

const CHILD = fileURLToPath(new URL("./arrow-import-child.mjs", import.meta.url));
const BATCH = 50_000;
const BATCHES = 115; // 5.75 M rows of 34 bytes: about 200 MB
const T0 = 1_704_067_200_000_000_000n;

function batchFrame(b: number): DataFrame {
  const from = b * BATCH;
  return new DataFrame(
    {
      px: Float64Array.from({ length: BATCH }, (_, i) => 100 + Math.sin(from + i)),
      qty: BigInt64Array.from({ length: BATCH }, (_, i) => BigInt((from + i) % 1000) - 3n),
      bid: Float32Array.from({ length: BATCH }, (_, i) => (from + i) / 3),
      venue: Array.from({ length: BATCH }, (_, i) => `v${(from + i) % 13}`),
    },
    {
      index: {
        name: "time",
        values: BigInt64Array.from({ length: BATCH }, (_, i) => T0 + BigInt(from + i) * 1_000_000n),
      },
    },
  );
}

/** Writes the batches to `file` in the stream or file format, one batch in memory at a time; the qty sum. */
function writeIpc(file: string, format: "stream" | "file", batches = BATCHES): bigint {
  const fd = openSync(file, "w");
  class ToFile extends AsyncByteQueue {
    override write(value: unknown) {
      const bytes = value as Uint8Array;
      if (bytes.byteLength > 0) writeSync(fd, bytes);
    }
  }
  const writer = format === "stream" ? new RecordBatchStreamWriter() : new RecordBatchFileWriter();
  writer.reset(new ToFile());
  let sum = 0n;
  for (let b = 0; b < batches; b++) {
    const df = batchFrame(b);
    for (const v of df.column("qty") as BigInt64Array) sum += v;
    writer.write(toArrow(df).batches[0]);
  }
  writer.finish();
  closeSync(fd);
  return sum;
}

type Report = {
  rows: number;
  readBack: number;
  sum: string;
  seconds: number;
  privateBefore: number;
  privatePeak: number;
  maxRss: number;
};

function runChild(store: string, file: string, how: "stream" | "path"): Promise<Report> {
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      ["--expose-gc", "--max-old-space-size=64", CHILD, store, file, how],
      (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
    ),
  );
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(0)} MB`;
}

describe("Arrow IPC import memory", () => {
  for (const [format, how] of [
    ["stream", "stream"],
    ["file", "path"],
  ] as const) {
    it(`imports a 200 MB IPC ${format} (${how === "stream" ? "a Node stream" : "by path"}) holding a fraction of it`, async () => {
      if (!existsSync(fileURLToPath(new URL("../../dist/io.js", import.meta.url)))) {
        throw new Error("dist/io.js is missing: run `npm run build` first.");
      }
      const dir = tempDir("floe-arrow-mem-");
      const name = format === "stream" ? "big.arrows" : "big.arrow";
      const growth: number[] = [];
      for (const batches of [BATCHES >> 2, BATCHES]) {
        const file = join(dir, `${batches}-${name}`);
        const sum = writeIpc(file, format, batches);
        const size = statSync(file).size;
        const report = await runChild(join(dir, `${batches}.lmdb`), file, how);
        expect(report.rows).toBe(BATCH * batches);
        expect(report.readBack).toBe(BATCH * batches);
        expect(report.sum).toBe(String(sum));
        growth.push(report.privatePeak - report.privateBefore);
        console.log(
          `Arrow IPC ${format} import: ${mb(size)} in ${report.seconds.toFixed(1)} s; private memory ` +
            `${mb(report.privateBefore)} before, peak ${mb(report.privatePeak)} (+${mb(growth.at(-1)!)}, ` +
            `${((100 * growth.at(-1)!) / size).toFixed(0)} % of the ${format}); max RSS ${mb(report.maxRss)}`,
        );
        if (batches === BATCHES) {
          expect(size).toBeGreaterThan(190e6);
          expect(growth[1]).toBeLessThan(0.6 * size);
        }
      }
      // Four times the bytes, about the same memory.
      expect(growth[1]).toBeLessThan(growth[0] + 30e6);
    }, 600_000);
  }
});
