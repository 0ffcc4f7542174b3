/**
 * AWS Signature Version 4 over Web Crypto (`crypto.subtle`), so the same code signs in Node 20, Bun,
 * Deno and browsers with no dependency. Written here rather than taken from `aws4fetch` because the S3
 * client needs control the wrapper hides: the exact canonical path (S3 does not double-encode keys),
 * the payload hash it chose (signed or `UNSIGNED-PAYLOAD`), and the retry loop around each signed
 * attempt (a retried request must be signed again: `x-amz-date` moves on).
 */

/** The credentials a request is signed with. */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** For temporary credentials (STS): sent as `x-amz-security-token` and signed. */
  sessionToken?: string;
}

/** One request to sign. Header names may be in any case; they are signed in lower case. */
export interface SignInput {
  method: string;
  /** Scheme and authority, e.g. `http://127.0.0.1:7480`: the `host` header is signed from it. */
  origin: string;
  /** The path exactly as sent, already percent-encoded (see `encodePath`). */
  path: string;
  /** Query parameters, unencoded; a name alone is `[name, ""]`. */
  query?: [string, string][];
  headers?: Record<string, string>;
  /** Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`. */
  payloadHash: string;
  region: string;
  service: string;
  /** The signing time; now when omitted (tests pass the vectors' time). */
  now?: Date;
}

/** Hex SHA-256 of an empty body: the payload hash of every GET, HEAD and DELETE. */
export const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

const encoder = new TextEncoder();

/**
 * Percent-encodes as SigV4 requires (RFC 3986): everything but `A-Z a-z 0-9 - _ . ~` becomes `%XX` of
 * its UTF-8 bytes. `encodeURIComponent` leaves `!'()*` alone, which AWS would sign differently.
 */
export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Encodes an object key as a URL path: each segment encoded, the slashes kept. */
export function encodePath(key: string): string {
  return key.split("/").map(uriEncode).join("/");
}

/** The query string as sent and as signed: pairs sorted by encoded name, then value. */
export function canonicalQuery(query: [string, string][] = []): string {
  return query
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

function hex(bytes: ArrayBuffer): string {
  const view = new Uint8Array(bytes);
  let out = "";
  for (let i = 0; i < view.length; i++) out += view[i].toString(16).padStart(2, "0");
  return out;
}

/** Hex SHA-256 of `data`. */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return hex(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

async function hmac(key: ArrayBuffer | Uint8Array, data: string): Promise<ArrayBuffer> {
  const k = await crypto.subtle.importKey(
    "raw",
    key as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return crypto.subtle.sign("HMAC", k, encoder.encode(data));
}

// The signing key changes once a day per region and service; deriving it costs four HMACs, so keep the
// last few. Keyed by the secret too, so two clients with different credentials never share one.
const signingKeys = new Map<string, Promise<ArrayBuffer>>();

function signingKey(secret: string, date: string, region: string, service: string): Promise<ArrayBuffer> {
  const id = `${secret}\n${date}\n${region}\n${service}`;
  let key = signingKeys.get(id);
  if (!key) {
    key = (async () => {
      const kDate = await hmac(encoder.encode(`AWS4${secret}`), date);
      const kRegion = await hmac(kDate, region);
      const kService = await hmac(kRegion, service);
      return hmac(kService, "aws4_request");
    })();
    if (signingKeys.size > 16) signingKeys.clear();
    signingKeys.set(id, key);
    // A failed derivation must not stay cached.
    key.catch(() => signingKeys.delete(id));
  }
  return key;
}

/** `20150830T123600Z`: the SigV4 timestamp of `now`. */
export function amzDate(now: Date): string {
  return now.toISOString().replace(/[-:]|\.\d{3}/g, "");
}

/**
 * Signs a request and returns the headers to send with it: the caller's headers (names in lower case)
 * plus `x-amz-date`, `x-amz-security-token` when there is a session token, and `authorization`. The
 * `host` header is signed but not returned, since fetch sets it from the URL (and may not be told to).
 */
export async function signV4(input: SignInput, credentials: Credentials): Promise<Record<string, string>> {
  const now = input.now ?? new Date();
  const stamp = amzDate(now);
  const date = stamp.slice(0, 8);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.headers ?? {})) headers[name.toLowerCase()] = value;
  headers["x-amz-date"] = stamp;
  if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;

  const signed: Record<string, string> = { ...headers, host: new URL(input.origin).host };
  const names = Object.keys(signed).sort();
  // Header values are trimmed and inner runs of spaces folded to one, as the specification asks.
  const canonicalHeaders = names.map((n) => `${n}:${signed[n].trim().replace(/ +/g, " ")}\n`).join("");
  const signedHeaders = names.join(";");
  const canonicalRequest = [
    input.method.toUpperCase(),
    input.path || "/",
    canonicalQuery(input.query),
    canonicalHeaders,
    signedHeaders,
    input.payloadHash,
  ].join("\n");
  const scope = `${date}/${input.region}/${input.service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", stamp, scope, await sha256Hex(canonicalRequest)].join("\n");
  const key = await signingKey(credentials.secretAccessKey, date, input.region, input.service);
  const signature = hex(await hmac(key, stringToSign));
  headers.authorization =
    `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}
