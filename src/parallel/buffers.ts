/**
 * Keeps the ArrayBuffers that carried work to the pool and came back, to carry the next work. Fresh
 * memory costs page faults on first touch (a few hundred MB/s on small VMs), which would eat what the
 * workers gain; a recycled buffer is already mapped.
 */
export class BufferRecycler {
  private free: ArrayBuffer[] = [];
  private kept = 0;

  constructor(private readonly capacity = 128 << 20) {}

  /** A buffer of at least `bytes` bytes: the smallest kept one that fits, else a new one. */
  take(bytes: number): ArrayBuffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i].byteLength;
      if (size >= bytes && (best < 0 || size < this.free[best].byteLength)) best = i;
    }
    if (best < 0) return new ArrayBuffer(Math.max(bytes, 8));
    const [buffer] = this.free.splice(best, 1);
    this.kept -= buffer.byteLength;
    return buffer;
  }

  /** Returns a buffer for reuse; beyond the capacity it is left to the garbage collector. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength === 0 || this.kept + buffer.byteLength > this.capacity) return;
    this.free.push(buffer);
    this.kept += buffer.byteLength;
  }
}
