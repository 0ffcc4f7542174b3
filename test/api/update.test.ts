import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";
import { LmdbStorage } from "../../src/storage/lmdb-storage.ts";
import { rejectsWith, tempDir } from "../helpers.ts";
import { frameOf, type Rows, sortedRows } from "./update-rows.ts";

const inRange = (t: bigint, [a, b]: [bigint | null, bigint | null]) =>
  (a === null || t >= a) && (b === null || t <= b);

describe("update and deleteDataInRange", () => {
  it("replace and remove rows like a plain model, across segments (property)", async () => {
    const dir = tempDir();
    let run = 0;
    const bound = fc.option(fc.integer({ min: -5, max: 105 }), { nil: null });
    const op = fc.oneof(
      fc.record({ kind: fc.constant("update" as const), a: bound, b: bound, seed: fc.nat() }),
      fc.record({ kind: fc.constant("delete" as const), a: bound, b: bound }),
    );
    await fc.assert(
      fc.asyncProperty(
        sortedRows(40, 0, 100),
        fc.array(op, { maxLength: 5 }),
        fc.integer({ min: 1, max: 6 }),
        async (initial, ops, rowsPerSegment) => {
          const ac = new Arctic(`lmdb://${join(dir, `p${run++}.lmdb`)}`);
          const lib = await ac.createLibrary("lib", { rowsPerSegment });
          let model: Rows = initial;
          await lib.write("s", frameOf(model));
          const history: Rows[] = [model];
          for (const o of ops) {
            let a = o.a === null ? null : BigInt(o.a);
            let b = o.b === null ? null : BigInt(o.b);
            if (a !== null && b !== null && b < a) [a, b] = [b, a];
            const range: [bigint | null, bigint | null] = [a, b];
            const keep = model.filter((r) => !inRange(r[0], range));
            if (o.kind === "delete") {
              await lib.deleteDataInRange("s", range);
              model = keep;
            } else {
              const lo = a ?? -5n;
              const hi = b ?? 105n;
              const n = o.seed % 6;
              const fresh: Rows = Array.from({ length: n }, (_, i) => [
                lo + ((hi - lo) * BigInt(i)) / BigInt(Math.max(1, n - 1)),
                o.seed + i,
              ]);
              await lib.update("s", frameOf(fresh), { dateRange: range });
              // No rows: a new version with the data untouched, as in ArcticDB (deleteDataInRange deletes).
              if (n > 0)
                model = [...keep.filter((r) => r[0] < lo), ...fresh, ...keep.filter((r) => r[0] > hi)];
            }
            history.push(model);
          }
          for (let v = 0; v < history.length; v++) {
            const got = (await lib.read("s", { asOf: v })).data!;
            expect(got.equals(frameOf(history[v])), `version ${v}`).toBe(true);
          }
          await ac.close();
        },
      ),
      { numRuns: 60 },
    );
  });

  it("rewrites only the segments at the range's ends", async () => {
    const dir = join(tempDir(), "u.lmdb");
    const ac = new Arctic(`lmdb://${dir}`);
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 10 });
    const rows: Rows = Array.from({ length: 100 }, (_, i) => [BigInt(i * 10), i]);
    await lib.write("s", frameOf(rows));
    const segmentKeys = () => {
      const storage = new LmdbStorage({ path: dir });
      const found = new Set(storage.keys("S:"));
      storage.close();
      return found;
    };
    const newSegments = async (change: () => Promise<unknown>) => {
      const before = segmentKeys();
      await change();
      return [...segmentKeys()].filter((key) => !before.has(key)).length;
    };
    // Replacing one row rewrites the one segment holding it; inserting one makes its 11 rows two segments.
    expect(await newSegments(() => lib.update("s", frameOf([[450n, -1]])))).toBe(1);
    expect(await newSegments(() => lib.update("s", frameOf([[455n, -2]])))).toBe(2);
    const expected: Rows = [...rows.slice(0, 45), [450n, -1], [455n, -2], ...rows.slice(46)];
    expect((await lib.read("s")).data!.equals(frameOf(expected))).toBe(true);
    // A range spanning several segments replaces them all with the new rows; the ends are rewritten.
    await lib.update("s", frameOf([[200n, 7]]), { dateRange: [150n, 640n] });
    const now = frameOf([
      ...expected.filter((r) => r[0] < 150n),
      [200n, 7],
      ...expected.filter((r) => r[0] > 640n),
    ]);
    expect((await lib.read("s")).data!.equals(now)).toBe(true);
    expect((await lib.read("s", { asOf: 0 })).data!.equals(frameOf(rows))).toBe(true);
    await ac.close();
  });

  it("rejects what it cannot do, storing nothing", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await lib.write(
      "s",
      frameOf([
        [1n, 1],
        [2n, 2],
      ]),
    );
    await rejectsWith(lib.update("missing", frameOf([[1n, 1]])), "SymbolNotFoundError");
    await rejectsWith(lib.deleteDataInRange("missing", [null, null]), "SymbolNotFoundError");
    const other = new DataFrame({ y: [1] }, { index: { name: "t", values: [1n] } });
    await rejectsWith(lib.update("s", other), "SchemaMismatchError");
    await rejectsWith(
      lib.update(
        "s",
        frameOf([
          [3n, 1],
          [2n, 1],
        ]),
      ),
      "UnsortedIndexError",
    );
    await rejectsWith(lib.update("s", { x: [1] }), "InvalidArgumentError");
    await rejectsWith(lib.deleteDataInRange("s", [3n, 1n]), "InvalidArgumentError");
    await lib.write("rows", { x: [1, 2] });
    await rejectsWith(lib.deleteDataInRange("rows", [null, null]), "InvalidArgumentError");
    expect((await lib.listVersions("s")).length).toBe(1);
    // upsert writes a missing symbol.
    const item = await lib.update("new", frameOf([[1n, 1]]), { upsert: true, metadata: { m: 1 } });
    expect(item.version).toBe(0);
    expect((await lib.read("new")).data!.equals(frameOf([[1n, 1]]))).toBe(true);
    // Deleting everything leaves an empty frame with the schema.
    await lib.deleteDataInRange("s", [null, null]);
    const empty = (await lib.read("s")).data!;
    expect(empty.numRows).toBe(0);
    expect(empty.columnNames).toEqual(["x", "s"]);
    await lib.update("s", frameOf([[9n, 9]]));
    expect((await lib.read("s")).data!.equals(frameOf([[9n, 9]]))).toBe(true);
    await ac.close();
  });
});
