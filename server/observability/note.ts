import type { RequestMeta } from "../http/request-meta";

/**
 * Notes a verification's outcome on its request, wherever a path verifies (the
 * GraphQL resolver, POST /v1/keys/verify, /v1/authorize): the edge counts it by
 * path and code when the request ends (metrics.ts) and puts it on the trace span.
 */
export function noteVerification(meta: RequestMeta, code: string): void {
  if (meta.verified) meta.verified.push(code);
  else meta.verified = [code];
}
