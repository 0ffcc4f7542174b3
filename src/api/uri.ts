import { InvalidUriError } from "../errors.ts";
import { isS3Uri, parseS3Uri, type S3Uri } from "../storage/s3/uri.ts";

/** A parsed `Arctic` URI. */
export type ParsedUri =
  | { scheme: "mem" }
  | { scheme: "lmdb"; path: string; mapSize?: number; sync: boolean }
  | { scheme: "s3"; s3: S3Uri };

const UNITS: Record<string, number> = { KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

/**
 * Parses `mem://` or `lmdb://<path>[?map_size=2GB&sync=false]`. Sizes use ArcticDB's spelling: a
 * positive integer with an optional unit KB, MB, GB or TB (powers of ten). Anything else, including an
 * option floe does not know, is an `InvalidUriError` that says what is accepted.
 */
export function parseUri(uri: string): ParsedUri {
  if (typeof uri !== "string") {
    throw new InvalidUriError(
      `The Arctic URI must be a string such as 'lmdb://data.lmdb' or 'mem://', got ${typeof uri}.`,
    );
  }
  if (isS3Uri(uri)) return { scheme: "s3", s3: parseS3Uri(uri) };
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/s.exec(uri);
  if (!match) {
    throw new InvalidUriError(`'${hideSecret(uri)}' is not a URI; use 'lmdb://<path>' or 'mem://'.`);
  }
  const scheme = match[1].toLowerCase();
  const rest = match[2];
  const q = rest.indexOf("?");
  const path = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? "" : rest.slice(q + 1);
  if (scheme === "mem") {
    if (path !== "" || query !== "") {
      throw new InvalidUriError(`'${uri}': mem:// takes no path or options; use exactly 'mem://'.`);
    }
    return { scheme: "mem" };
  }
  if (scheme !== "lmdb") {
    throw new InvalidUriError(
      `'${hideSecret(uri)}': unknown scheme '${scheme}://'; floe supports 'lmdb://<path>', 's3://HOST:BUCKET?…', 's3s://…' and 'mem://'.`,
    );
  }
  if (path === "") {
    throw new InvalidUriError(
      `'${uri}': lmdb:// needs a path, e.g. 'lmdb://data.lmdb' or 'lmdb:///abs/dir'.`,
    );
  }
  const parsed: ParsedUri = { scheme: "lmdb", path: decodePart(path, uri, "path"), sync: true };
  if (query === "") return parsed;
  for (const part of query.split("&")) {
    const eq = part.indexOf("=");
    const name = eq < 0 ? part : part.slice(0, eq);
    const value = eq < 0 ? "" : decodePart(part.slice(eq + 1), uri, name);
    if (name === "map_size" || name === "mapSize") {
      parsed.mapSize = parseSize(value, uri);
    } else if (name === "sync") {
      if (value !== "true" && value !== "false") {
        throw new InvalidUriError(`'${uri}': sync must be 'true' or 'false', got '${value}'.`);
      }
      parsed.sync = value === "true";
    } else {
      throw new InvalidUriError(
        `'${uri}': unknown option '${name}'; lmdb:// accepts map_size (or mapSize) and sync.`,
      );
    }
  }
  return parsed;
}

/** `text` with its percent-escapes decoded; a malformed one (`%zz`, a cut-off UTF-8 sequence) is an `InvalidUriError`. */
function decodePart(text: string, uri: string, part: string): string {
  try {
    return decodeURIComponent(text);
  } catch (err) {
    throw new InvalidUriError(
      `'${uri}': the ${part} '${text}' has a malformed percent-escape; write '%' itself as '%25' and ` +
        "escapes as % and two hex digits of UTF-8 bytes (e.g. %20 for a space).",
      { cause: err },
    );
  }
}

/** Parses `2GB`, `500MB`, `1048576` into bytes; rejects zero, negatives, fractions and lower-case units. */
export function parseSize(text: string, uri: string): number {
  const m = /^([0-9]+)(KB|MB|GB|TB)?$/.exec(text);
  const bytes = m ? Number(m[1]) * (m[2] ? UNITS[m[2]] : 1) : Number.NaN;
  if (!m || !Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new InvalidUriError(
      `'${uri}': map_size '${text}' is not a size; write a positive whole number with an optional unit ` +
        "KB, MB, GB or TB (powers of ten), e.g. map_size=2GB.",
    );
  }
  return bytes;
}

/** `uri` with the value of any `secret=` hidden, for messages. */
export function hideSecret(uri: string): string {
  return uri.replace(/([?&]secret=)[^&]*/gi, "$1***");
}
