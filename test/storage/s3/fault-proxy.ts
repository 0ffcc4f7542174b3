/**
 * A fault-injecting HTTP proxy on loopback, between the S3 client and the real gateway. Each request
 * is handed to a plan that picks what happens to it: passed through (after optional latency), answered
 * 503 SlowDown or 500 by the proxy itself, its connection reset, its answer's body cut short, its answer
 * lost after the gateway acted on it, or never answered. The Host header is passed through unchanged,
 * so the client's signature (made for the proxy's address) still verifies at the gateway.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** What the proxy does with one request. */
export type Fault =
  /** Forward it and relay the answer. */
  | "pass"
  /** Answer 503 SlowDown without forwarding. */
  | "slowdown"
  /** Answer 500 InternalError without forwarding. */
  | "error500"
  /** Reset the client's connection without forwarding. */
  | "reset"
  /** Forward it, then relay the headers (true Content-Length) and half the body, then cut the connection. */
  | "truncate"
  /** Forward it (the gateway acts on it), then cut the client's connection without answering. */
  | "lose-answer"
  /** Never answer (the client's timeout must fire). */
  | "stall";

/** One request as the plan sees it. */
export interface PlannedRequest {
  /** 1 for the first request the proxy received. */
  n: number;
  method: string;
  url: string;
}

/** A running proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:PORT`: use as the client's endpoint. */
  endpoint: string;
  /** Picks each request's fault; `pass` by default. */
  plan: (req: PlannedRequest) => Fault;
  /** Milliseconds to wait before handling each request. */
  latencyMs: number;
  /** Requests received so far, and what was done to each. */
  log: { method: string; url: string; fault: Fault }[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
}

/** Starts a proxy in front of `upstream` (e.g. `http://127.0.0.1:7480`). */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const stalled = new Set<IncomingMessage>();
  const proxy: FaultProxy = {
    endpoint: "",
    plan: () => "pass",
    latencyMs: 0,
    log: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const req of stalled) req.socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer(async (req, res) => {
    const n = proxy.log.length + 1;
    const fault = proxy.plan({ n, method: req.method ?? "", url: req.url ?? "" });
    proxy.log.push({ method: req.method ?? "", url: req.url ?? "", fault });
    const body = await readBody(req);
    if (proxy.latencyMs > 0) await new Promise((r) => setTimeout(r, proxy.latencyMs));
    if (fault === "reset") {
      req.socket.resetAndDestroy();
      return;
    }
    if (fault === "stall") {
      stalled.add(req);
      return;
    }
    if (fault === "slowdown" || fault === "error500") {
      const xml =
        fault === "slowdown"
          ? errorXml("SlowDown", "Please reduce your request rate.")
          : errorXml("InternalError", "We encountered an internal error. Please try again.");
      res.writeHead(fault === "slowdown" ? 503 : 500, {
        "content-type": "application/xml",
        "content-length": Buffer.byteLength(xml),
      });
      res.end(xml);
      return;
    }
    const upstreamRes = await new Promise<IncomingMessage>((resolve, reject) => {
      const out = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        resolve,
      );
      out.on("error", reject);
      out.end(body);
    }).catch(() => undefined);
    if (!upstreamRes) {
      req.socket.destroy();
      return;
    }
    const answer = await readBody(upstreamRes);
    if (fault === "lose-answer") {
      req.socket.resetAndDestroy();
      return;
    }
    res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
    if (fault === "truncate" && answer.length > 1 && req.method !== "HEAD") {
      // Half the body under the full Content-Length, then the connection ends mid-body.
      res.write(answer.subarray(0, answer.length >> 1), () => req.socket.destroy());
      return;
    }
    res.end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
