// Data written by an earlier release must read in this one. format-<N>.msgpack are stores written by
// scripts/make-fixture.mjs: format-1 before stored records carried checksums, format-2 with them (and with
// snapshots, dynamic schema and staged data). A change that cannot read them fails here. When the format
// changes on purpose, add a new fixture beside them and keep the old ones.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decode } from "@msgpack/msgpack";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import { checkExtras } from "../fixtures/extras.ts";
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

describe.each(["format-1.msgpack", "format-2.msgpack"])("%s", (file) => {
  it("reads every symbol, version and metadata as written", async () => {
    const ac = new Arctic(`lmdb://${restore(file)}`);
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
    if (file !== "format-1.msgpack") {
      await checkExtras(ac, (got, want, what) => expect(got, what).toEqual(want));
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
