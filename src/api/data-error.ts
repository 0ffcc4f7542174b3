/**
 * One symbol's failure inside a batch call: batch methods return it in place of that symbol's result
 * instead of throwing, so one bad symbol does not hide the others' results. `errorCode` is the `code` of
 * the `FloeError` that would have been thrown.
 */
export class DataError {
  /** The symbol of the batch item that failed. */
  readonly symbol: string;
  /** The version the item named, when it named one. */
  readonly version: number | undefined;
  /** The `code` of the floe error, e.g. `"SymbolNotFoundError"` (`"Error"` for a non-floe error). */
  readonly errorCode: string;
  /** What went wrong and what to do about it, as the thrown error would have said. */
  readonly message: string;

  /** The same as `errorCode`, under the name every `FloeError` uses, so one check reads both. */
  get code(): string {
    return this.errorCode;
  }

  constructor(fields: { symbol: string; version?: number; errorCode: string; message: string }) {
    this.symbol = fields.symbol;
    this.version = fields.version;
    this.errorCode = fields.errorCode;
    this.message = fields.message;
  }

  /** The `DataError` for `err` thrown while working on `symbol`. */
  static from(symbol: string, err: unknown, version?: number): DataError {
    const code = (err as { code?: unknown })?.code;
    return new DataError({
      symbol,
      version,
      errorCode: typeof code === "string" ? code : "Error",
      message: err instanceof Error ? err.message : String(err),
    });
  }
}
