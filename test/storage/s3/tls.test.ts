// s3s:// with CA_cert_path / CA_cert_dir against a real TLS endpoint: a throwaway CA and server
// certificate made with the openssl CLI, and a TLS-terminating proxy in front of the real RGW. Node's
// fetch (runtimes/s3-fetch-node.ts) here, first on its own against a local HTTPS server (bodies, cut
// connections, aborts), then through Arctic; Bun's and Deno's fetch through tls-child.mjs.
import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Arctic, DataFrame, InvalidUriError, StorageError } from "../../../runtimes/node.ts";
import { nodeS3Fetch } from "../../../runtimes/s3-fetch-node.ts";
import { S3Client } from "../../../src/storage/s3/client.ts";
import { S3StorageError } from "../../../src/storage/s3/errors.ts";
import { parseS3Uri } from "../../../src/storage/s3/uri.ts";
import {
  clientFor,
  emptyBucket,
  type RgwEnv,
  rgwAvailable,
  skipReason,
  startRgw,
  uniqueBucket,
} from "./rgw.ts";

function hasOpenssl(): boolean {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const opensslAvailable = hasOpenssl();
const skip = !rgwAvailable || !opensslAvailable;
const why = !rgwAvailable
  ? skipReason
  : opensslAvailable
    ? ""
    : " (SKIPPED: the openssl CLI is not installed)";

const openssl = (dir: string, ...args: string[]) =>
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A self-signed CA `<name>.pem` / `<name>.key` in `dir`. */
function makeCa(dir: string, name: string): void {
  openssl(
    dir,
    "req",
    "-x509",
    ...EC,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
    "-days",
    "2",
    "-subj",
    `/CN=floe test ${name}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  );
}

/** `server.pem` / `server.key` for 127.0.0.1 and localhost, signed by the CA `ca`. */
function makeServerCert(dir: string, ca: string): void {
  writeFileSync(
    join(dir, "server.ext"),
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n" +
      "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
  );
  openssl(dir, "req", "-new", ...EC, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1");
  openssl(
    dir,
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-set_serial",
    "1",
    "-days",
    "2",
    "-extfile",
    "server.ext",
    "-out",
    "server.pem",
  );
}

/** A TLS server on a free port that passes each connection's plaintext on to 127.0.0.1:`upstream`. */
async function tlsProxy(key: Buffer, cert: Buffer, upstream: number) {
  const open = new Set<net.Socket>();
  let connections = 0;
  const server = tls.createServer({ key, cert }, (client) => {
    connections++;
    const up = net.connect(upstream, "127.0.0.1");
    client.pipe(up).pipe(client);
    const end = () => {
      client.destroy();
      up.destroy();
    };
    for (const s of [client, up]) {
      s.on("error", end);
      s.on("close", end);
    }
  });
  // A client that does not trust the certificate hangs up mid-handshake: expected here.
  server.on("tlsClientError", () => {});
  server.on("connection", (s: net.Socket) => {
    open.add(s);
    s.on("close", () => open.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    /** TLS connections accepted so far. */
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const T0 = 1_700_000_000_000_000_000n;
const frame = (n: number) =>
  new DataFrame(
    { v: new Float64Array(n).map((_, i) => i * 1.5) },
    { index: new BigInt64Array(n).map((_, i) => T0 + BigInt(i) * 60_000_000_000n) },
  );

/** Awaits `promise` and returns what it rejects with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection, but the call succeeded");
}

// The throwaway CAs and server certificate, made once for the file.
let dir: string;
beforeAll(() => {
  if (!opensslAvailable) return;
  dir = mkdtempSync(join(tmpdir(), "floe-tls-"));
  makeCa(dir, "ca");
  makeCa(dir, "other-ca");
  makeServerCert(dir, "ca");
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!opensslAvailable)(
  `floe's Node fetch (runtimes/s3-fetch-node.ts)${opensslAvailable ? "" : " (SKIPPED: the openssl CLI is not installed)"}`,
  () => {
    const servers: https.Server[] = [];
    afterEach(() => {
      for (const s of servers.splice(0)) {
        s.closeAllConnections();
        s.close();
      }
    });
    /** An HTTPS server with the test certificate answering with `handler`; resolves to its origin. */
    async function serve(handler: http.RequestListener): Promise<string> {
      const server = https.createServer(
        { key: readFileSync(join(dir, "server.key")), cert: readFileSync(join(dir, "server.pem")) },
        handler,
      );
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    }
    const fetchFor = (origin: string) =>
      nodeS3Fetch(
        parseS3Uri(`s3s://127.0.0.1:b?port=${new URL(origin).port}&CA_cert_path=${join(dir, "ca.pem")}`),
      )!;

    it("is undefined without CA_cert_path / CA_cert_dir (the global fetch is used)", () => {
      expect(nodeS3Fetch(parseS3Uri("s3s://127.0.0.1:b?port=1"))).toBeUndefined();
    });

    it("sends method, headers and body; answers status, headers and body", async () => {
      const origin = await serve((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          const body = Buffer.concat(chunks);
          res.writeHead(201, {
            "x-seen": `${req.method} ${req.url} ${req.headers["x-amz-test"]} ${req.headers["content-length"]}`,
          });
          res.end(body.reverse());
        });
      });
      const f = fetchFor(origin);
      const r = await f(`${origin}/b/k?x=1`, {
        method: "PUT",
        headers: { "x-amz-test": "yes" },
        body: new Uint8Array([1, 2, 3]),
        redirect: "manual",
      });
      expect(r.status).toBe(201);
      expect(r.headers.get("x-seen")).toBe("PUT /b/k?x=1 yes 3");
      expect([...new Uint8Array(await r.arrayBuffer())]).toEqual([3, 2, 1]);
      // A PUT without a body says so (no chunked upload); HEAD and 204 answer no body.
      const empty = await f(`${origin}/`, { method: "PUT" });
      expect(empty.headers.get("x-seen")).toBe("PUT / undefined 0");
      const head = await f(`${origin}/`, { method: "HEAD" });
      expect([head.status, (await head.arrayBuffer()).byteLength]).toEqual([201, 0]);
    });

    it("a body cut short is TypeError('terminated'), which the S3 client retries and reports as truncated", async () => {
      const origin = await serve((_req, res) => {
        res.writeHead(200, { "content-length": "1000" });
        res.write("only a few bytes", () => res.socket?.destroy());
      });
      const err = (await rejection(fetchFor(origin)(`${origin}/b/k`))) as TypeError;
      expect(err).toBeInstanceOf(TypeError);
      expect(err.message).toBe("terminated");
      const client = new S3Client({
        endpoint: origin,
        bucket: "b",
        region: "us-east-1",
        credentials: { accessKeyId: "a", secretAccessKey: "s" },
        fetch: fetchFor(origin),
        maxAttempts: 2,
        baseDelayMs: 1,
      });
      const failure = (await rejection(client.get("k"))) as S3StorageError;
      expect(failure).toBeInstanceOf(S3StorageError);
      expect(failure.kind).toBe("truncated");
    });

    it("an abort rejects with the signal's reason; a closed port with the socket's error as cause", async () => {
      const origin = await serve(() => {}); // never answers
      const controller = new AbortController();
      const pending = fetchFor(origin)(`${origin}/`, { signal: controller.signal });
      setTimeout(() => controller.abort(new Error("enough")), 50);
      expect(((await rejection(pending)) as Error).message).toBe("enough");
      await expect(fetchFor(origin)(`${origin}/`, { signal: AbortSignal.abort() })).rejects.toThrow();

      const closed = await serve(() => {});
      const port = new URL(closed).port;
      for (const s of servers.splice(0)) s.close();
      const refused = (await rejection(fetchFor(closed)(`https://127.0.0.1:${port}/`))) as TypeError;
      expect(refused.message).toBe("fetch failed");
      expect((refused.cause as { code?: string }).code).toBe("ECONNREFUSED");
    });
  },
);

