/**
 * The fetch an `s3s://` store uses on Deno when its URI names `CA_cert_path` or `CA_cert_dir`: Deno's
 * fetch with an HTTP client from `Deno.createHttpClient({ caCerts })`, which trusts them in addition to
 * the default CAs. Only ever called in Deno. Reading the files needs `--allow-read` for them.
 */

import { InvalidUriError } from "../src/errors.ts";
import type { S3Uri } from "../src/storage/s3/uri.ts";
import { readCaCerts } from "./s3-ca.ts";

/** The part of Deno's API used here (declared locally, so tsc checks this file without Deno's types). */
interface DenoHttp {
  createHttpClient(options: { caCerts: string[] }): object;
}

/**
 * A fetch trusting the URI's `CA_cert_path` / `CA_cert_dir` besides the default CAs, or undefined (the
 * global fetch) when it names neither. Reads and checks the certificates now: an unreadable or invalid
 * one is an `InvalidUriError` naming its path.
 */
export function denoS3Fetch(uri: S3Uri): typeof fetch | undefined {
  const certs = readCaCerts(uri);
  if (!certs) return undefined;
  const deno = (globalThis as unknown as { Deno?: Partial<DenoHttp> }).Deno;
  if (typeof deno?.createHttpClient !== "function") {
    throw new InvalidUriError(
      `${uri.scheme}://${uri.host}:${uri.bucket}: CA_cert_path and CA_cert_dir need Deno.createHttpClient, which this Deno lacks.`,
    );
  }
  let client: object;
  try {
    client = deno.createHttpClient({ caCerts: certs });
  } catch (err) {
    throw new InvalidUriError(
      `${uri.scheme}://${uri.host}:${uri.bucket}: Deno refused the certificates of CA_cert_path / CA_cert_dir (${(err as Error).message}).`,
      { cause: err },
    );
  }
  // The client stays open as long as the fetch does: one connection pool per store.
  return ((input: RequestInfo | URL, init?: RequestInit) =>
    fetch(input, { ...init, client } as RequestInit)) as typeof fetch;
}
