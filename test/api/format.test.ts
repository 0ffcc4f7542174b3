// Data written by an earlier release must read in this one. format-1.msgpack is a store written by
// scripts/make-fixture.mjs with segment format 1; a change that cannot read it fails here. When the format
// changes on purpose, add a new fixture beside it and keep this one.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import { FIXTURE_LIBRARY, fixtureSymbols } from "../fixtures/frames.ts";
import { tempDir } from "../helpers.ts";

function restore(file: string): string {
  const { pairs } = decode(readFileSync(join(import.meta.dirname, "../fixtures", file))) as {
    pairs: [string, Uint8Array][];
  };
  const dir = tempDir();
  const storage = new LmdbStorage({ path: dir });
  storage.writeTransaction((tx) => {
    for (const [key, value] of pairs) tx.put(key, value);
  });
  storage.close();
  return dir;
}

describe("format 1 store", () => {
  it("reads every symbol, version and metadata as written", async () => {
    const ac = new Arctic(`lmdb://${restore("format-1.msgpack")}`);
    const lib = await ac.getLibrary(FIXTURE_LIBRARY);
    const expected = fixtureSymbols();
    expect(await lib.listSymbols()).toEqual(expected.map((s) => s.symbol).sort());
    for (const { symbol, versions } of expected) {
      let whole = versions[0].frame;
      for (let v = 0; v < versions.length; v++) {
        const { op, frame, metadata } = versions[v];
        if (op === "append") whole = concat(whole, frame);
        else whole = frame;
        const item = await lib.read(symbol, { asOf: v });
        expect(item.version).toBe(v);
        expect(item.data!.equals(whole), `${symbol} v${v}`).toBe(true);
        expect(item.metadata).toEqual(metadata);
      }
    }
    await ac.close();
  });
});

/** `a` then `b` (same columns, timestamp index): what an append stores. */
function concat(a: DataFrame, b: DataFrame): DataFrame {
  const columns: Record<string, unknown> = {};
  for (const name of a.columnNames) {
    const x = a.column(name);
    const y = b.column(name);
    if (Array.isArray(x)) columns[name] = [...x, ...(y as typeof x)];
    else {
      const out = new (x.constructor as new (n: number) => Float64Array)(x.length + y.length);
      out.set(x as Float64Array);
      out.set(y as Float64Array, x.length);
      columns[name] = out;
    }
  }
  const ia = a.index;
  const ib = b.index;
  if (ia.kind !== "timestamp" || ib.kind !== "timestamp") throw new Error("fixture appends are timestamped");
  const values = new BigInt64Array(ia.values.length + ib.values.length);
  values.set(ia.values);
  values.set(ib.values, ia.values.length);
  return new DataFrame(columns, { index: { name: ia.name, values }, dtypes: { ...a.dtypes } });
}
