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
  /** The symbol. */
  symbol: string;
  /** The library's name. */
  library: string;
  /** The version number (0 for a symbol's first write; -1 for a staged write, which makes no version). */
  version: number;
  /** The user metadata stored with this version, or `undefined`. */
  metadata: unknown;
  /** When this version was written. */
  timestamp: Date;
  /** The frame, on reads. */
  data?: DataFrame;
}

/**
 * What the read family (`read`, `head`, `tail`, `readBatch`) returns: a `VersionedItem` whose `data` is
 * always there, so strict TypeScript needs no `!` on it.
 */
export interface ReadResult extends VersionedItem {
  /** The frame read. */
  data: DataFrame;
}

/** One entry of `listVersions`. */
export interface VersionInfo {
  /** The symbol. */
  symbol: string;
  /** The version number. */
  version: number;
  /** When the version was written. */
  date: Date;
  /** Names of the snapshots holding this version. */
  snapshots: string[];
  /** True for a deleted version that a snapshot still holds (readable through the snapshot). */
  deleted: boolean;
}

/** What `getDescription` tells about a stored version without reading its data. */
export interface SymbolDescription {
  /** The symbol. */
  symbol: string;
  /** The version described. */
  version: number;
  /** The columns, in order, with their dtypes. */
  columns: {
    /** The column's name. */
    name: string;
    /** The column's dtype. */
    dtype: DType;
  }[];
  /** The number of rows. */
  rowCount: number;
  /** Row numbers, or a timestamp index with its first and last value (ns) and whether it is sorted. */
  index:
    | {
        /** Rows are numbered. */
        kind: "row";
      }
    | {
        /** Rows are indexed by timestamps. */
        kind: "timestamp";
        /** The index's name. */
        name: string;
        /** The first timestamp (ns since the epoch), `null` when there are no rows. */
        first: bigint | null;
        /** The last timestamp (ns since the epoch), `null` when there are no rows. */
        last: bigint | null;
        /** True when the timestamps never decrease (date-range reads need this). */
        sorted: boolean;
        /** The zone the index shows its times in (IANA name), absent for a naive (UTC) index. */
        tz?: string;
      };
  /** When this version was written. */
  date: Date;
  /** Stored (compressed) bytes of its segments. */
  storedBytes: number;
  /** How many segments (tiles) store it: many small ones (from small appends) make reads slow; see `compactData`. */
  segmentCount: number;
  /** Rows per row slice of segments, on average (0 without rows); far below `rowsPerSegment` means fragmented. */
  averageRowsPerSegment: number;
  /** The user metadata stored with this version, or `undefined`. */
  metadata: unknown;
}

/** Which version to read: a version number, a snapshot name, or the latest version at a `Date`. */
export type AsOf = number | string | Date;
