/**
 * A small S3 client over `fetch` and Web Crypto: the requests floe's object-store backend needs and no
 * more. Portable (Node 20+, Bun, Deno, browsers): no `node:` imports.
 *
 * What it guarantees to callers:
 * - every request is retried on throttling, 5xx, network failure, timeout and truncated bodies, with
 *   exponential backoff and full jitter, a bounded number of times; then it throws `S3StorageError`
 *   saying which failure persisted;
 * - a body is returned only when it is whole (its length matches Content-Length / Content-Range), so a
 *   cut connection never reads as short data;
 * - a conditional PUT that loses its race returns `{ written: false }`, never throws: losing is a normal
 *   outcome under concurrency that the version chain handles by re-reading;
 * - a conditional PUT retried after an attempt that may have reached the server, and then refused, is
 *   checked against what is stored (ETag = MD5 of our body): our own earlier success is reported as
 *   written, not as a lost race.
 */

import { errorForAnswer, retryableStatus, type S3FailureKind, S3StorageError } from "./errors.ts";
import { md5Base64, md5Hex } from "./md5.ts";
import { type Credentials, canonicalQuery, EMPTY_SHA256, encodePath, sha256Hex, signV4 } from "./sigv4.ts";
import { allTags, decodeXml, escapeXml, firstTag } from "./xml.ts";

/** How to reach one bucket. */
export interface S3ClientConfig {
  /** Scheme, host and port: `http://127.0.0.1:7480`, `https://s3.eu-west-1.amazonaws.com`. */
  endpoint: string;
  bucket: string;
  /** The signing region; most S3-compatible servers accept `us-east-1`. */
  region: string;
  credentials: Credentials;
  /** Address the bucket as a host name (`bucket.host`) rather than a path (`host/bucket`). */
  virtualHosted?: boolean;
  /** Milliseconds one attempt may take, body included (default 30 000). */
  timeoutMs?: number;
  /** Attempts per request, the first included (default 6). */
  maxAttempts?: number;
  /** The first retry's backoff ceiling in milliseconds; doubled each retry (default 50). */
  baseDelayMs?: number;
  /** The largest backoff ceiling in milliseconds (default 5 000). */
  maxDelayMs?: number;
  /**
   * Sign a hash of each PUT body (default true), so the server rejects a body damaged on the way.
   * `false` sends `UNSIGNED-PAYLOAD` and saves a SHA-256 pass over the bytes (safe over HTTPS).
   */
  signPayload?: boolean;
  /**
   * How to send an ETag in `If-Match`. HTTP says quoted, and S3 answers with quoted ETags, but Ceph RGW
   * compares `If-Match` with its unquoted ETag, so a quoted one always fails there. AWS accepts both,
   * so unquoted (the default) works on both; `probeConditionalWrites` finds out which a server takes.
   */
  ifMatchQuoting?: "unquoted" | "quoted";
  /** The fetch to use (default the global one): a test's fault injection, or a runtime's custom TLS. */
  fetch?: typeof fetch;
}

/** A stored object's identity: its ETag (unquoted) and size in bytes. */
export interface ObjectInfo {
  etag: string;
  size: number;
}

/** The bytes of an object (or of a range of it), with what identifies the whole object. */
export interface GetResult extends ObjectInfo {
  body: Uint8Array;
}

/** What a PUT did. A lost conditional race is `written: false`, with why. */
export type PutOutcome =
  | { written: true; etag: string }
  | {
      written: false;
      /** `exists`: create-only, the key exists; `changed`: the ETag moved on; `missing`: no such key. */
      reason: "exists" | "changed" | "missing";
      status: number;
      s3Code?: string;
    };

/** The precondition of a PUT: create-only, or compare-and-swap against an ETag. */
export type PutCondition = { ifNoneMatch: "*" } | { ifMatch: string };

/** One page of a listing. */
export interface ListPage {
  objects: ({ key: string } & ObjectInfo)[];
  /** With a delimiter: the distinct key prefixes up to and including it ("directories"). */
  prefixes: string[];
  /** Pass to the next call to continue; undefined on the last page. */
  continuationToken?: string;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call (no retry after it): rejects with the signal's reason. */
  signal?: AbortSignal;
}

