// The object store's version chain on an in-memory store with S3's rules: create-only commits decide
// version numbers, tombstones keep numbers from coming back, listings skip deleted symbols.
import { describe, expect, it } from "vitest";
import { MemoryObjectStore } from "../../src/storage/memory-object-store.ts";
import { ObjectChain } from "../../src/version/object-chain.ts";
import { escapeName, objectKeys, unescapeName } from "../../src/version/object-keys.ts";

const chainOn = (objects = new MemoryObjectStore()) => new ObjectChain(objects, objectKeys("lib", "id0"));

describe("ObjectChain", () => {
  it("numbers concurrent commits 0..n-1, each exactly once, each with its own record", async () => {
    const objects = new MemoryObjectStore();
    const chains = Array.from({ length: 12 }, () => chainOn(objects));
    const records = await Promise.all(
      chains.map((c, i) => c.commit("s", async () => ({ index: `index-${i}` }))),
    );
    expect(records.map((r) => r?.v).sort((a, b) => (a as number) - (b as number))).toEqual([
      ...Array(12).keys(),
    ]);
    for (const r of records) expect((await chains[0].record("s", r?.v as number))?.index).toBe(r?.index);
  });

  it("rebuilds on the newer latest version when another writer commits first", async () => {
    const chain = chainOn();
    await chain.commit("s", async () => ({ index: "a" }));
    const seen: (number | undefined)[] = [];
    const other = chain.commit("s", async (latest) => {
      seen.push(latest?.v);
      return { index: "c" };
    });
    const mine = chain.commit("s", async (latest) => {
      seen.push(latest?.v);
      return { index: "b" };
    });
    await Promise.all([other, mine]);
    // Both planned on version 0; the loser saw version 1 on its second try.
    expect(seen.sort()).toEqual([0, 0, 1]);
    expect(await chain.live("s")).toEqual([0, 1, 2]);
  });

  it("never hands out a deleted number again, and lists only symbols with a live version", async () => {
    const chain = chainOn();
    for (const s of ["a", "b/c", "d%"]) await chain.commit(s, async () => ({ index: "i" }));
    await chain.commit("a", async () => ({ index: "j" }));
    await chain.tombstone("a", [0, 1]);
    expect(await chain.latest("a")).toBeUndefined();
    expect(await chain.symbols()).toEqual(["a", "b/c", "d%"]); // not yet marked emptied: listed
    await chain.emptied("a", 1);
    expect(await chain.symbols()).toEqual(["b/c", "d%"]);
    const next = await chain.commit("a", async (latest) => {
      expect(latest).toBeUndefined();
      return { index: "k" };
    });
    expect(next?.v).toBe(2);
    expect(await chain.symbols()).toEqual(["a", "b/c", "d%"]);
    expect((await chain.allLive()).sort()).toEqual([
      ["a", 2],
      ["b/c", 0],
      ["d%", 0],
    ]);
  });

  it("declining leaves no version", async () => {
    const chain = chainOn();
    expect(await chain.commit("s", async () => undefined)).toBeUndefined();
    expect(await chain.live("s")).toEqual([]);
  });
});

describe("ObjectChain's hint", () => {
  it("commits and finds the latest version by listing from the hint, stale or garbled hints included", async () => {
    const objects = new MemoryObjectStore();
    const chain = chainOn(objects);
    for (let i = 0; i < 50; i++) await chain.commit("s", async () => ({ index: `i${i}` }));
    // Count the keys every LIST returns from now on.
    let listed = 0;
    const list = objects.list.bind(objects);
    objects.list = async (prefix, options) => {
      const out = await list(prefix, options);
      listed += out.keys.length;
      return out;
    };
    expect((await chain.latest("s"))?.v).toBe(49);
    expect((await chain.commit("s", async () => ({ index: "new" })))?.v).toBe(50);
    expect(listed).toBeLessThan(5); // not the 50 version keys
    const keys = objectKeys("lib", "id0");
    await objects.put(keys.hint("s"), new Uint8Array([1, 2, 3])); // garbled: every key is listed
    expect((await chain.commit("s", async () => ({ index: "x" })))?.v).toBe(51);
    await objects.put(keys.hint("s"), (await objects.get(keys.hint("s"))) as Uint8Array);
    await chain.tombstone("s", [52 - 1]); // the newest deleted: latest falls back to the full listing
    expect((await chain.latest("s"))?.v).toBe(50);
    expect((await chain.commit("s", async (latest) => ({ index: `after-${latest?.v}` })))?.index).toBe(
      "after-50",
    );
  });
});

describe("ObjectChain when a commit's answer is lost", () => {
  const lossy = (objects: MemoryObjectStore, lose: (key: string) => boolean) => {
    const create = objects.create.bind(objects);
    objects.create = async (key, value) => {
      const created = await create(key, value);
      if (lose(key)) throw new Error("connection reset (the answer was lost)");
      return created;
    };
  };

  it("acknowledges a create the server applied, and moves on when another writer's record is there", async () => {
    const objects = new MemoryObjectStore();
    const chain = chainOn(objects);
    await chain.commit("s", async () => ({ index: "first" }));
    // Our create of version 1 is applied but its answer lost: recognised as ours.
    lossy(objects, (key) => key.endsWith("/0000000001"));
    expect((await chain.commit("s", async () => ({ index: "mine" })))?.v).toBe(1);
    // Another writer holds version 2; our create of it is refused and that answer lost: we take 3.
    const other = chainOn(objects);
    lossy(objects, (key) => key.endsWith("/0000000002"));
    let first = true;
    const mine = await chain.commit("s", async () => {
      if (first) {
        first = false;
        await other.commit("s", async () => ({ index: "theirs" })).catch(() => undefined);
      }
      return { index: "late" };
    });
    expect(mine?.v).toBe(3);
    expect((await chain.record("s", 2))?.index).toBe("theirs");
  });
});

describe("object key names", () => {
  it("escapes '/', '%' and control characters, and only those, reversibly", () => {
    for (const name of ["plain", "a/b", "100%", "tab\there", "日本語", "%2F", "\u007f"]) {
      const part = escapeName(name);
      const bad = [...part].filter((c) => c === "/" || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
      expect(bad).toEqual([]);
      expect(unescapeName(part)).toBe(name);
    }
    expect(escapeName("a/b%")).toBe("a%2Fb%25");
  });
});
