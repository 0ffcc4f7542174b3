/**
 * A bucket's CORS configuration (PutBucketCors / GetBucketCors / DeleteBucketCors): what lets a web
 * page read and write an `s3://` store straight from the bucket, with no server of ours in between.
 * The browser sends a preflight (OPTIONS) before each signed request, and drops every answer, and every
 * response header, the bucket's CORS rules do not allow.
 */

import type { Answer, CallOptions, S3Client } from "./client.ts";
import { errorForAnswer } from "./errors.ts";
import { md5Base64 } from "./md5.ts";
import { allTags, decodeXml, escapeXml } from "./xml.ts";

/** One CORS rule, as S3's `<CORSRule>`. */
export interface CorsRule {
  /** An optional name for the rule (`<ID>`). */
  id?: string;
  /** Origins allowed (`https://app.example.com`); one `*` each may stand for any text, `*` for all. */
  allowedOrigins: string[];
  /** HTTP methods allowed. */
  allowedMethods: ("GET" | "PUT" | "HEAD" | "DELETE" | "POST")[];
  /** Request headers a preflight may ask for (`*` for any). */
  allowedHeaders?: string[];
  /** Response headers the page may read. */
  exposeHeaders?: string[];
  /** How long a browser may cache a preflight's answer. */
  maxAgeSeconds?: number;
}

/** Methods floe sends: GET and HEAD to read, PUT to write, DELETE to delete, POST to delete many. */
export const FLOE_CORS_METHODS: CorsRule["allowedMethods"] = ["GET", "PUT", "HEAD", "DELETE", "POST"];

/**
 * Response headers floe reads: an object's ETag (compare-and-swap), Content-Range (ranged reads) and
 * Content-Length (whole bodies); x-amz-request-id for reports.
 */
export const FLOE_CORS_EXPOSE = ["ETag", "Content-Range", "Content-Length", "x-amz-request-id"];

/**
 * The rule a page at `origins` needs to use an `s3://` store in the bucket: every method floe sends,
 * any request header (floe's are `authorization`, `x-amz-content-sha256`, `x-amz-date`,
 * `x-amz-security-token`, `if-match`, `if-none-match`, `range`, `content-type`, `content-md5`), and the
 * response headers it reads exposed.
 */
export function floeCorsRule(origins: string[], maxAgeSeconds = 3000): CorsRule {
  return {
    id: "floe",
    allowedOrigins: origins,
    allowedMethods: [...FLOE_CORS_METHODS],
    allowedHeaders: ["*"],
    exposeHeaders: [...FLOE_CORS_EXPOSE],
    maxAgeSeconds,
  };
}

/** The `<CORSConfiguration>` document for `rules`. */
export function corsXml(rules: readonly CorsRule[]): string {
  const each = (tag: string, values: readonly string[] = []) =>
    values.map((v) => `<${tag}>${escapeXml(v)}</${tag}>`).join("");
  const body = rules
    .map(
      (r) =>
        "<CORSRule>" +
        (r.id === undefined ? "" : `<ID>${escapeXml(r.id)}</ID>`) +
        each("AllowedOrigin", r.allowedOrigins) +
        each("AllowedMethod", r.allowedMethods) +
        each("AllowedHeader", r.allowedHeaders) +
        each("ExposeHeader", r.exposeHeaders) +
        (r.maxAgeSeconds === undefined ? "" : `<MaxAgeSeconds>${r.maxAgeSeconds}</MaxAgeSeconds>`) +
        "</CORSRule>",
    )
    .join("");
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${body}</CORSConfiguration>`
  );
}

/** The rules of a `<CORSConfiguration>` document (as GetBucketCors answers). */
export function parseCorsXml(xml: string): CorsRule[] {
  return allTags(xml, "CORSRule").map((r) => {
    const values = (tag: string) => allTags(r, tag).map((v) => decodeXml(v.trim()));
    const rule: CorsRule = {
      allowedOrigins: values("AllowedOrigin"),
      allowedMethods: values("AllowedMethod") as CorsRule["allowedMethods"],
    };
    const id = values("ID")[0];
    if (id !== undefined) rule.id = id;
    const headers = values("AllowedHeader");
    if (headers.length > 0) rule.allowedHeaders = headers;
    const expose = values("ExposeHeader");
    if (expose.length > 0) rule.exposeHeaders = expose;
    const maxAge = values("MaxAgeSeconds")[0];
    if (maxAge !== undefined) rule.maxAgeSeconds = Number(maxAge);
    return rule;
  });
}

/**
 * Sets the bucket's CORS rules, replacing any it had. `rules` must be non-empty: to remove them, use
 * `deleteBucketCors`. Throws `S3StorageError` when the server refuses (no permission, a malformed rule).
 */
export async function putBucketCors(
  client: S3Client,
  rules: readonly CorsRule[],
  options: CallOptions = {},
): Promise<void> {
  if (rules.length === 0) {
    throw new RangeError(
      `putBucketCors ${client.describe()}: no rules; call deleteBucketCors to remove CORS.`,
    );
  }
  for (const r of rules) {
    if (r.allowedOrigins.length === 0 || r.allowedMethods.length === 0) {
      throw new RangeError(
        `putBucketCors ${client.describe()}: each rule needs at least one allowed origin and method.`,
      );
    }
  }
  const body = new TextEncoder().encode(corsXml(rules));
  const answer = await client.request(
    {
      method: "PUT",
      query: [["cors", ""]],
      // AWS requires an MD5 of a PutBucketCors body.
      headers: { "content-md5": md5Base64(body), "content-type": "application/xml" },
      body,
    },
    options,
  );
  if (answer.status !== 200 && answer.status !== 204) {
    throw fail(client, answer, `PUT CORS ${client.describe()}`);
  }
}

/** The bucket's CORS rules, or `undefined` when it has none. */
export async function getBucketCors(
  client: S3Client,
  options: CallOptions = {},
): Promise<CorsRule[] | undefined> {
  const answer = await client.request({ method: "GET", query: [["cors", ""]] }, options);
  if (answer.status === 404 && answer.s3Code === "NoSuchCORSConfiguration") return undefined;
  if (answer.status !== 200) throw fail(client, answer, `GET CORS ${client.describe()}`);
  return parseCorsXml(new TextDecoder().decode(answer.body));
}

/** Removes the bucket's CORS rules (none is not an error). */
export async function deleteBucketCors(client: S3Client, options: CallOptions = {}): Promise<void> {
  const answer = await client.request({ method: "DELETE", query: [["cors", ""]] }, options);
  if (answer.status !== 204 && answer.status !== 200) {
    throw fail(client, answer, `DELETE CORS ${client.describe()}`);
  }
}

function fail(client: S3Client, answer: Answer, where: string) {
  return errorForAnswer(
    answer.status,
    answer.s3Code,
    answer.s3Message,
    where,
    client.endpoint,
    client.bucket,
    answer.attempts,
  );
}
