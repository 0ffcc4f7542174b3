import { StorageError } from "../../errors.ts";
import { mapLimit, type ObjectStore } from "../object-store.ts";
import type { S3Client } from "./client.ts";
import { type ConditionalWriteSupport, probeConditionalWrites } from "./probe.ts";

/** GETs (and create-only PUTs of a batch) one store keeps in flight: what the local RGW rewarded. */
export const S3_IN_FLIGHT = 16;

/**
 * An `ObjectStore` on one bucket of an S3-compatible server, every key under `prefix` (the URI's
 * `path_prefix`). Before its first write it checks, once, that the server enforces create-only PUTs
 * (`probeConditionalWrites`); a server that ignores them would let two writers both "win" the same
 * version number, so writes are refused unless the URI accepted single-writer use.
 */
export class S3ObjectStore implements ObjectStore {
  readonly description: string;
  private probed: Promise<void> | undefined;

  constructor(
    readonly client: S3Client,
    readonly prefix: string,
    private readonly options: { singleWriter?: boolean } = {},
  ) {
    this.description = client.describe(prefix);
  }

  async get(key: string, signal?: AbortSignal): Promise<Uint8Array | undefined> {
    return (await this.client.get(this.prefix + key, { signal }))?.body;
  }

  async getMany(keys: readonly string[], signal?: AbortSignal): Promise<(Uint8Array | undefined)[]> {
    return mapLimit(keys, S3_IN_FLIGHT, (key) => this.get(key, signal));
  }

  async create(key: string, value: Uint8Array, signal?: AbortSignal): Promise<boolean> {
    await this.checkConditionalWrites();
    const outcome = await this.client.put(this.prefix + key, value, {
      condition: { ifNoneMatch: "*" },
      signal,
    });
    return outcome.written;
  }

  async put(key: string, value: Uint8Array, signal?: AbortSignal): Promise<void> {
    await this.client.put(this.prefix + key, value, { signal });
  }

  async list(
    prefix: string,
    options: { delimiter?: string; startAfter?: string; signal?: AbortSignal } = {},
  ): Promise<{ keys: string[]; prefixes: string[] }> {
    const full = this.prefix + prefix;
    const keys: string[] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.list(full, {
        delimiter: options.delimiter,
        continuationToken: token,
        startAfter: token ? undefined : options.startAfter && this.prefix + options.startAfter,
        signal: options.signal,
      });
      for (const o of page.objects) keys.push(o.key.slice(this.prefix.length));
      for (const p of page.prefixes) prefixes.push(p.slice(this.prefix.length));
      token = page.continuationToken;
    } while (token);
    return { keys, prefixes };
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    await this.client.deleteMany(keys.map((key) => this.prefix + key));
  }

  close(): void {}

  /** Probes the server once (the first write waits for it); refuses writes where it fails. */
  private checkConditionalWrites(): Promise<void> {
    this.probed ??= (async () => {
      const support = await probeOnce(this.client, this.prefix);
      if (support.createOnly || this.options.singleWriter) return;
      throw new StorageError(
        `${this.description}: the server does not enforce conditional writes (${support.shortcoming}), ` +
          "so two writers could both commit the same version number and one version would be lost. " +
          "Use a server that honours If-None-Match (AWS S3, Ceph RGW, MinIO since 2024), or add " +
          "single_writer=true to the URI if only one writer at a time will ever use this store.",
      );
    })();
    // A failed probe (the server unreachable, say) is tried again by the next write.
    this.probed.catch(() => {
      this.probed = undefined;
    });
    return this.probed;
  }
}

/** What each server (endpoint and bucket) answered the probe, once per process: 7 requests each time. */
const probes = new Map<string, Promise<ConditionalWriteSupport>>();

function probeOnce(client: S3Client, prefix: string): Promise<ConditionalWriteSupport> {
  const key = `${client.endpoint} ${client.bucket}`;
  let probe = probes.get(key);
  if (!probe) {
    probe = probeConditionalWrites(client, `${prefix}%floe/`);
    probes.set(key, probe);
    probe.catch(() => probes.delete(key));
  }
  return probe;
}
