import { type Kernels, loadKernels } from "../codec/wasm.ts";
import type { NumericArray } from "../dtypes.ts";
import { type ErrorData, errorData } from "../errors.ts";
import type { ChunkResult, ChunkSteps } from "../query/chunk.ts";
import type { LmdbOptions } from "../storage/lmdb-storage.ts";
import { MemoryStorage } from "../storage/memory-storage.ts";
import type { Storage } from "../storage/storage.ts";
import { codesOf } from "../string-codes.ts";
import type { ColumnData, FrameData } from "./frame-data.ts";
import { queryChunks } from "./query-chunk.ts";
import type { ReadRequest } from "./read-plan.ts";
import type { IndexRecord, LibraryConfig, VersionRecord } from "./records.ts";
import { VersionStore } from "./version-store.ts";

/**
 * What a pool worker does, built on the same `VersionStore` code as the calling thread: encode and store
 * the tiles of a slice of rows, or decode some columns of a version. On LMDB the worker opens its own
 * handle on the store (one per path) and reads and writes segments itself; for other stores it encodes
 * into a private in-memory store and hands the bytes back for the caller to store.
 */

/** Where the worker's segments live: an LMDB store it opens itself, or none (bytes go back). */
export type StoreSpec = { lmdb: LmdbOptions } | null;

export interface WriteJob {
  store: StoreSpec;
  lib: string;
  config: LibraryConfig;
  symbol: string;
  frame: FrameData;
}

export interface WriteResult {
  /** Tiles of the job's rows, `rowStart` counted from the job's first row. */
  index: IndexRecord;
  /** Segment keys the worker stored (LMDB); the caller removes them if the version is not committed. */
  written: string[];
  /** Without a store of its own: the encoded segments, for the caller to store. */
  segments?: [string, Uint8Array][];
  /** The job's input buffers, handed back for reuse. */
  buffers: ArrayBuffer[];
}

export interface ReadJob {
  /** The worker's own LMDB handle, or, for a store only the caller can reach (mem://), the segments themselves, in shared memory. */
  store: { lmdb: LmdbOptions } | { segments: [string, Uint8Array][] };
  lib: string;
  config: LibraryConfig;
  symbol: string;
  record: VersionRecord;
  index: IndexRecord;
  request: ReadRequest;
  /** The calling thread's `Storage.seen`: the worker reads no older state, so it finds what that thread wrote. */
  seen?: number;
  /** Arrays, moved here from the caller, to decode the fixed-width columns and index into. */
  targets?: { columns: [string, NumericArray][]; index?: BigInt64Array };
}

/** A chunk of a query's rows: decoded as a `ReadJob`'s, then run through the query's per-chunk steps. */
export interface QueryJob extends Omit<ReadJob, "targets"> {
  steps: ChunkSteps;
  /** The chunk's first row in the stored frame. */
  rowStart: number;
  /**
   * Several chunks of an aggregating query, as row ranges (the request's own range is ignored): each is
   * run as a chunk of its own and their partials merged here, so one partial comes back.
   */
  chunks?: [number, number][];
}

export type Outcome<T> = { ok: T } | { error: ErrorData };

export interface SegmentWorker {
  write(job: WriteJob): Promise<Outcome<WriteResult>>;
  read(job: ReadJob): Promise<Outcome<FrameData>>;
  /** Decodes a chunk of rows and runs a query's per-chunk steps on it: only the chunk's answer comes back. */
  query(job: QueryJob): Promise<Outcome<ChunkResult>>;
  /** Loads the codec and opens the store ahead of work, so the first job does not wait for them. */
  prepare(store: StoreSpec): Promise<void>;
  /**
   * Closes this worker's handle on the LMDB store at `path`: the last `Arctic` on it is closing, and the
   * worker outlives it (the pool is the process's, see shared-pool.ts).
   */
  dropStore(path: string): Promise<void>;
}

