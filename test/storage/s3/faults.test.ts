/**
 * Faults between the client and a real Ceph RGW, injected by a proxy on loopback: each transient fault
 * is retried to success; a fault that persists ends as a StorageError that says which; no read ever
 * returns wrong bytes; a conditional write whose answer was lost is still known as ours.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { S3Client } from "../../../src/storage/s3/client.ts";
import { S3StorageError } from "../../../src/storage/s3/errors.ts";
import { type Fault, type FaultProxy, startFaultProxy } from "./fault-proxy.ts";
import {
  clientFor,
  emptyBucket,
  type RgwEnv,
  rgwAvailable,
  s3Error,
  skipReason,
  startRgw,
  uniqueBucket,
} from "./rgw.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
/** Byte equality without vitest's element-by-element diffing, which takes seconds on 256 KB. */
const same = (a: Uint8Array | undefined, b: Uint8Array) => a !== undefined && Buffer.from(a).equals(b);

/** A plan that applies `faults` to the first requests, in order, then passes everything. */
const first =
  (...faults: Fault[]) =>
  ({ n }: { n: number }): Fault =>
    faults[n - 1] ?? "pass";

describe.skipIf(!rgwAvailable)(`S3Client through a fault proxy to Ceph RGW${skipReason}`, () => {
  let env: RgwEnv;
  let direct: S3Client;
  let proxy: FaultProxy;
  let s3: S3Client;
  const data = new Uint8Array(256 * 1024).map((_, i) => (i * 7919) & 255);

  beforeAll(async () => {
    env = await startRgw();
    const bucket = uniqueBucket("faults");
    direct = clientFor(env, bucket);
    await direct.createBucket();
    await direct.put("data", data);
    proxy = await startFaultProxy(env.endpoint);
    s3 = clientFor(env, bucket, { endpoint: proxy.endpoint, timeoutMs: 1_000, maxAttempts: 4 });
  }, 120_000);

  afterEach(() => {
    proxy.plan = () => "pass";
    proxy.latencyMs = 0;
    proxy.log.length = 0;
  });

  afterAll(async () => {
    await proxy?.close();
    if (direct) await emptyBucket(direct);
  });

  it.each<Fault>(["slowdown", "error500", "reset", "truncate", "stall"])(
    "a GET retried after '%s' returns the right bytes",
    async (fault) => {
      proxy.plan = first(fault, fault);
      const got = await s3.get("data");
      expect(same(got?.body, data)).toBe(true);
      expect(proxy.log.map((r) => r.fault)).toEqual([fault, fault, "pass"]);
    },
  );

  it.each<Fault>(["slowdown", "error500", "reset", "truncate", "stall"])(
    "a ranged GET retried after '%s' returns the right bytes",
    async (fault) => {
      proxy.plan = first(fault);
      const got = await s3.get("data", { range: { offset: 1000, length: 50_000 } });
      expect(same(got?.body, data.subarray(1000, 51_000))).toBe(true);
      expect(proxy.log).toHaveLength(2);
    },
  );

  it.each<Fault>(["slowdown", "error500", "reset", "lose-answer"])(
    "a PUT retried after '%s' is stored once, whole",
    async (fault) => {
      const key = `put-after-${fault}`;
      proxy.plan = first(fault);
      const put = await s3.put(key, data);
      expect(put.written).toBe(true);
      expect(same((await direct.get(key))?.body, data)).toBe(true);
    },
  );

  it("adds latency without breaking anything", async () => {
    proxy.latencyMs = 30;
    const started = Date.now();
    expect(same((await s3.get("data"))?.body, data)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(30);
  });

  it.each<[Fault, string, RegExp]>([
    ["slowdown", "throttled", /kept asking to slow down \(503 SlowDown.*on all 4 attempts/],
    ["error500", "server", /kept failing \(500 InternalError.*on all 4 attempts/],
    ["truncate", "truncated", /on all 4 attempts; the connection keeps being cut/],
    ["reset", "truncated", /cut the connection.*on all 4 attempts/],
    ["stall", "timeout", /did not answer within 1000 ms on all 4 attempts/],
  ])("'%s' on every attempt ends as a StorageError of kind %s", async (fault, kind, message) => {
    proxy.plan = () => fault;
    const err = await s3Error(s3.get("data"));
    expect(err.code).toBe("StorageError");
    expect(err.kind).toBe(kind);
    expect(err.message).toMatch(message);
    expect(proxy.log).toHaveLength(4);
  });

  it("never returns wrong bytes under random faults: every read is exact or a StorageError", async () => {
    // A fixed pseudo-random sequence, so a failure replays.
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const faults: Fault[] = ["slowdown", "error500", "reset", "truncate"];
    proxy.plan = () => (random() < 0.35 ? faults[Math.floor(random() * faults.length)] : "pass");
    let exact = 0;
    let failed = 0;
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const offset = (i * 4099) % (data.length - 10_000);
        try {
          const got = await s3.get("data", { range: { offset, length: 10_000 } });
          expect(same(got?.body, data.subarray(offset, offset + 10_000))).toBe(true);
          exact++;
        } catch (err) {
          expect(err).toBeInstanceOf(S3StorageError);
          failed++;
        }
      }),
    );
    expect(exact + failed).toBe(60);
    expect(exact).toBeGreaterThan(50); // 0.35^4 of calls may fail every attempt
  });

  it("a create-only PUT whose answer was lost is reported written (it was ours), not a lost race", async () => {
    proxy.plan = first("lose-answer");
    const put = await s3.put("create-lost-answer", bytes("mine"), { condition: { ifNoneMatch: "*" } });
    expect(put.written).toBe(true);
    expect(proxy.log.map((r) => r.fault)).toEqual(["lose-answer", "pass", "pass"]); // PUT, PUT (412), HEAD
  });

  it("a create-only PUT retried into someone else's object is a lost race", async () => {
    await direct.put("create-theirs", bytes("theirs"));
    proxy.plan = first("reset");
    const put = await s3.put("create-theirs", bytes("mine"), { condition: { ifNoneMatch: "*" } });
    expect(put).toMatchObject({ written: false, reason: "exists", status: 412 });
    expect(new TextDecoder().decode((await direct.get("create-theirs"))?.body)).toBe("theirs");
  });

  it("a compare-and-swap whose answer was lost is reported written", async () => {
    const before = await direct.put("cas-lost-answer", bytes("v1"));
    if (!before.written) throw new Error("setup");
    proxy.plan = first("lose-answer");
    const put = await s3.put("cas-lost-answer", bytes("v2"), { condition: { ifMatch: before.etag } });
    expect(put.written).toBe(true);
    expect(new TextDecoder().decode((await direct.get("cas-lost-answer"))?.body)).toBe("v2");
  });
});