interface Request {
  method: "GET" | "PUT" | "HEAD" | "DELETE" | "POST";
  /** The object key; undefined for a request on the bucket itself. */
  key?: string;
  query?: [string, string][];
  headers?: Record<string, string>;
  body?: Uint8Array;
}

/** An answer as the server gave it, with the error code and message of an error answer's XML. */
export interface Answer {
  status: number;
  headers: Headers;
  body: Uint8Array;
  /** How many attempts were made. */
  attempts: number;
  s3Code?: string;
  s3Message?: string;
}

// An attempt that got no usable answer, and why.
class AttemptFailure extends Error {
  /** The server's TLS certificate did not verify: no retry will change that. */
  untrusted = false;
  constructor(
    readonly kind: S3FailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const stripQuotes = (etag: string) => etag.replace(/^(W\/)?"(.*)"$/, "$2");
const isMd5 = (etag: string) => /^[0-9a-f]{32}$/i.test(etag);

/** An S3 client for one bucket. Safe to share: it keeps no per-request state. */
export class S3Client {
  readonly endpoint: string;
  readonly bucket: string;
  private readonly config: Required<Omit<S3ClientConfig, "fetch" | "credentials">> & {
    credentials: Credentials;
  };
  private readonly fetchFn: typeof fetch;
  // Set once a request proved the bucket exists: a HEAD's 404 has no body to say which was missing.
  private bucketSeen = false;

  constructor(config: S3ClientConfig) {
    const url = new URL(config.endpoint);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`S3 endpoint '${config.endpoint}' must start with http:// or https://.`);
    }
    this.endpoint = url.origin;
    this.bucket = config.bucket;
    this.config = {
      endpoint: url.origin,
      bucket: config.bucket,
      region: config.region,
      credentials: config.credentials,
      virtualHosted: config.virtualHosted ?? false,
      timeoutMs: config.timeoutMs ?? 30_000,
      maxAttempts: Math.max(1, config.maxAttempts ?? 6),
      baseDelayMs: config.baseDelayMs ?? 50,
      maxDelayMs: config.maxDelayMs ?? 5_000,
      signPayload: config.signPayload ?? true,
      ifMatchQuoting: config.ifMatchQuoting ?? "unquoted",
    };
    // Bound, so that a runtime whose fetch needs its global as `this` (browsers) is satisfied.
    this.fetchFn = config.fetch ?? globalThis.fetch.bind(globalThis);
  }

  /** How this client sends `If-Match`; `probeConditionalWrites` may change it. */
  get ifMatchQuoting(): "unquoted" | "quoted" {
    return this.config.ifMatchQuoting;
  }
  set ifMatchQuoting(value: "unquoted" | "quoted") {
    this.config.ifMatchQuoting = value;
  }

  /** `s3://bucket/key`, for messages. */
  describe(key?: string): string {
    return `s3://${this.bucket}/${key ?? ""}`;
  }

  /**
   * The object's bytes, or `undefined` when the key does not exist. With `range`, only `length` bytes
   * from `offset` (fewer at the object's end); the result's `size` is the whole object's.
   */
  async get(
    key: string,
    options: CallOptions & { range?: { offset: number; length: number } } = {},
  ): Promise<GetResult | undefined> {
    const headers: Record<string, string> = {};
    const range = options.range;
    if (range) {
      if (!(range.offset >= 0 && range.length > 0)) {
        throw new RangeError(`get ${this.describe(key)}: range needs offset >= 0 and length > 0.`);
      }
      headers.range = `bytes=${range.offset}-${range.offset + range.length - 1}`;
    }
    const answer = await this.send({ method: "GET", key, headers }, options.signal);
    if (answer.status === 404 && answer.s3Code !== "NoSuchBucket") return undefined;
    if (answer.status !== 200 && answer.status !== 206) throw this.fail(answer, `GET ${this.describe(key)}`);
    const etag = stripQuotes(answer.headers.get("etag") ?? "");
    if (answer.status === 206) {
      // Content-Range: bytes FIRST-LAST/TOTAL. The bytes must start where we asked, or they are not ours.
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(answer.headers.get("content-range") ?? "");
      if (!m || Number(m[1]) !== range?.offset || Number(m[2]) - Number(m[1]) + 1 !== answer.body.length) {
        throw new S3StorageError(
          `GET ${this.describe(key)}: the server answered range ${headers.range} with Content-Range ` +
            `'${answer.headers.get("content-range")}' and ${answer.body.length} bytes; refusing bytes that ` +
            "may not be the ones asked for.",
          "request",
          206,
        );
      }
      const size = m[3] === "*" ? Number.NaN : Number(m[3]);
      return { body: answer.body, etag, size };
    }
    // 200 to a ranged GET: the server ignored the range and sent everything; cut out what was asked.
    const size = answer.body.length;
    const body = range ? answer.body.subarray(range.offset, range.offset + range.length) : answer.body;
    return { body, etag, size };
  }

