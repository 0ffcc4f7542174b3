// What an out-of-space failure says (issue 21): a full disk (ENOSPC, or LMDB's EIO with no room left on
// the disk), a store file that is full or fragmented (map full), a failing device (EIO with room left).
import { describe, expect, it } from "vitest";
import { lmdbStorageError } from "../../src/storage/lmdb-errors.ts";

const EIO = Object.assign(new Error("Input/output error"), { code: 5 });
const ENOSPC = Object.assign(new Error("No space left on device"), { code: 28 });
const MAP_FULL = Object.assign(new Error("MDB_MAP_FULL: Environment mapsize limit reached"), {
  code: -30792,
});

describe("out-of-space StorageErrors", () => {
  it("tell a full disk from a full or fragmented store file", () => {
    const disk = lmdbStorageError("lmdb:///s", EIO, { diskFree: 0, storeFree: 0 });
    expect(disk.code).toBe("StorageError");
    expect(disk.message).toMatch(/the disk is full \(ENOSPC: 0 bytes free; Input\/output error\)/);
    expect(disk.message).toMatch(/Free space on the disk that holds it/);
    expect(disk.message).not.toMatch(/store file/);
    expect(lmdbStorageError("lmdb:///s", ENOSPC).message).toMatch(/the disk is full \(ENOSPC; No space/);

    const store = lmdbStorageError("lmdb:///s", MAP_FULL, { diskFree: 5e9, storeFree: 0 });
    expect(store.message).toMatch(/the store file is full or fragmented \(map size reached \/ no free pages/);
    expect(store.message).toMatch(/larger map_size/);
    expect(store.message).not.toMatch(/disk is full/);
  });

  it("say when the disk is full but the store file has free pages too fragmented for the write", () => {
    const err = lmdbStorageError("lmdb:///s", EIO, { diskFree: 4096, storeFree: 3_000_000 });
    expect(err.message).toMatch(/the disk is full .* The store file itself has 3\.0 MB of free pages/s);
    expect(err.message).toMatch(/contiguous pages/);
  });

  it("do not call an I/O error with room on the disk a full disk", () => {
    const err = lmdbStorageError("lmdb:///s", EIO, { diskFree: 2e9, storeFree: 0 });
    expect(err.message).toMatch(/although the disk has 2000\.0 MB free: the device may be failing/);
    expect(err.message).not.toMatch(/disk is full/);
  });
});
