/**
 * CRC-32C (Castagnoli polynomial, reflected, as in iSCSI and ext4) in plain TypeScript, for the small
 * msgpack records (versions, indexes, references) that are packed synchronously where no Wasm kernels
 * are at hand. It catches every burst of up to 32 flipped bits; column blocks use the Wasm checksum.
 */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let bit = 0; bit < 8; bit++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** The CRC-32C of `bytes`, unsigned. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.byteLength; i++) crc = TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
