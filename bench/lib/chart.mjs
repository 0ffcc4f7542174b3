// Charts as SVG: Vega-Lite specs compiled with vega-lite and rendered headless by vega
// (`new vega.View(..., { renderer: "none" }).toSVG()`), so the same spec can be opened in the Vega editor.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec) {
  const vega = await import("vega");
  const { compile } = await import("vega-lite");
  // Vega-Lite warns about faceted independent scales it handles correctly; only errors are shown.
  const logger = vega.logger(vega.Error);
  const view = new vega.View(vega.parse(compile(spec, { logger }).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}

/**
 * Vega's SVG made to pass the repository's lint (Biome checks committed SVGs): a <title> for the chart
 * and no ARIA roles on <g> elements (Vega marks groups `role="graphics-object"`).
 */
export function lintCleanSvg(svg, title) {
  const text = String(title ?? "chart").replace(
    /[<&>]/g,
    (c) => ({ "<": "&lt;", "&": "&amp;", ">": "&gt;" })[c],
  );
  return svg.replace(/ role="[^"]*"/g, "").replace(/(<svg[^>]*>)/, `$1<title>${text}</title>`);
}

/** Renders `spec` and writes it to each of `files`. */
export async function writeSvg(spec, ...files) {
  const title = typeof spec.title === "string" ? spec.title : spec.title?.text;
  const svg = lintCleanSvg(await renderSvg(spec), title);
  for (const f of files) {
    mkdirSync(dirname(f), { recursive: true });
    writeFileSync(f, svg);
  }
  return svg;
}

// matplotlib's tab10, as in the seed's plots: disk blue, tmpfs orange, mem green, limits red.
const STORE_COLORS = { disk: "#1f77b4", tmpfs: "#ff7f0e", mem: "#2ca02c" };

/**
 * The seed's throughput figure: for reads and for writes, MB/s against data size with the 95 % CI of each
 * series as a band. Colour is the storage (disk, tmpfs, mem), the line style says who: floe solid, the
 * plain-file limit ("hardware limit") dashed, raw lmdb dotted, fresh arrays (mem's limit) dash-dot.
 * `rows`: { op: "read"|"write", store, contender, sizeMB, mean, lo, hi }.
 */
export function throughputSpec(rows, title) {
  // A wide interval (few repeats, a noisy neighbour) must not flatten the lines: the axis stops at 1.4x the
  // largest mean and the bands are clipped there and at 0.
  const top = 1.4 * Math.max(...rows.map((r) => r.mean));
  rows = rows.map((r) => ({ ...r, lo: Math.max(0, r.lo), hi: Math.min(top, r.hi) }));
  const contenders = ["floe", "plain file", "raw lmdb", "fresh arrays"];
  const dashes = [
    [1, 0],
    [8, 4],
    [2, 3],
    [8, 3, 2, 3],
  ];
  const stores = Object.keys(STORE_COLORS);
  const panel = (op, heading) => ({
    title: heading,
    width: 620,
    height: 300,
    transform: [
      { filter: { field: "op", equal: op } },
      { calculate: "datum.store + ' ' + datum.contender", as: "series" },
    ],
    encoding: {
      x: {
        field: "sizeMB",
        type: "quantitative",
        title: "Size of data (10 columns; float64), MB",
        scale: { zero: false },
      },
      color: {
        field: "store",
        type: "nominal",
        title: "Storage",
        scale: { domain: stores, range: stores.map((s) => STORE_COLORS[s]) },
        legend: { symbolType: "stroke", symbolStrokeWidth: 3, symbolSize: 300, symbolOpacity: 1 },
      },
    },
    layer: [
      {
        // Bands for floe's series only, as the seed shades its stores; the limits' intervals are in the CSV.
        transform: [{ filter: { field: "contender", equal: "floe" } }],
        mark: { type: "errorband", opacity: 0.2, clip: true },
        encoding: {
          y: { field: "lo", type: "quantitative", title: "Speed (MB/s)", scale: { domain: [0, top] } },
          y2: { field: "hi" },
          detail: { field: "series" },
        },
      },
      {
        mark: { type: "line", point: true, strokeWidth: 2, clip: true },
        encoding: {
          y: { field: "mean", type: "quantitative", title: "Speed (MB/s)", scale: { domain: [0, top] } },
          strokeDash: {
            field: "contender",
            type: "nominal",
            title: "Who",
            scale: { domain: contenders, range: dashes },
            legend: {
              symbolType: "stroke",
              symbolStrokeWidth: 2,
              symbolSize: 500,
              encode: { symbols: { update: { stroke: { value: "#333" } } } },
            },
          },
          detail: { field: "series" },
          tooltip: [
            { field: "series" },
            { field: "sizeMB" },
            { field: "mean", format: ".0f" },
            { field: "lo", format: ".0f" },
            { field: "hi", format: ".0f" },
          ],
        },
      },
    ],
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, fontSize: 16 },
    data: { values: rows },
    vconcat: [panel("read", "Read speeds"), panel("write", "Write speeds")],
    resolve: { scale: { color: "shared", strokeDash: "shared" } },
    config: { font: "sans-serif", legend: { orient: "right" } },
  };
}

/**
 * The seed's concurrency figure: one line per writer from begin to end, a dot at each end.
 * `rows`: { writer, start, end } in seconds since the first writer began; one panel per `kind` if given.
 */
export function timelineSpec(rows, title) {
  const y = { field: "writer", type: "ordinal", sort: { field: "start" }, axis: null };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: 700,
    height: Math.max(200, rows.length * 9),
    data: { values: rows },
    layer: [
      {
        mark: { type: "rule", color: "black" },
        encoding: { y, x: { field: "start", type: "quantitative", title: "Time (s)" }, x2: { field: "end" } },
      },
      {
        transform: [
          { fold: ["start", "end"], as: ["event", "t"] },
          { calculate: "datum.event === 'start' ? 'Begin writing' : 'End writing'", as: "label" },
        ],
        mark: { type: "circle", size: 40, opacity: 1 },
        encoding: {
          y,
          x: { field: "t", type: "quantitative" },
          color: {
            field: "label",
            type: "nominal",
            title: null,
            scale: { domain: ["Begin writing", "End writing"], range: ["#1f77b4", "#9467bd"] },
            legend: { orient: "top-right" },
          },
        },
      },
    ],
  };
}

