import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Arctic } from "../../runtimes/node.ts";
import { rejectsWith, tempDir } from "../helpers.ts";

// Issue 21, "every bad input a typed error": a malformed regex or percent-escape came out as a raw
// SyntaxError or URIError; each is now a FloeError that names the bad part.

describe("listSymbols regex", () => {
  it("answers a pattern that does not compile with InvalidArgumentError naming it", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    await lib.write("s", { a: [1] });
    await lib.snapshot("snap");
    for (const options of [{ regex: "(" }, { regex: "(", snapshot: "snap" }]) {
      const err = await rejectsWith(lib.listSymbols(options), "InvalidArgumentError");
      expect(err.message).toMatch(/listSymbols: regex '\(' is not a valid regular expression/);
    }
    const err = await rejectsWith(lib.listSymbols({ regex: 42 as never }), "InvalidArgumentError");
    expect(err.message).toMatch(/string or a RegExp/);
    await ac.close();
  });

  it("matches every symbol with a global or sticky RegExp, not every other one", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    for (const s of ["sa", "sb", "sc", "sd"]) await lib.write(s, { a: [1] });
    expect(await lib.listSymbols({ regex: /s/g })).toEqual(["sa", "sb", "sc", "sd"]);
    expect(await lib.listSymbols({ regex: /s/y })).toEqual(["sa", "sb", "sc", "sd"]);
    await ac.close();
  });
});

describe("Arctic URI percent-escapes", () => {
  it.each([
    ["lmdb:///x/%zz", /path '\/x\/%zz'/],
    ["lmdb:///x/%E0%A4%A", /path/],
    ["lmdb://d?map_size=%zz", /map_size '%zz'/],
    ["lmdb://d?sync=%", /sync '%'/],
  ])("%s is an InvalidUriError naming the part", (uri, part) => {
    let caught: unknown;
    try {
      new Arctic(uri);
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({ code: "InvalidUriError" });
    expect((caught as Error).message).toMatch(part);
    expect((caught as Error).message).toMatch(/percent-escape/);
  });

  it("still decodes well-formed escapes", async () => {
    const dir = tempDir();
    const ac = new Arctic(`lmdb://${dir}/a%20b`);
    await ac.createLibrary("lib");
    expect(await ac.listLibraries()).toEqual(["lib"]);
    await ac.close();
    expect(existsSync(`${dir}/a b`)).toBe(true);
  });
});
