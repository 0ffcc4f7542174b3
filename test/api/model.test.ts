import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";
import { tempDir } from "../helpers.ts";

// Issue 3's property: any sequence of write, append, update and deleteDataInRange reads back, at every
// version and through ranged reads, what the same sequence does to a plain array of rows.

type Rows = [bigint, number][];

function frameOf(rows: Rows): DataFrame {
  return new DataFrame(
    { x: new Float64Array(rows.map((r) => r[1])), n: new BigInt64Array(rows.map((r) => BigInt(r[1]))) },
    { index: { name: "t", values: new BigInt64Array(rows.map((r) => r[0])) } },
  );
}

const byTime = (a: [bigint, number], b: [bigint, number]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
const rowsArb = (max: number) =>
  fc
    .array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: -99, max: 99 })), { maxLength: max })
    .map((rs) => rs.map(([t, x]) => [BigInt(t), x] as [bigint, number]).sort(byTime));
const bound = fc.option(fc.integer({ min: -2, max: 130 }), { nil: null });
const op = fc.oneof(
  fc.record({ kind: fc.constant("write" as const), rows: rowsArb(15) }),
  fc.record({ kind: fc.constant("append" as const), rows: rowsArb(10) }),
  fc.record({ kind: fc.constant("update" as const), a: bound, b: bound, rows: rowsArb(5) }),
  fc.record({ kind: fc.constant("delete" as const), a: bound, b: bound }),
);

describe("model", () => {
  it("write/append/update/deleteDataInRange match a plain model at every version (property)", async () => {
    const dir = tempDir();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 1, max: 5 }),
        fc.tuple(bound, bound),
        async (ops, rowsPerSegment, probe) => {
          const ac = new Arctic(`lmdb://${join(dir, `m${run++}.lmdb`)}`);
          const lib = await ac.createLibrary("lib", { rowsPerSegment });
          let model: Rows | null = null;
          const history: Rows[] = [];
          for (const o of ops) {
            if (o.kind === "write") {
              await lib.write("s", frameOf(o.rows));
              model = o.rows;
            } else if (o.kind === "append") {
              // Shift the new rows to start at the last stored timestamp, as an append must.
              const last = model && model.length > 0 ? model[model.length - 1][0] : 0n;
              const rows: Rows = o.rows.map(([t, x]) => [t + last, x]);
              await lib.append("s", frameOf(rows));
              model = [...(model ?? []), ...rows];
            } else {
              if (model === null) continue; // update and delete need a symbol; the model has none yet
              let a = o.a === null ? null : BigInt(o.a);
              let b = o.b === null ? null : BigInt(o.b);
              if (a !== null && b !== null && b < a) [a, b] = [b, a];
              const inside = (t: bigint) => (a === null || t >= a) && (b === null || t <= b);
              const keep: Rows = model.filter((r) => !inside(r[0]));
              if (o.kind === "delete") {
                await lib.deleteDataInRange("s", [a, b]);
                model = keep;
              } else {
                const rows = o.rows.filter((r) => inside(r[0]));
                await lib.update("s", frameOf(rows), { dateRange: [a, b] });
                // No rows: a new version with the data untouched, as in ArcticDB (deleteDataInRange deletes).
                if (rows.length > 0)
                  model = [
                    ...keep.filter((r) => a !== null && r[0] < a),
                    ...rows,
                    ...keep.filter((r) => b !== null && r[0] > b),
                  ];
              }
            }
            if (model !== null) history.push(model);
          }
          for (const [v, rows] of history.entries()) {
            const got = (await lib.read("s", { asOf: v })).data!;
            expect(got.equals(frameOf(rows)), `version ${v}`).toBe(true);
          }
          if (model !== null) {
            let [a, b] = probe.map((p) => (p === null ? null : BigInt(p)));
            if (a !== null && b !== null && b < a) [a, b] = [b, a];
            const want = model.filter((r) => (a === null || r[0] >= a) && (b === null || r[0] <= b));
            const got = (await lib.read("s", { dateRange: [a, b] })).data!;
            expect(got.equals(frameOf(want)), "dateRange read").toBe(true);
          }
          await ac.close();
        },
      ),
      { numRuns: process.env.CI ? 50 : 150 },
    );
  });
});
