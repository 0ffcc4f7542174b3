import { describe, expect, it } from "vitest";
import { parseUri } from "../../src/api/uri.ts";
import { InvalidUriError } from "../../src/errors.ts";

describe("parseUri", () => {
  it("parses mem:// and lmdb:// with options", () => {
    expect(parseUri("mem://")).toEqual({ scheme: "mem" });
    expect(parseUri("lmdb://test.lmdb")).toEqual({ scheme: "lmdb", path: "test.lmdb", sync: true });
    expect(parseUri("lmdb:///abs/dir?map_size=2GB")).toEqual({
      scheme: "lmdb",
      path: "/abs/dir",
      mapSize: 2e9,
      sync: true,
    });
    expect(parseUri("lmdb://d?mapSize=500MB&sync=false")).toMatchObject({ mapSize: 5e8, sync: false });
    expect(parseUri("lmdb://d?map_size=10KB").scheme).toBe("lmdb");
    expect(parseUri("lmdb://d?map_size=1TB")).toMatchObject({ mapSize: 1e12 });
    expect(parseUri("lmdb://d?map_size=4096")).toMatchObject({ mapSize: 4096 });
  });

  it.each([
    ["s3://bucket", /HOST:BUCKET/],
    ["ftp://host/x", /unknown scheme 'ftp:\/\/'/],
    ["data.lmdb", /not a URI/],
    ["lmdb://", /needs a path/],
    ["lmdb://d?map_size=1kb", /not a size/],
    ["lmdb://d?map_size=-3MB", /not a size/],
    ["lmdb://d?map_size=0GB", /not a size/],
    ["lmdb://d?map_size=", /not a size/],
    ["lmdb://d?map_size=1.5GB", /not a size/],
    ["lmdb://d?colour=red", /unknown option 'colour'/],
    ["lmdb://d?sync=maybe", /sync must be/],
    ["mem://x", /takes no path/],
  ])("rejects %s with InvalidUriError", (uri, message) => {
    expect(() => parseUri(uri)).toThrow(
      expect.objectContaining({ code: "InvalidUriError", message: expect.stringMatching(message) }),
    );
  });
  it("never shows a secret in a message, even for a URI it cannot parse", () => {
    for (const uri of [
      "s3x://h:b?access=A&secret=TOPSECRET",
      "s3://h:b?secret=TOPSECRET&colour=1",
      "x?secret=TOPSECRET",
    ]) {
      expect(() => parseUri(uri)).toThrow(InvalidUriError);
      try {
        parseUri(uri);
      } catch (err) {
        expect((err as Error).message).not.toContain("TOPSECRET");
      }
    }
  });
});