  /** The object's ETag and size, or `undefined` when the key does not exist. */
  async head(key: string, options: CallOptions = {}): Promise<ObjectInfo | undefined> {
    const answer = await this.send({ method: "HEAD", key }, options.signal);
    if (answer.status === 404) {
      // A HEAD answer has no body, so a missing bucket looks like a missing key: ask the bucket once.
      if (!this.bucketSeen) await this.checkBucket(options.signal);
      return undefined;
    }
    if (answer.status !== 200) throw this.fail(answer, `HEAD ${this.describe(key)}`);
    return {
      etag: stripQuotes(answer.headers.get("etag") ?? ""),
      size: Number(answer.headers.get("content-length") ?? Number.NaN),
    };
  }

  /**
   * Stores `body` at `key`. With `condition`, only if the key does not exist (`ifNoneMatch: "*"`) or its
   * ETag is still `ifMatch`; a refused condition is `{ written: false }`, not an exception.
   *
   * Two outcomes a caller must re-read after: a `StorageError` (every attempt failed; an attempt may
   * still have been applied), and, for compare-and-swap only, `written: false` after a retry (our write
   * may have been applied and then replaced by another writer's swap). A create-only PUT has neither
   * doubt once it returns: what it created cannot be replaced by another create.
   */
  async put(
    key: string,
    body: Uint8Array,
    options: CallOptions & { condition?: PutCondition; contentType?: string } = {},
  ): Promise<PutOutcome> {
    const headers: Record<string, string> = {
      "content-type": options.contentType ?? "application/octet-stream",
    };
    const condition = options.condition;
    if (condition && "ifNoneMatch" in condition) headers["if-none-match"] = "*";
    if (condition && "ifMatch" in condition) {
      const etag = stripQuotes(condition.ifMatch);
      headers["if-match"] = this.config.ifMatchQuoting === "quoted" ? `"${etag}"` : etag;
    }
    const where = `PUT ${this.describe(key)}`;
    const answer = await this.send({ method: "PUT", key, headers, body }, options.signal);
    if (answer.status === 200) return { written: true, etag: stripQuotes(answer.headers.get("etag") ?? "") };
    const lost = condition ? this.lostRace(answer, condition) : undefined;
    if (!lost) throw this.fail(answer, where);
    // An earlier attempt may have written the object and lost only its answer; then the refusal is our
    // own write seen again. The stored ETag is the MD5 of the body for a single-part PUT.
    if (answer.attempts > 1) {
      const ours = await this.holds(key, body, options.signal);
      if (ours) return { written: true, etag: ours };
    }
    return lost;
  }

  /** Deletes `key`; deleting a missing key is not an error (S3 answers 204 either way). */
  async delete(key: string, options: CallOptions = {}): Promise<void> {
    const answer = await this.send({ method: "DELETE", key }, options.signal);
    if (answer.status !== 204 && answer.status !== 200 && answer.status !== 404) {
      throw this.fail(answer, `DELETE ${this.describe(key)}`);
    }
    if (answer.status === 404 && answer.s3Code === "NoSuchBucket") {
      throw this.fail(answer, `DELETE ${this.describe(key)}`);
    }
  }

