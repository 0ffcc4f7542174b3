/**
 * `s3://` and `s3s://` URIs as ArcticDB writes them:
 *
 *     s3://HOST:BUCKET?port=7480&region=us-east-1&access=KEY&secret=SECRET&path_prefix=team/prices
 *
 * `s3` talks HTTP, `s3s` HTTPS. Kept apart from `src/api/uri.ts` so the Arctic URI parser needs one
 * line to accept these (`if (scheme is s3 or s3s) return parseS3Uri(uri)`).
 */

import { InvalidUriError } from "../../errors.ts";
import type { S3ClientConfig } from "./client.ts";
import type { Credentials } from "./sigv4.ts";

/** A parsed `s3://` / `s3s://` URI. */
export interface S3Uri {
  scheme: "s3" | "s3s";
  /** `http://host[:port]` or `https://host[:port]`. */
  endpoint: string;
  host: string;
  /** From `port=`; otherwise the scheme's default. */
  port?: number;
  bucket: string;
  /** From `region=`, else read from an AWS endpoint's name, else `us-east-1`. */
  region: string;
  /** `path_prefix` without leading or trailing slashes, then one `/` added: `""` or `team/prices/`. */
  pathPrefix: string;
  /** From `access=` and `secret=`; undefined when the credentials come from the environment. */
  credentials?: Credentials;
  /** `aws_auth=true` (or no `access`/`secret`): credentials from AWS_ACCESS_KEY_ID and friends. */
  awsAuth: boolean;
  /** `use_virtual_addressing=true`: the bucket goes in the host name. */
  virtualAddressing: boolean;
  /** `CA_cert_path`: a PEM file of extra trusted CAs (Node, Bun, Deno; browsers use their own store). */
  caCertPath?: string;
  /** `CA_cert_dir`: a directory of trusted CA certificates (as ArcticDB). */
  caCertDir?: string;
  /** `request_timeout_ms` (floe's): milliseconds one attempt of one request may take. */
  requestTimeoutMs?: number;
  /** `max_attempts` (floe's): attempts per request, the first included. */
  maxAttempts?: number;
  /**
   * `single_writer=true` (floe's): accept a server that ignores conditional writes, promising that one
   * writer at a time uses the library. Without it such a server is refused for writing.
   */
  singleWriter: boolean;
}

const OPTIONS = [
  "port",
  "region",
  "access",
  "secret",
  "path_prefix",
  "aws_auth",
  "use_virtual_addressing",
  "CA_cert_path",
  "CA_cert_dir",
  "request_timeout_ms",
  "max_attempts",
  "single_writer",
] as const;

/** Whether `uri` is an `s3://` or `s3s://` URI (for the Arctic URI parser's dispatch). */
export function isS3Uri(uri: string): boolean {
  return /^s3s?:\/\//i.test(uri);
}

/**
 * Parses an `s3://` / `s3s://` URI. Any unknown option, repeated option or malformed part is an
 * `InvalidUriError` naming that part and what is accepted. The secret never appears in messages.
 */
