/**
 * A fault-injecting HTTP proxy on loopback, between the S3 client and the real gateway. Each request
 * is handed to a plan that picks what happens to it: passed through (after optional latency, or a longer
 * delay), answered 503 SlowDown or 500 by the proxy itself, its connection reset, its upload cut off
 * halfway to the gateway, its answer's body cut short, its answer lost after the gateway acted on it, or
 * never answered. The Host header is passed through unchanged,
 * so the client's signature (made for the proxy's address) still verifies at the gateway.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/** What the proxy does with one request. */
export type Fault =
  /** Forward it and relay the answer. */
  | "pass"
  /** Forward it after `delayMs` more milliseconds, then relay the answer. */
  | "delay"
  /** Answer 503 SlowDown without forwarding. */
  | "slowdown"
  /** Answer 500 InternalError without forwarding. */
  | "error500"
  /** Reset the client's connection without forwarding. */
  | "reset"
  /**
   * Forward the headers (true Content-Length) and half the body, then cut both connections: the gateway
   * sees an upload that breaks off, the client a reset.
   */
  | "cut-upload"
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
  /** Extra milliseconds a `delay` request waits (default 200). */
  delayMs: number;
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
    delayMs: 200,
    log: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const req of stalled) req.socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  // A client that gives up mid-upload, or a gateway that dies mid-answer (killed by a test), ends that
  // request's connection; it must not become an unhandled rejection that fails the test run.
  const server: Server = createServer((req, res) => {
    res.on("error", () => {});
    handle(req, res).catch(() => req.socket.destroy());
  });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const n = proxy.log.length + 1;
    const fault = proxy.plan({ n, method: req.method ?? "", url: req.url ?? "" });
    proxy.log.push({ method: req.method ?? "", url: req.url ?? "", fault });
    const body = await readBody(req);
    const wait = proxy.latencyMs + (fault === "delay" ? proxy.delayMs : 0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (fault === "reset" || (fault === "cut-upload" && body.length < 2)) {
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
    if (fault === "cut-upload") {
      const out = httpRequest({
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      });
      out.on("error", () => {});
      out.write(body.subarray(0, body.length >> 1), () => {
        out.destroy();
        req.socket.resetAndDestroy();
      });
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
  };
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return proxy;
}
