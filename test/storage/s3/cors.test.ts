/**
 * Bucket CORS (src/storage/s3/cors.ts): the XML both ways, and on a real Ceph RGW that the rule floe
 * documents answers a browser's preflights for every request floe sends, and exposes what it reads.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { S3Client } from "../../../src/storage/s3/client.ts";
import {
  type CorsRule,
  corsXml,
  deleteBucketCors,
  FLOE_CORS_EXPOSE,
  FLOE_CORS_METHODS,
  floeCorsRule,
  getBucketCors,
  parseCorsXml,
  putBucketCors,
} from "../../../src/storage/s3/cors.ts";
import { clientFor, type RgwEnv, rgwAvailable, s3Error, skipReason, useBucket } from "./rgw.ts";

/** Every request header floe's client may send (sigv4.ts and client.ts). */
const FLOE_REQUEST_HEADERS = [
  "authorization",
  "x-amz-content-sha256",
  "x-amz-date",
  "x-amz-security-token",
  "if-none-match",
  "if-match",
  "range",
  "content-type",
  "content-md5",
];

const PAGE = "http://127.0.0.1:8123";

describe("CORS configuration XML", () => {
  it("writes S3's document and reads it back, escaping what needs it", () => {
    const rules: CorsRule[] = [
      floeCorsRule(["https://app.example.com", "http://127.0.0.1:*"], 600),
      { allowedOrigins: ["https://a&b.example"], allowedMethods: ["GET"] },
    ];
    const xml = corsXml(rules);
    expect(xml).toContain('<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">');
    expect(xml).toContain(
      "<CORSRule><ID>floe</ID><AllowedOrigin>https://app.example.com</AllowedOrigin>" +
        "<AllowedOrigin>http://127.0.0.1:*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>" +
        "<AllowedMethod>PUT</AllowedMethod><AllowedMethod>HEAD</AllowedMethod>" +
        "<AllowedMethod>DELETE</AllowedMethod><AllowedMethod>POST</AllowedMethod>" +
        "<AllowedHeader>*</AllowedHeader><ExposeHeader>ETag</ExposeHeader>" +
        "<ExposeHeader>Content-Range</ExposeHeader><ExposeHeader>Content-Length</ExposeHeader>" +
        "<ExposeHeader>x-amz-request-id</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>",
    );
    expect(xml).toContain("<AllowedOrigin>https://a&amp;b.example</AllowedOrigin>");
    expect(parseCorsXml(xml)).toEqual(rules);
  });
});

describe.skipIf(!rgwAvailable)(`bucket CORS on Ceph RGW${skipReason}`, () => {
  const bucket = useBucket("cors");
  let env: RgwEnv;
  let s3: S3Client;
  beforeAll(async () => {
    ({ env, s3 } = bucket);
    await s3.put("data/object", new TextEncoder().encode("0123456789"));
  });

  const url = (key = "") => `${env.endpoint}/${s3.bucket}${key ? `/${key}` : ""}`;

  /** A browser's preflight for `method` with floe's request headers, from `origin`. */
  const preflight = (method: string, origin = PAGE, target = url("data/object")) =>
    fetch(target, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": method,
        "access-control-request-headers": FLOE_REQUEST_HEADERS.join(","),
      },
    });

  it("has none at first, sets floe's rule, reads it back, and removes it", async () => {
    await deleteBucketCors(s3);
    expect(await getBucketCors(s3)).toBeUndefined();
    const rule = floeCorsRule([PAGE]);
    await putBucketCors(s3, [rule]);
    const back = await getBucketCors(s3);
    expect(back).toHaveLength(1);
    expect(back![0].allowedOrigins).toEqual([PAGE]);
    expect([...back![0].allowedMethods].sort()).toEqual([...FLOE_CORS_METHODS].sort());
    expect(back![0].allowedHeaders).toEqual(["*"]);
    expect(back![0].exposeHeaders).toEqual(FLOE_CORS_EXPOSE);
    expect(back![0].maxAgeSeconds).toBe(3000);
    await deleteBucketCors(s3);
    expect(await getBucketCors(s3)).toBeUndefined();
    expect((await preflight("GET")).headers.get("access-control-allow-origin")).toBeNull();
  });

  it("refuses an empty rule set locally, and a missing bucket with a typed error", async () => {
    await expect(putBucketCors(s3, [])).rejects.toThrow(/deleteBucketCors/);
    const missing = clientFor(env, `${s3.bucket}-missing`);
    const err = await s3Error(putBucketCors(missing, [floeCorsRule([PAGE])]));
    expect(err.kind).toBe("missing-bucket");
  });

  it("answers a preflight for every method and header floe sends, from the allowed origin only", async () => {
    await putBucketCors(s3, [floeCorsRule([PAGE])]);
    for (const method of FLOE_CORS_METHODS) {
      // Object requests, and POST ?delete on the bucket (deleteMany).
      const answer = await preflight(method, PAGE, method === "POST" ? `${url()}?delete` : undefined);
      expect(answer.status, method).toBe(200);
      const h = answer.headers;
      expect(h.get("access-control-allow-origin"), method).toBe(PAGE);
      expect(h.get("access-control-allow-methods")?.split(/\s*,\s*/), method).toContain(method);
      const allowed = (h.get("access-control-allow-headers") ?? "").toLowerCase().split(/\s*,\s*/);
      // `*` would also do (browsers accept it for requests without credentials), else each one named.
      if (!allowed.includes("*")) for (const name of FLOE_REQUEST_HEADERS) expect(allowed).toContain(name);
      expect(h.get("access-control-max-age")).toBe("3000");
    }
    for (const other of ["https://elsewhere.example", "http://127.0.0.1:8124"]) {
      const refused = await preflight("PUT", other);
      expect(refused.headers.get("access-control-allow-origin"), other).toBeNull();
    }
  });

  it("a wildcard origin rule allows every port of a host", async () => {
    await putBucketCors(s3, [floeCorsRule(["http://127.0.0.1:*"])]);
    const answer = await preflight("PUT", "http://127.0.0.1:40111");
    expect(answer.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:40111");
    expect(
      (await preflight("PUT", "http://localhost:40111")).headers.get("access-control-allow-origin"),
    ).toBeNull();
  });

  it("a signed GET (whole and ranged) from the page's origin exposes ETag, Content-Range and Content-Length", async () => {
    await putBucketCors(s3, [floeCorsRule([PAGE])]);
    const seen: Headers[] = [];
    // The client as a page would run it: every request carries the page's Origin.
    const fromPage = clientFor(env, s3.bucket, {
      fetch: async (input, init) => {
        const headers = new Headers(init?.headers);
        headers.set("origin", PAGE);
        const response = await fetch(input, { ...init, headers });
        seen.push(response.headers);
        return response;
      },
    });
    const whole = await fromPage.get("data/object");
    expect(new TextDecoder().decode(whole?.body)).toBe("0123456789");
    const ranged = await fromPage.get("data/object", { range: { offset: 2, length: 3 } });
    expect(new TextDecoder().decode(ranged?.body)).toBe("234");
    expect(ranged?.size).toBe(10);
    for (const h of seen) {
      expect(h.get("access-control-allow-origin")).toBe(PAGE);
      const exposed = (h.get("access-control-expose-headers") ?? "").toLowerCase().split(/\s*,\s*/);
      for (const name of ["etag", "content-range", "content-length"]) expect(exposed).toContain(name);
    }
    expect(seen[0].get("etag")).toBe(`"${whole?.etag}"`);
    expect(seen[1].get("content-range")).toBe("bytes 2-4/10");
  });
});
