import { spawn } from "node:child_process";
import { join } from "node:path";
import { open } from "lmdb";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Arctic, DataFrame, type Library } from "../../runtimes/node.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// write and append from a stream of frames: one version of all of it, committed at the end; a source
// that throws leaves the symbol as it was and nothing staged.

const opened: Arctic[] = [];
afterEach(async () => {
  for (const ac of opened.splice(0)) await ac.close();
});

async function library(): Promise<{ lib: Library; path: string }> {
  const path = join(tempDir(), "sw");
  const ac = new Arctic(`lmdb://${path}`, { workers: 0 });
  opened.push(ac);
  return { lib: await ac.createLibrary("lib", { rowsPerSegment: 7 }), path };
}

function countKeys(path: string, prefix: string): number {
  const raw = open<Uint8Array, string>({ path, encoding: "binary", noSubdir: false });
  const n = [...raw.getKeys({ start: prefix, end: `${prefix}\u{10ffff}` })].length;
  raw.close();
  return n;
}

const MINUTE = 60_000_000_000n;
/** Frame `i` of a stream: `rows` rows at minutes i*100 …, a float, an int and a string column. */
function part(i: number, rows: number): DataFrame {
  const ids = Array.from({ length: rows }, (_, r) => i * 100 + r);
  return new DataFrame(
    { px: Float64Array.from(ids, (x) => x / 4), n: Int32Array.from(ids), tag: ids.map((x) => `t${x}`) },
    { index: BigInt64Array.from(ids, (x) => BigInt(x) * MINUTE), dtypes: { tag: "string" } },
  );
}

async function* frames(sizes: number[], failAt = -1, from = 0): AsyncGenerator<DataFrame> {
  for (const [i, rows] of sizes.entries()) {
    if (i === failAt) throw new Error("source failed");
    await new Promise((r) => setTimeout(r, 0));
    yield part(from + i, rows);
  }
}

function concat(parts: DataFrame[]): DataFrame {
  const names = parts[0].columnNames;
  const data: Record<string, unknown> = {};
  for (const name of names) {
    const values = parts.flatMap((p) => [...(p.column(name) as ArrayLike<unknown> & Iterable<unknown>)]);
    data[name] =
      name === "px"
        ? Float64Array.from(values as number[])
        : name === "n"
          ? Int32Array.from(values as number[])
          : values;
  }
  const index = BigInt64Array.from(parts.flatMap((p) => [...(p.index as { values: BigInt64Array }).values]));
  return new DataFrame(data, { index });
}

