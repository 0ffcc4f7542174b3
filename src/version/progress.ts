/** How far a read or write has got: raw (decoded) bytes and segments done, of the totals known so far. */
export interface Progress {
  /** Decoded bytes read or written so far. */
  bytesDone: number;
  /** Decoded bytes the call will read or write, as far as planned. */
  bytesTotal: number;
  /** Segments done so far. */
  segmentsDone: number;
  /** Segments the call will read or write, as far as planned. */
  segmentsTotal: number;
}

/**
 * Counts work done for one call and reports it. Totals grow as the work is planned (an update reads the
 * rows around its range, then writes them), so `bytesTotal` can rise while a call runs; when it returns,
 * done equals total.
 */
export class ProgressMeter {
  private readonly state: Progress = { bytesDone: 0, bytesTotal: 0, segmentsDone: 0, segmentsTotal: 0 };

  constructor(private readonly report: (p: Progress) => void) {}

  /** More work planned. */
  expect(bytes: number, segments: number): void {
    this.state.bytesTotal += bytes;
    this.state.segmentsTotal += segments;
  }

  /** Work done; reports a copy of the state. */
  add(bytes: number, segments = 1): void {
    this.state.bytesDone += bytes;
    this.state.segmentsDone += segments;
    this.report({ ...this.state });
  }
}

/**
 * The progress meter of the call running now, one per store, which its read and write paths count into
 * (calls into the store are synchronous, so one at a time; see `VersionStore.metered`).
 */
export interface MeterSlot {
  meter: ProgressMeter | undefined;
}
