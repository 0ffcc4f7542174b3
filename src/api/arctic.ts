import { packRecord } from "../codec/msgpack.ts";
import { InvalidUriError, LibraryExistsError, LibraryNotFoundError, StorageError } from "../errors.ts";
import { BufferRecycler } from "../parallel/buffers.ts";
import { leasePool, MAX_WORKERS, type PoolLease } from "../parallel/shared-pool.ts";
import { MemoryStorage } from "../storage/memory-storage.ts";
import type { ObjectStore } from "../storage/object-store.ts";
import { S3Client } from "../storage/s3/client.ts";
import { S3ObjectStore } from "../storage/s3/s3-object-store.ts";
import { s3ClientConfig } from "../storage/s3/uri.ts";
import type { Storage } from "../storage/storage.ts";
import { keys, libraryOfKey, newId } from "../version/keys.ts";
import { LibraryGuardedStorage } from "../version/library-guard.ts";
import {
  createObjectLibrary,
  deleteObjectLibrary,
  listObjectLibraries,
  objectLibraryRecord,
} from "../version/object-libraries.ts";
import { ObjectVersionStore } from "../version/object-version-store.ts";
import type { ParallelContext } from "../version/parallel.ts";
import { type LibraryConfig, unpackLibraryConfig } from "../version/records.ts";
import type { SegmentWorker } from "../version/segment-worker.ts";
import { VersionStore } from "../version/version-store.ts";
import { InFlight, tracked } from "./in-flight.ts";
import { Library } from "./library.ts";
import { runtime } from "./runtime.ts";
import type { ArcticOptions, LibraryOptions } from "./types.ts";
import { hideSecret, parseUri } from "./uri.ts";
import { checkInteger, checkName, checkNewName, checkOptions } from "./validate.ts";

const LIBRARY_OPTIONS = ["rowsPerSegment", "columnsPerSegment", "dynamicSchema", "dedup"] as const;

/**
 * The entry point: a connection to one store, holding libraries.
 *
 * - `new Arctic("lmdb://data.lmdb")`: an LMDB store in the directory `data.lmdb`, created if missing.
 *   Options in the query: `map_size` (initial map size, e.g. `2GB`; the map grows by itself when full)
 *   and `sync` (`true` by default: a write has reached the disk when it resolves).
 * - `new Arctic("mem://")`: an in-memory store owned by this instance and gone with it.
 * - `new Arctic("s3://HOST:BUCKET?port=7480&access=KEY&secret=SECRET&path_prefix=team")`: a bucket of any
 *   S3-compatible store (`s3s://` for HTTPS), as ArcticDB writes the URI; many processes on many machines
 *   may read and write it at once (see docs/uris.md).
 */
export class Arctic {
  /** The URI this instance was opened with. */
  readonly uri: string;
  /** Size of the worker pool (0: everything runs on the calling thread). */
  readonly workers: number;
  private storage: Storage | null = null;
  /** The object store of an `s3://` URI (then `storage` is null). */
  private objects: ObjectStore | null = null;
  private parallel: ParallelContext | undefined;
  /** This instance's share of the process's worker pool. */
  private lease: PoolLease<SegmentWorker> | undefined;
  /** Calls in flight on this instance and its libraries, which `close()` waits for. */
  private readonly calls: InFlight;
  /** The one `close()` under way or done: every caller waits for the same. */
  private closing: Promise<void> | null = null;

