/**
 * Records keyed by user-given names (columns, metadata keys). A name like `__proto__` assigned with
 * `obj[name] = v` sets the prototype instead of a key, and a lookup like `obj[name]` on `{}` finds
 * Object.prototype's `constructor` or `toString` for a name that is not there; these keep such names
 * ordinary keys. Shared by every layer like errors.ts, so it sits at the root of `src/`.
 */

/** Sets `record[key] = value` as an own, enumerable property, whatever `key` is. */
export function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") {
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  } else record[key] = value;
}

/** A plain object with `entries` as own, enumerable properties, in order. */
export function ownRecord<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [key, value] of entries) setOwn(out, key, value);
  return out;
}

/** `record[key]` when `record` has it as its own property, else undefined (never an inherited member). */
export function getOwn<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}
