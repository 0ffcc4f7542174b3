// The little of Bun's test API the conformance runner uses, so `tsc` (which has Node's types
// only) checks that file too.
declare module "bun:test" {
  export function test(name: string, fn: () => unknown, timeoutMs?: number): void;
  export namespace test {
    function skip(name: string, fn: () => unknown): void;
  }
  export function afterAll(fn: () => unknown): void;
}
