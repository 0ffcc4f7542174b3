// Markdown tables from the studies' CSV files in bench/out (what BENCHMARKS.md quotes).
//
//   node bench/report.mjs [--out DIR]
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { THROUGHPUT_SERIES } from "./lib/data.mjs";

const here = import.meta.dirname ?? fileURLToPath(new URL(".", import.meta.url));
const { values: args } = parseArgs({ options: { out: { type: "string", default: join(here, "out") } } });

/** Parses the CSV that lib/csv.mjs writes (quoted cells may hold commas). */
function readCsv(file) {
  const text = readFileSync(file, "utf8").trim();
  if (!text) return [];
  const lines = text.split("\n").map((line) => {
    const cells = [];
    let cur = "";
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i];
      if (quoted) {
        if (ch === '"' && line[i + 1] === '"') {
          cur += '"';
          i++;
        } else if (ch === '"') quoted = false;
        else cur += ch;
      } else if (ch === '"') quoted = true;
      else if (ch === ",") {
        cells.push(cur);
        cur = "";
      } else cur += ch;
    }
    cells.push(cur);
    return cells;
  });
  const [head, ...rows] = lines;
  return rows.map((r) =>
    Object.fromEntries(
      head.map((k, i) => [k, r[i] !== "" && !Number.isNaN(Number(r[i])) ? Number(r[i]) : r[i]]),
    ),
  );
}

const table = (head, rows) =>
  [
    `| ${head.join(" | ")} |`,
    `|${head.map(() => " --- ").join("|")}|`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ].join("\n");
const f0 = (v) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(0) : "–");
const f2 = (v) => (typeof v === "number" && Number.isFinite(v) ? v.toFixed(2) : "–");

for (const rt of ["node", "bun", "deno"]) {
  const file = join(args.out, `throughput-${rt}-summary.csv`);
  if (!existsSync(file)) continue;
  const s = readCsv(file).filter((x) => !String(x.contender).startsWith("pool"));
  const sizes = [...new Set(s.map((x) => x.sizeMB))].sort((a, b) => a - b);
  console.log(`\n### throughput, ${rt}: median MB/s (mean ± 95 % CI half-width)\n`);
  const series = THROUGHPUT_SERIES;
  const rows = [];
  for (const op of ["write", "read"]) {
    for (const [store, contender] of series) {
      const cells = sizes.map((size) => {
        const x = s.find(
          (y) => y.sizeMB === size && y.store === store && y.contender === contender && y.op === op,
        );
        return x ? `${f0(x.median)} (${f0(x.mean)} ± ${f0((x.hi - x.lo) / 2)})` : null;
      });
      if (cells.every((c) => c === null)) continue;
      rows.push([`${store} ${contender} ${op}`, ...cells.map((c) => c ?? "")]);
    }
  }
  console.log(table(["", ...sizes.map((z) => `${z} MB`)], rows));
  const rfile = join(args.out, `throughput-${rt}-ratios.csv`);
  if (existsSync(rfile)) {
    const r = readCsv(rfile);
    console.log(`\n#### ratios of medians, ${rt}\n`);
    console.log(
      table(
        ["floe / limit", ...sizes.map((z) => `${z} MB`), "median over sizes", "bar"],
        r.map((x) => [
          x.ratio,
          ...sizes.map((z) => f2(x[`${z}MB`])),
          `**${f2(x.median)}**`,
          x.bar === "" ? "" : `≥ ${x.bar} ${x.median >= x.bar ? "met" : "**not met**"}`,
        ]),
      ),
    );
  }
}

