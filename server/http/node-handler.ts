import type { IncomingMessage, ServerResponse } from "node:http";
import type { App } from "../app";
import { bodyTooLarge, MAX_BODY_BYTES } from "./body-plugin";
import { createFastVerify } from "./fast-verify";
import { newRequestMeta } from "./request-meta";
import { createRestNodeHandler } from "./rest/node";
import { createWriteBatch } from "./write-batch";

// node:http → Keyward. POST /graphql bodies are read once here so the fast path
// (fast-verify.ts) can answer persisted verifications; everything else goes to
// Yoga with the same bytes, exactly as before.

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    // Over the limit (also without a Content-Length): null, answered as too large.
    req.on("end", () => resolve(size <= MAX_BODY_BYTES ? Buffer.concat(chunks) : null));
    req.on("error", reject);
  });
}

const headerSource = (req: IncomingMessage) => ({
  get(name: string) {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(", ") : (value ?? null);
  },
});

async function viaYoga(app: App, req: IncomingMessage, res: ServerResponse, body: Buffer) {
  const url = `http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  const init: RequestInit = { method: req.method ?? "POST", headers, body: new Uint8Array(body) };
  const response = await app.yoga.fetch(url, init, { req });
  res.writeHead(response.status, Object.fromEntries(response.headers));
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
    const isGraphqlPost =
      req.method === "POST" &&
      (req.url === "/graphql" || req.url?.startsWith("/graphql?")) &&
      /^application\/(graphql\+)?json\b/i.test(req.headers["content-type"] ?? "");
    if (!isGraphqlPost) {
      app.yoga(req, res);
      return;
    }
    try {
      const body = await readBody(req);
      const origin = `http://${req.headers.host ?? "localhost"}`;
      if (!body) {
        const { status, body: answer } = bodyTooLarge(app.deps.config.publicUrl ?? origin);
        res.writeHead(status, { "content-type": "application/json" });
        res.end(answer);
        return;
      }
      const given = req.headers["x-request-id"];
      const meta = newRequestMeta(typeof given === "string" ? given : null, { req });
      const answer = await fast(body, headerSource(req), meta, app.deps.config.publicUrl ?? origin);
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
