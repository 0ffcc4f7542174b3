/** Output of the CLI: aligned tables for people, JSON for scripts. */
import type { DataFrame } from "../node.ts";

/**
 * Rows under a header, each column as wide as its widest cell, two spaces apart; columns listed in
 * `right` are right-aligned (numbers), the rest left-aligned.
 */
export function table(header: string[], rows: string[][], right: number[] = []): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (right.includes(c) ? cell.padStart(widths[c]) : cell.padEnd(widths[c])))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** Key/value lines, the keys padded to one width. */
export function fields(pairs: [string, string][]): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v}`.trimEnd()).join("\n");
}

const NAT = -(2n ** 63n);

/** A nanosecond timestamp as ISO 8601 in UTC with only the fraction digits it needs; NaT as null. */
export function isoNanos(ns: bigint): string | null {
  if (ns === NAT) return null;
  const ms = ns / 1_000_000n - (ns % 1_000_000n < 0n ? 1n : 0n); // floor, also before 1970
  let sub = ns % 1_000_000_000n;
  if (sub < 0n) sub += 1_000_000_000n;
  const base = new Date(Number(ms)).toISOString().slice(0, 19);
  if (sub === 0n) return `${base}Z`;
  return `${base}.${sub.toString().padStart(9, "0").replace(/0+$/, "")}Z`;
}

/** Any value as JSON: bigints as numbers when exact, else strings; Dates as ISO strings; NaN as null. */
export function json(value: unknown, indent = 2): string {
  return JSON.stringify(
    value,
    (_, v) => {
      if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
      if (typeof v === "number" && !Number.isFinite(v))
        return Number.isNaN(v) ? null : v > 0 ? "inf" : "-inf";
      return v;
    },
    indent,
  );
}

/** A frame for `--json`: its schema and one object per row, the index first. */
export function frameJson(df: DataFrame): unknown {
  const index = df.index;
  const rows: Record<string, unknown>[] = new Array(df.numRows);
  for (let i = 0; i < df.numRows; i++) {
    const row: [string, unknown][] = [];
    if (index.kind === "timestamp") row.push([index.name, isoNanos(index.values[i])]);
    for (const name of df.columnNames) {
      const dtype = df.dtypes[name];
      const v = df.column(name)[i];
      row.push([name, dtype === "timestamp" ? isoNanos(v as bigint) : dtype === "bool" ? v === 1 : v]);
    }
    // fromEntries makes own keys, even of a column named "__proto__".
    rows[i] = Object.fromEntries(row);
  }
  return {
    index:
      index.kind === "timestamp"
        ? { kind: "timestamp", name: index.name }
        : { kind: "row", start: index.start },
    columns: df.columnNames.map((name) => ({ name, dtype: df.dtypes[name] })),
    rows,
  };
}

/** Bytes for people: 1.5 MB, 320 KB (powers of ten, as floe's URI sizes). */
export function bytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return u === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 2 : 1)} ${units[u]}`;
}
