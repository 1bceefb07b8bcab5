import type { IncomingMessage, ServerResponse } from "node:http";
import type { AppDeps, HeaderSource } from "../../context";
import { MAX_BODY_BYTES } from "../body";
import { newRequestMeta, type RequestMeta } from "../request-meta";
import { type Answer, createWriteBatch } from "../write-batch";
import { createRestRoutes, type RestRoute } from "./routes";

// The plain-HTTP routes on node:http, the production path: no Yoga pipeline, no
// Request object; answers go out in the same per-turn bursts as the GraphQL fast
// path (write-batch.ts), and each is logged as one line, like every request.

interface Written extends Answer {
  method: string;
  path: string;
}

/** The body up to `max` bytes; null when it is longer (read to the end, also without a Content-Length). */
function readBody(req: IncomingMessage, max: number): Promise<Uint8Array | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) chunks.push(chunk);
    });
    req.on("end", () => resolve(size <= max ? Buffer.concat(chunks) : null));
    req.on("error", reject);
  });
}

function headerSource(req: IncomingMessage): HeaderSource {
  return {
    get(name: string) {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(", ") : (value ?? null);
    },
  };
}

function failed(deps: AppDeps, res: ServerResponse, error: unknown, meta?: RequestMeta) {
  deps.logger.error({ err: error, requestId: meta?.id }, "unexpected error in the HTTP handler");
  if (!res.headersSent) res.writeHead(500, { "content-type": "application/json; charset=utf-8" });
  res.end(
    JSON.stringify({ error: { code: "INTERNAL_SERVER_ERROR", message: "Unexpected error.", requestId: meta?.id } }),
  );
}

/** Serves the request and returns true when its path is a plain-HTTP route; false leaves it to the caller. */
export function createRestNodeHandler(deps: AppDeps) {
  const routes = createRestRoutes(deps);
  const write = createWriteBatch<Written>({
    written: ({ status, meta, method, path }) =>
      deps.logger.info(
        { requestId: meta.id, method, path, status, ms: Math.round((performance.now() - meta.startedAt) * 10) / 10 },
        "request",
      ),
    failed: (error, res) => failed(deps, res, error),
  });

  async function serve(req: IncomingMessage, res: ServerResponse, route: RestRoute, path: string, search: string) {
    const given = req.headers["x-request-id"];
    const meta = newRequestMeta(typeof given === "string" ? given : null, { req });
    const method = req.method ?? "GET";
    try {
      const body = route.readsBody ? await readBody(req, MAX_BODY_BYTES) : new Uint8Array();
      const base = deps.config.publicUrl ?? `http://${req.headers.host ?? "localhost"}`;
      const answer = await route.handle({ method, path, search, headers: headerSource(req), body, meta, base });
      // Stated, so the answer is not sent chunked (writeHead comes before end).
      answer.headers["content-length"] = String(Buffer.byteLength(answer.body));
      write(res, { status: answer.status, headers: answer.headers, body: answer.body, meta, method, path });
    } catch (error) {
      failed(deps, res, error, meta);
    }
  }

  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url ?? "/";
    const mark = url.indexOf("?");
    const path = mark === -1 ? url : url.slice(0, mark);
    const route = routes.match(path);
    if (!route) return false;
    void serve(req, res, route, path, mark === -1 ? "" : url.slice(mark + 1));
    return true;
  };
}