/**
 * Grouped horizontal bars: one row of bars per `group` (in the order of first appearance), one bar per
 * `who`, length `value`, text `label` at its end; each group has its own x scale, since the groups mix
 * magnitudes (hundreds of MB/s for reads, a few for 1,000-row appends).
 */
export function barsSpec(rows, { title, xTitle, width = 520 }) {
  const order = [...new Set(rows.map((r) => r.group))];
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    data: { values: rows.map((r) => ({ ...r, order: order.indexOf(r.group) })) },
    facet: {
      row: {
        field: "group",
        type: "nominal",
        title: null,
        sort: { field: "order" },
        header: {
          labelAngle: 0,
          labelAlign: "left",
          labelAnchor: "start",
          labelOrient: "top",
          labelFontWeight: "bold",
          labelFontSize: 12,
        },
      },
    },
    spec: {
      width,
      encoding: {
        y: { field: "who", type: "nominal", title: null, sort: null },
        x: { field: "value", type: "quantitative", title: xTitle },
      },
      layer: [
        { mark: "bar", encoding: { color: { field: "who", type: "nominal", legend: null } } },
        {
          mark: { type: "text", align: "left", dx: 3 },
          encoding: { text: { field: "label", type: "nominal" } },
        },
      ],
    },
    resolve: { scale: { x: "independent", y: "independent" } },
    config: { font: "sans-serif" },
  };
}
