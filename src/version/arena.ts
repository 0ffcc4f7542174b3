/**
 * Space for a batch of encoded segments between encoding and storing them. Segments are copied in one
 * after another; chunks are kept between batches, so after the first batch no memory is faulted in anew.
 */
export class SegmentArena {
  private chunks: Uint8Array[] = [];
  private chunk = 0;
  private at = 0;

  constructor(private readonly chunkBytes = 4 << 20) {}

  /** Forgets the previous batch; its views become invalid. */
  reset(): void {
    this.chunk = 0;
    this.at = 0;
  }

  /** A copy of `bytes` in the arena, valid until the next `reset`. */
  copy(bytes: Uint8Array): Uint8Array {
    const n = bytes.byteLength;
    while (this.chunk < this.chunks.length && this.chunks[this.chunk].byteLength - this.at < n) {
      this.chunk++;
      this.at = 0;
    }
    if (this.chunk === this.chunks.length) {
      this.chunks.push(new Uint8Array(Math.max(n, this.chunkBytes)));
      this.at = 0;
    }
    const view = this.chunks[this.chunk].subarray(this.at, this.at + n);
    view.set(bytes);
    this.at += n;
    return view;
  }
}