describe("stream writes", () => {
  it("write of a stream equals write of the concatenation, as one version", async () => {
    const { lib, path } = await library();
    const sizes = [3, 10, 0, 1, 15];
    const item = await lib.write("s", frames(sizes), { metadata: { from: "stream" } });
    expect(item.version).toBe(0);
    expect(item.metadata).toEqual({ from: "stream" });
    await lib.write("whole", concat(sizes.map((n, i) => part(i, n))));
    const got = (await lib.read("s")).data!;
    expect(got.equals((await lib.read("whole")).data!)).toBe(true);
    expect((await lib.listVersions("s")).length).toBe(1);
    expect(countKeys(path, "T:")).toBe(0);
    expect((await lib.verify()).ok).toBe(true);
    // Stored in whole segments of 7 rows whatever the frames' sizes: 29 rows, 5 segments.
    expect((await lib.getDescription("s")).segmentCount).toBe(5);
  });

  it("a stream of many small frames is stored in full segments, not fragmented", async () => {
    const { lib } = await library();
    const sizes = Array.from({ length: 40 }, (_, i) => (i % 4) + 1);
    await lib.write("s", frames(sizes));
    const rows = sizes.reduce((a, b) => a + b, 0);
    const d = await lib.getDescription("s");
    expect(d.segmentCount).toBe(Math.ceil(rows / 7));
    expect((await lib.read("s")).data!.equals(concat(sizes.map((n, i) => part(i, n))))).toBe(true);
  });

  it("under dynamic schema frames may add columns and widen dtypes", async () => {
    const ac = new Arctic("mem://", { workers: 0 });
    opened.push(ac);
    const lib = await ac.createLibrary("dyn", { dynamicSchema: true, rowsPerSegment: 4 });
    const frames = [
      new DataFrame({ a: Int32Array.from([1, 2, 3]) }),
      new DataFrame({ a: Float64Array.from([4.5]), b: ["x"] }),
      new DataFrame({ b: ["y", "z"] }),
      new DataFrame({ a: Int32Array.from([8, 9, 10]), b: ["u", "v", "w"] }),
    ];
    async function* parts(): AsyncGenerator<DataFrame> {
      yield* frames;
    }
    await lib.write("d", parts());
    // As the same frames appended one by one.
    for (const f of frames) await lib.append("one-by-one", f);
    expect((await lib.read("d")).data!.equals((await lib.read("one-by-one")).data!)).toBe(true);
    const { data } = await lib.read("d");
    expect(data!.dtypes).toEqual({ a: "float64", b: "string" });
    expect(Array.from(data!.column("a") as Float64Array)).toEqual([
      1,
      2,
      3,
      4.5,
      Number.NaN,
      Number.NaN,
      8,
      9,
      10,
    ]);
    expect(data!.column("b")).toEqual([null, null, null, "x", "y", "z", "u", "v", "w"]);
  });

  it("append of a stream adds one version after the stored rows; a web ReadableStream works too", async () => {
    const { lib } = await library();
    await lib.write("s", part(0, 5));
    const stream = new ReadableStream<DataFrame>({
      start(controller) {
        for (let i = 1; i <= 3; i++) controller.enqueue(part(i, 4));
        controller.close();
      },
    });
    const item = await lib.append("s", stream);
    expect(item.version).toBe(1);
    const want = concat([0, 1, 2, 3].map((i) => part(i, i === 0 ? 5 : 4)));
    expect((await lib.read("s")).data!.equals(want)).toBe(true);
    expect((await lib.read("s", { asOf: 0 })).data!.numRows).toBe(5);
  });

  it("a source that throws midway leaves the symbol unchanged and nothing staged", async () => {
    const { lib, path } = await library();
    await lib.write("s", part(0, 5));
    const before = countKeys(path, "S:");
    const err = await lib.append("s", frames([4, 4, 4, 4], 3, 1)).catch((e: Error) => e);
    expect((err as Error).message).toBe("source failed");
    expect((await lib.listVersions("s")).length).toBe(1);
    expect((await lib.read("s")).data!.equals(part(0, 5))).toBe(true);
    expect(countKeys(path, "T:")).toBe(0);
    expect(countKeys(path, "S:")).toBe(before);
    await lib.write("t", frames([2, 2], 1)).catch(() => {});
    expect(await lib.hasSymbol("t")).toBe(false);
    expect(countKeys(path, "T:")).toBe(0);
  });

  it("a frame that does not follow the one before stops the stream at once", async () => {
    const { lib, path } = await library();
    let pulled = 0;
    async function* bad(): AsyncGenerator<DataFrame> {
      for (const i of [0, 1, 0, 2, 3]) {
        pulled++;
        yield part(i, 3);
      }
    }
    await rejectsWith(lib.write("s", bad()), "UnsortedIndexError");
    expect(pulled).toBe(3);
    const other = new DataFrame({ px: [1] }, { index: [new Date(Date.UTC(2030, 0, 1))] });
    async function* schema(): AsyncGenerator<DataFrame> {
      yield part(0, 2);
      yield other;
    }
    await rejectsWith(lib.write("s", schema()), "SchemaMismatchError");
    expect(await lib.hasSymbol("s")).toBe(false);
    expect(countKeys(path, "T:")).toBe(0);
    await rejectsWith(lib.write("s", frames([])), "InvalidArgumentError");
  });

  it("a stream's chunks are its own: finalizeStagedData and another stream never mix them", async () => {
    const { lib } = await library();
    await lib.write("s", part(50, 2), { staged: true });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* slow(): AsyncGenerator<DataFrame> {
      yield part(0, 3);
      await gate;
      yield part(1, 3);
    }
    const streaming = lib.write("s", slow());
    await new Promise((r) => setTimeout(r, 10));
    // The plain staged chunk alone becomes version 0, though the stream has a chunk (not stored yet).
    await lib.finalizeStagedData("s");
    expect((await lib.read("s")).data!.equals(part(50, 2))).toBe(true);
    release();
    expect((await streaming).version).toBe(1);
    expect((await lib.read("s")).data!.equals(concat([part(0, 3), part(1, 3)]))).toBe(true);
  });
});

