import { describe, expect, it } from "vitest";
import { Arctic } from "../../runtimes/node.ts";
import { DataFrame, type TimestampIndex } from "../../src/api/index.ts";
import { tempDir } from "../helpers.ts";

// Issue 22, item 5: an index's time zone (pandas' tz-aware index) is stored with the symbol, as its
// name is, and comes back on every read; append and update keep the stored zone, as they keep the name.

const NY = "America/New_York";
const frame = (hours: string[], tz?: string) =>
  new DataFrame(
    { px: hours.map((_, i) => i + 0.5) },
    { index: { name: "time", values: hours.map((h) => `2024-01-02T${h}:00:00Z`), tz } },
  );
const zoneOf = (df: DataFrame | undefined) => (df?.index as TimestampIndex | undefined)?.tz;

describe("an index's time zone in storage", () => {
  it("round-trips through write and read, in a store reopened", async () => {
    const dir = tempDir();
    const ac = new Arctic(`lmdb://${dir}`);
    const lib = await ac.createLibrary("lib");
    await lib.write("s", frame(["14", "15", "16"], NY));
    await lib.write("naive", frame(["14"]));
    await ac.close();
    const again = new Arctic(`lmdb://${dir}`);
    const lib2 = await again.getLibrary("lib");
    const { data } = await lib2.read("s");
    expect(data?.equals(frame(["14", "15", "16"], NY))).toBe(true);
    expect(data?.toString().split("\n")[1]).toBe("2024-01-02 09:00:00-05:00  0.5");
    expect(zoneOf((await lib2.read("s", { dateRange: ["2024-01-02T15:00:00Z", null] })).data)).toBe(NY);
    expect(zoneOf((await lib2.read("s", { columns: [] })).data)).toBe(NY);
    expect(zoneOf((await lib2.head("s", 1)).data)).toBe(NY);
    expect(zoneOf((await lib2.tail("s", 1)).data)).toBe(NY);
    expect(zoneOf((await lib2.read("naive")).data)).toBeUndefined();
    expect((await lib2.verify()).ok).toBe(true);
    await again.close();
  });

  it("is kept by append and update, as the index name is, and replaced by a write", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await lib.write("s", frame(["14", "15"], NY));
    await lib.append("s", frame(["16"]));
    expect(zoneOf((await lib.read("s")).data)).toBe(NY);
    await lib.update("s", frame(["15"], "Europe/London"));
    expect(zoneOf((await lib.read("s")).data)).toBe(NY);
    expect((await lib.read("s")).data?.numRows).toBe(3);
    await lib.write("s", frame(["14"], "Asia/Tokyo"));
    expect(zoneOf((await lib.read("s")).data)).toBe("Asia/Tokyo");
    expect(zoneOf((await lib.read("s", { asOf: 0 })).data)).toBe(NY);
    await ac.close();
  });

  it("comes back through batches and staged writes", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await lib.writeBatch([{ symbol: "b", data: frame(["14"], NY) }]);
    const [item] = await lib.readBatch(["b"]);
    expect(zoneOf((item as { data?: DataFrame }).data)).toBe(NY);
    await lib.write("st", frame(["16"], NY), { staged: true });
    await lib.write("st", frame(["14"], NY), { staged: true });
    await lib.sortAndFinalizeStagedData("st");
    expect(zoneOf((await lib.read("st")).data)).toBe(NY);
    await ac.close();
  });
});
