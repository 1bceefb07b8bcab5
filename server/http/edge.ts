import type { AppDeps } from "../context";
import { renderErrorDocs } from "../docs";
import { docPath } from "../errors";
import { type BodyRefusal, declaredTooLarge, parseJsonBody, refusalAnswer, refuseMediaType, tooLarge } from "./body";
import { corsHeaders } from "./cors";
import { createSessionRoute, SESSION_PATH } from "./dashboard/session";
import { createDashboardFiles, defaultDashboardDir, isDashboardPath } from "./dashboard/static";
import type { EdgeAnswer, EdgeRequest } from "./exchange";
import { createGraphQLRunner } from "./graphql-runner";
import type { RequestMeta } from "./request-meta";
import { createRestRoutes } from "./rest/routes";

// The one request edge. Both transports — node:http in production (node-handler.ts)
// and the Fetch API (fetch-handler.ts: tests, embedding) — turn a request into an
// EdgeRequest and hand it here; this decides every route: health, error docs, the
// plain-HTTP verify routes, the dashboard (its files and its cookie session), and POST /graphql (media type, size while streaming,
// strict JSON, then the document runner). It returns null for what Yoga serves:
// GET /graphql and GraphiQL, CORS preflights, and documents the runner leaves to it.
// Request id, base URL and the access log are decided here too, once.

export type AccessLogMode = "all" | "errors" | "off";

export function createEdge(deps: AppDeps & { ping: () => Promise<boolean>; dashboardDir?: string | undefined }) {
  const docs = renderErrorDocs();
  const rest = createRestRoutes(deps);
  const graphql = createGraphQLRunner(deps);
  const session = createSessionRoute(deps.config, graphql);
  const dashboard = createDashboardFiles(deps.dashboardDir ?? defaultDashboardDir());
  const cors = corsHeaders(deps.config.corsOrigins);
  const mode: AccessLogMode = deps.config.accessLog;

  const json = (request: EdgeRequest, status: number, body: unknown): EdgeAnswer => ({
    status,
    headers: { "content-type": "application/json", "x-request-id": request.meta.id },
    body: JSON.stringify(body),
  });

  const refused = (request: EdgeRequest, refusal: BodyRefusal): EdgeAnswer => {
    const { status, body } = refusalAnswer(refusal, request.base);
    return { status, headers: { "content-type": "application/json", "x-request-id": request.meta.id }, body };
  };

  async function graphqlPost(request: EdgeRequest): Promise<EdgeAnswer | null> {
    // Announced too large: refused before a byte is read, whatever its type.
    if (declaredTooLarge(request.headers.get("content-length"))) return refused(request, tooLarge());
    const mediaType = refuseMediaType(request.headers.get("content-type"));
    if (mediaType) return refused(request, mediaType);
    const bytes = await request.body();
    if (!bytes) return refused(request, tooLarge());
    const parsed = parseJsonBody(bytes);
    if (!parsed.ok) return refused(request, parsed.refusal);
    return graphql(parsed.params, request);
  }

  async function route(request: EdgeRequest): Promise<EdgeAnswer | null> {
    const reads = request.method === "GET" || request.method === "HEAD";
    switch (request.path) {
      case "/graphql":
        return request.method === "POST" ? graphqlPost(request) : null;
      case "/healthz":
        return reads ? json(request, 200, { status: "ok" }) : null;
      case "/readyz": {
        if (!reads) return null;
        const up = await deps.ping();
        return json(request, up ? 200 : 503, { status: up ? "ready" : "unavailable", database: up ? "up" : "down" });
      }
      case "/docs/errors":
        return reads
          ? {
              status: 200,
              headers: { "content-type": "text/html; charset=utf-8", "x-request-id": request.meta.id },
              body: docs,
            }
          : null;
    }
    if (isDashboardPath(request.path)) {
      return request.path === SESSION_PATH ? session(request) : dashboard(request);
    }
    const plain = rest.match(request.path);
    if (!plain) return null;
    const body = plain.readsBody ? await request.body() : new Uint8Array();
    const { method, path, search, headers, meta, base } = request;
    return plain.handle({ method, path, search, headers, meta, base, body });
  }

  return {
    /** The answer, or null when Yoga serves the request. */
    async handle(request: EdgeRequest): Promise<EdgeAnswer | null> {
      const answer = await route(request);
      const allowed = answer && cors(request.headers.get("origin"));
      if (allowed) Object.assign(answer.headers, allowed);
      return answer;
    },
    /** One line per request, whoever answered it (KEYWARD_ACCESS_LOG: all, errors or off). */
    log(request: { meta: RequestMeta; method: string; path: string }, status: number): void {
      if (mode === "off" || (mode === "errors" && status < 400)) return;
      const ms = Math.round((performance.now() - request.meta.startedAt) * 10) / 10;
      deps.logger.info(
        { requestId: request.meta.id, method: request.method, path: request.path, status, ms },
        "request",
      );
    },
  };
}

export type Edge = ReturnType<typeof createEdge>;

/** The answer to a failure nobody expected: masked, with the request id it was logged under. */
export function unexpectedAnswer(base: string, requestId: string): EdgeAnswer {
  const status = 500;
  const error = {
    message: "Unexpected error.",
    extensions: {
      code: "INTERNAL_SERVER_ERROR",
      requestId,
      http: { status },
      docUrl: base + docPath("INTERNAL_SERVER_ERROR"),
    },
  };
  return {
    status,
    headers: { "content-type": "application/json", "x-request-id": requestId },
    body: JSON.stringify({ errors: [error] }),
  };
}
