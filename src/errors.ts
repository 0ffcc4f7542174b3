/**
 * floe's error classes. Every error a caller can see extends `FloeError` and carries a stable `code`
 * (the class name), so programs can branch on `err.code` across realms and releases.
 *
 * They live at the root of `src/` rather than in `src/api/` because every layer throws them at the
 * boundary where a bad input enters; `src/api/` re-exports them as part of the public surface.
 */
export class FloeError extends Error {
  /** Stable identifier of the error kind, e.g. `"SymbolNotFoundError"`. */
  readonly code: string;

  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = code;
  }
}

/** The `Arctic` URI has an unknown scheme, an unknown option or a malformed value. */
export class InvalidUriError extends FloeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "InvalidUriError", options);
  }
}
/** The library does not exist (and `createIfMissing` was not set). */
export class LibraryNotFoundError extends FloeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "LibraryNotFoundError", options);
  }
}
/** `createLibrary` was asked for a name that is already taken. */
export class LibraryExistsError extends FloeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "LibraryExistsError", options);
  }
}
/** The symbol has no live version (never written, or deleted). */
export class SymbolNotFoundError extends FloeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "SymbolNotFoundError", options);
  }
}
/** The symbol exists but not at the requested version or date. */
export class VersionNotFoundError extends FloeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "VersionNotFoundError", options);
  }
}
/** The snapshot does not exist. */
export class SnapshotNotFoundError extends FloeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "SnapshotNotFoundError", options);
  }
}
/** `snapshot` was asked for a name that is already taken. */
export class SnapshotExistsError extends FloeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "SnapshotExistsError", options);
  }
}
/** New data's columns or dtypes do not match the stored ones. */
export class SchemaMismatchError extends FloeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "SchemaMismatchError", options);
  }
}
/** Timestamps are out of order where order is required. */
export class UnsortedIndexError extends FloeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "UnsortedIndexError", options);
  }
}
/** An argument has the wrong type, shape or value. */
export class InvalidArgumentError extends FloeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "InvalidArgumentError", options);
  }
}
/** The storage backend failed (disk full, permissions, closed store, ...). */
export class StorageError extends FloeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, "StorageError", options);
  }
}

/** Where damaged bytes were found; each part when known. */
export interface SegmentLocation {
  /** The symbol being read. */
  symbol?: string;
  /** The version being read. */
  version?: number;
  /** The storage key of the damaged value. */
  segment?: string;
}

/** Stored bytes fail their checksum or do not parse; names where the bad bytes were found. */
export class CorruptSegmentError extends FloeError {
  /** The problem alone, without the location and advice that `message` adds. */
  readonly detail: string;

  constructor(
    message: string,
    /** Where the damaged bytes were found. */
    readonly where: SegmentLocation = {},
    options?: { cause?: unknown },
  ) {
    const loc = [
      where.symbol !== undefined ? `symbol '${where.symbol}'` : "",
      where.version !== undefined ? `version ${where.version}` : "",
      where.segment !== undefined ? `segment ${where.segment}` : "",
    ]
      .filter(Boolean)
      .join(", ");
    super(
      `${message}${loc ? ` (${loc})` : ""}. The stored bytes are damaged; read an earlier version or ` +
        "restore the store from a backup.",
      "CorruptSegmentError",
      options,
    );
    this.detail = message;
  }

  /** The same problem, located in a symbol, version and segment. */
  locate(where: SegmentLocation): CorruptSegmentError {
    return new CorruptSegmentError(this.detail, { ...this.where, ...where }, { cause: this.cause });
  }
}

const CLASSES: Record<string, { prototype: FloeError }> = {
  InvalidUriError,
  LibraryNotFoundError,
  LibraryExistsError,
  SymbolNotFoundError,
  VersionNotFoundError,
  SnapshotNotFoundError,
  SnapshotExistsError,
  SchemaMismatchError,
  UnsortedIndexError,
  InvalidArgumentError,
  StorageError,
  CorruptSegmentError,
};

/** An error as it crosses a worker boundary: plain data, since structured clone drops the class. */
export interface ErrorData {
  /** The floe error's `code`, if it was one. */
  code?: string;
  /** The error's message. */
  message: string;
  /** `CorruptSegmentError.detail`, if it was one. */
  detail?: string;
}

/** The plain form of `err`, to send from a worker. */
export function errorData(err: unknown): ErrorData {
  const e = err as { code?: unknown; message?: unknown; detail?: unknown };
  return {
    code: typeof e?.code === "string" ? e.code : undefined,
    message: typeof e?.message === "string" ? e.message : String(err),
    detail: typeof e?.detail === "string" ? e.detail : undefined,
  };
}

/** The error `errorData` described, with its floe class again so `instanceof` and `code` work. */
export function rebuildError(data: ErrorData): Error {
  const cls = data.code === undefined ? undefined : CLASSES[data.code];
  if (!cls || data.code === undefined) return new Error(data.message);
  const err = new FloeError(data.message, data.code);
  Object.setPrototypeOf(err, cls.prototype);
  if (data.code === "CorruptSegmentError")
    Object.assign(err, { detail: data.detail ?? data.message, where: {} });
  return err;
}