describe.skipIf(skip)(`s3s:// with CA_cert_path / CA_cert_dir${why}`, () => {
  let env: RgwEnv;
  let bucket: string;
  let proxy: Awaited<ReturnType<typeof tlsProxy>>;
  /** The s3s:// URI of the bucket through the proxy, with `extra` options. */
  const uri = (extra = "") =>
    `s3s://127.0.0.1:${bucket}?port=${proxy.port}&access=${env.accessKeyId}&secret=${env.secretAccessKey}${extra}`;
  const caOption = (path: string) => `&CA_cert_path=${encodeURIComponent(path)}`;

  beforeAll(async () => {
    env = await startRgw();
    bucket = uniqueBucket("tls");
    await clientFor(env, bucket).createBucket();
    const key = readFileSync(join(dir, "server.key"));
    const cert = readFileSync(join(dir, "server.pem"));
    proxy = await tlsProxy(key, cert, Number(new URL(env.endpoint).port));
  }, 120_000);

  afterAll(async () => {
    await proxy?.close();
    if (env && bucket) await emptyBucket(clientFor(env, bucket));
  });

  it("trusts the CA of CA_cert_path: writes and reads a symbol over TLS, on kept-alive connections", async () => {
    const ac = new Arctic(uri(caOption(join(dir, "ca.pem"))));
    const lib = await ac.createLibrary("by-path");
    await lib.write("sym", frame(5000), { metadata: { over: "tls" } });
    const read = await lib.read("sym");
    expect(read.data?.equals(frame(5000))).toBe(true);
    expect(read.metadata).toEqual({ over: "tls" });
    // One request at a time: each reuses the connection the last one left idle.
    const before = proxy.connections();
    for (let i = 0; i < 10; i++) expect((await lib.readMetadata("sym")).metadata).toEqual({ over: "tls" });
    expect(proxy.connections() - before).toBeLessThanOrEqual(1);
    await ac.close();
  });

  it("without CA_cert_path the same URI fails with a StorageError naming the certificate problem", async () => {
    const ac = new Arctic(uri("&max_attempts=5"));
    const err = await rejection(ac.listLibraries());
    expect(err).toBeInstanceOf(StorageError);
    // Not retried (an untrusted certificate stays untrusted), and the advice names the fix.
    expect((err as Error).message).not.toMatch(/on all \d+ attempts/);
    expect((err as Error).message).toMatch(/CA_cert_path/);
    expect(err).toBeInstanceOf(S3StorageError);
    expect((err as S3StorageError).kind).toBe("unreachable");
    // Node's fetch names the OpenSSL verification failure by its code.
    expect((err as Error).message).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    expect((err as Error).message).toContain(`https://127.0.0.1:${proxy.port}`);
    expect((err as Error).message).not.toContain(env.secretAccessKey);
    await ac.close();
  });

  it("with another CA in CA_cert_path the server is still not trusted (floe's own fetch reports it)", async () => {
    const ac = new Arctic(uri(`${caOption(join(dir, "other-ca.pem"))}&max_attempts=2`));
    const err = await rejection(ac.listLibraries());
    expect(err).toBeInstanceOf(S3StorageError);
    expect((err as S3StorageError).kind).toBe("unreachable");
    expect((err as Error).message).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    await ac.close();
  });

  it("a missing, unreadable or certificate-less CA file is an InvalidUriError naming it, at construction", () => {
    const missing = join(dir, "no-such-ca.pem");
    expect(() => new Arctic(uri(caOption(missing)))).toThrow(InvalidUriError);
    expect(() => new Arctic(uri(caOption(missing)))).toThrow(
      new RegExp(
        `CA_cert_path '${missing.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}' could not be read \\(ENOENT\\)`,
      ),
    );
    expect(() => new Arctic(uri(caOption(dir)))).toThrow(/could not be read \(EISDIR\)/);
    expect(() => new Arctic(uri(caOption(join(dir, "server.key"))))).toThrow(/holds no PEM certificate/);
    const damaged = join(dir, "damaged.pem");
    writeFileSync(damaged, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    expect(() => new Arctic(uri(caOption(damaged)))).toThrow(/does not parse/);
    for (const path of [missing, damaged]) {
      try {
        new Arctic(uri(caOption(path)));
      } catch (err) {
        expect((err as Error).message).not.toContain(env.secretAccessKey);
      }
    }
  });

  it("trusts every certificate file in CA_cert_dir, skipping other files", async () => {
    const certs = join(dir, "certs");
    mkdirSync(certs);
    copyFileSync(join(dir, "other-ca.pem"), join(certs, "other.crt"));
    copyFileSync(join(dir, "ca.pem"), join(certs, "floe-test.pem"));
    writeFileSync(join(certs, "README"), "not a certificate\n");
    mkdirSync(join(certs, "sub"));
    const ac = new Arctic(uri(`&CA_cert_dir=${encodeURIComponent(certs)}`));
    const lib = await ac.createLibrary("by-dir");
    await lib.write("sym", frame(10));
    expect((await lib.read("sym")).data?.equals(frame(10))).toBe(true);
    await ac.close();

    const empty = join(dir, "empty");
    mkdirSync(empty);
    expect(() => new Arctic(uri(`&CA_cert_dir=${encodeURIComponent(empty)}`))).toThrow(InvalidUriError);
    expect(() => new Arctic(uri(`&CA_cert_dir=${encodeURIComponent(empty)}`))).toThrow(
      /CA_cert_dir '.*empty' holds no file with a PEM certificate/,
    );
    expect(() => new Arctic(uri(`&CA_cert_dir=${encodeURIComponent(join(dir, "nope"))}`))).toThrow(
      /CA_cert_dir '.*nope' could not be read \(ENOENT\)/,
    );
  });

  it("Bun and Deno trust CA_cert_path too (their own fetch options)", async () => {
    const root = fileURLToPath(new URL("../../..", import.meta.url));
    const child = fileURLToPath(new URL("./tls-child.mjs", import.meta.url));
    const bin = (name: string) => join(root, "node_modules", ".bin", name);
    const runtimes: [string, string, string[]][] = [
      ["bun", bin("bun"), [child]],
      ["deno", bin("deno"), ["run", "-A", child]],
    ];
    for (const [name, cmd, args] of runtimes) {
      const { stdout } = await promisify(execFile)(
        cmd,
        [...args, name, uri(caOption(join(dir, "ca.pem"))), uri(caOption(join(dir, "missing.pem")))],
        { cwd: root, timeout: 60_000, env: { ...process.env, NO_COLOR: "1" } },
      );
      const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}");
      expect([name, result]).toEqual([
        name,
        { runtime: name, rows: 1000, equal: true, missing: "InvalidUriError", untrusted: "StorageError" },
      ]);
    }
  }, 120_000);
});
