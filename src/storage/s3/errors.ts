import { StorageError } from "../../errors.ts";

/**
 * Why an S3 request failed, for programs that must branch on it without reading the message:
 * - `missing-bucket`: the bucket does not exist at the endpoint;
 * - `bad-credentials`: the access key is unknown, the signature does not match, or access is denied;
 * - `unreachable`: no HTTP answer (refused, reset, DNS, TLS) on any attempt;
 * - `timeout`: each attempt ran past the client's timeout;
 * - `throttled`: the server kept answering 503 SlowDown / 429;
 * - `server`: the server kept answering 5xx;
 * - `truncated`: every attempt's body was shorter than its Content-Length;
 * - `request`: the server refused the request itself (another 4xx): a bug in floe or an unsupported server.
 */
export type S3FailureKind =
  | "missing-bucket"
  | "bad-credentials"
  | "unreachable"
  | "timeout"
  | "throttled"
  | "server"
  | "truncated"
  | "request";

/**
 * A `StorageError` from the S3 client. Its `code` stays `"StorageError"` (what callers and the worker
 * boundary know); `kind` says which failure it was, `status` and `s3Code` what the server answered.
 */
export class S3StorageError extends StorageError {
  constructor(
    message: string,
    readonly kind: S3FailureKind,
    readonly status?: number,
    readonly s3Code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const CREDENTIAL_CODES = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "AccessDenied",
  "InvalidToken",
  "ExpiredToken",
  "RequestTimeTooSkewed",
]);

// AWS's answers to a request signed for the wrong region (the bucket lives elsewhere).
const REGION_CODES = new Set([
  "PermanentRedirect",
  "AuthorizationHeaderMalformed",
  "IllegalLocationConstraintException",
]);

/** Whether an HTTP answer is worth another attempt: throttling and server trouble, not a refusal. */
export function retryableStatus(status: number, s3Code: string | undefined): boolean {
  return (
    status >= 500 || status === 429 || s3Code === "SlowDown" || s3Code === "RequestTimeout" // RGW/AWS: 400
  );
}

/**
 * The typed error for a final, non-conditional failure answer. `where` names the request
 * (`GET s3://bucket/key`), `endpoint` the server, `attempts` how many were made.
 */
export function errorForAnswer(
  status: number,
  s3Code: string | undefined,
  s3Message: string | undefined,
  where: string,
  endpoint: string,
  bucket: string,
  attempts: number,
): S3StorageError {
  const said = `${status}${s3Code ? ` ${s3Code}` : ""}${s3Message ? `: ${s3Message}` : ""}`;
  if (s3Code === "NoSuchBucket") {
    return new S3StorageError(
      `${where}: the bucket '${bucket}' does not exist at ${endpoint} (${said}). Create the bucket, or ` +
        "fix the bucket name in the URI.",
      "missing-bucket",
      status,
      s3Code,
    );
  }
  if (s3Code !== undefined && REGION_CODES.has(s3Code)) {
    return new S3StorageError(
      `${where}: the bucket '${bucket}' is not in the region this client signs for (${said}); set ` +
        "region= in the URI to the bucket's region.",
      "request",
      status,
      s3Code,
    );
  }
  if (status === 403 || (s3Code !== undefined && CREDENTIAL_CODES.has(s3Code))) {
    const hint =
      s3Code === "RequestTimeTooSkewed"
        ? "this machine's clock is too far from the server's; set the clock"
        : "check the access key and secret (URI options access= and secret=, or AWS_ACCESS_KEY_ID / " +
          "AWS_SECRET_ACCESS_KEY with aws_auth=true), the region, and the key's permissions on the bucket";
    return new S3StorageError(
      `${where}: ${endpoint} refused the credentials (${said}); ${hint}.`,
      "bad-credentials",
      status,
      s3Code,
    );
  }
  if (status === 503 || status === 429 || s3Code === "SlowDown") {
    return new S3StorageError(
      `${where}: ${endpoint} kept asking to slow down (${said}) on all ${attempts} attempts; lower the ` +
        "number of requests in flight, or raise the client's retry limit.",
      "throttled",
      status,
      s3Code,
    );
  }
  if (status >= 500 || s3Code === "RequestTimeout") {
    return new S3StorageError(
      `${where}: ${endpoint} kept failing (${said}) on all ${attempts} attempts; the object store is ` +
        "unwell: check its health, then retry.",
      "server",
      status,
      s3Code,
    );
  }
  return new S3StorageError(
    `${where}: ${endpoint} refused the request (${said}). This server may not support an S3 feature floe ` +
      "needs; please report it with the server's name and version.",
    "request",
    status,
    s3Code,
  );
}
