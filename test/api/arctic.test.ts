import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Arctic, DataFrame } from "../../runtimes/node.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

describe("Arctic", () => {
  it("creates an lmdb:// store directory when missing", async () => {
    const path = join(tempDir(), "nested", "data.lmdb");
    const ac = new Arctic(`lmdb://${path}`);
    await ac.createLibrary("lib");
    expect(statSync(path).isDirectory()).toBe(true);
    expect(existsSync(join(path, "data.mdb"))).toBe(true);
    await ac.close();
  });

  it("manages libraries", async () => {
    const ac = new Arctic(`lmdb://${join(tempDir(), "db")}`);
    expect(await ac.listLibraries()).toEqual([]);
    const lib = await ac.createLibrary("prices", { rowsPerSegment: 10 });
    expect(lib.name).toBe("prices");
    expect(lib.options).toEqual({
      rowsPerSegment: 10,
      columnsPerSegment: 127,
      dynamicSchema: false,
      dedup: false,
    });
    await rejectsWith(ac.createLibrary("prices"), "LibraryExistsError");
    await rejectsWith(ac.getLibrary("nope"), "LibraryNotFoundError");
    await ac.getLibrary("made", { createIfMissing: true });
    expect(await ac.listLibraries()).toEqual(["made", "prices"]);
    expect(await ac.hasLibrary("prices")).toBe(true);
    expect((await ac.getLibrary("prices")).options.rowsPerSegment).toBe(10);
    await lib.write("s", { a: [1, 2] });
    await ac.deleteLibrary("prices");
    expect(await ac.hasLibrary("prices")).toBe(false);
    await rejectsWith(ac.deleteLibrary("prices"), "LibraryNotFoundError");
    // A library made again under the same name starts empty.
    const again = await ac.createLibrary("prices");
    expect(await again.listSymbols()).toEqual([]);
    await ac.close();
  });

  it("rejects bad library names and options", async () => {
    const ac = new Arctic("mem://");
    await rejectsWith(ac.createLibrary(""), "InvalidArgumentError");
    await rejectsWith(ac.createLibrary("a*b"), "InvalidArgumentError");
    await rejectsWith(ac.createLibrary("a\0b"), "InvalidArgumentError");
    await rejectsWith(ac.createLibrary("x".repeat(256)), "InvalidArgumentError");
    await rejectsWith(ac.createLibrary("ok", { rowsPerSegment: 0 }), "InvalidArgumentError");
    await rejectsWith(ac.createLibrary("ok", { rowsPerSegmnt: 5 } as never), "InvalidArgumentError");
    expect(await ac.listLibraries()).toEqual([]);
    await ac.close();
  });

  it("lets two instances on one path see the same data", async () => {
    const uri = `lmdb://${join(tempDir(), "shared")}`;
    const a = new Arctic(uri);
    const b = new Arctic(uri);
    const libA = await a.getLibrary("lib", { createIfMissing: true });
    await libA.write("sym", { x: [1, 2, 3] });
    const libB = await b.getLibrary("lib");
    expect((await libB.read("sym")).data!.equals(new DataFrame({ x: [1, 2, 3] }))).toBe(true);
    await libB.write("sym", { x: [4] });
    expect((await libA.read("sym")).version).toBe(1);
    await a.close();
    expect((await libB.read("sym")).data!.column("x")).toEqual(new Float64Array([4]));
    await b.close();
  });

  it("grows the LMDB map when it fills", async () => {
    const ac = new Arctic(`lmdb://${join(tempDir(), "small")}?map_size=1MB`);
    const lib = await ac.getLibrary("lib", { createIfMissing: true });
    const n = 4_000_000; // 32 MB of float64, far past the 1 MB map
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = Math.random();
    await lib.write("big", { v: values });
    const got = (await lib.read("big")).data!.column("v") as Float64Array;
    // Byte comparison: a deep toEqual over 4M elements takes seconds.
    expect(
      Buffer.compare(
        new Uint8Array(got.buffer, got.byteOffset, got.byteLength),
        new Uint8Array(values.buffer),
      ),
    ).toBe(0);
    await ac.close();
  });

  it("keeps mem:// stores apart and drops them on close", async () => {
    const a = new Arctic("mem://");
    const b = new Arctic("mem://");
    await (await a.createLibrary("lib")).write("s", { v: [1] });
    expect(await b.listLibraries()).toEqual([]);
    await a.close();
    await rejectsWith(a.listLibraries(), "StorageError");
    await b.close();
  });

  it("fails clearly on a path that is not an LMDB store", () => {
    const file = join(tempDir(), "plain.txt");
    writeFileSync(file, "not a database");
    expect(() => new Arctic(`lmdb://${file}`)).toThrow(expect.objectContaining({ code: "StorageError" }));
  });

  it("rejects bad URIs", () => {
    expect(() => new Arctic("s3://x")).toThrow(expect.objectContaining({ code: "InvalidUriError" }));
    expect(() => new Arctic("lmdb://x?map_size=0GB")).toThrow(
      expect.objectContaining({ code: "InvalidUriError" }),
    );
  });
});
