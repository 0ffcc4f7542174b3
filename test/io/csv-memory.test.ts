import { execFile } from "node:child_process";
import { createWriteStream, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Arctic } from "../../runtimes/node.ts";
import { tempDir } from "../helpers.ts";

// A CSV of tens of MB imports in bounded memory (issue 8, item 2): the import runs in a child process
// (test/io/csv-import-child.mjs, over the built dist/) whose JS heap is capped at 64 MB, and reports its
// peak RSS; every row reads back exactly. The same script, run by hand on a file of gigabytes, gives the figures in docs/import-export.md.

const CHILD = fileURLToPath(new URL("./csv-import-child.mjs", import.meta.url));
const ROWS = 600_000;
const T0 = Date.UTC(2024, 0, 1);

/** Row i of the generated file: a timestamp, a price walk, a count, a flag and a short label. */
function row(i: number): string {
  const t = new Date(T0 + i * 250).toISOString();
  return `${t},${(100 + (i % 997) * 0.01).toFixed(2)},${i * 3 - 7},${i % 3 === 0},sym${i % 50}`;
}

async function writeCsv(file: string): Promise<void> {
  const out = createWriteStream(file);
  out.write("time,price,qty,flag,label\n");
  for (let i = 0; i < ROWS; i += 10_000) {
    let block = "";
    for (let j = i; j < Math.min(i + 10_000, ROWS); j++) block += `${row(j)}\n`;
    if (!out.write(block)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
}

describe("CSV import memory", () => {
  it("imports a 30 MB CSV with a 64 MB JS heap, every row exact", async () => {
    if (!existsSync(fileURLToPath(new URL("../../dist/io.js", import.meta.url)))) {
      throw new Error("dist/io.js is missing: run `npm run build` first.");
    }
    const dir = tempDir("floe-csv-mem-");
    const file = join(dir, "big.csv");
    await writeCsv(file);
    const size = statSync(file).size;
    expect(size).toBeGreaterThan(28e6);
    const report = await new Promise<{ rows: number; rssBefore: number; rssPeak: number; seconds: number }>(
      (resolve, reject) => {
        // Holding the file's cells at once would take several times its size in JS strings, far over
        // 64 MB of heap; streaming holds one chunk of 100,000 rows.
        const argv = ["--max-old-space-size=64", CHILD, join(dir, "s.lmdb"), file, "time"];
        execFile(process.execPath, argv, (err, stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout)),
        );
      },
    );
    expect(report.rows).toBe(ROWS);
    const growth = report.rssPeak - report.rssBefore;
    console.log(
      `CSV import: ${(size / 1e6).toFixed(1)} MB in ${report.seconds.toFixed(1)} s, peak RSS ${(report.rssPeak / 1e6).toFixed(0)} MB (+${(growth / 1e6).toFixed(0)} MB)`,
    );
    expect(report.rssPeak).toBeLessThan(300e6);

    const ac = new Arctic(`lmdb://${join(dir, "s.lmdb")}`, { workers: 0 });
    const lib = await ac.getLibrary("lib");
    const df = (await lib.read("big")).data!;
    expect(df.numRows).toBe(ROWS);
    expect(df.dtypes).toEqual({ price: "float64", qty: "int64", flag: "bool", label: "string" });
    const index = df.index.kind === "timestamp" ? df.index.values : new BigInt64Array();
    const price = df.column("price") as Float64Array;
    const qty = df.column("qty") as BigInt64Array;
    const flag = df.column("flag") as Uint8Array;
    const label = df.column("label") as string[];
    let mismatches = 0;
    for (let i = 0; i < ROWS; i++) {
      const back = `${new Date(Number(index[i] / 1_000_000n)).toISOString()},${price[i].toFixed(2)},${qty[i]},${flag[i] === 1},${label[i]}`;
      if (back !== row(i) && mismatches++ < 3) expect(back).toBe(row(i));
    }
    expect(mismatches).toBe(0);
    await ac.close();
  });
});
