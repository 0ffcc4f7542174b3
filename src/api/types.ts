import type { DType } from "../dtypes.ts";
import type { DataFrame } from "../frame/dataframe.ts";

/** Options of `new Arctic(uri, options)`. */
export interface ArcticOptions {
  /** Worker threads for large reads and writes (default: one per core, up to 8; 0 for none). */
  workers?: number;
}

/** Options of a library, fixed when it is created. */
export interface LibraryOptions {
  /** Rows per stored segment (default 100,000). */
  rowsPerSegment?: number;
  /** Columns per stored segment (default 127). */
  columnsPerSegment?: number;
  /** Allow appends to add columns or widen dtypes (default false). */
  dynamicSchema?: boolean;
  /** Store segments that repeat the previous version's only once (default false). */
  dedup?: boolean;
}

/** A version of a symbol as returned by writes and reads. */
export interface VersionedItem {
  symbol: string;
  library: string;
  version: number;
  /** The user metadata stored with this version, or `undefined`. */
  metadata: unknown;
  /** When this version was written. */
  timestamp: Date;
  /** The frame, on reads. */
  data?: DataFrame;
}

/** One entry of `listVersions`. */
export interface VersionInfo {
  symbol: string;
  version: number;
  date: Date;
  snapshots: string[];
  deleted: boolean;
}

/** What `getDescription` tells about a stored version without reading its data. */
export interface SymbolDescription {
  symbol: string;
  version: number;
  columns: { name: string; dtype: DType }[];
  rowCount: number;
  index:
    | { kind: "row" }
    | { kind: "timestamp"; name: string; first: bigint | null; last: bigint | null; sorted: boolean };
  /** When this version was written. */
  date: Date;
  /** Stored (compressed) bytes of its segments. */
  storedBytes: number;
  metadata: unknown;
}

/** Which version to read: a version number, a snapshot name, or the latest version at a `Date`. */
export type AsOf = number | string | Date;
