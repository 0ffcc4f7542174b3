// Raw S3 throughput and latency of floe's own S3 client (src/storage/s3/client.ts) against the local
// Ceph RGW (scripts/rgw.sh start): the ceiling that floe's s3:// reads and writes are measured against.
//
//   scripts/rgw.sh start && node bench/s3-raw.mjs
//   options: --objects N (32)  --size-mb MB (8)  --inflight N (8)  --rounds N (3)  --small N (300)
//            --unsigned (send UNSIGNED-PAYLOAD: no SHA-256 over each PUT body)
//
// Prints, per round, PUT and GET MB/s of N objects of MB megabytes with `inflight` requests in flight,
// then the median and p90 of `small` sequential 1 KB GETs.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const objects = arg("objects", 32);
const sizeMb = arg("size-mb", 8);
const inflight = arg("inflight", 8);
const rounds = arg("rounds", 3);
const small = arg("small", 300);
const unsigned = process.argv.includes("--unsigned");

// The client is TypeScript inside src/; bundle it for this run (bench/out is ignored by git).
mkdirSync(join(root, "bench/out"), { recursive: true });
const bundled = join(root, "bench/out/s3-client.mjs");
await build({
  entryPoints: [join(root, "src/storage/s3/client.ts")],
  outfile: bundled,
  bundle: true,
  format: "esm",
  platform: "neutral",
  logLevel: "warning",
});
const { S3Client } = await import(pathToFileURL(bundled).href);

const env = Object.fromEntries(
  [
    ...execFileSync("bash", [join(root, "scripts/rgw.sh"), "env"], { encoding: "utf8" }).matchAll(
      /^export (\w+)=(.*)$/gm,
    ),
  ].map((m) => [m[1], m[2]]),
);
const client = new S3Client({
  endpoint: env.FLOE_S3_ENDPOINT,
  region: env.FLOE_S3_REGION,
  bucket: `floe-bench-${Date.now().toString(36)}`,
  credentials: { accessKeyId: env.FLOE_S3_ACCESS_KEY, secretAccessKey: env.FLOE_S3_SECRET_KEY },
  signPayload: !unsigned,
});
await client.createBucket();

/** Runs `count` tasks with at most `limit` in flight. */
async function pool(count, limit, task) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, count) }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

const size = sizeMb * 1024 * 1024;
const body = new Uint8Array(size);
for (let i = 0; i < size; i += 4) body[i] = (i * 2654435761) >>> 24; // not all zeros, not compressible
const totalMb = (objects * size) / 1e6;
console.log(
  `RGW ${env.FLOE_S3_ENDPOINT}: ${objects} objects of ${sizeMb} MiB (${totalMb.toFixed(0)} MB), ` +
    `${inflight} in flight, payload ${unsigned ? "UNSIGNED-PAYLOAD" : "signed (SHA-256)"}`,
);
for (let round = 1; round <= rounds; round++) {
  let t = performance.now();
  await pool(objects, inflight, async (i) => {
    const put = await client.put(`big/${i}`, body);
    if (!put.written) throw new Error("PUT not written");
  });
  const putS = (performance.now() - t) / 1000;
  t = performance.now();
  let got = 0;
  await pool(objects, inflight, async (i) => {
    const { body: read } = await client.get(`big/${i}`);
    got += read.length; // not `got += await ...`: that reads `got` before the await
  });
  const getS = (performance.now() - t) / 1000;
  if (got !== objects * size) throw new Error(`read ${got} bytes, expected ${objects * size}`);
  console.log(
    `round ${round}: PUT ${(totalMb / putS).toFixed(1)} MB/s (${putS.toFixed(2)} s)   ` +
      `GET ${(totalMb / getS).toFixed(1)} MB/s (${getS.toFixed(2)} s)`,
  );
}

await client.put("small/1k", body.subarray(0, 1024));
const times = [];
for (let i = 0; i < small + 20; i++) {
  const t = performance.now();
  await client.get("small/1k");
  if (i >= 20) times.push(performance.now() - t); // the first 20 warm the connection
}
times.sort((a, b) => a - b);
console.log(
  `1 KB GET, sequential, ${small} requests: median ${times[times.length >> 1].toFixed(2)} ms, ` +
    `p90 ${times[Math.floor(times.length * 0.9)].toFixed(2)} ms`,
);

const { objects: all } = await client.listAll("");
await client.deleteMany(all.map((o) => o.key));
