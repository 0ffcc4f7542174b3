/**
 * The fetch an `s3s://` store uses on Bun when its URI names `CA_cert_path` or `CA_cert_dir`: Bun's own
 * fetch with its `tls.ca` option. That option replaces the default CAs, so the defaults go in too.
 */

import type { S3Uri } from "../src/storage/s3/uri.ts";
import { defaultCaCertificates, readCaCerts } from "./s3-ca.ts";

/** Bun's extension of fetch's options (not in the DOM typings). */
interface BunRequestInit extends RequestInit {
  tls?: { ca?: string[] };
}

/**
 * A fetch trusting the URI's `CA_cert_path` / `CA_cert_dir` besides the default CAs, or undefined (the
 * global fetch) when it names neither. Reads and checks the certificates now: an unreadable or invalid
 * one is an `InvalidUriError` naming its path.
 */
export function bunS3Fetch(uri: S3Uri): typeof fetch | undefined {
  const certs = readCaCerts(uri);
  if (!certs) return undefined;
  const ca = [...defaultCaCertificates(), ...certs];
  return ((input: RequestInfo | URL, init?: RequestInit) =>
    fetch(input, {
      ...init,
      tls: { ...(init as BunRequestInit | undefined)?.tls, ca },
    } as BunRequestInit)) as typeof fetch;
}