describe("a stream writer that dies", () => {
  it("SIGKILL mid-stream leaves no version and no orphans; a stream write an hour later removes its chunks", async () => {
    const path = join(tempDir(), "killed");
    const uri = `lmdb://${path}`;
    const ac = new Arctic(uri, { workers: 0 });
    opened.push(ac);
    // Two rows a segment: each of the writer's frames of two rows is a chunk, stored once the last
    // comes a second after the first.
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 2 });
    const child = spawn(process.execPath, [join(import.meta.dirname, "stream-writer.mjs"), uri, "3"]);
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => d.toString().includes("staged") && resolve());
      child.on("exit", (code) => reject(new Error(`writer exited early (${code})`)));
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    expect(await lib.hasSymbol("s")).toBe(false);
    expect(countKeys(path, "T:")).toBe(3);
    const report = await lib.verify();
    expect(report.ok).toBe(true);
    expect(report.orphans).toEqual([]); // the chunks are staged records, not orphans
    // finalizeStagedData never takes a stream's chunks.
    await rejectsWith(lib.finalizeStagedData("s"), "InvalidArgumentError");
    // A stream write an hour later removes them.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 2 * 3_600_000);
      await lib.write("s", frames([2], -1, 0));
    } finally {
      vi.useRealTimers();
    }
    expect(countKeys(path, "T:")).toBe(0);
    expect((await lib.read("s")).data!.numRows).toBe(2);
    expect((await lib.verify()).orphans).toEqual([]);
  });
});

describe("a stream updater that dies", () => {
  it("SIGKILL mid-update leaves the symbol at its version, its data whole, and no orphans", async () => {
    const path = join(tempDir(), "killed-update");
    const uri = `lmdb://${path}`;
    const ac = new Arctic(uri, { workers: 0 });
    opened.push(ac);
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 2 });
    const T0 = 1_704_067_200_000_000_000n;
    const before = new DataFrame(
      { x: Float64Array.from({ length: 10 }, (_, i) => 100 + i) },
      { index: BigInt64Array.from({ length: 10 }, (_, i) => T0 + BigInt(i) * MINUTE) },
    );
    await lib.write("s", before);
    const child = spawn(process.execPath, [
      join(import.meta.dirname, "stream-writer.mjs"),
      uri,
      "3",
      "update",
    ]);
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => d.toString().includes("staged") && resolve());
      child.on("exit", (code) => reject(new Error(`updater exited early (${code})`)));
    });
    expect(countKeys(path, "T:")).toBeGreaterThan(0); // its chunks were stored before the kill
    child.kill("SIGKILL");
    await new Promise((r) => child.on("close", r));
    expect((await lib.listVersions("s")).length).toBe(1);
    expect((await lib.read("s")).data!.equals(before)).toBe(true);
    const report = await lib.verify();
    expect(report.ok).toBe(true);
    expect(report.orphans).toEqual([]); // the chunks are staged records, not orphans
    // An update an hour later works and removes the dead stream's chunks.
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(Date.now() + 2 * 3_600_000);
      async function* one() {
        yield new DataFrame({ x: [7] }, { index: [T0 + 3n * MINUTE] });
      }
      await lib.update("s", one());
    } finally {
      vi.useRealTimers();
    }
    expect(countKeys(path, "T:")).toBe(0);
    const after = (await lib.read("s")).data!;
    expect(Array.from(after.column("x") as Float64Array)).toEqual([
      100, 101, 102, 7, 104, 105, 106, 107, 108, 109,
    ]);
    expect((await lib.verify()).orphans).toEqual([]);
  });
});

