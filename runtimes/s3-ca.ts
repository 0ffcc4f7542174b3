/**
 * The extra CA certificates an `s3s://` URI names (`CA_cert_path`, `CA_cert_dir`), read once when the
 * `Arctic` is constructed, for the Node, Bun and Deno fetches (s3-fetch-*.ts). Uses only `node:fs`,
 * `node:path`, `node:crypto` and `node:tls`, which all three runtimes provide.
 */

import { X509Certificate } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import * as tls from "node:tls";
import { InvalidUriError } from "../src/errors.ts";
import type { S3Uri } from "../src/storage/s3/uri.ts";

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+?-----END CERTIFICATE-----/g;

// The certificates in one PEM text, each checked to parse; `what` names the file for messages.
function certificatesIn(text: string, what: string): string[] {
  const blocks = text.match(PEM_BLOCK) ?? [];
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new InvalidUriError(
        `${what} holds a PEM certificate that does not parse (${(err as Error).message}).`,
        {
          cause: err,
        },
      );
    }
  }
  return blocks.map((b) => `${b}\n`);
}

const reason = (err: unknown) => (err as { code?: string }).code ?? (err as Error).message ?? String(err);

/**
 * The PEM certificates `CA_cert_path` and `CA_cert_dir` name (one string per certificate, duplicates
 * dropped), or undefined when the URI names neither. `CA_cert_path` is a PEM file of one or more
 * certificates; `CA_cert_dir` a directory whose files holding PEM certificates are all read (`*.pem`,
 * `*.crt`, and OpenSSL's hash-named links such as `5ed36f99.0`); other files there are skipped. A file
 * that cannot be read, holds no certificate or a damaged one, or a directory with none, is an
 * `InvalidUriError` naming the path.
 */
export function readCaCerts(uri: S3Uri): string[] | undefined {
  if (!uri.caCertPath && !uri.caCertDir) return undefined;
  const store = `${uri.scheme}://${uri.host}:${uri.bucket}`;
  const certs = new Set<string>();
  if (uri.caCertPath) {
    const what = `${store}: CA_cert_path '${uri.caCertPath}'`;
    let text: string;
    try {
      text = readFileSync(uri.caCertPath, "utf8");
    } catch (err) {
      throw new InvalidUriError(`${what} could not be read (${reason(err)}); give a readable PEM file.`, {
        cause: err,
      });
    }
    const found = certificatesIn(text, what);
    if (found.length === 0) {
      throw new InvalidUriError(`${what} holds no PEM certificate (-----BEGIN CERTIFICATE-----).`);
    }
    for (const c of found) certs.add(c);
  }
  if (uri.caCertDir) {
    const dir = uri.caCertDir;
    const what = `${store}: CA_cert_dir '${dir}'`;
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch (err) {
      throw new InvalidUriError(`${what} could not be read (${reason(err)}); give a readable directory.`, {
        cause: err,
      });
    }
    let found = 0;
    for (const name of names) {
      const path = join(dir, name);
      let text: string;
      try {
        // Follows links (OpenSSL's hash-named ones); skips subdirectories and anything unreadable.
        if (!statSync(path).isFile()) continue;
        text = readFileSync(path, "utf8");
      } catch {
        continue;
      }
      for (const c of certificatesIn(text, `${store}: '${path}' in CA_cert_dir`)) {
        certs.add(c);
        found++;
      }
    }
    if (found === 0) {
      throw new InvalidUriError(
        `${what} holds no file with a PEM certificate (-----BEGIN CERTIFICATE-----).`,
      );
    }
  }
  return [...certs];
}

/**
 * The CAs the runtime trusts by default, as PEM: `tls.getCACertificates("default")` where it exists
 * (Node 22.15+, Bun), which counts NODE_EXTRA_CA_CERTS and --use-system-ca; otherwise (Node 20) the
 * bundled Mozilla roots plus the NODE_EXTRA_CA_CERTS file. Needed because a `ca` option replaces the
 * default CAs rather than adding to them.
 */
export function defaultCaCertificates(): string[] {
  const get = (tls as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  if (typeof get === "function") return [...get("default")];
  const roots = [...tls.rootCertificates];
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (extra) {
    try {
      roots.push(...(readFileSync(extra, "utf8").match(PEM_BLOCK) ?? []));
    } catch {
      // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS.
    }
  }
  return roots;
}
