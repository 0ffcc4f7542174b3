/**
 * The SigV4 signer against AWS's published vectors: the Signature Version 4 test suite (service
 * "service", 2015-08-30) and the S3 API reference's worked examples ("Signature Calculations for the
 * Authorization Header: Transferring Payload in a Single Chunk", 2013-05-24). And MD5 against RFC 1321.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { md5Base64, md5Hex } from "../../../src/storage/s3/md5.ts";
import {
  canonicalQuery,
  EMPTY_SHA256,
  encodePath,
  type SignInput,
  sha256Hex,
  signV4,
  uriEncode,
} from "../../../src/storage/s3/sigv4.ts";

const suite = { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" };
const suiteAt = new Date("2015-08-30T12:36:00Z");
const s3doc = {
  accessKeyId: "AKIAIOSFODNN7EXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
};
const s3At = new Date("2013-05-24T00:00:00Z");
const suiteScope = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request";
const s3Scope = "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request";

const cases: [string, SignInput, typeof suite, string][] = [
  [
    "suite: get-vanilla",
    {
      method: "GET",
      origin: "https://example.amazonaws.com",
      path: "/",
      payloadHash: EMPTY_SHA256,
      region: "us-east-1",
      service: "service",
      now: suiteAt,
    },
    suite,
    `AWS4-HMAC-SHA256 ${suiteScope}, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31`,
  ],
  [
    "suite: get-vanilla-query-order-key-case",
    {
      method: "GET",
      origin: "https://example.amazonaws.com",
      path: "/",
      query: [
        ["Param2", "value2"],
        ["Param1", "value1"],
      ],
      payloadHash: EMPTY_SHA256,
      region: "us-east-1",
      service: "service",
      now: suiteAt,
    },
    suite,
    `AWS4-HMAC-SHA256 ${suiteScope}, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500`,
  ],
  [
    "suite: post-vanilla",
    {
      method: "POST",
      origin: "https://example.amazonaws.com",
      path: "/",
      payloadHash: EMPTY_SHA256,
      region: "us-east-1",
      service: "service",
      now: suiteAt,
    },
    suite,
    `AWS4-HMAC-SHA256 ${suiteScope}, SignedHeaders=host;x-amz-date, Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b`,
  ],
  [
    "S3: GET Object with a Range",
    {
      method: "GET",
      origin: "https://examplebucket.s3.amazonaws.com",
      path: "/test.txt",
      headers: { Range: "bytes=0-9", "x-amz-content-sha256": EMPTY_SHA256 },
      payloadHash: EMPTY_SHA256,
      region: "us-east-1",
      service: "s3",
      now: s3At,
    },
    s3doc,
    `AWS4-HMAC-SHA256 ${s3Scope}, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41`,
  ],
  [
    "S3: PUT Object (a key with $, a Date header, a storage class)",
    {
      method: "PUT",
      origin: "https://examplebucket.s3.amazonaws.com",
      path: `/${encodePath("test$file.text")}`,
      headers: {
        Date: "Fri, 24 May 2013 00:00:00 GMT",
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "x-amz-content-sha256": "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
      },
      payloadHash: "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
      region: "us-east-1",
      service: "s3",
      now: s3At,
    },
    s3doc,
    `AWS4-HMAC-SHA256 ${s3Scope}, SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class, Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd`,
  ],
  [
    "S3: GET Bucket Lifecycle (a query name without a value)",
    {
      method: "GET",
      origin: "https://examplebucket.s3.amazonaws.com",
      path: "/",
      query: [["lifecycle", ""]],
      headers: { "x-amz-content-sha256": EMPTY_SHA256 },
      payloadHash: EMPTY_SHA256,
      region: "us-east-1",
      service: "s3",
      now: s3At,
    },
    s3doc,
    `AWS4-HMAC-SHA256 ${s3Scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543`,
  ],
  [
    "S3: GET Bucket (List Objects) with max-keys and prefix",
    {
      method: "GET",
      origin: "https://examplebucket.s3.amazonaws.com",
      path: "/",
      query: [
        ["max-keys", "2"],
        ["prefix", "J"],
      ],
      headers: { "x-amz-content-sha256": EMPTY_SHA256 },
      payloadHash: EMPTY_SHA256,
      region: "us-east-1",
      service: "s3",
      now: s3At,
    },
    s3doc,
    `AWS4-HMAC-SHA256 ${s3Scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7`,
  ],
];

describe("SigV4 signer", () => {
  it.each(cases)("signs AWS's vector %s", async (_name, input, credentials, authorization) => {
    const headers = await signV4(input, credentials);
    expect(headers.authorization).toBe(authorization);
    expect(headers["x-amz-date"]).toBe(input.now!.toISOString().replace(/[-:]|\.\d{3}/g, ""));
    expect(headers.host).toBeUndefined(); // fetch sets it from the URL
  });

  it("the S3 PUT vector's payload hash is the SHA-256 of its body", async () => {
    expect(await sha256Hex("Welcome to Amazon S3.")).toBe(
      "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
    );
    expect(await sha256Hex(new Uint8Array(0))).toBe(EMPTY_SHA256);
  });

  it("signs a session token when there is one", async () => {
    const headers = await signV4(cases[0][1], { ...suite, sessionToken: "TOKEN" });
    expect(headers["x-amz-security-token"]).toBe("TOKEN");
    expect(headers.authorization).toContain("SignedHeaders=host;x-amz-date;x-amz-security-token,");
  });

  it("encodes as RFC 3986 asks, keeping slashes in paths", () => {
    expect(uriEncode("a b+c*d!'()~._-")).toBe("a%20b%2Bc%2Ad%21%27%28%29~._-");
    expect(encodePath("dir/ünï code/x")).toBe("dir/%C3%BCn%C3%AF%20code/x");
    expect(
      canonicalQuery([
        ["prefix", "a/b c"],
        ["list-type", "2"],
        ["delete", ""],
      ]),
    ).toBe("delete=&list-type=2&prefix=a%2Fb%20c");
  });
});

describe("MD5", () => {
  it("matches RFC 1321's test suite and node:crypto on lengths around the block edges", () => {
    const rfc: [string, string][] = [
      ["", "d41d8cd98f00b204e9800998ecf8427e"],
      ["a", "0cc175b9c0f1b6a831c399e269772661"],
      ["abc", "900150983cd24fb0d6963f7d28e17f72"],
      ["message digest", "f96b697d7cb7938d525a2f31aaf161d0"],
      ["abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"],
      [
        "12345678901234567890123456789012345678901234567890123456789012345678901234567890",
        "57edf4a22be3c955ac49da2e2107b67a",
      ],
    ];
    for (const [input, digest] of rfc) expect(md5Hex(new TextEncoder().encode(input))).toBe(digest);
    for (const n of [55, 56, 57, 63, 64, 65, 119, 120, 1000, 100_003]) {
      const data = new Uint8Array(n).map((_, i) => (i * 31 + 7) & 255);
      expect(md5Hex(data)).toBe(createHash("md5").update(data).digest("hex"));
      expect(md5Base64(data)).toBe(createHash("md5").update(data).digest("base64"));
    }
  });
});
