import type { Span } from "@opentelemetry/api";
import type { RequestMeta } from "../http/request-meta";
import { routeOf } from "./metrics";

// OpenTelemetry traces over OTLP/HTTP (JSON), on when OTEL_EXPORTER_OTLP_ENDPOINT
// is set; the packages are imported only then, so an unset variable costs nothing.
// One server span per request, made at the edge (server/http/edge.ts), where both
// GraphQL engines, the plain-HTTP routes and Yoga's share all pass: started when
// the edge takes the request and ended when the answer is written. Attributes are
// facts about the request, never its headers, body or query string (which carry
// keys and tokens). The provider is this app's own, not the global one, so several
// apps in one process (tests) keep their spans apart.

export interface Tracing {
  start(meta: RequestMeta, method: string, path: string): void;
  end(meta: RequestMeta, status: number): void;
  /** Sends what is still buffered, then stops. */
  shutdown(): Promise<void>;
}

export async function startTracing(options: { endpoint: string; serviceName: string }): Promise<Tracing> {
  const [api, sdk, exporter, resources] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({ "service.name": options.serviceName }),
    spanProcessors: [
      // The OTLP convention: a base endpoint gets the signal's path appended.
      new sdk.BatchSpanProcessor({
        exporter: new exporter.OTLPTraceExporter({ url: `${options.endpoint}/v1/traces` }),
        scheduledDelayMillis: 1000,
      }),
    ],
  });
  const tracer = provider.getTracer("keyward");

  return {
    start(meta, method, path) {
      const route = routeOf(path);
      meta.span = tracer.startSpan(`${method} ${route}`, {
        kind: api.SpanKind.SERVER,
        attributes: {
          "http.request.method": method,
          // The route, not the path: unknown paths (and what a gateway appends to
          // /v1/authorize/) are the client's text; the query string is never recorded.
          "http.route": route,
          "keyward.request_id": meta.id,
        },
      });
    },
    end(meta, status) {
      const span = meta.span as Span | undefined;
      if (!span) return;
      meta.span = undefined;
      span.setAttribute("http.response.status_code", status);
      span.setAttribute("keyward.engine", meta.viaYoga ? "yoga" : "edge");
      if (meta.operation) span.setAttribute("graphql.operation.name", meta.operation.slice(0, 100));
      if (meta.verified) span.setAttribute("keyward.verification.codes", meta.verified);
      if (status >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
      span.end();
    },
    shutdown: () => provider.shutdown(),
  };
}
