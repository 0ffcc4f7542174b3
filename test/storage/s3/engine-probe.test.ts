// A server that ignores conditional writes must not silently lose versions: floe probes before its first
// write and refuses, naming the shortcoming and the URI option that accepts single-writer use. The
// server here is the real gateway behind a proxy that turns every refused create-only PUT (412) into a
// success, which is what such a server answers.
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Arctic, DataFrame, StorageError } from "../../../runtimes/node.ts";
import { rgwAvailable, skipReason, useBucket } from "./rgw.ts";

/** Relays to `upstream`, answering 200 where the gateway refused a conditional PUT. */
function ignoringConditions(upstream: URL): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const out = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on("data", (c) => body.push(c));
          answer.on("end", () => {
            if (req.method === "PUT" && (answer.statusCode === 412 || answer.statusCode === 409)) {
              res.writeHead(200, { etag: '"00000000000000000000000000000000"', "content-length": "0" });
              res.end();
              return;
            }
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(body));
          });
        },
      );
      out.end(Buffer.concat(chunks));
    });
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe.skipIf(!rgwAvailable)(`s3:// on a server that ignores conditional writes${skipReason}`, () => {
  const ctx = useBucket("probe");
  let proxy: Server;
  beforeAll(async () => {
    proxy = await ignoringConditions(new URL(ctx.env.endpoint));
  });
  afterAll(() => new Promise<void>((resolve) => proxy.close(() => resolve())));
  const uri = (extra = "") =>
    `s3://127.0.0.1:${ctx.s3.bucket}?port=${(proxy.address() as AddressInfo).port}&access=${ctx.env.accessKeyId}&secret=${ctx.env.secretAccessKey}${extra}`;

  it("refuses to write, saying why and what to do; single_writer=true accepts it", async () => {
    const ac = new Arctic(uri());
    const err = await ac.createLibrary("lib").catch((e) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err.message).toMatch(/does not enforce conditional writes/);
    expect(err.message).toMatch(/single_writer=true/);
    expect(await ac.listLibraries()).toEqual([]);
    await ac.close();

    const single = new Arctic(uri("&single_writer=true"));
    const lib = await single.createLibrary("lib");
    await lib.write("s", new DataFrame({ v: [1, 2, 3] }));
    expect((await lib.read("s")).data?.column("v")).toEqual(new Float64Array([1, 2, 3]));
    await single.close();
  });

  it("reports progress of an s3:// write and read as on lmdb://", async () => {
    const ac = new Arctic(
      `s3://127.0.0.1:${ctx.s3.bucket}?port=${new URL(ctx.env.endpoint).port}&access=${ctx.env.accessKeyId}&secret=${ctx.env.secretAccessKey}`,
    );
    const lib = await ac.createLibrary("progress", { rowsPerSegment: 1000 });
    const df = new DataFrame({ v: new Float64Array(10_000).map((_, i) => i) });
    const seen: { bytesDone: number; bytesTotal: number; segmentsDone: number }[] = [];
    await lib.write("s", df, { onProgress: (p) => seen.push(p) });
    expect(seen.at(-1)).toMatchObject({ bytesDone: 80_000, bytesTotal: 80_000, segmentsDone: 10 });
    seen.length = 0;
    await lib.read("s", { onProgress: (p) => seen.push(p) });
    expect(seen.at(-1)?.segmentsDone).toBe(10);
    expect(seen.at(-1)?.bytesDone).toBe(seen.at(-1)?.bytesTotal);
    await ac.close();
  });
});
