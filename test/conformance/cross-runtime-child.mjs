// One side of the cross-runtime test (cross-runtime.test.ts): run by Node, Bun or Deno as
//   <runtime> cross-runtime-child.mjs write|read <lmdb uri> <runtime name>
// It imports "floe" by package name, so each runtime gets its own build through package.json's export
// conditions (dist/node.js, dist/bun.js, dist/deno.js). `write` stores symbol `from-<runtime>`; `read`
// prints, as JSON, what every `from-*` symbol holds and whether it equals the frame its writer made.
import { Arctic, DataFrame } from "floe";

const [mode, uri, runtime] = (globalThis.Deno?.args ?? globalThis.process.argv.slice(2)).slice(-3);

/** The frame a writer stores; the same in every runtime, so readers can rebuild and compare it. */
function frameBy(writer) {
  const n = 3000;
  const seed = [...writer].reduce((a, c) => a + c.charCodeAt(0), 0);
  return new DataFrame(
    {
      f64: new Float64Array(n).map((_, i) => (i === 0 ? Number.NaN : (i * seed) / 7)),
      f32: new Float32Array(n).map((_, i) => i / 3),
      i8: new Int8Array(n).map((_, i) => i - 128),
      i16: new Int16Array(n).map((_, i) => i * 11),
      i32: new Int32Array(n).map((_, i) => -i * seed),
      i64: new BigInt64Array(n).map((_, i) => (i % 2 ? -(2n ** 63n) : BigInt(i * seed))),
      u8: new Uint8Array(n).map((_, i) => i & 255),
      u16: new Uint16Array(n).map((_, i) => 65535 - i),
      u32: new Uint32Array(n).map((_, i) => 2 ** 32 - 1 - i),
      u64: new BigUint64Array(n).map((_, i) => 2n ** 64n - 1n - BigInt(i)),
      flag: new Uint8Array(n).map((_, i) => i % 2),
      when: new BigInt64Array(n).map((_, i) => 1_700_000_000_000_000_000n + BigInt(i)),
      s: Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : `${writer} ✓ ${i}`)),
    },
    {
      index: new BigInt64Array(n).map((_, i) => 1_600_000_000_000_000_000n + BigInt(i) * 60_000_000_000n),
      dtypes: { flag: "bool", when: "timestamp" },
    },
  );
}

const ac = new Arctic(uri, { workers: 0 });
const lib = await ac.getLibrary("cross", { createIfMissing: true, libraryOptions: { rowsPerSegment: 1000 } });
if (mode === "write") {
  const frame = frameBy(runtime);
  await lib.write(`from-${runtime}`, frame, { metadata: { by: runtime } });
  await lib.append(
    `from-${runtime}`,
    new DataFrame(
      { ...columnsOf(frameBy(runtime), 1) },
      {
        index: [new Date("2030-01-01T00:00:00Z")],
        dtypes: { ...frame.dtypes },
      },
    ),
  );
  console.log(JSON.stringify({ wrote: `from-${runtime}`, build: import.meta.resolve("floe") }));
} else {
  const out = { build: import.meta.resolve("floe"), symbols: {} };
  for (const symbol of (await lib.listSymbols()).sort()) {
    const writer = symbol.slice("from-".length);
    const first = await lib.read(symbol, { asOf: 0 });
    const latest = await lib.read(symbol);
    out.symbols[symbol] = {
      metadata: first.metadata,
      versions: (await lib.listVersions(symbol)).length,
      equal: first.data.equals(frameBy(writer)),
      rows: latest.data.numRows,
    };
  }
  console.log(JSON.stringify(out));
}
await ac.close();

/** The first `rows` rows of each column of `frame`. */
function columnsOf(frame, rows) {
  const out = {};
  for (const name of frame.columnNames) out[name] = frame.column(name).slice(0, rows);
  return out;
}
