import type { ObjectStore } from "./object-store.ts";

/**
 * An object store in this process's memory with S3's rules (create-only PUTs, sorted listings, no
 * transactions): the object engine's fast tests run on it, and it answers as a real server would. It
 * copies values in and out, so no caller can change what another reads.
 */
export class MemoryObjectStore implements ObjectStore {
  readonly description = "memory object store";
  private readonly objects = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | undefined> {
    const value = this.objects.get(key);
    return value?.slice();
  }

  async getMany(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  async create(key: string, value: Uint8Array): Promise<boolean> {
    if (this.objects.has(key)) return false;
    this.objects.set(key, value.slice());
    return true;
  }

  async put(key: string, value: Uint8Array): Promise<void> {
    this.objects.set(key, value.slice());
  }

  async list(
    prefix: string,
    options: { delimiter?: string; startAfter?: string } = {},
  ): Promise<{ keys: string[]; prefixes: string[] }> {
    const keys: string[] = [];
    const prefixes = new Set<string>();
    for (const key of [...this.objects.keys()].sort()) {
      if (!key.startsWith(prefix)) continue;
      if (options.startAfter !== undefined && key <= options.startAfter) continue;
      const cut = options.delimiter ? key.indexOf(options.delimiter, prefix.length) : -1;
      if (cut >= 0) prefixes.add(key.slice(0, cut + (options.delimiter as string).length));
      else keys.push(key);
    }
    return { keys, prefixes: [...prefixes] };
  }

  async deleteMany(keys: readonly string[]): Promise<void> {
    for (const key of keys) this.objects.delete(key);
  }

  close(): void {}
}
