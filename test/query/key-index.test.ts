import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { KeyIndex } from "../../src/query/key-index.ts";

describe("KeyIndex", () => {
  it("gives each key the id it was set to, as a Map does, across growth", () => {
    const key = fc.oneof(
      fc.integer({ min: -1000, max: 1000 }),
      fc.integer().map((x) => x * 2 ** 20),
      fc.double({ noNaN: true }),
      fc.string({ maxLength: 3 }),
      fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
    );
    fc.assert(
      fc.property(fc.array(key, { maxLength: 300 }), fc.array(key, { maxLength: 50 }), (keys, probes) => {
        const index = new KeyIndex();
        const model = new Map<unknown, number>();
        for (const k of keys) {
          // -0 and 0 are one key (a groupby puts them in one group).
          const m = Object.is(k, -0) ? 0 : k;
          if (model.has(m)) continue;
          model.set(m, model.size);
          expect(index.get(k)).toBeUndefined();
          index.set(k, model.size - 1);
        }
        expect(index.size).toBe(model.size);
        for (const k of [...keys, ...probes]) expect(index.get(k)).toBe(model.get(Object.is(k, -0) ? 0 : k));
      }),
      { numRuns: 300 },
    );
  });
});
