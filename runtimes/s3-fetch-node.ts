/**
 * The fetch an `s3s://` store uses on Node when its URI names `CA_cert_path` or `CA_cert_dir`. Node's
 * global fetch has no CA option, and the undici that would give it one is not importable on Node 20, so
 * this is a small fetch over `node:https` / `node:http`: a keep-alive agent per store, trusting the
 * default CAs plus the URI's.
 *
 * It does what the S3 client (src/storage/s3/client.ts) asks of a fetch and no more: a URL (or Request),
 * `method`, `headers`, a body of bytes or text, `signal`; it never follows redirects (the client asks for
 * `redirect: "manual"`), and it answers once the whole body has arrived (the client reads it all at once
 * with `arrayBuffer()`). Failures look like Node's own fetch's, since the client reads them: no answer
 * rejects with `TypeError("fetch failed")` whose `cause` is the socket or TLS error (its `code`, e.g.
 * `UNABLE_TO_VERIFY_LEAF_SIGNATURE`, `ECONNREFUSED`), a connection cut mid-body with
 * `TypeError("terminated")`, an abort with the signal's reason.
 */

import * as http from "node:http";
import * as https from "node:https";
import * as tls from "node:tls";
import type { S3Uri } from "../src/storage/s3/uri.ts";
import { defaultCaCertificates, readCaCerts } from "./s3-ca.ts";

type Agents = { "http:": http.Agent; "https:": https.Agent };

// Statuses whose Response may not have a body.
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * A fetch trusting the URI's `CA_cert_path` / `CA_cert_dir` besides the default CAs, or undefined (the
 * global fetch) when it names neither. Reads and checks the certificates now: an unreadable or invalid
 * one is an `InvalidUriError` naming its path.
 */
export function nodeS3Fetch(uri: S3Uri): typeof fetch | undefined {
  const certs = readCaCerts(uri);
  if (!certs) return undefined;
  // Built once: a `ca` list given to the agent would be parsed again for every new connection.
  const secureContext = tls.createSecureContext({ ca: [...defaultCaCertificates(), ...certs] });
  // As Node's global agents: idle sockets are kept 5 s (unref'd, so they never hold the process open).
  const agents: Agents = {
    "http:": new http.Agent({ keepAlive: true, scheduling: "lifo", timeout: 5_000 }),
    "https:": new https.Agent({ keepAlive: true, scheduling: "lifo", timeout: 5_000, secureContext }),
  };
  return ((input: RequestInfo | URL, init?: RequestInit) => send(agents, input, init ?? {})) as typeof fetch;
}

// A request body as bytes; undefined for none.
function bytesOf(body: BodyInit | null | undefined): Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === "string") return new TextEncoder().encode(body);
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError(
    `floe's S3 fetch sends bodies of bytes or text only, not ${Object.prototype.toString.call(body)}.`,
  );
}

async function send(agents: Agents, input: RequestInfo | URL, init: RequestInit): Promise<Response> {
  const request = input instanceof Request ? input : undefined;
  const url = new URL(request ? request.url : String(input));
  const method = (init.method ?? request?.method ?? "GET").toUpperCase();
  const headers = new Headers(init.headers ?? request?.headers);
  const signal = init.signal ?? request?.signal ?? undefined;
  const body =
    init.body !== undefined
      ? bytesOf(init.body)
      : request?.body
        ? new Uint8Array(await request.arrayBuffer())
        : undefined;

  const agent =
    url.protocol === "https:" ? agents["https:"] : url.protocol === "http:" ? agents["http:"] : null;
  if (!agent) throw new TypeError(`floe's S3 fetch speaks http: and https: only, not ${url.protocol}`);
  const outgoing: Record<string, string> = {};
  headers.forEach((value, name) => {
    // fetch computes these itself and ignores a caller's.
    if (name !== "content-length" && name !== "host" && name !== "transfer-encoding") outgoing[name] = value;
  });
  // As fetch: a PUT or POST without a body still says it has none (some servers refuse chunked ones).
  if (body !== undefined || method === "PUT" || method === "POST" || method === "PATCH") {
    outgoing["content-length"] = String(body?.byteLength ?? 0);
  }

  signal?.throwIfAborted();
  return new Promise<Response>((resolve, reject) => {
    let settled = false;
    const settle = (done: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      done();
    };
    const transport = url.protocol === "https:" ? https : http;
    const req = transport.request(url, { method, headers: outgoing, agent });
    const onAbort = () => {
      settle(() => reject(signal?.reason));
      req.destroy();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    req.on("error", (err) => settle(() => reject(new TypeError("fetch failed", { cause: err }))));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      const cut = (cause: unknown) => settle(() => reject(new TypeError("terminated", { cause })));
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", cut);
      res.on("close", () => {
        if (!res.complete) cut(Object.assign(new Error("other side closed"), { code: "ECONNRESET" }));
      });
      res.on("end", () =>
        settle(() => {
          try {
            const status = res.statusCode ?? 0;
            const answerHeaders = new Headers();
            const raw = res.rawHeaders;
            for (let i = 0; i + 1 < raw.length; i += 2) answerHeaders.append(raw[i], raw[i + 1]);
            const bytes = NULL_BODY.has(status) ? null : Buffer.concat(chunks);
            resolve(
              new Response(bytes, { status, statusText: res.statusMessage ?? "", headers: answerHeaders }),
            );
          } catch (err) {
            // A status or header a Response cannot hold (a status outside 200-599).
            reject(new TypeError("fetch failed", { cause: err }));
          }
        }),
      );
    });
    req.end(body);
  });
}
