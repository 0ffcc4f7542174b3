// Time-series operations on a large symbol, against the same operation on a small one.
//
//   npm run bench:timeseries -- --rows 10000000 --repeats 9
//
// On lmdb:// (bench/out, durable commits) it writes a minute-bar series of --rows rows (timestamp index,
// a random-walk price and an int64 volume), then times, median of --repeats:
//   - append of 1,000 rows to it, against a write of the same 1,000 rows as a new symbol (the bar:
//     an append costs about what writing the new rows alone costs, however long the symbol is);
//   - a dateRange read of one day (1,440 rows) from the middle, against reading a 1,440-row symbol whole;
//   - a dateRange read of 1 % of the rows at a random place (the peers study's range read).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Arctic, DataFrame } from "floe";

const { values: args } = parseArgs({
  options: {
    rows: { type: "string", default: "10000000" },
    repeats: { type: "string", default: "9" },
    dir: { type: "string", default: "bench/out" },
  },
});
const rows = Number(args.rows);
const repeats = Number(args.repeats);
const MINUTE = 60_000_000_000n;
const START = BigInt(Date.UTC(2000, 0, 1)) * 1_000_000n;

function bars(from, n) {
  const index = new BigInt64Array(n);
  const price = new Float64Array(n);
  const volume = new BigInt64Array(n);
  let p = 100;
  for (let i = 0; i < n; i++) {
    index[i] = START + BigInt(from + i) * MINUTE;
    p += (Math.random() - 0.5) * 0.05;
    price[i] = Math.round(p * 100) / 100;
    volume[i] = BigInt(Math.floor(Math.random() * 1000));
  }
  return new DataFrame({ price, volume }, { index });
}

async function median(fn) {
  const times = [];
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    await fn(r);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

const path = join(args.dir, "timeseries.lmdb");
rmSync(path, { recursive: true, force: true });
const ac = new Arctic(`lmdb://${path}`);
const lib = await ac.createLibrary("bench");
process.stdout.write(`writing ${rows.toLocaleString()} rows… `);
const t = performance.now();
for (let at = 0; at < rows; at += 1_000_000) {
  const n = Math.min(1_000_000, rows - at);
  if (at === 0) await lib.write("big", bars(0, n));
  else await lib.append("big", bars(at, n));
}
console.log(`${((performance.now() - t) / 1000).toFixed(1)} s`);

let next = rows;
const appendMs = await median(async () => {
  await lib.append("big", bars(next, 1000));
  next += 1000;
});
const writeMs = await median((r) => lib.write(`small${r}`, bars(0, 1000)));

const dayStart = START + BigInt(Math.floor(rows / 2 / 1440) * 1440) * MINUTE;
const dayMs = await median(() => lib.read("big", { dateRange: [dayStart, dayStart + 1439n * MINUTE] }));
const pctRows = Math.floor(rows / 100);
const pctMs = await median(async () => {
  const from = Math.floor(Math.random() * (rows - pctRows));
  const a = START + BigInt(from) * MINUTE;
  const got = await lib.read("big", { dateRange: [a, a + BigInt(pctRows - 1) * MINUTE] });
  if (got.data.numRows !== pctRows) throw new Error(`1 % read returned ${got.data.numRows} rows`);
});
await lib.write("day", bars(0, 1440));
const wholeMs = await median(() => lib.read("day"));

console.log(
  `append 1,000 rows to ${rows.toLocaleString()}: ${appendMs.toFixed(2)} ms (median of ${repeats})`,
);
console.log(
  `write 1,000 rows as a new symbol:     ${writeMs.toFixed(2)} ms   ratio append/write ${(appendMs / writeMs).toFixed(2)}`,
);
console.log(`dateRange read of one day (1,440 rows): ${dayMs.toFixed(2)} ms`);
console.log(
  `read of a whole 1,440-row symbol:       ${wholeMs.toFixed(2)} ms   ratio ${(dayMs / wholeMs).toFixed(2)}`,
);
console.log(`dateRange read of 1 % (${pctRows.toLocaleString()} rows): ${pctMs.toFixed(2)} ms`);
await ac.close();
rmSync(path, { recursive: true, force: true });
