/**
 * Node's side of the browser `s3://` case (browser-s3.ts): before the page, start the Ceph RGW
 * (scripts/rgw.sh), make a bucket whose CORS rule allows the page's origin and write a store into it
 * with Node's floe; after the page, read back what the page wrote. scripts/test-runtimes.mjs bundles
 * this file for Node and passes it dist/node.js.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { S3Client } from "../../src/storage/s3/client.ts";
import { floeCorsRule, putBucketCors } from "../../src/storage/s3/cors.ts";
import {
  expectFrame,
  LIBRARY,
  NODE_ROWS,
  nodeFrame,
  PAGE_APPEND_ROWS,
  pageFrame,
  ROWS_PER_SEGMENT,
  type S3Fixture,
} from "./browser-s3.ts";
import type { Floe } from "./cases.ts";
import { expect } from "./harness.ts";

const run = promisify(execFile);

/** Starts the gateway if needed and prepares the bucket and the store Node writes for the page. */
export async function prepareS3Store(floe: Floe, origin: string, root: string): Promise<S3Fixture> {
  try {
    await run("bash", ["-c", "command -v ceph-mon && command -v ceph-osd && command -v radosgw"]);
  } catch {
    return {
      skip:
        "ceph-mon, ceph-osd and radosgw are not installed (apt-get install --no-install-recommends " +
        "ceph-mon ceph-osd radosgw)",
    };
  }
  const script = join(root, "scripts/rgw.sh");
  await run("bash", [script, "start"], { timeout: 120_000 });
  const vars: Record<string, string> = {};
  for (const m of (await run("bash", [script, "env"])).stdout.matchAll(/^export (\w+)=(.*)$/gm)) {
    vars[m[1]] = m[2];
  }
  const endpoint = vars.FLOE_S3_ENDPOINT;
  const region = vars.FLOE_S3_REGION;
  const accessKeyId = vars.FLOE_S3_ACCESS_KEY;
  const secretAccessKey = vars.FLOE_S3_SECRET_KEY;
  const unique = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const bucket = `floe-browser-${unique}`;
  const bareBucket = `floe-browser-bare-${unique}`;
  const client = (name: string) =>
    new S3Client({ endpoint, region, bucket: name, credentials: { accessKeyId, secretAccessKey } });
  await client(bucket).createBucket();
  await putBucketCors(client(bucket), [floeCorsRule([origin])]);
  await client(bareBucket).createBucket();

  const url = new URL(endpoint);
  const uri =
    `s3://${url.hostname}:${bucket}?port=${url.port || 80}&region=${region}` +
    `&access=${encodeURIComponent(accessKeyId)}&secret=${encodeURIComponent(secretAccessKey)}`;
  const fixture: S3Fixture = {
    uri,
    endpoint,
    region,
    bucket,
    bareBucket,
    accessKeyId,
    secretAccessKey,
    origin,
  };
  let ac: InstanceType<Floe["Arctic"]> | undefined;
  try {
    ac = new floe.Arctic(uri, { workers: 0 });
    const lib = await ac.createLibrary(LIBRARY, { rowsPerSegment: ROWS_PER_SEGMENT });
    const [n0, n1] = NODE_ROWS;
    await lib.write("prices", nodeFrame(floe.DataFrame, 0, n0), { metadata: { from: "node", rows: n0 } });
    await lib.append("prices", nodeFrame(floe.DataFrame, n0, n1), {
      metadata: { from: "node", rows: n0 + n1 },
    });
  } catch (err) {
    fixture.nodeError = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } finally {
    await ac?.close();
  }
  return fixture;
}

/** Reads back, with Node's floe, what the page wrote; throws on any difference. */
export async function verifyPageWrites(
  floe: Floe,
  fixture: Exclude<S3Fixture, { skip: string }>,
): Promise<void> {
  const [n0, n1] = NODE_ROWS;
  const total = n0 + n1 + PAGE_APPEND_ROWS;
  const ac = new floe.Arctic(fixture.uri, { workers: 0 });
  try {
    const lib = await ac.getLibrary(LIBRARY);
    expect((await lib.listSymbols()).sort()).toEqual(["from-page", "prices"]);
    expect((await lib.listVersions("prices")).map((v) => v.version)).toEqual([2, 1, 0]);
    const prices = await lib.read("prices");
    expect(prices.version).toBe(2);
    expect(prices.metadata).toEqual({ from: "browser", rows: total });
    expectFrame(prices.data, nodeFrame(floe.DataFrame, 0, total), "prices, version 2");
    const before = await lib.read("prices", { asOf: 1 });
    expectFrame(before.data, nodeFrame(floe.DataFrame, 0, n0 + n1), "prices, version 1");
    const page = await lib.read("from-page");
    expect(page.metadata).toEqual({ origin: fixture.origin });
    expectFrame(page.data, pageFrame(floe.DataFrame), "from-page");
  } finally {
    await ac.close();
  }
}

/** Removes every object the run left in its two buckets (the empty buckets stay; RGW keeps no cost). */
export async function emptyS3Buckets(fixture: Exclude<S3Fixture, { skip: string }>): Promise<void> {
  for (const bucket of [fixture.bucket, fixture.bareBucket]) {
    const client = new S3Client({
      endpoint: fixture.endpoint,
      region: fixture.region,
      bucket,
      credentials: { accessKeyId: fixture.accessKeyId, secretAccessKey: fixture.secretAccessKey },
    });
    const { objects } = await client.listAll("");
    await client.deleteMany(objects.map((o) => o.key));
  }
}