export function parseS3Uri(uri: string): S3Uri {
  const shown = uri.replace(/([?&]secret=)[^&]*/, "$1***");
  const bad = (what: string) => new InvalidUriError(`'${shown}': ${what}`);
  const m = /^(s3s?):\/\/([^?#]*)(?:\?([^#]*))?$/i.exec(uri);
  if (!m) {
    throw bad(
      "not an S3 URI; write s3://HOST:BUCKET?options (s3s:// for HTTPS), e.g. " +
        "'s3://s3.eu-west-1.amazonaws.com:my-bucket?aws_auth=true'.",
    );
  }
  const scheme = m[1].toLowerCase() as "s3" | "s3s";
  const authority = m[2];
  // HOST:BUCKET, split at the last colon; an IPv6 host is bracketed, as in URLs.
  const colon = authority.lastIndexOf(":");
  if (colon <= 0 || authority.endsWith("]")) {
    throw bad("the host and bucket must be written HOST:BUCKET, e.g. s3://127.0.0.1:my-bucket?port=7480.");
  }
  const host = authority.slice(0, colon);
  const bucketPart = authority.slice(colon + 1);
  if (bucketPart.includes("/")) {
    throw bad(
      `the bucket '${bucketPart}' contains '/'; name the bucket alone and put the path in ` +
        "path_prefix=..., e.g. s3://HOST:bucket?path_prefix=team/prices.",
    );
  }
  if (!/^[A-Za-z0-9._-]{1,255}$/.test(bucketPart)) {
    throw bad(`the bucket '${bucketPart}' is not a bucket name (letters, digits, '.', '-', '_').`);
  }
  const ipv6 = /^\[[0-9A-Fa-f:.]+\]$/.test(host);
  if (!ipv6 && !/^[A-Za-z0-9.-]+$/.test(host)) {
    throw bad(
      host.includes(":")
        ? `the host '${host}' contains ':'; give the port as an option (?port=...) and write HOST:BUCKET.`
        : `the host '${host}' is not a host name or IP address.`,
    );
  }

  const values = new Map<string, string>();
  for (const part of (m[3] ?? "").split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const name = eq < 0 ? part : part.slice(0, eq);
    if (!(OPTIONS as readonly string[]).includes(name)) {
      throw bad(`unknown option '${name}'; s3:// accepts ${OPTIONS.join(", ")}.`);
    }
    if (values.has(name)) throw bad(`option '${name}' is given twice.`);
    let value: string;
    try {
      value = decodeURIComponent(eq < 0 ? "" : part.slice(eq + 1));
    } catch {
      throw bad(`option '${name}' has a malformed %-escape.`);
    }
    if (value === "" && name !== "path_prefix") throw bad(`option '${name}' needs a value (${name}=...).`);
    values.set(name, value);
  }

  const bool = (name: string): boolean | undefined => {
    const v = values.get(name);
    if (v === undefined) return undefined;
    if (/^(true|1)$/i.test(v)) return true;
    if (/^(false|0)$/i.test(v)) return false;
    throw bad(`option '${name}' must be true or false, got '${v}'.`);
  };
  const positiveInt = (name: string, max: number): number | undefined => {
    const v = values.get(name);
    if (v === undefined) return undefined;
    const n = /^[0-9]+$/.test(v) ? Number(v) : Number.NaN;
    if (!(n >= 1 && n <= max))
      throw bad(`option '${name}' must be a whole number from 1 to ${max}, got '${v}'.`);
    return n;
  };

  const port = positiveInt("port", 65_535);
  const access = values.get("access");
  const secret = values.get("secret");
  if ((access === undefined) !== (secret === undefined)) {
    throw bad(
      `option '${access === undefined ? "access" : "secret"}' is missing; give access and secret together.`,
    );
  }
  const awsAuthValue = values.get("aws_auth");
  if (awsAuthValue !== undefined && /^sts$/i.test(awsAuthValue)) {
    throw bad(
      "aws_auth=sts is not supported by floe; use aws_auth=true with AWS_ACCESS_KEY_ID, " +
        "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN from your STS session.",
    );
  }
  const awsAuth = awsAuthValue !== undefined && /^default$/i.test(awsAuthValue) ? true : bool("aws_auth");
  if (awsAuth && access !== undefined) {
    throw bad(
      "give either access= and secret=, or aws_auth=true (credentials from the environment), not both.",
    );
  }

  const region = values.get("region") ?? regionOfAwsHost(host) ?? "us-east-1";
  const prefix = (values.get("path_prefix") ?? "").replace(/^\/+|\/+$/g, "");
  if (prefix.split("/").some((s) => s === "." || s === "..") || prefix.includes("//")) {
    throw bad(`path_prefix '${prefix}' has an empty, '.' or '..' segment.`);
  }
  const defaultPort = scheme === "s3s" ? 443 : 80;
  return {
    scheme,
    endpoint: `${scheme === "s3s" ? "https" : "http"}://${host}${port !== undefined && port !== defaultPort ? `:${port}` : ""}`,
    host,
    port,
    bucket: bucketPart,
    region,
    pathPrefix: prefix === "" ? "" : `${prefix}/`,
    credentials: access !== undefined ? { accessKeyId: access, secretAccessKey: secret! } : undefined,
    awsAuth: awsAuth ?? access === undefined,
    virtualAddressing: bool("use_virtual_addressing") ?? false,
    caCertPath: values.get("CA_cert_path"),
    caCertDir: values.get("CA_cert_dir"),
    requestTimeoutMs: positiveInt("request_timeout_ms", 3_600_000),
    maxAttempts: positiveInt("max_attempts", 100),
    singleWriter: bool("single_writer") ?? false,
  };
}

/** `eu-west-1` from `s3.eu-west-1.amazonaws.com`, `s3-eu-west-1.amazonaws.com` and the like. */
function regionOfAwsHost(host: string): string | undefined {
  const m = /(?:^|\.)s3[.-](?:dualstack\.)?([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/.exec(host);
  return m?.[1];
}

/**
 * The client configuration for a parsed URI. Credentials come from the URI or, with `aws_auth`, from
 * `env` (pass `process.env` / `Deno.env.toObject()`; a browser has none, so give access and secret).
 */
export function s3ClientConfig(parsed: S3Uri, env: Record<string, string | undefined> = {}): S3ClientConfig {
  let credentials = parsed.credentials;
  if (!credentials) {
    const accessKeyId = env.AWS_ACCESS_KEY_ID;
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
    if (!accessKeyId || !secretAccessKey) {
      throw new InvalidUriError(
        `s3://${parsed.host}:${parsed.bucket}: no credentials; give access=...&secret=... in the URI, or ` +
          "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones) " +
          "with aws_auth=true.",
      );
    }
    credentials = { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN || undefined };
  }
  return {
    endpoint: parsed.endpoint,
    bucket: parsed.bucket,
    region: parsed.region,
    credentials,
    virtualHosted: parsed.virtualAddressing,
    timeoutMs: parsed.requestTimeoutMs,
    maxAttempts: parsed.maxAttempts,
  };
}
