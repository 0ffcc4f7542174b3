/**
 * The real Ceph RGW the S3 tests run against, started by `scripts/rgw.sh` when it is not running.
 * Tests skip, saying why, only when the Ceph binaries are not installed (CI installs them: .ci/run).
 */
import { execFile, execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll } from "vitest";
import { S3Client, type S3ClientConfig } from "../../../src/storage/s3/client.ts";
import { S3StorageError } from "../../../src/storage/s3/errors.ts";
import { s3UriFor } from "../../conformance/stores.ts";

const script = join(dirname(fileURLToPath(import.meta.url)), "../../../scripts/rgw.sh");

function installed(): boolean {
  try {
    execFileSync("bash", ["-c", "command -v ceph-mon && command -v ceph-osd && command -v radosgw"], {
      stdio: "ignore",
    });
    return true;
  } catch {
    return false;
  }
}

/** Whether the tests can run: the Ceph binaries are installed. */
export const rgwAvailable = installed();

if (!rgwAvailable) {
  console.warn(
    "S3 tests SKIPPED: ceph-mon, ceph-osd and radosgw are not installed. Install them with " +
      "'apt-get install --no-install-recommends ceph-mon ceph-osd radosgw' (.ci/run does).",
  );
}

/** Why S3 tests are skipped, for `describe.skipIf(...)` names. */
export const skipReason = rgwAvailable
  ? ""
  : " (SKIPPED: ceph-mon/ceph-osd/radosgw not installed; apt-get install --no-install-recommends ceph-mon ceph-osd radosgw)";

/** The gateway's address and test credentials, as `scripts/rgw.sh env` prints them. */
export interface RgwEnv {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

/** Starts the cluster unless it answers already (about 15 s the first time) and returns its address. */
export async function startRgw(): Promise<RgwEnv> {
  await promisify(execFile)("bash", [script, "start"], { timeout: 120_000 });
  const { stdout } = await promisify(execFile)("bash", [script, "env"]);
  const env: Record<string, string> = {};
  for (const m of stdout.matchAll(/^export (\w+)=(.*)$/gm)) env[m[1]] = m[2];
  return {
    endpoint: env.FLOE_S3_ENDPOINT,
    region: env.FLOE_S3_REGION,
    accessKeyId: env.FLOE_S3_ACCESS_KEY,
    secretAccessKey: env.FLOE_S3_SECRET_KEY,
  };
}

/** A bucket name no other test run uses. */
export function uniqueBucket(tag: string): string {
  return `floe-${tag}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A client for `bucket` on the gateway, with short backoffs so retry tests stay quick. */
export function clientFor(env: RgwEnv, bucket: string, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint: env.endpoint,
    region: env.region,
    bucket,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
    baseDelayMs: 5,
    maxDelayMs: 50,
    ...extra,
  });
}

/** Deletes every object in the bucket (the bucket stays: RGW keeps no cost for an empty one). */
export async function emptyBucket(client: S3Client): Promise<void> {
  const { objects } = await client.listAll("");
  await client.deleteMany(objects.map((o) => o.key));
}

/**
 * Registers, in the calling `describe`, a fresh bucket on the gateway (started if needed) for its tests,
 * emptied after them; its fields are set once `beforeAll` has run.
 */
export function useBucket(name: string): { env: RgwEnv; s3: S3Client } {
  const ctx = {} as { env: RgwEnv; s3: S3Client };
  beforeAll(async () => {
    ctx.env = await startRgw();
    ctx.s3 = clientFor(ctx.env, uniqueBucket(name));
    await ctx.s3.createBucket();
  }, 120_000);
  afterAll(async () => {
    if (ctx.s3) await emptyBucket(ctx.s3);
  });
  return ctx;
}

/** Awaits `promise` and returns the S3StorageError it rejects with. */
export async function s3Error(promise: Promise<unknown>): Promise<S3StorageError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof S3StorageError) return err;
    throw err;
  }
  throw new Error("expected an S3StorageError, but the call succeeded");
}

/** A new bucket on the gateway and its `s3://` URI, for tests that open `Arctic` on it. */
export interface FreshS3 {
  /** `s3://127.0.0.1:BUCKET?port=…&access=…&secret=…`, with `&path_prefix=…` when one was asked for. */
  uri: string;
  bucket: string;
  /** A client on the bucket, to look at (or damage) the objects floe stored. */
  s3: S3Client;
  /** Empties the bucket; call it when the test is done (the bucket holds memory in the OSD). */
  drop(): Promise<void>;
}

/** Creates a unique bucket (named after `tag`) on the gateway and returns its `s3://` URI. */
export async function freshS3Uri(env: RgwEnv, tag: string, pathPrefix?: string): Promise<FreshS3> {
  const bucket = uniqueBucket(tag);
  const s3 = clientFor(env, bucket);
  await s3.createBucket();
  return { uri: s3UriFor(env, bucket, pathPrefix), bucket, s3, drop: () => emptyBucket(s3) };
}
