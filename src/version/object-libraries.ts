import { LibraryExistsError, LibraryNotFoundError } from "../errors.ts";
import type { ObjectStore } from "../storage/object-store.ts";
import { escapeName, libraryRecordKey, unescapeName } from "./object-keys.ts";

/**
 * The libraries of an object store: each is `<lib>/library` (its config and id, created create-only, so
 * two creators cannot both succeed) with its data beside it under `<lib>/<id>/` (object-keys.ts).
 */

/** Creates library `name` with its packed `record`; `LibraryExistsError` if it exists. */
export async function createObjectLibrary(
  objects: ObjectStore,
  name: string,
  record: Uint8Array,
): Promise<void> {
  if (!(await objects.create(libraryRecordKey(name), record))) {
    throw new LibraryExistsError(
      `Library '${name}' already exists in ${objects.description}; use getLibrary('${name}').`,
    );
  }
}

/** The stored record of library `name`, or undefined. */
export function objectLibraryRecord(objects: ObjectStore, name: string): Promise<Uint8Array | undefined> {
  return objects.get(libraryRecordKey(name));
}

/** Names of the libraries, sorted: one LIST of top-level names, then one GET per name to confirm it. */
export async function listObjectLibraries(objects: ObjectStore): Promise<string[]> {
  const { prefixes } = await objects.list("", { delimiter: "/" });
  // Escaped names never hold a bare `%`, so floe's own `%floe/` (the write probe) is never one.
  const names = prefixes.filter((p) => p !== "%floe/").map((p) => unescapeName(p.slice(0, -1)));
  const records = await objects.getMany(names.map(libraryRecordKey));
  return names.filter((_, i) => records[i] !== undefined).sort();
}

/**
 * Deletes library `name`: its record first (from then on it does not exist, and a handle still open on
 * it is refused: its writes check the record), then every object under it.
 */
export async function deleteObjectLibrary(objects: ObjectStore, name: string): Promise<void> {
  if (!(await objects.get(libraryRecordKey(name)))) {
    throw new LibraryNotFoundError(
      `Library '${name}' does not exist in ${objects.description}; nothing was deleted.`,
    );
  }
  await objects.deleteMany([libraryRecordKey(name)]);
  const { keys } = await objects.list(`${escapeName(name)}/`);
  await objects.deleteMany(keys);
}
