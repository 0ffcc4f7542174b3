/**
 * Fresh stores for the conformance cases in the runtimes with a file system and `fetch` (Node, Bun and
 * Deno): temporary `lmdb://` directories, and `s3://` buckets on a Ceph RGW (`scripts/rgw.sh`), each
 * call a new one, all removed or emptied at the end.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { S3Client } from "../../src/storage/s3/client.ts";

/** A temporary directory handing out fresh `lmdb://` URIs inside it. */
export function tempStores(prefix = "floe-conformance-"): { uri: () => string; remove: () => void } {
  const root = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return {
    uri: () => `lmdb://${join(root, `store-${n++}`)}`,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** An S3 gateway's address and keys: what `scripts/rgw.sh env` prints (`RgwEnv` in test/storage/s3/rgw.ts). */
export interface S3Gateway {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * The gateway named by the FLOE_S3_* variables `scripts/rgw.sh env` prints (scripts/test-runtimes.mjs
 * passes them to Bun and Deno), or undefined when FLOE_S3_ENDPOINT is not set.
 */
export function gatewayFromEnv(get: (name: string) => string | undefined): S3Gateway | undefined {
  const endpoint = get("FLOE_S3_ENDPOINT");
  if (!endpoint) return undefined;
  return {
    endpoint,
    region: get("FLOE_S3_REGION") ?? "us-east-1",
    accessKeyId: get("FLOE_S3_ACCESS_KEY") ?? "",
    secretAccessKey: get("FLOE_S3_SECRET_KEY") ?? "",
  };
}

// A bucket name no other test run uses (as test/storage/s3/rgw.ts's, which Bun and Deno cannot import).
function uniqueBucket(tag: string): string {
  return `floe-${tag}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

// A client for `bucket` on the gateway, with short backoffs so tests stay quick.
function bucketClient(gateway: S3Gateway, bucket: string): S3Client {
  return new S3Client({
    endpoint: gateway.endpoint,
    region: gateway.region,
    bucket,
    credentials: { accessKeyId: gateway.accessKeyId, secretAccessKey: gateway.secretAccessKey },
    baseDelayMs: 5,
    maxDelayMs: 50,
  });
}

/**
 * The `s3://` URI of `bucket` on the gateway as ArcticDB writes it: `s3://HOST:BUCKET?port=…&access=…&
 * secret=…`, `s3s://` for an https endpoint, `region` only where it is not the default, and
 * `path_prefix` when given.
 */
export function s3UriFor(gateway: S3Gateway, bucket: string, pathPrefix?: string): string {
  const url = new URL(gateway.endpoint);
  const options = [
    ...(url.port ? [`port=${url.port}`] : []),
    ...(gateway.region !== "us-east-1" ? [`region=${gateway.region}`] : []),
    `access=${encodeURIComponent(gateway.accessKeyId)}`,
    `secret=${encodeURIComponent(gateway.secretAccessKey)}`,
    ...(pathPrefix ? [`path_prefix=${pathPrefix}`] : []),
  ];
  return `${url.protocol === "https:" ? "s3s" : "s3"}://${url.hostname}:${bucket}?${options.join("&")}`;
}

// Deletes every object in the client's bucket (the bucket stays; RGW keeps nothing for an empty one).
async function emptyBucket(client: S3Client): Promise<void> {
  const { objects } = await client.listAll("");
  if (objects.length) await client.deleteMany(objects.map((o) => o.key));
}

/** Fresh `s3://` stores: `uri()` creates a new bucket and names it, `release(uri)` empties it again. */
export interface S3Stores {
  uri(): Promise<string>;
  release(uri: string): Promise<void>;
}

/**
 * `s3://` stores on the gateway, one new bucket per `uri()` (tagged `tag`), with `pathPrefix` when
 * given, so one runtime's stores use the bucket root and another's a prefix. `gateway` may be a
 * promise (Node starts the gateway on first use).
 */
export function s3Stores(
  gateway: S3Gateway | (() => Promise<S3Gateway>),
  tag: string,
  pathPrefix?: string,
): S3Stores {
  const clients = new Map<string, S3Client>();
  return {
    async uri() {
      const gw = typeof gateway === "function" ? await gateway() : gateway;
      const bucket = uniqueBucket(tag);
      const client = bucketClient(gw, bucket);
      await client.createBucket();
      const uri = s3UriFor(gw, bucket, pathPrefix);
      clients.set(uri, client);
      return uri;
    },
    async release(uri) {
      const client = clients.get(uri);
      clients.delete(uri);
      if (client) await emptyBucket(client);
    },
  };
}
