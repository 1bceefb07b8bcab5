import { createHash, timingSafeEqual } from "node:crypto";
import { parseBearer } from "../auth/principal";
import type { Metrics } from "../observability/metrics";
import type { EdgeAnswer, EdgeRequest } from "./exchange";
import { refuse } from "./rest/answer";

// GET /metrics, for Prometheus. Served only when KEYWARD_METRICS=on (otherwise the
// path is unknown, 404 like any other); with KEYWARD_METRICS_TOKEN set, a scrape
// must send it as a Bearer. Both sides are hashed before the comparison so it takes
// the same time whatever the token sent, its length included. The text holds
// counts and timings only: no key, hash, token or client-chosen name.

const CHALLENGE = { "www-authenticate": 'Bearer realm="keyward-metrics"' };

const digest = (value: string) => createHash("sha256").update(value).digest();

export function metricsRoute(metrics: Metrics, token: string | undefined) {
  const expected = token === undefined ? null : digest(token);

  function allowed(header: string | null): boolean {
    if (!expected) return true;
    const bearer = parseBearer(header);
    return bearer.ok && bearer.value !== null && timingSafeEqual(digest(bearer.value), expected);
  }

  return async (request: EdgeRequest): Promise<EdgeAnswer> => {
    if (!allowed(request.headers.get("authorization"))) {
      const failure = {
        code: "authentication_required" as const,
        message: "Send the metrics token as `Authorization: Bearer <KEYWARD_METRICS_TOKEN>`.",
      };
      return refuse({ ...request, body: null }, failure, CHALLENGE);
    }
    const { contentType, body } = await metrics.render();
    return {
      status: 200,
      headers: { "content-type": contentType, "cache-control": "no-store", "x-request-id": request.meta.id },
      body: request.method === "HEAD" ? "" : body,
    };
  };
}
