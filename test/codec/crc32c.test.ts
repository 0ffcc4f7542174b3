import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc32c } from "../../src/codec/crc32c.ts";

/** CRC-32C a bit at a time, straight from the definition (reflected, polynomial 0x82f63b78). */
function reference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe("crc32c", () => {
  it("gives the standard check value and that of no bytes", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it("equals the bit-at-a-time definition for any bytes, at any offset of their buffer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(7), (bytes, skip) => {
        const view = new Uint8Array(bytes.length + skip);
        view.set(bytes, skip);
        return crc32c(view.subarray(skip)) === reference(bytes);
      }),
      { numRuns: 500 },
    );
  });
});