  /**
   * Opens the store `uri` names. `workers` sets the size of the worker pool that encodes, decodes and
   * (on LMDB) stores the segments of large reads and writes in parallel: by default one per core, `0`
   * for none. The pool is the process's, shared by every `Arctic` (each uses at most its `workers` of
   * it); its workers start on first use and, once no `Arctic` is open, stay idle for 10 s, without
   * keeping the process alive, for the next `Arctic` to use.
   */
  constructor(uri: string, options?: ArcticOptions) {
    const parsed = parseUri(uri);
    const opts = checkOptions("Arctic", options, ["workers"]);
    const rt = runtime();
    const cores = rt.cores ?? 1;
    const workers =
      opts.workers === undefined
        ? cores > 1
          ? Math.min(cores, 8)
          : 0
        : checkInteger("workers", opts.workers, 0, MAX_WORKERS);
    // Object stores read and write on the calling thread, many requests in flight: no pool (yet).
    this.workers = parsed.scheme === "s3" ? 0 : workers;
    this.uri = uri;
    this.calls = new InFlight(hideSecret(uri));
    if (parsed.scheme === "mem") {
      this.storage = new MemoryStorage();
    } else if (parsed.scheme === "s3") {
      if ((parsed.s3.caCertPath || parsed.s3.caCertDir) && !rt.s3Fetch) {
        throw new InvalidUriError(
          `'${hideSecret(uri)}': CA_cert_path and CA_cert_dir need Node, Bun or Deno; ${rt.name} uses its own trusted CAs, so leave them out.`,
        );
      }
      const client = new S3Client({
        ...s3ClientConfig(parsed.s3, rt.env?.() ?? {}),
        fetch: rt.s3Fetch?.(parsed.s3),
      });
      this.objects = new S3ObjectStore(client, parsed.s3.pathPrefix, {
        singleWriter: parsed.s3.singleWriter,
      });
    } else {
      const open = runtime().openLmdb;
      if (!open) {
        throw new StorageError(
          `lmdb:// is not available in the ${runtime().name} runtime; use 'mem://' here, or run on Node, Bun or Deno.`,
        );
      }
      this.storage = open({ path: parsed.path, mapSize: parsed.mapSize, sync: parsed.sync });
    }
    if (this.workers > 0 && rt.createWorker) {
      const path = parsed.scheme === "lmdb" ? parsed.path : null;
      this.lease = leasePool<SegmentWorker>({
        factory: rt.createWorker,
        size: this.workers,
        path,
        dropStore: (w, p) => w.dropStore(p),
        unrefTimer: rt.unrefTimer,
      });
      this.parallel = {
        pool: this.lease.pool,
        buffers: new BufferRecycler(),
        store:
          parsed.scheme === "lmdb"
            ? { lmdb: { path: parsed.path, mapSize: parsed.mapSize, sync: parsed.sync } }
            : null,
        warmDuringWrites: rt.warmDuringWrites !== false,
      };
    }
  }

  private live(): Storage {
    this.calls.check();
    if (!this.storage)
      throw new StorageError(`Arctic('${hideSecret(this.uri)}') is closed; create a new Arctic to go on.`);
    return this.storage;
  }

  /** The object store, or undefined for LMDB and memory; `StorageError` once closed. */
  private liveObjects(): ObjectStore | undefined {
    this.calls.check();
    if (this.objects) return this.objects;
    if (!this.storage)
      throw new StorageError(`Arctic('${hideSecret(this.uri)}') is closed; create a new Arctic to go on.`);
    return undefined;
  }

  /** Creates library `name`; `LibraryExistsError` if it already exists. */
  async createLibrary(name: string, options?: LibraryOptions): Promise<Library> {
    checkNewName("library", name);
    const config = libraryConfig(options);
    const record = packRecord(config);
    const objects = this.liveObjects();
    if (objects) {
      await createObjectLibrary(objects, name, record);
      return this.library(name, new ObjectVersionStore(objects, name, config, record));
    }
    const storage = this.live();
    storage.writeTransaction((tx) => {
      if (tx.get(keys.library(name))) {
        throw new LibraryExistsError(
          `Library '${name}' already exists in ${storage.description}; use getLibrary('${name}').`,
        );
      }
      tx.put(keys.library(name), record);
    });
    return this.open(name, config, record);
  }

  /**
   * A handle on library `name` as its `L:` record `record` describes it. Every write through it checks,
   * in its own transaction, that this very record is still stored (see `LibraryGuardedStorage`).
   */
  private open(name: string, config: LibraryConfig, record: Uint8Array): Library {
    const guarded = new LibraryGuardedStorage(this.live(), name, record);
    return this.library(name, new VersionStore(guarded, name, config));
  }