const peers = join(args.out, "peers-summary.csv");
if (existsSync(peers)) {
  const s = readCsv(peers);
  const who = [...new Set(s.map((x) => x.name))];
  console.log("\n### peers: median MB/s (median ms for the small operations)\n");
  const labels = [...new Set(s.map((x) => x.label))];
  console.log(
    table(
      ["", ...who],
      labels.map((label) => [
        label,
        ...who.map((w) => {
          const x = s.find((y) => y.label === label && y.name === w);
          if (!x) return "–";
          return x.op.startsWith("append") || x.op.startsWith("date")
            ? `${f2(x.median)} MB/s (${x.medianMs.toFixed(1)} ms)`
            : f0(x.median);
        }),
      ]),
    ),
  );
  const floe = (label) => s.find((y) => y.label === label && y.contender === "floe");
  console.log("\nfloe (flushed) / peer:\n");
  console.log(
    table(
      ["", ...who],
      labels.map((label) => [
        label,
        ...who.map((w) => {
          const x = s.find((y) => y.label === label && y.name === w);
          return x ? f2(floe(label).median / x.median) : "–";
        }),
      ]),
    ),
  );
}

const comp = join(args.out, "compression.csv");
if (existsSync(comp)) {
  const s = readCsv(comp);
  for (const dataset of [...new Set(s.map((x) => x.dataset))]) {
    console.log(`\n### compression: ${dataset}\n`);
    const cols = [...new Set(s.filter((x) => x.dataset === dataset).map((x) => x.column))];
    const get = (c, codec) => s.find((x) => x.dataset === dataset && x.column === c && x.codec === codec);
    console.log(
      table(
        [
          "column",
          "raw MB",
          "floe codec",
          "floe MB",
          "LZ4 MB",
          "LZ4 one block MB",
          "shuffle+LZ4 MB",
          "floe / LZ4",
          "encode MB/s floe / LZ4",
          "decode MB/s floe / LZ4",
        ],
        cols.map((c) => {
          const f = get(c, "floe");
          const l = get(c, "LZ4");
          const o = get(c, "LZ4 one block");
          const sh = get(c, "shuffle+LZ4");
          return [
            c,
            f2(f.rawBytes / 1e6),
            f.chosen,
            f2(f.storedBytes / 1e6),
            f2(l.storedBytes / 1e6),
            f2(o?.storedBytes / 1e6),
            sh ? f2(sh.storedBytes / 1e6) : "–",
            f2(f.storedBytes / l.storedBytes),
            `${f0(f.encodeMBps)} / ${f0(l.encodeMBps)}`,
            `${f0(f.decodeMBps)} / ${f0(l.decodeMBps)}`,
          ];
        }),
      ),
    );
  }
  const tfile = join(args.out, "compression-totals.csv");
  if (existsSync(tfile)) {
    console.log("\ntotals:\n");
    const t = readCsv(tfile);
    console.log(
      table(
        [
          "data",
          "raw MB",
          "floe MB",
          "LZ4 MB",
          "floe / LZ4",
          "encode MB/s floe / LZ4",
          "decode MB/s floe / LZ4",
        ],
        t.map((x) => [
          x.dataset,
          f2(x.rawMB),
          f2(x["floe MB"]),
          f2(x["LZ4 MB"]),
          `**${x["floe / LZ4 size"].toFixed(3)}**`,
          `${f0(x["floe encode MB/s"])} / ${f0(x["LZ4 encode MB/s"])}`,
          `${f0(x["floe decode MB/s"])} / ${f0(x["LZ4 decode MB/s"])}`,
        ]),
      ),
    );
  }
}

const conc = join(args.out, "concurrency-summary.csv");
if (existsSync(conc)) {
  const s = readCsv(conc);
  console.log("\n### concurrency\n");
  console.log(
    table(
      [
        "writers",
        "total ms (median)",
        "first begin → last end ms",
        "one write ms (median / max)",
        "symbols listed",
        "all runs, total ms",
      ],
      s.map((x) => [
        `${x.writers} ${x.kind}`,
        f0(x.medianTotalMs),
        f0(x.medianSpanMs),
        `${f0(x.medianWriteMs)} / ${f0(x.maxWriteMs)}`,
        `${x.symbolsListed}/${x.writers}`,
        String(x.totalMs),
      ]),
    ),
  );
}