describe("stream writes of big frames", () => {
  it("frames of several segments are staged as views, one segment joined across frames; equals the one-frame write", async () => {
    const path = join(tempDir(), "big");
    const ac = new Arctic(`lmdb://${path}`, { workers: 2 });
    opened.push(ac);
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 100_000 });
    const n = 250_000; // 2.5 segments a frame: every frame after the first completes a segment
    const big = (i: number) => {
      const x = Float64Array.from({ length: n }, (_, r) => i * n + r);
      const index = BigInt64Array.from(
        { length: n },
        (_, r) => 1_700_000_000_000_000_000n + BigInt(i * n + r),
      );
      return new DataFrame({ x, y: x }, { index });
    };
    async function* parts(): AsyncGenerator<DataFrame> {
      for (let i = 0; i < 3; i++) yield big(i);
    }
    let progress = 0;
    await lib.write("s", parts(), { onProgress: (p) => (progress = p.segmentsDone) });
    expect(progress).toBeGreaterThan(0);
    const x = Float64Array.from({ length: 3 * n }, (_, r) => r);
    const index = BigInt64Array.from({ length: 3 * n }, (_, r) => 1_700_000_000_000_000_000n + BigInt(r));
    expect((await lib.read("s")).data!.equals(new DataFrame({ x, y: x }, { index }))).toBe(true);
    const d = await lib.getDescription("s");
    expect([d.segmentCount, d.averageRowsPerSegment]).toEqual([8, 750_000 / 8]); // 7 full, 50,000 last
    expect(countKeys(path, "T:")).toBe(0);
    expect((await lib.verify()).orphans).toEqual([]);
  });
});

describe("stream writes of big frames with a worker pool", () => {
  const T0 = 1_700_000_000_000_000_000n;
  /** Rows [from, from + n): a float, an int and (with `tags`) a string column; 24 bytes a row without. */
  const rows = (from: number, n: number, tags = false) => {
    const x = Float64Array.from({ length: n }, (_, r) => from + r);
    const index = BigInt64Array.from({ length: n }, (_, r) => T0 + BigInt(from + r));
    const columns: Record<string, unknown> = { x, n: BigInt64Array.from(x, (v) => BigInt(v)) };
    if (tags) columns.tag = Array.from(x, (v) => `t${v % 97}`);
    return new DataFrame(columns as never, { index, dtypes: tags ? { tag: "string" } : {} });
  };

  it("equal the one-frame write in whole segments; memory:// too, strings included", async () => {
    for (const uri of [`lmdb://${join(tempDir(), "pooled")}`, "mem://"]) {
      const ac = new Arctic(uri, { workers: 2 });
      opened.push(ac);
      const lib = await ac.createLibrary("lib", { rowsPerSegment: 30_000 });
      const sizes = [100_000, 45_000, 7, 100_000, 70_000];
      async function* parts(): AsyncGenerator<DataFrame> {
        let from = 0;
        for (const n of sizes) {
          yield rows(from, n, true);
          from += n;
        }
      }
      const total = sizes.reduce((a, b) => a + b, 0);
      let progress = 0;
      await lib.write("s", parts(), { onProgress: (p) => (progress = p.segmentsDone) });
      expect(progress).toBeGreaterThan(0);
      expect((await lib.read("s")).data!.equals(rows(0, total, true))).toBe(true);
      expect((await lib.getDescription("s")).segmentCount).toBe(Math.ceil(total / 30_000));
      expect((await lib.verify()).orphans).toEqual([]);
    }
  }, 60_000);

  it("a source that throws after several chunks leaves nothing staged or stored", async () => {
    const path = join(tempDir(), "pool-throw");
    const ac = new Arctic(`lmdb://${path}`, { workers: 2 });
    opened.push(ac);
    const lib = await ac.createLibrary("lib", { rowsPerSegment: 20_000 });
    await lib.write("s", rows(0, 10));
    const segments = countKeys(path, "S:");
    async function* failing(): AsyncGenerator<DataFrame> {
      for (let i = 1; i < 6; i++) yield rows(i * 100_000, 100_000);
      throw new Error("source failed");
    }
    const err = await lib.append("s", failing()).catch((e: Error) => e);
    expect((err as Error).message).toBe("source failed");
    expect((await lib.listVersions("s")).length).toBe(1);
    expect(countKeys(path, "T:")).toBe(0);
    expect(countKeys(path, "S:")).toBe(segments);
    expect((await lib.verify()).orphans).toEqual([]);
  }, 60_000);
});
