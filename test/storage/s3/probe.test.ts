/**
 * The conditional-write probe on a server that ignores conditions (as s3rver does): it must say so.
 * (That RGW passes the probe is tested against the real gateway in client.test.ts.)
 */
import { describe, expect, it } from "vitest";
import { S3Client } from "../../../src/storage/s3/client.ts";
import { md5Hex } from "../../../src/storage/s3/md5.ts";
import { probeConditionalWrites } from "../../../src/storage/s3/probe.ts";

/** A fetch answering PUT/GET/HEAD/DELETE from a Map, accepting every If-None-Match and If-Match. */
function lenientServer(): typeof fetch {
  const objects = new Map<string, Uint8Array>();
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const key = new URL(String(input)).pathname;
    const method = init?.method ?? "GET";
    if (method === "PUT") {
      const body = new Uint8Array(init?.body as Uint8Array);
      objects.set(key, body);
      return new Response(null, { status: 200, headers: { etag: `"${md5Hex(body)}"` } });
    }
    if (method === "DELETE") {
      objects.delete(key);
      return new Response(null, { status: 204 });
    }
    const body = objects.get(key);
    if (!body) return new Response("<Error><Code>NoSuchKey</Code></Error>", { status: 404 });
    return new Response(method === "HEAD" ? null : (body as Uint8Array<ArrayBuffer>), {
      status: 200,
      headers: { etag: `"${md5Hex(body)}"` },
    });
  }) as typeof fetch;
}

describe("probeConditionalWrites", () => {
  it("finds a server that ignores If-None-Match, and names its shortcoming", async () => {
    const client = new S3Client({
      endpoint: "http://lenient.invalid",
      bucket: "b",
      region: "us-east-1",
      credentials: { accessKeyId: "a", secretAccessKey: "s" },
      fetch: lenientServer(),
    });
    const support = await probeConditionalWrites(client, "lib/");
    expect(support.createOnly).toBe(false);
    expect(support.compareAndSwap).toBe(false);
    expect(support.shortcoming).toBe(
      "it accepted a create-only PUT (If-None-Match: *) of a key that already existed",
    );
  });
});
