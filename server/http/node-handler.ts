import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../app";
import type { HeaderSource } from "../context";
import { declaredTooLarge, MAX_BODY_BYTES } from "./body";
import { unexpectedAnswer } from "./edge";
import type { EdgeAnswer, EdgeRequest } from "./exchange";
import { newRequestMeta, type RequestMeta } from "./request-meta";
import { type Answer, createWriteBatch } from "./write-batch";

// The node:http transport, the production path: no Request object and no Yoga
// pipeline for what the edge answers itself (edge.ts); those answers go out in
// per-turn bursts (write-batch.ts). What the edge leaves to Yoga is handed over
// with the bytes the edge already read. A body is never read past MAX_BODY_BYTES:
// past the limit the rest is drained unread and the connection closed.

interface Written extends Answer {
  method: string;
  path: string;
}

// Classes rather than closures for what is made per request: a class's methods are
// shared, where closures are allocated (and, under tsx, renamed) on every request.

/** Reads a body once, never past MAX_BODY_BYTES. */
class BodyReader {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private resolve!: (bytes: Uint8Array | null) => void;
  readonly done: Promise<Uint8Array | null>;

  constructor(
    private readonly req: IncomingMessage,
    private readonly request: NodeRequest,
  ) {
    this.onData = this.onData.bind(this);
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve;
      req.on("error", reject);
    });
    req.on("data", this.onData);
    req.on("end", this.onEnd.bind(this));
  }

  private onData(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size <= MAX_BODY_BYTES) {
      this.chunks.push(chunk);
      return;
    }
    // Answered now; what the client still sends is drained without being kept.
    this.req.off("data", this.onData);
    this.req.resume();
    this.request.unread = true;
    this.resolve(null);
  }

  private onEnd(): void {
    this.resolve(this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks));
  }
}

class NodeHeaders implements HeaderSource {
  constructor(private readonly req: IncomingMessage) {}

  get(name: string): string | null {
    const value = this.req.headers[name];
    return Array.isArray(value) ? value.join(", ") : (value ?? null);
  }
}

class NodeRequest implements EdgeRequest {
  readonly headers: NodeHeaders;
  read: Promise<Uint8Array | null> | undefined;
  /** Some of the client's body was never read: the connection cannot be reused. */
  unread = false;

  constructor(
    private readonly req: IncomingMessage,
    readonly method: string,
    readonly path: string,
    readonly search: string,
    readonly meta: RequestMeta,
    readonly base: string,
  ) {
    this.headers = new NodeHeaders(req);
  }

  body(): Promise<Uint8Array | null> {
    if (!this.read) {
      if (declaredTooLarge(this.req.headers["content-length"])) {
        this.unread = true;
        this.read = Promise.resolve(null);
      } else this.read = new BodyReader(this.req, this).done;
    }
    return this.read;
  }
}

const hasBody = (req: IncomingMessage) =>
  req.headers["transfer-encoding"] !== undefined ||
  (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0");

async function viaYoga(
  app: Served,
  req: IncomingMessage,
  res: ServerResponse,
  meta: RequestMeta,
  bytes: Uint8Array | null,
) {
  const url = `http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  headers.delete("transfer-encoding");
  if (bytes) headers.set("content-length", String(bytes.byteLength));
  else headers.delete("content-length");
  const method = req.method ?? "GET";
  const body = bytes && method !== "GET" && method !== "HEAD" ? new Uint8Array(bytes) : undefined;
  const response = await app.yoga.fetch(url, { method, headers, body }, { req, meta });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
  return response.status;
}

/** What the transport needs of the app. */
type Served = Pick<App, "edge" | "yoga" | "deps">;

export function createNodeHandler(app: Served) {
  const { edge, deps } = app;
  const fail = (res: ServerResponse, answer: EdgeAnswer) => {
    if (!res.headersSent) res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  };
  const write = createWriteBatch<Written>({
    written: (answer) => edge.log(answer, answer.status),
    failed: (error, res, answer) => {
      deps.logger.error({ err: error, requestId: answer.meta.id }, "unexpected error writing an answer");
      fail(res, unexpectedAnswer(deps.config.publicUrl ?? "", answer.meta.id));
    },
  });

  return async (req: IncomingMessage, res: ServerResponse) => {
    const given = req.headers["x-request-id"];
    const meta = newRequestMeta(typeof given === "string" ? given : null, { req });
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    const mark = url.indexOf("?");
    const path = mark === -1 ? url : url.slice(0, mark);
    const base = deps.config.publicUrl ?? `http://${req.headers.host ?? "localhost"}`;
    const request = new NodeRequest(req, method, path, mark === -1 ? "" : url.slice(mark + 1), meta, base);
    try {
      const answer = await edge.handle(request);
      if (answer) {
        // Stated, so the answer is not sent chunked (writeHead comes before end).
        answer.headers["content-length"] = String(Buffer.byteLength(answer.body));
        if (request.unread || (!request.read && hasBody(req))) answer.headers.connection = "close";
        write(res, { status: answer.status, headers: answer.headers, body: answer.body, meta, method, path });
        return;
      }
      // Yoga reads no body itself: it gets what the edge read, or (for a body the
      // edge did not want, e.g. a POST to an unknown path) none, and the connection closes.
      const bytes = request.read ? await request.read : null;
      if (!request.read && hasBody(req)) {
        request.unread = true;
        res.shouldKeepAlive = false;
      }
      edge.log(request, await viaYoga(app, req, res, meta, bytes));
    } catch (error) {
      deps.logger.error({ err: error, requestId: meta.id }, "unexpected error in the HTTP handler");
      fail(res, unexpectedAnswer(base, meta.id));
      edge.log(request, 500);
    }
  };
}