  /** Deletes many keys, 1000 per request (S3's limit); missing keys are not an error. */
  async deleteMany(keys: readonly string[], options: CallOptions = {}): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const xml =
        '<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>true</Quiet>' +
        batch.map((k) => `<Object><Key>${escapeXml(k)}</Key></Object>`).join("") +
        "</Delete>";
      const body = new TextEncoder().encode(xml);
      const answer = await this.send(
        {
          method: "POST",
          query: [["delete", ""]],
          // AWS and several S3-compatible servers require an MD5 of a multi-delete's body.
          headers: { "content-md5": md5Base64(body), "content-type": "application/xml" },
          body,
        },
        options.signal,
      );
      const where = `DELETE ${batch.length} keys from ${this.describe()}`;
      if (answer.status !== 200) throw this.fail(answer, where);
      const errors = allTags(new TextDecoder().decode(answer.body), "Error").filter(
        (e) => firstTag(e, "Code") !== "NoSuchKey",
      );
      if (errors.length > 0) {
        throw new S3StorageError(
          `${where}: ${errors.length} were not deleted, the first '${firstTag(errors[0], "Key")}' with ` +
            `${firstTag(errors[0], "Code")}: ${firstTag(errors[0], "Message")}. Retry the cleanup.`,
          "request",
          200,
          firstTag(errors[0], "Code"),
        );
      }
    }
  }

  /**
   * One page (up to 1000 keys) of the keys under `prefix`, in ascending order (ListObjectsV2). With a
   * `delimiter`, keys that contain it after the prefix are folded into `prefixes`.
   */
  async list(
    prefix: string,
    options: CallOptions & {
      delimiter?: string;
      continuationToken?: string;
      maxKeys?: number;
      startAfter?: string;
    } = {},
  ): Promise<ListPage> {
    const query: [string, string][] = [
      ["list-type", "2"],
      ["prefix", prefix],
    ];
    if (options.delimiter) query.push(["delimiter", options.delimiter]);
    if (options.continuationToken) query.push(["continuation-token", options.continuationToken]);
    if (options.maxKeys !== undefined) query.push(["max-keys", String(options.maxKeys)]);
    if (options.startAfter !== undefined) query.push(["start-after", options.startAfter]);
    const answer = await this.send({ method: "GET", query }, options.signal);
    if (answer.status !== 200) throw this.fail(answer, `LIST ${this.describe(prefix)}`);
    const xml = new TextDecoder().decode(answer.body);
    const objects = allTags(xml, "Contents").map((c) => ({
      key: firstTag(c, "Key") ?? "",
      size: Number(firstTag(c, "Size") ?? Number.NaN),
      etag: stripQuotes(firstTag(c, "ETag") ?? ""),
    }));
    const prefixes = allTags(xml, "CommonPrefixes").map((p) => firstTag(p, "Prefix") ?? "");
    const truncated = firstTag(xml, "IsTruncated") === "true";
    const token = firstTag(xml, "NextContinuationToken");
    if (truncated && !token) {
      throw new S3StorageError(
        `LIST ${this.describe(prefix)}: the server said the listing continues but gave no continuation ` +
          "token; it does not implement ListObjectsV2 correctly.",
        "request",
        200,
      );
    }
    return { objects, prefixes, continuationToken: truncated ? token : undefined };
  }

  /** Every key under `prefix` (all pages), with the prefixes a `delimiter` folds. */
  async listAll(
    prefix: string,
    options: CallOptions & { delimiter?: string } = {},
  ): Promise<{ objects: ListPage["objects"]; prefixes: string[] }> {
    const objects: ListPage["objects"] = [];
    const prefixes: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.list(prefix, { ...options, continuationToken: token });
      objects.push(...page.objects);
      prefixes.push(...page.prefixes);
      token = page.continuationToken;
    } while (token);
    return { objects, prefixes };
  }

  /** Creates the bucket; an existing bucket of ours is fine. For tests and first-time setup. */
  async createBucket(options: CallOptions = {}): Promise<void> {
    // Outside us-east-1, AWS wants the region restated in the body.
    const body =
      this.config.region === "us-east-1"
        ? undefined
        : new TextEncoder().encode(
            `<CreateBucketConfiguration><LocationConstraint>${escapeXml(this.config.region)}` +
              "</LocationConstraint></CreateBucketConfiguration>",
          );
    const answer = await this.send({ method: "PUT", body }, options.signal);
    if (answer.status === 200 || answer.s3Code === "BucketAlreadyOwnedByYou") return;
    throw this.fail(answer, `CREATE BUCKET ${this.describe()}`);
  }

  /**
   * Sends one signed request (with the retries every request gets) and returns the answer whatever its
   * status: for the bucket settings this client has no method for (CORS: `cors.ts`).
   */
  request(req: Request, options: CallOptions = {}): Promise<Answer> {
    return this.send(req, options.signal);
  }

  // Whether a refused conditional PUT lost a race (and how), rather than failed.
  private lostRace(answer: Answer, condition: PutCondition): PutOutcome | undefined {
    const { status, s3Code } = answer;
    const create = "ifNoneMatch" in condition;
    if (status === 412 || (status === 409 && s3Code === "ConditionalRequestConflict")) {
      return { written: false, reason: create ? "exists" : "changed", status, s3Code };
    }
    // AWS answers an If-Match on a missing key with 404 NoSuchKey.
    if (status === 404 && !create && s3Code !== "NoSuchBucket") {
      return { written: false, reason: "missing", status, s3Code };
    }
    return undefined;
  }

  // The ETag of `key` if it holds exactly `body`, else undefined.
  private async holds(key: string, body: Uint8Array, signal?: AbortSignal): Promise<string | undefined> {
    const info = await this.head(key, { signal });
    if (!info) return undefined;
    if (isMd5(info.etag)) return info.etag.toLowerCase() === md5Hex(body) ? info.etag : undefined;
    // Not an MD5 ETag (server-side encryption, multipart): compare the bytes themselves.
    const stored = await this.get(key, { signal });
    if (!stored || stored.body.length !== body.length) return undefined;
    for (let i = 0; i < body.length; i++) if (stored.body[i] !== body[i]) return undefined;
    return stored.etag;
  }

  private async checkBucket(signal?: AbortSignal): Promise<void> {
    const answer = await this.send(
      {
        method: "GET",
        query: [
          ["list-type", "2"],
          ["max-keys", "0"],
        ],
      },
      signal,
    );
    if (answer.status !== 200) throw this.fail(answer, `LIST ${this.describe()}`);
  }

  private fail(answer: Answer, where: string): S3StorageError {
    return errorForAnswer(
      answer.status,
      answer.s3Code,
      answer.s3Message,
      where,
      this.endpoint,
      this.bucket,
      answer.attempts,
    );
  }

  private url(req: Request): { origin: string; path: string } {
    const key = req.key === undefined ? "" : encodePath(req.key);
    if (this.config.virtualHosted) {
      const u = new URL(this.config.endpoint);
      return { origin: `${u.protocol}//${this.bucket}.${u.host}`, path: `/${key}` };
    }
    return {
      origin: this.config.endpoint,
      path: req.key === undefined ? `/${encodePath(this.bucket)}` : `/${encodePath(this.bucket)}/${key}`,
    };
  }

  // Sends a request, retrying what is worth retrying; returns the final answer, whatever its status.
  private async send(req: Request, signal?: AbortSignal): Promise<Answer> {
    const { origin, path } = this.url(req);
    const query = canonicalQuery(req.query);
    const url = `${origin}${path}${query ? `?${query}` : ""}`;
    const where = `${req.method} ${this.describe(req.key)}`;
    const payloadHash =
      req.body === undefined
        ? EMPTY_SHA256
        : this.config.signPayload
          ? await sha256Hex(req.body)
          : "UNSIGNED-PAYLOAD";
    let lastFailure: AttemptFailure | undefined;
    for (let attempt = 1; attempt <= this.config.maxAttempts; attempt++) {
      signal?.throwIfAborted();
      if (attempt > 1) await this.backoff(attempt - 1, signal);
      try {
        const answer = await this.attempt(req, origin, path, url, payloadHash, signal);
        answer.attempts = attempt;
        if (answer.status < 300 || answer.status === 304) this.bucketSeen = true;
        if (retryableStatus(answer.status, answer.s3Code) && attempt < this.config.maxAttempts) continue;
        return answer;
      } catch (err) {
        if (!(err instanceof AttemptFailure)) throw err;
        lastFailure = err;
        // An untrusted certificate stays untrusted: say so now rather than after every retry.
        if (err.untrusted) break;
      }
    }
    const failure = lastFailure!;
    const advice = failure.untrusted
      ? "the server's TLS certificate is not trusted; if it is signed by your own CA, add it with " +
        "CA_cert_path=<pem file> or CA_cert_dir=<directory> in the URI"
      : failure.kind === "unreachable"
        ? "check that the endpoint (host, port, http/https) is right and the server is up" +
          // A browser reports a request its CORS check refused exactly like an unreachable host.
          ("document" in globalThis
            ? "; in a browser, also that the bucket's CORS rules allow this page's origin (docs/uris.md)"
            : "")
        : failure.kind === "timeout"
          ? "the server is slow or the timeout too short; raise the client's timeout if the server is healthy"
          : "the connection keeps being cut; check the network path to the server";
    throw new S3StorageError(
      `${where}: ${this.endpoint} ${failure.message}${failure.untrusted ? "" : ` on all ${this.config.maxAttempts} attempts`}; ${advice}.`,
      failure.kind,
      undefined,
      undefined,
      { cause: failure.cause },
    );
  }

  // One signed attempt with its own timeout; the body read in full and checked against its length.
  private async attempt(
    req: Request,
    origin: string,
    path: string,
    url: string,
    payloadHash: string,
    signal: AbortSignal | undefined,
  ): Promise<Answer> {
    const headers = await signV4(
      {
        method: req.method,
        origin,
        path,
        query: req.query,
        headers: { ...req.headers, "x-amz-content-sha256": payloadHash },
        payloadHash,
        region: this.config.region,
        service: "s3",
      },
      this.config.credentials,
    );
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(), this.config.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timer.signal]) : timer.signal;
    try {
      const response = await this.fetchFn(url, {
        method: req.method,
        headers,
        body: req.body as BodyInit | undefined,
        signal: combined,
        // Never follow: a redirect would carry our signature to a host it was not made for.
        redirect: "manual",
      });
      const body = new Uint8Array(await response.arrayBuffer());
      const declared = response.headers.get("content-length");
      const bodyless = req.method === "HEAD" || response.status === 204 || response.status === 304;
      if (!bodyless && declared !== null && Number(declared) !== body.length) {
        throw new AttemptFailure("truncated", `sent ${body.length} of the ${declared} bytes it announced`);
      }
      const answer: Answer = { status: response.status, headers: response.headers, body, attempts: 1 };
      if (response.status >= 300 && body.length > 0) {
        const xml = new TextDecoder().decode(body);
        answer.s3Code = firstTag(xml, "Code");
        const message = firstTag(xml, "Message");
        answer.s3Message = message === undefined ? undefined : decodeXml(message);
      }
      return answer;
    } catch (err) {
      if (err instanceof AttemptFailure) throw err;
      // The caller's abort is final; ours (the timeout) and network failures are worth another attempt.
      if (signal?.aborted) throw signal.reason;
      if (timer.signal.aborted) {
        throw new AttemptFailure("timeout", `did not answer within ${this.config.timeoutMs} ms`, {
          cause: err,
        });
      }
      const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
      const detail = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
      // A connection cut while the body streamed in reads as a truncated body, not an unreachable host.
      const kind = /terminated|ECONNRESET|UND_ERR_SOCKET|other side closed|premature/i.test(
        `${detail} ${String(err)}`,
      )
        ? "truncated"
        : "unreachable";
      const failure = new AttemptFailure(
        kind,
        kind === "truncated" ? `cut the connection (${detail})` : `could not be reached (${detail})`,
        {
          cause: err,
        },
      );
      // Node's codes, Bun's and Deno's words for a certificate chain that does not verify.
      failure.untrusted = /CERT|UNABLE_TO_VERIFY|SELF_SIGNED|certificate|UnknownIssuer/i.test(
        `${detail} ${String(err)} ${cause?.message ?? ""}`,
      );
      throw failure;
    } finally {
      clearTimeout(timeout);
    }
  }

  // Full jitter: a random wait up to a ceiling that doubles each retry (AWS's advice for contention).
  private backoff(retry: number, signal?: AbortSignal): Promise<void> {
    const ceiling = Math.min(this.config.maxDelayMs, this.config.baseDelayMs * 2 ** (retry - 1));
    const ms = Math.random() * ceiling;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(t);
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }
}
