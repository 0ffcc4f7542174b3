import { describe, expect, it } from "vitest";
import { Arctic, DataError, FloeError } from "../../runtimes/node.ts";

// A batch item's DataError carries the failed error's code under `code`, as every FloeError does.

describe("DataError", () => {
  it("has code, the same as errorCode", async () => {
    const ac = new Arctic("mem://");
    const lib = await ac.createLibrary("lib");
    const [missing] = await lib.readBatch(["nope"]);
    expect(missing).toBeInstanceOf(DataError);
    const err = missing as DataError;
    expect(err.code).toBe("SymbolNotFoundError");
    expect(err.code).toBe(err.errorCode);
    // The same check as on a thrown error.
    const thrown: unknown = await lib.read("nope").catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(FloeError);
    expect((thrown as FloeError).code).toBe(err.code);
    await ac.close();
  });
});
