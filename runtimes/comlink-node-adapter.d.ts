// Comlink ships this adapter's types as node-adapter.d.ts beside node-adapter.mjs, which TypeScript does
// not pair with an .mjs import; restate them here.
declare module "comlink/dist/esm/node-adapter.mjs" {
  import type { Endpoint } from "comlink";

  interface NodeEndpoint {
    // biome-ignore lint/suspicious/noExplicitAny: matches both worker_threads and DOM signatures
    postMessage(message: any, transfer?: any): void;
    // biome-ignore lint/suspicious/noExplicitAny: as above
    on(type: string, listener: (...args: any[]) => void): unknown;
    // biome-ignore lint/suspicious/noExplicitAny: as above
    off(type: string, listener: (...args: any[]) => void): unknown;
    start?: () => void;
  }
  export default function nodeEndpoint(nep: NodeEndpoint): Endpoint;
}
