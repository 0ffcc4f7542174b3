import { Field, makeData, RecordBatch, Schema, Struct, Table, TimestampMillisecond } from "apache-arrow";
import { describe, expect, it } from "vitest";
import { DataFrame, type TimestampIndex } from "../../src/api/index.ts";
import { fromArrow, toArrow } from "../../src/arrow/index.ts";

// Issue 22, item 5: an index's time zone goes out as Arrow's timestamp timezone (as pyarrow writes a
// pandas tz-aware index, so pandas reads it back tz-aware) and comes back from it.

describe("an index's time zone through Arrow", () => {
  it("is the Arrow index type's timezone, both ways", () => {
    const df = new DataFrame(
      { px: [1.5] },
      { index: { name: "time", values: ["2024-01-02T14:30:00Z"], tz: "America/New_York" } },
    );
    const table = toArrow(df);
    expect(String(table.schema.fields[0].type)).toMatch(/America\/New_York/);
    expect(fromArrow(table).equals(df)).toBe(true);
  });

  it("comes from a tz-aware Arrow timestamp of another unit; a zone the runtime lacks is left out", () => {
    const make = (tz: string) => {
      const type = new TimestampMillisecond(tz);
      const fields = [new Field("t", type, false)];
      const data = [makeData({ type, data: new BigInt64Array([1704205800000n]), length: 1 })];
      const schema = new Schema(fields, new Map([["floe:index", "t"]]));
      const struct = makeData({ type: new Struct(fields), length: 1, nullCount: 0, children: data });
      return new Table(schema, [new RecordBatch(schema, struct)]);
    };
    const zoned = fromArrow(make("Europe/London")).index as TimestampIndex;
    expect(zoned.tz).toBe("Europe/London");
    expect(zoned.values[0]).toBe(1704205800000000000n);
    expect((fromArrow(make("Not/AZone")).index as TimestampIndex).tz).toBeUndefined();
  });
});