/**
 * A decoded frame's string columns read as codes alone (`codesOnly`) made ready to move: each becomes
 * its dictionary and an Int32Array of codes (moved, not copied), as structured clone copies every string
 * of an array one by one, which made a pooled read of a string column several times slower than the
 * calling thread's. `unpackStrings` makes the strings again on the other side.
 */
function packStrings(frame: FrameData): FrameData {
  return {
    ...frame,
    columns: frame.columns.map((c) => {
      const coded = c.dtype === "string" ? codesOf(c.values) : undefined;
      if (coded === undefined) return c;
      return { ...c, values: [], coded: { dict: coded.dict, codes: coded.codes } } as ColumnData;
    }),
  };
}

/** `frame` with the string columns `packStrings` sent as dictionary and codes made into strings again. */
export function unpackStrings(frame: FrameData): FrameData {
  return {
    ...frame,
    columns: frame.columns.map((c) => {
      const coded = (c as PackedColumn).coded;
      if (coded === undefined) return c;
      const out: (string | null)[] = new Array(coded.codes.length);
      for (let i = 0; i < out.length; i++) {
        const code = coded.codes[i];
        out[i] = code < 0 ? null : coded.dict[code];
      }
      return { name: c.name, dtype: c.dtype, values: out };
    }),
  };
}

/** A column on its way from a worker: strings as a dictionary and codes (`packStrings`). */
type PackedColumn = ColumnData & { coded?: { dict: readonly string[]; codes: Int32Array } };

/** The buffers of a chunk's answer (its rows' columns, or its partial's state), to move them. */
function chunkBuffers(result: ChunkResult): ArrayBuffer[] {
  if (result.kind === "rows") return frameBuffers(result.rows as FrameData);
  const out = new Set<ArrayBuffer>();
  for (const s of result.states) {
    for (const a of [s.count, s.sum, s.comp, s.value, s.pos]) {
      if (a !== undefined && !Array.isArray(a)) out.add(a.buffer as ArrayBuffer);
    }
  }
  return [...out];
}

/** The buffers holding a frame's fixed-width columns and index, to move them without copying. */
export function frameBuffers(frame: FrameData): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const add = (values: ColumnData["values"]) => {
    if (!Array.isArray(values)) out.add(values.buffer as ArrayBuffer);
  };
  for (const c of frame.columns) {
    add(c.values);
    const coded = (c as PackedColumn).coded;
    if (coded) out.add(coded.codes.buffer as ArrayBuffer);
  }
  if (frame.index.kind === "timestamp") add(frame.index.values);
  return [...out];
}

/**
 * The worker's side. `open` opens LMDB in this runtime; `transfer` marks buffers to move (Comlink's
 * `transfer`), so results travel without structured-clone copies.
 */
