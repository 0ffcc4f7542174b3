// Bun's and Deno's side of tls.test.ts: run as
//   bun tls-child.mjs bun <s3s uri with CA_cert_path> <s3s uri with a missing CA_cert_path>
//   deno run -A tls-child.mjs deno <...the same...>
// It loads that runtime's entry from source (runtimes/bun.ts, runtimes/deno.ts), writes and reads a
// symbol through the trusted URI, and prints, as JSON, what it saw: the frame round-tripped, the missing
// file's error, and the error without CA_cert_path.
const [runtime, trusted, missing] = (globalThis.Deno?.args ?? globalThis.process.argv.slice(2)).slice(-3);
const { Arctic, DataFrame } = await import(new URL(`../../../runtimes/${runtime}.ts`, import.meta.url).href);

const n = 1000;
const frame = new DataFrame(
  { v: new Float64Array(n).map((_, i) => i / 4) },
  { index: new BigInt64Array(n).map((_, i) => 1_700_000_000_000_000_000n + BigInt(i)) },
);

const ac = new Arctic(trusted);
const lib = await ac.getLibrary(`from-${runtime}`, { createIfMissing: true });
await lib.write("sym", frame);
const read = (await lib.read("sym")).data;
await ac.close();

let missingError = "none";
try {
  new Arctic(missing);
} catch (err) {
  missingError = err.name;
}

let untrustedError = "none";
const plain = new Arctic(`${trusted.replace(/&CA_cert_path=[^&]*/, "")}&max_attempts=2`);
try {
  await plain.listLibraries();
} catch (err) {
  untrustedError = err.name;
}
await plain.close();

console.log(
  JSON.stringify({
    runtime,
    rows: read.numRows,
    equal: read.equals(frame),
    missing: missingError,
    untrusted: untrustedError,
  }),
);
