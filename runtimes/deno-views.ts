/**
 * Deno's `node:worker_threads` clone a typed array in a message at ~35 MB/s, even when its buffer is in
 * the transfer list (a 100 MB Float64Array there and back: ~3 s), while a bare ArrayBuffer moves in
 * milliseconds (Deno 2.9; Node, Bun and Deno's Web Workers move both at once). So on that channel floe
 * sends each typed array as its buffer plus where the view lies, and rebuilds the view on arrival.
 */
import type { Endpoint } from "comlink";
import nodeEndpoint from "comlink/dist/esm/node-adapter.mjs";

/** Marks a plain object that stands for a typed array; no message of floe's has this key. */
const TAG = "\u0000floe-view";

interface PackedView {
  [TAG]: string;
  buffer: ArrayBufferLike;
  byteOffset: number;
  length: number;
}

type ViewConstructor = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => ArrayBufferView;

const VIEWS: Record<string, ViewConstructor> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The name of a typed array's kind (a Node Buffer counts as a Uint8Array), or undefined, also for a kind
 * `unpackViews` cannot rebuild (a Float16Array, say), which then travels as it is.
 */
function viewKind(value: object): string | undefined {
  if (!ArrayBuffer.isView(value) || value instanceof DataView) return undefined;
  const kind = (value as Uint8Array)[Symbol.toStringTag];
  return Object.hasOwn(VIEWS, kind) ? kind : undefined;
}

/**
 * `value` with every typed array inside (in plain objects and arrays, at any depth) replaced by a plain
 * stand-in holding its buffer; parts without one are returned as they are, not copied.
 */
export function packViews(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  const kind = viewKind(value);
  if (kind) {
    const view = value as ArrayBufferView & { length: number };
    return { [TAG]: kind, buffer: view.buffer, byteOffset: view.byteOffset, length: view.length };
  }
  if (Array.isArray(value)) return mapArray(value, packViews);
  if (!isPlain(value)) return value;
  return mapObject(value as Record<string, unknown>, packViews);
}

/** The inverse of `packViews`: each stand-in becomes a typed array over the buffer it carries. */
export function unpackViews(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return mapArray(value, unpackViews);
  if (!isPlain(value)) return value;
  const packed = value as Partial<PackedView>;
  const kind = packed[TAG];
  if (typeof kind === "string") {
    const ctor = VIEWS[kind];
    if (!ctor) throw new TypeError(`a worker message holds an unknown typed array kind '${kind}'`);
    return new ctor(packed.buffer as ArrayBufferLike, packed.byteOffset ?? 0, packed.length ?? 0);
  }
  return mapObject(value as Record<string, unknown>, unpackViews);
}

// Copy on write: a string column of a million values is scanned, not copied, when nothing in it changes.
function mapArray(items: unknown[], fn: (v: unknown) => unknown): unknown[] {
  let out: unknown[] | null = null;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (typeof item !== "object" || item === null) continue;
    const mapped = fn(item);
    if (mapped !== item) {
      out ??= items.slice();
      out[i] = mapped;
    }
  }
  return out ?? items;
}

function mapObject(record: Record<string, unknown>, fn: (v: unknown) => unknown): Record<string, unknown> {
  let out: Record<string, unknown> | null = null;
  for (const key of Object.keys(record)) {
    const item = record[key];
    if (typeof item !== "object" || item === null) continue;
    const mapped = fn(item);
    if (mapped !== item) {
      out ??= { ...record };
      out[key] = mapped;
    }
  }
  return out ?? record;
}

type Listener = EventListenerOrEventListenerObject;

/**
 * A Comlink endpoint over `inner` that packs typed arrays in what it sends and unpacks them in what it
 * receives; both ends of a channel must use it.
 */
export function viewSafeEndpoint(inner: Endpoint): Endpoint {
  const wrapped = new Map<Listener, EventListener>();
  return {
    postMessage: (message: unknown, transfer?: Transferable[]) =>
      inner.postMessage(packViews(message), transfer),
    addEventListener: (type: string, listener: Listener) => {
      const handle: EventListener = (event) => {
        const unpacked = { data: unpackViews((event as MessageEvent).data) } as MessageEvent;
        if (typeof listener === "function") listener(unpacked);
        else listener.handleEvent(unpacked);
      };
      wrapped.set(listener, handle);
      inner.addEventListener(type, handle);
    },
    removeEventListener: (type: string, listener: Listener) => {
      const handle = wrapped.get(listener);
      if (!handle) return;
      wrapped.delete(listener);
      inner.removeEventListener(type, handle);
    },
    ...(inner.start ? { start: () => inner.start?.() } : {}),
  };
}

/**
 * The Comlink endpoint of a `node:worker_threads` worker or port: as it is in Node, view-safe in Deno
 * (which runs the Node entry and worker too when loaded that way).
 */
export function threadEndpoint(port: Parameters<typeof nodeEndpoint>[0]): Endpoint {
  const endpoint = nodeEndpoint(port);
  return "Deno" in globalThis ? viewSafeEndpoint(endpoint) : endpoint;
}
