import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../app";
import { declaredTooLarge, MAX_BODY_BYTES, parseJsonBody, refuseMediaType } from "./body";
import { createFastVerify } from "./fast-verify";
import { newRequestMeta } from "./request-meta";
import { createRestNodeHandler } from "./rest/node";
import { createWriteBatch } from "./write-batch";

// node:http → Keyward. Every request body is read here, once, and never past the
// limit (MAX_BODY_BYTES), whatever its content type or transfer encoding; POST
// /graphql bodies that pass body.ts's rules may take the fast path (fast-verify.ts).
// Everything else goes to Yoga, including every refusal: a body that is not read
// (announced too large, or a content type /graphql refuses) or that ran over the
// limit is handed to Yoga without its bytes, so the same plugin answers it exactly as
// it answers yoga.fetch.

/** The body, or the number of bytes seen once they pass `max` (the rest is discarded unread). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | { over: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) {
        chunks.push(chunk);
        return;
      }
      // Answered now; what the client still sends is drained without being kept,
      // so it can read the answer, and the connection is then closed.
      req.off("data", onData);
      req.resume();
      resolve({ over: size });
    };
    req.on("data", onData);
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

const hasBody = (req: IncomingMessage) =>
  req.headers["transfer-encoding"] !== undefined ||
  (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0");

const headerSource = (req: IncomingMessage) => ({
  get(name: string) {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(", ") : (value ?? null);
  },
});

/**
 * Hands the request to Yoga with `body` as its bytes. `unread` says the client's body
 * was not (all) read: Yoga gets none but the headers as sent, with `over` (if any)
 * as the announced length so it refuses the body as too large, and the connection is
 * closed after the answer.
 */
async function viaYoga(
  app: App,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer | null,
  unread?: { over?: number },
) {
  const url = `http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const method = req.method ?? "POST";
  headers.delete("transfer-encoding");
  if (unread?.over !== undefined) headers.set("content-length", String(unread.over));
  else if (method === "GET" || method === "HEAD") headers.delete("content-length");
  const init: RequestInit = {
    method,
    headers,
    body: body && method !== "GET" && method !== "HEAD" ? new Uint8Array(body) : undefined,
  };
  const response = await app.yoga.fetch(url, init, { req });
  const answerHeaders = Object.fromEntries(response.headers);
  if (unread) answerHeaders.connection = "close";
  res.writeHead(response.status, answerHeaders);
  res.end(Buffer.from(await response.arrayBuffer()));
}

function unexpected(app: App, res: ServerResponse, error: unknown) {
  app.deps.logger.error({ err: error }, "unexpected error in the HTTP handler");
  if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
  res.end(
    JSON.stringify({
      errors: [{ message: "Unexpected error.", extensions: { code: "INTERNAL_SERVER_ERROR", http: { status: 500 } } }],
    }),
  );
}

export function createNodeHandler(app: App) {
  const fast = createFastVerify(app.deps);
  const rest = createRestNodeHandler(app.deps);
  const write = createWriteBatch({
    written: ({ status, meta }) =>
      app.deps.logger.info(
        {
          requestId: meta.id,
          method: "POST",
          path: "/graphql",
          status,
          ms: Math.round((performance.now() - meta.startedAt) * 10) / 10,
        },
        "request",
      ),
    failed: (error, res) => unexpected(app, res, error),
  });
  return async (req: IncomingMessage, res: ServerResponse) => {
    // /v1/keys/verify and /v1/authorize (server/http/rest/).
    if (rest(req, res)) return;
    if (!hasBody(req)) {
      app.yoga(req, res);
      return;
    }
    try {
      const isGraphqlPost = req.method === "POST" && (req.url === "/graphql" || req.url?.startsWith("/graphql?"));
      // Refused without reading, in the order Yoga checks them (yoga.ts, body-plugin.ts).
      if (
        declaredTooLarge(req.headers["content-length"]) ||
        (isGraphqlPost && refuseMediaType(req.headers["content-type"]))
      ) {
        await viaYoga(app, req, res, null, {});
        return;
      }
      const body = await readBody(req, MAX_BODY_BYTES);
      if (!Buffer.isBuffer(body)) {
        await viaYoga(app, req, res, null, body);
        return;
      }
      const parsed = isGraphqlPost ? parseJsonBody(body) : null;
      if (!parsed?.ok) {
        await viaYoga(app, req, res, body);
        return;
      }
      const given = req.headers["x-request-id"];
      const meta = newRequestMeta(typeof given === "string" ? given : null, { req });
      const origin = `http://${req.headers.host ?? "localhost"}`;
      const answer = await fast(parsed.params, headerSource(req), meta, app.deps.config.publicUrl ?? origin);
      if (answer) {
        write(res, {
          status: answer.status,
          headers: {
            "content-type": "application/json; charset=utf-8",
            // Stated, so the answer is not sent chunked (writeHead comes before end).
            "content-length": Buffer.byteLength(answer.body),
            "x-request-id": meta.id,
          },
          body: answer.body,
          meta,
        });
        return;
      }
      await viaYoga(app, req, res, body);
    } catch (error) {
      unexpected(app, res, error);
    }
  };
}
