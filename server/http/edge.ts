import type { AppDeps } from "../context";
import { isDatabaseUnavailable } from "../db-unavailable";
import { renderErrorDocs } from "../docs";
import { catalog, docPath } from "../errors";
import type { Metrics } from "../observability/metrics";
import type { Tracing } from "../observability/tracing";
import { type BodyRefusal, declaredTooLarge, parseJsonBody, refusalAnswer, refuseMediaType, tooLarge } from "./body";
import { corsHeaders } from "./cors";
import { createSessionRoute, SESSION_PATH } from "./dashboard/session";
import { createDashboardFiles, defaultDashboardDir, isDashboardPath } from "./dashboard/static";
import type { EdgeAnswer, EdgeRequest } from "./exchange";
import { createGraphQLRunner } from "./graphql-runner";
import { metricsRoute } from "./metrics-route";
import type { RequestMeta } from "./request-meta";
import { createRestRoutes } from "./rest/routes";

// The one request edge. Both transports — node:http in production (node-handler.ts)
// and the Fetch API (fetch-handler.ts: tests, embedding) — turn a request into an
// EdgeRequest and hand it here; this decides every route: `/`, health, error docs, the
// plain-HTTP verify routes, the dashboard (its files and its cookie session), and POST /graphql (media type, size while streaming,
// strict JSON, then the document runner). It returns null for what Yoga serves:
// GET /graphql and GraphiQL, CORS preflights, and documents the runner leaves to it.
// Request id, base URL, the access log, metrics and the trace span are decided here
// too, once: handle() starts every request and log() ends it, whoever answered.

export type AccessLogMode = "all" | "errors" | "off";

/** Where `/` sends a browser. */
export const DASHBOARD_PATH = "/dashboard";

/** What /readyz reports: the database answers, and this instance hears other instances' changes. */
export interface Readiness {
  database: boolean;
  invalidations: boolean;
}

export interface EdgeDeps extends AppDeps {
  readiness: () => Promise<Readiness>;
  /** Present when KEYWARD_METRICS=on: counts every request and serves /metrics. */
  metrics?: Metrics | null;
  /** Present when OTEL_EXPORTER_OTLP_ENDPOINT is set: one span per request. */
  tracing?: Tracing | null;
  /** Where the built dashboard lives (web/dist unless a test says otherwise). */
  dashboardDir?: string | undefined;
}

export function createEdge(deps: EdgeDeps) {
  const docs = renderErrorDocs();
  const rest = createRestRoutes(deps);
  const graphql = createGraphQLRunner(deps);
  const session = createSessionRoute(deps.config, graphql);
  const dashboard = createDashboardFiles(deps.dashboardDir ?? defaultDashboardDir());
  const cors = corsHeaders(deps.config.corsOrigins);
  const mode: AccessLogMode = deps.config.accessLog;
  const metrics = deps.metrics ?? null;
  const tracing = deps.tracing ?? null;
  const scrape = metrics && metricsRoute(metrics, deps.config.metrics.token);

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
      // People open the bare address: send them to the dashboard. 302, not 308, so no
      // browser remembers it for good should the dashboard ever move.
      case "/":
        return reads
          ? { status: 302, headers: { location: DASHBOARD_PATH, "x-request-id": request.meta.id }, body: "" }
          : null;
      case "/graphql":
        return request.method === "POST" ? graphqlPost(request) : null;
      case "/healthz":
        return reads ? json(request, 200, { status: "ok" }) : null;
      case "/readyz": {
        if (!reads) return null;
        const { database, invalidations } = await deps.readiness();
        const up = database && invalidations;
        return json(request, up ? 200 : 503, {
          status: up ? "ready" : "unavailable",
          database: database ? "up" : "down",
          invalidations: invalidations ? "subscribed" : "reconnecting",
        });
      }
      case "/metrics":
        // Off, it is an unknown path like any other.
        if (scrape && reads) return scrape(request);
        break;
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
      tracing?.start(request.meta, request.method, request.path);
      let answer: EdgeAnswer | null;
      try {
        answer = await route(request);
      } catch (error) {
        // E.g. the caller's session could not be read: the database's outage, not a bug.
        if (!isDatabaseUnavailable(error)) throw error;
        answer = catalogAnswer("database_unavailable", "The database is unavailable; retry shortly.", request);
      }
      if (!answer) {
        request.meta.viaYoga = true;
        return null;
      }
      const allowed = cors(request.headers.get("origin"));
      if (allowed) Object.assign(answer.headers, allowed);
      return answer;
    },
    /**
     * The end of every request, whoever answered it: metrics, the trace span, and one
     * access-log line (KEYWARD_ACCESS_LOG: all, errors or off).
     */
    log(request: { meta: RequestMeta; method: string; path: string }, status: number): void {
      metrics?.requestDone(request.meta, request.path, status);
      tracing?.end(request.meta, status);
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

/** A catalog error in the GraphQL error shape, for failures raised before a resolver could answer. */
function catalogAnswer(code: "database_unavailable", message: string, request: EdgeRequest): EdgeAnswer {
  const status = catalog[code].status;
  const extensions = { code, http: { status }, docUrl: request.base + docPath(code), requestId: request.meta.id };
  return {
    status,
    headers: { "content-type": "application/json", "x-request-id": request.meta.id },
    body: JSON.stringify({ errors: [{ message, extensions }] }),
  };
}

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