  /**
   * Returns library `name`. When it does not exist: creates it with `libraryOptions` if `createIfMissing`,
   * else throws `LibraryNotFoundError`.
   */
  async getLibrary(
    name: string,
    options?: { createIfMissing?: boolean; libraryOptions?: LibraryOptions },
  ): Promise<Library> {
    checkName("library", name);
    const opts = checkOptions("getLibrary", options, ["createIfMissing", "libraryOptions"]);
    const objects = this.liveObjects();
    const existing = objects ? await objectLibraryRecord(objects, name) : this.live().get(keys.library(name));
    if (existing) {
      const config = unpackLibraryConfig(existing, `library config of '${name}'`);
      if (objects) return this.library(name, new ObjectVersionStore(objects, name, config, existing));
      return this.open(name, config, existing);
    }
    if (!opts.createIfMissing) {
      const where = objects ? objects.description : this.live().description;
      throw new LibraryNotFoundError(
        `Library '${name}' does not exist in ${where}. Create it with createLibrary('${name}') ` +
          "or pass { createIfMissing: true }.",
      );
    }
    try {
      return await this.createLibrary(name, opts.libraryOptions);
    } catch (err) {
      // Another writer created it between our look and our create: use theirs.
      if (err instanceof LibraryExistsError) return this.getLibrary(name);
      throw err;
    }
  }

  /** True when library `name` exists. */
  async hasLibrary(name: string): Promise<boolean> {
    checkName("library", name);
    const objects = this.liveObjects();
    if (objects) return (await objectLibraryRecord(objects, name)) !== undefined;
    return this.live().getView(keys.library(name)) !== undefined;
  }

  /** Names of all libraries, sorted. */
  async listLibraries(): Promise<string[]> {
    const objects = this.liveObjects();
    if (objects) return listObjectLibraries(objects);
    return this.live().keys(keys.libraryPrefix()).map(libraryOfKey).sort(); // key order puts a name's escaped `/` (see keys.ts) before every other character
  }

  /** Deletes library `name` and everything in it; `LibraryNotFoundError` if it does not exist. */
  async deleteLibrary(name: string): Promise<void> {
    checkName("library", name);
    const objects = this.liveObjects();
    if (objects) return deleteObjectLibrary(objects, name);
    const storage = this.live();
    storage.writeTransaction((tx) => {
      if (!tx.get(keys.library(name))) {
        throw new LibraryNotFoundError(
          `Library '${name}' does not exist in ${storage.description}; nothing was deleted.`,
        );
      }
      tx.remove(keys.library(name));
      for (const prefix of keys.libraryPrefixes(name)) for (const key of tx.keys(prefix)) tx.remove(key);
    });
  }

  /** A library handle whose calls `close()` waits for, and refuses once it has begun. */
  private library(name: string, store: VersionStore | ObjectVersionStore): Library {
    return tracked(new Library(name, store, this.parallel), this.calls);
  }

  /**
   * Releases the store (and, for `mem://`, its data) and this instance's share of the worker pool, once
   * the calls already made on it and its libraries have finished. Calls made after `close()` began
   * throw `StorageError`.
   */
  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    await this.calls.close();
    const storage = this.storage;
    const lease = this.lease;
    this.objects?.close();
    this.objects = null;
    this.storage = null;
    this.parallel = undefined;
    this.lease = undefined;
    // The workers drop their handles on the store before this thread closes its own.
    await lease?.release();
    storage?.close();
  }
}

function libraryConfig(options: LibraryOptions | undefined): LibraryConfig {
  const opts = checkOptions("library options", options, LIBRARY_OPTIONS);
  return {
    rowsPerSegment: checkInteger("rowsPerSegment", opts.rowsPerSegment ?? 100_000, 1, 2 ** 31 - 1),
    columnsPerSegment: checkInteger("columnsPerSegment", opts.columnsPerSegment ?? 127, 1, 100_000),
    dynamicSchema: opts.dynamicSchema === true,
    dedup: opts.dedup === true,
    created: Date.now(),
    // Tells this library from one of the same name created in the same millisecond after it was deleted.
    id: newId(),
  };
}
