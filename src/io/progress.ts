/**
 * How far an import or export has got: bytes of the file read or written, and rows done. A total is
 * `undefined` while it is not known (a CSV stream has no row count; a stream of unknown length no byte
 * count).
 */
export interface TransferProgress {
  /** Bytes of the file read (import) or written (export) so far. */
  bytesDone: number;
  /** The file's size, when known. */
  bytesTotal: number | undefined;
  /** Rows imported or exported so far. */
  rowsDone: number;
  /** All the rows, when known (exports, Parquet imports). */
  rowsTotal: number | undefined;
}

/** Called as an import or export goes on, once per chunk of rows and once at the end. */
export type OnTransferProgress = (progress: TransferProgress) => void;

/** Counts bytes and rows for one import or export and reports copies of the count to the caller. */
export class TransferMeter {
  readonly state: TransferProgress;

  constructor(
    private readonly report: OnTransferProgress | undefined,
    totals: { bytes?: number; rows?: number } = {},
  ) {
    this.state = { bytesDone: 0, bytesTotal: totals.bytes, rowsDone: 0, rowsTotal: totals.rows };
  }

  /** Work done since the last call; reports. */
  add(bytes: number, rows: number): void {
    this.state.bytesDone += bytes;
    this.state.rowsDone += rows;
    this.report?.({ ...this.state });
  }

  /** Counts bytes without reporting (bytes flow in small pieces; rows are reported per chunk). */
  addBytes(bytes: number): void {
    this.state.bytesDone += bytes;
  }

  /** The end: totals become what was done, and the caller hears it. */
  finish(): void {
    this.state.bytesTotal = this.state.bytesDone;
    this.state.rowsTotal = this.state.rowsDone;
    this.report?.({ ...this.state });
  }
}
