/**
 * The create-only version chain with real concurrent writers on a real Ceph RGW: 20 processes commit
 * to one symbol at once; versions 0..19 exist, each written once, each holding its writer's record.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import type { S3Client } from "../../../src/storage/s3/client.ts";
import { commitVersion, newestVersion, recordKey } from "../../../src/storage/s3/version-chain.ts";
import { tempDir } from "../../helpers.ts";
import { type RgwEnv, rgwAvailable, skipReason, useBucket } from "./rgw.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const keys = { prefix: "lib/V/sym/", hintKey: "lib/R/sym" };
const decode = (b: Uint8Array) => JSON.parse(new TextDecoder().decode(b));

describe.skipIf(!rgwAvailable)(`create-only version chain on Ceph RGW${skipReason}`, () => {
  const bucket = useBucket("chain");
  let env: RgwEnv;
  let s3: S3Client;
  beforeAll(() => {
    ({ env, s3 } = bucket);
  });

  it("finds the newest version from a stale or missing hint (galloping over dense numbers)", async () => {
    const k = { prefix: "gallop/V/", hintKey: "gallop/R" };
    expect(await newestVersion(s3, k)).toBe(-1);
    for (let n = 0; n < 37; n++) await s3.put(recordKey(k, n), new Uint8Array([n]));
    expect(await newestVersion(s3, k)).toBe(36); // no hint at all
    await s3.put(k.hintKey, new TextEncoder().encode("5"));
    expect(await newestVersion(s3, k)).toBe(36); // a stale hint
  });

  it("20 concurrent writers in one process: versions 0..19, each once", async () => {
    const k = { prefix: "inproc/V/", hintKey: "inproc/R" };
    const got = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        commitVersion(s3, k, (v) => new TextEncoder().encode(JSON.stringify({ v, writer: i }))),
      ),
    );
    expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    for (let i = 0; i < 20; i++) {
      expect(decode((await s3.get(recordKey(k, got[i])))!.body)).toEqual({ v: got[i], writer: i });
    }
    expect(await newestVersion(s3, k)).toBe(19);
  });

  it("20 writer processes at once: versions 0..19, each once, each its writer's record", async () => {
    const bundle = join(tempDir(), "chain.mjs");
    await build({
      stdin: {
        contents:
          'export { S3Client } from "./client.ts"; export { commitVersion } from "./version-chain.ts";',
        resolveDir: join(here, "../../../src/storage/s3"),
        loader: "ts",
      },
      outfile: bundle,
      bundle: true,
      format: "esm",
      platform: "neutral",
      logLevel: "warning",
    });
    const run = promisify(execFile);
    const outputs = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        run(process.execPath, [
          join(here, "chain-writer.mjs"),
          pathToFileURL(bundle).href,
          env.endpoint,
          env.region,
          env.accessKeyId,
          env.secretAccessKey,
          s3.bucket,
          `w${i}`,
        ]),
      ),
    );
    const numbers = outputs.map((o) => Number(o.stdout.trim()));
    expect([...numbers].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    for (let i = 0; i < 20; i++) {
      expect(decode((await s3.get(recordKey(keys, numbers[i])))!.body)).toEqual({
        v: numbers[i],
        writer: `w${i}`,
      });
    }
    const listed = await s3.listAll(keys.prefix);
    expect(listed.objects).toHaveLength(20);
    expect(await newestVersion(s3, keys)).toBe(19);
  }, 120_000);
});
