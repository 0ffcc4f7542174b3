// CSV out: rows of objects with the same keys, quoted where needed.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

const cell = (v) => {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** Writes `rows` (objects) to `file` as CSV with a header line from the first row's keys. */
export function writeCsv(file, rows) {
  mkdirSync(dirname(file), { recursive: true });
  if (rows.length === 0) {
    writeFileSync(file, "");
    return;
  }
  const keys = Object.keys(rows[0]);
  const lines = [keys.join(","), ...rows.map((r) => keys.map((k) => cell(r[k])).join(","))];
  writeFileSync(file, `${lines.join("\n")}\n`);
}
