/**
 * The S3 client against a real Ceph RGW on loopback (scripts/rgw.sh): the requests, the conditional
 * writes under real races, and the typed errors.
 */
import dns from "node:dns";
import { type AddressInfo, createServer } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import type { S3Client } from "../../../src/storage/s3/client.ts";
import { probeConditionalWrites } from "../../../src/storage/s3/probe.ts";
import { clientFor, type RgwEnv, rgwAvailable, s3Error, skipReason, uniqueBucket, useBucket } from "./rgw.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

describe.skipIf(!rgwAvailable)(`S3Client on Ceph RGW${skipReason}`, () => {
  const bucket = useBucket("client");
  let env: RgwEnv;
  let s3: S3Client;
  beforeAll(() => {
    ({ env, s3 } = bucket);
  });

  it("puts, gets, heads and deletes, keys with spaces and unicode included", async () => {
    for (const key of ["plain", "dir/sub/key", "with space+plus", "ünï/cødé ✓", "sym!'()*~.-_"]) {
      const put = await s3.put(key, bytes(`value of ${key}`));
      expect(put.written).toBe(true);
      const got = await s3.get(key);
      expect(text(got?.body)).toBe(`value of ${key}`);
      expect(got?.etag).toBe(put.written ? put.etag : "");
      expect(await s3.head(key)).toEqual({ etag: got?.etag, size: got?.body.length });
      await s3.delete(key);
      expect(await s3.get(key)).toBeUndefined();
      expect(await s3.head(key)).toBeUndefined();
    }
    await s3.delete("never-there"); // deleting a missing key is fine
  });

  it("reads ranges, checked against Content-Range", async () => {
    const data = new Uint8Array(100_000).map((_, i) => i % 251);
    await s3.put("ranged", data);
    const mid = await s3.get("ranged", { range: { offset: 1234, length: 5000 } });
    expect(mid?.body).toEqual(data.subarray(1234, 6234));
    expect(mid?.size).toBe(100_000);
    const tail = await s3.get("ranged", { range: { offset: 99_990, length: 100 } });
    expect(tail?.body).toEqual(data.subarray(99_990));
    expect(await s3.get("no-such", { range: { offset: 0, length: 10 } })).toBeUndefined();
  });

  it("lists with prefix, delimiter and continuation, and deletes many at once", async () => {
    const keys = Array.from({ length: 25 }, (_, i) => `list/${i % 3}/k${String(i).padStart(3, "0")}`);
    await Promise.all(keys.map((k) => s3.put(k, bytes(k))));
    const page = await s3.list("list/", { maxKeys: 10 });
    expect(page.objects).toHaveLength(10);
    expect(page.continuationToken).toBeDefined();
    const all = await s3.listAll("list/");
    expect(all.objects.map((o) => o.key)).toEqual([...keys].sort());
    expect(all.objects[0].size).toBe(all.objects[0].key.length);
    const dirs = await s3.listAll("list/", { delimiter: "/" });
    expect(dirs.prefixes).toEqual(["list/0/", "list/1/", "list/2/"]);
    expect(dirs.objects).toEqual([]);
    await s3.deleteMany([...keys, "list/not-there"]);
    expect((await s3.listAll("list/")).objects).toEqual([]);
  });

  it("create-only: of 8 concurrent If-None-Match PUTs exactly one wins, and its bytes are stored", async () => {
    for (let round = 0; round < 3; round++) {
      const key = `race/create-${round}`;
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          s3.put(key, bytes(`writer ${i}`), { condition: { ifNoneMatch: "*" } }),
        ),
      );
      const winners = outcomes.flatMap((o, i) => (o.written ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const o of outcomes) if (!o.written) expect(o.reason).toBe("exists");
      expect(text((await s3.get(key))?.body)).toBe(`writer ${winners[0]}`);
    }
  });

  it("compare-and-swap: of N concurrent If-Match updates from one ETag exactly one wins", async () => {
    const key = "race/cas";
    const first = await s3.put(key, bytes("v0"));
    if (!first.written) throw new Error("setup");
    let etag = first.etag;
    for (let round = 1; round <= 3; round++) {
      const outcomes = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          s3.put(key, bytes(`v${round} by ${i}`), { condition: { ifMatch: etag } }),
        ),
      );
      const winners = outcomes.flatMap((o, i) => (o.written ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const o of outcomes) if (!o.written) expect(o.reason).toBe("changed");
      const stored = await s3.get(key);
      expect(text(stored?.body)).toBe(`v${round} by ${winners[0]}`);
      etag = stored!.etag;
    }
    // A stale ETag, and an If-Match on a missing key, lose as results, not exceptions.
    expect((await s3.put(key, bytes("late"), { condition: { ifMatch: first.etag } })).written).toBe(false);
    const missing = await s3.put("race/none", bytes("x"), { condition: { ifMatch: etag } });
    expect(missing.written).toBe(false);
  });

  it("RGW honours If-Match only unquoted: the default form works, the quoted one is refused", async () => {
    const put = await s3.put("quoting", bytes("a"));
    if (!put.written) throw new Error("setup");
    const quoted = clientFor(env, s3.bucket, { ifMatchQuoting: "quoted" });
    const q = await quoted.put("quoting", bytes("b"), { condition: { ifMatch: put.etag } });
    expect(q.written).toBe(false); // the RGW behaviour issue 25 reports; if this flips, RGW was fixed
    const u = await s3.put("quoting", bytes("c"), { condition: { ifMatch: `"${put.etag}"` } });
    expect(u.written).toBe(true); // a quoted ETag from a caller is unquoted before sending
  });

  it("probes: RGW enforces create-only and compare-and-swap, with unquoted If-Match", async () => {
    const probing = clientFor(env, s3.bucket, { ifMatchQuoting: "quoted" });
    const support = await probeConditionalWrites(probing, "lib/");
    expect(support).toEqual({
      createOnly: true,
      compareAndSwap: true,
      ifMatchQuoting: "unquoted",
      shortcoming: undefined,
    });
    expect(probing.ifMatchQuoting).toBe("unquoted");
    expect((await s3.listAll("lib/probe/")).objects).toEqual([]); // the probe cleans up
  });

  it("addresses the bucket as a host name (virtual-hosted style)", async () => {
    // RGW is told `rgw dns name = localhost`; point *.localhost at loopback for this process.
    const lookup = dns.lookup;
    const patched = ((host: string, ...rest: unknown[]) =>
      (lookup as (...a: unknown[]) => void)(
        host.endsWith(".localhost") ? "127.0.0.1" : host,
        ...rest,
      )) as typeof dns.lookup;
    dns.lookup = patched;
    try {
      const port = new URL(env.endpoint).port;
      const vhost = clientFor(env, s3.bucket, { endpoint: `http://localhost:${port}`, virtualHosted: true });
      await vhost.put("vhost/key", bytes("virtual"));
      expect(text((await s3.get("vhost/key"))?.body)).toBe("virtual");
      expect((await vhost.listAll("vhost/")).objects.map((o) => o.key)).toEqual(["vhost/key"]);
    } finally {
      dns.lookup = lookup;
    }
  });

  it("a missing bucket is a StorageError that says so, on GET, HEAD, PUT and LIST", async () => {
    const none = clientFor(env, uniqueBucket("missing"));
    for (const call of [
      () => none.get("k"),
      () => none.head("k"),
      () => none.put("k", bytes("x")),
      () => none.put("k", bytes("x"), { condition: { ifMatch: "abc" } }),
      () => none.list(""),
    ]) {
      const err = await s3Error(call());
      expect(err.kind).toBe("missing-bucket");
      expect(err.code).toBe("StorageError");
      expect(err.message).toMatch(/bucket '.*' does not exist/);
    }
  });

  it("bad credentials are a StorageError that says so", async () => {
    const wrongSecret = clientFor(env, s3.bucket, {
      credentials: { accessKeyId: env.accessKeyId, secretAccessKey: "wrong" },
    });
    const err = await s3Error(wrongSecret.get("k"));
    expect(err.kind).toBe("bad-credentials");
    expect(err.message).toMatch(/refused the credentials.*SignatureDoesNotMatch.*access key and secret/);
    const unknownKey = clientFor(env, s3.bucket, {
      credentials: { accessKeyId: "NOBODY", secretAccessKey: "x" },
    });
    expect((await s3Error(unknownKey.put("k", bytes("x")))).kind).toBe("bad-credentials");
    expect((await s3Error(unknownKey.head("k"))).kind).toBe("bad-credentials");
  });

  it("an unreachable endpoint is a StorageError after bounded retries", async () => {
    // A port nothing listens on (taken, then freed): connection refused on every attempt.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const nowhere = clientFor(env, s3.bucket, { endpoint: `http://127.0.0.1:${port}`, maxAttempts: 3 });
    const started = Date.now();
    const err = await s3Error(nowhere.get("k"));
    expect(err.kind).toBe("unreachable");
    expect(err.message).toMatch(
      /could not be reached .*ECONNREFUSED.* on all 3 attempts; check that the endpoint/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("the caller's AbortSignal ends a call at once, without retrying", async () => {
    const controller = new AbortController();
    controller.abort(new Error("caller gave up"));
    await expect(s3.get("k", { signal: controller.signal })).rejects.toThrow("caller gave up");
  });
});