export function createSegmentWorker(
  open: (options: LmdbOptions) => Storage,
  transfer: <T>(value: T, buffers: ArrayBuffer[]) => T,
): SegmentWorker {
  const handles = new Map<string, Storage>();
  // The thread that started this worker keeps the store open, so this open is `sameProcess`.
  const handleFor = (lmdb: LmdbOptions) => {
    let storage = handles.get(lmdb.path);
    if (!storage) {
      storage = open({ ...lmdb, sameProcess: true });
      handles.set(lmdb.path, storage);
    }
    return storage;
  };
  // One store per library and config, so its encode buffer is reused from job to job.
  const stores = new Map<string, VersionStore>();
  const storeFor = (spec: { lmdb: LmdbOptions } | null, lib: string, config: LibraryConfig) => {
    const id = JSON.stringify([spec?.lmdb.path ?? null, lib, config]);
    let store = stores.get(id);
    if (!store) {
      const storage = spec ? handleFor(spec.lmdb) : new MemoryStorage();
      store = new VersionStore(storage, lib, config, { encodeFirst: true });
      stores.set(id, store);
    }
    return store;
  };
  /** The store a read or query job reads, caught up with the caller's, and the kernels. */
  const jobStore = async (job: ReadJob | QueryJob): Promise<{ store: VersionStore; k: Kernels }> => {
    // The handle before the first await: a dropStore sent after this job then finds it to close.
    const store =
      "segments" in job.store
        ? new VersionStore(new LentSegments(job.store.segments), job.lib, job.config)
        : storeFor(job.store, job.lib, job.config);
    const k = await loadKernels();
    if (job.seen !== undefined) store.storage.catchUp?.(job.seen);
    return { store, k };
  };
  /** The rows and columns a read job asks for, decoded from the job's store. */
  const decode = async (job: ReadJob): Promise<FrameData> => {
    const { store, k } = await jobStore(job);
    const targets = "targets" in job ? job.targets : undefined;
    const into = targets && { columns: new Map(targets.columns), index: targets.index };
    const { frame } = store.storage.readTransaction(() =>
      store.readRows(k, job.symbol, job.record, job.index, job.request, into),
    );
    return frame;
  };
  return {
    async write(job) {
      const written: string[] = [];
      let store: VersionStore | undefined;
      try {
        store = storeFor(job.store, job.lib, job.config);
        const k = await loadKernels();
        const index = store.writeSegments(k, job.symbol, job.frame, written);
        const buffers = frameBuffers(job.frame);
        const result: WriteResult = { index, written: job.store ? written : [], buffers };
        if (!job.store) {
          // The private in-memory store only stages bytes for the caller; empty it as they leave.
          const own = store;
          result.segments = written.map((key) => [key, own.storage.get(key) as Uint8Array]);
          own.discard(written);
          for (const [, bytes] of result.segments) buffers.push(bytes.buffer as ArrayBuffer);
        }
        return transfer({ ok: result }, buffers);
      } catch (err) {
        store?.discard(written);
        return { error: errorData(err) };
      }
    },
    async read(job) {
      try {
        const frame = packStrings(await decode(job));
        return transfer({ ok: frame }, frameBuffers(frame));
      } catch (err) {
        return { error: errorData(err) };
      }
    },
    async query(job) {
      try {
        const { store, k } = await jobStore(job);
        const chunk = store.storage.readTransaction(() =>
          queryChunks(
            store,
            k,
            job.symbol,
            job.record,
            job.index,
            job.request,
            job.rowStart,
            job.chunks ?? [],
            job.steps,
          ),
        );
        const result: ChunkResult =
          chunk.kind === "rows" ? { ...chunk, rows: packStrings(chunk.rows as FrameData) } : chunk;
        return transfer({ ok: result }, chunkBuffers(result));
      } catch (err) {
        return { error: errorData(err) };
      }
    },
    async prepare(spec) {
      // The handle first, as in read: messages are handled in order up to their first await.
      if (spec) handleFor(spec.lmdb);
      await loadKernels();
    },
    async dropStore(path) {
      const storage = handles.get(path);
      if (!storage) return;
      handles.delete(path);
      for (const [id, store] of stores) if (store.storage === storage) stores.delete(id);
      storage.close();
    },
  };
}

/**
 * The segments of one read, lent by the calling thread in shared memory (`mem://`): read-only, and
 * without a copy, since copying into fresh memory is the cost a pooled read spreads over the cores.
 */
class LentSegments implements Storage {
  readonly description = "mem:// (segments lent to a pool worker)";
  private readonly map: Map<string, Uint8Array>;

  constructor(segments: [string, Uint8Array][]) {
    this.map = new Map(segments);
  }

  getView(key: string): Uint8Array | undefined {
    return this.map.get(key);
  }

  get(key: string): Uint8Array | undefined {
    return this.map.get(key)?.slice();
  }

  keys(prefix: string): string[] {
    return [...this.map.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  writeTransaction<T>(): T {
    throw new Error("internal: segments lent to a pool worker are read-only");
  }

  readTransaction<T>(fn: () => T): T {
    return fn();
  }

  close(): void {
    this.map.clear();
  }
}
