/**
 * What user metadata may hold, checked before it is encoded. msgpack alone would keep plain objects,
 * arrays, strings, numbers, booleans, null, bigints (floe's ext 1), Dates and Uint8Arrays, and turn the
 * rest into something else without a word: a Map or a Set into {}, a Float64Array into the Uint8Array of
 * its bytes, undefined into null, a class instance into a plain object. floe stores Maps, Sets, typed
 * arrays and undefined as extension types of their own (see msgpack.ts), so they come back as given, and
 * refuses what would still change (class instances, ArrayBuffers, invalid Dates, functions, cycles) with
 * an `InvalidArgumentError` naming where in the metadata it is, before anything commits.
 */
import { InvalidArgumentError } from "../errors.ts";
import { setOwn } from "../own-keys.ts";

/** Stands for `undefined` in prepared metadata: msgpack writes undefined itself as nil, read back as null. */
export class UndefinedMark {}
export const UNDEFINED = new UndefinedMark();

/** The typed arrays metadata keeps, by the code their extension type stores; Uint8Array stays msgpack bin. */
export const TYPED_ARRAYS = [
  Int8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
] as const;

const ALLOWED =
  "plain objects, arrays, Maps, Sets, strings, numbers, bigints, booleans, null, undefined, Dates and typed arrays";

/**
 * A copy of `value` ready for msgpack: every `undefined` replaced by `UNDEFINED`; anything metadata
 * cannot hold unchanged is an `InvalidArgumentError`.
 */
export function prepareMetadata(value: unknown): unknown {
  return prepare(value, "metadata", new Map());
}

/** `path` names `value` in messages; `open` holds the containers being copied, to find cycles. */
function prepare(value: unknown, path: string, open: Map<object, string>): unknown {
  if (value === undefined) return UNDEFINED;
  if (value === null || typeof value === "string" || typeof value === "number") return value;
  if (typeof value === "boolean" || typeof value === "bigint") return value;
  if (typeof value !== "object") refuse(path, `is a ${typeof value}`);
  const seen = open.get(value);
  if (seen !== undefined) refuse(path, `refers back to ${seen} (a cycle)`, "Store each value once.");
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) refuse(path, "is an invalid Date");
    return value;
  }
  if (ArrayBuffer.isView(value)) {
    if (value instanceof Uint8Array && value.constructor === Uint8Array) return value;
    if (TYPED_ARRAYS.some((t) => value.constructor === t)) return value;
    refuse(path, `is a ${value.constructor.name}`, "Copy it into a Uint8Array or another typed array.");
  }
  // SharedArrayBuffer is undefined in browser pages that are not cross-origin isolated.
  const shared = typeof SharedArrayBuffer === "undefined" ? ArrayBuffer : SharedArrayBuffer;
  if (value instanceof ArrayBuffer || value instanceof shared) {
    refuse(path, `is an ${value.constructor.name}`, "Wrap it: new Uint8Array(buffer).");
  }
  open.set(value, path);
  try {
    if (Array.isArray(value)) return value.map((v, i) => prepare(v, `${path}[${i}]`, open));
    if (value instanceof Map) {
      const out = new Map<unknown, unknown>();
      for (const [k, v] of value) {
        const name = `${path}.get(${typeof k === "string" ? JSON.stringify(k) : String(k)})`;
        out.set(prepare(k, `a key of ${path}`, open), prepare(v, name, open));
      }
      return out;
    }
    if (value instanceof Set) return new Set([...value].map((v) => prepare(v, `a member of ${path}`, open)));
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      const name = (proto?.constructor as { name?: string } | undefined)?.name || "class instance";
      refuse(path, `is a ${name}`, "Turn it into a plain object first (e.g. { ...value }).");
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const child = /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
      setOwn(out, key, prepare((value as Record<string, unknown>)[key], child, open));
    }
    return out;
  } finally {
    open.delete(value);
  }
}

/** `problem` says what `path` is ("is a RegExp"); `hint` what to do instead. */
function refuse(path: string, problem: string, hint = ""): never {
  throw new InvalidArgumentError(
    `${path} ${problem}, which metadata cannot hold unchanged. ${hint ? `${hint} ` : ""}Metadata may hold ${ALLOWED}.`,
  );
}
