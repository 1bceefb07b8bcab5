import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { RateDecision } from "../keys/ratelimit";

// Per-request facts that several plugins need before the GraphQL context exists.

export interface ServerContext {
  /** Set by node:http when the server listens (server/index.ts). */
  req?: IncomingMessage;
  /** Lets tests that call the server in process say which address they come from. */
  ip?: string;
  /** Set by the edge when it hands a request to Yoga, so both speak of one request. */
  meta?: RequestMeta;
}

export interface RequestMeta {
  id: string;
  startedAt: number;
  ip: string | null;
  /** Set when a rate limit was consulted; becomes X-RateLimit-* headers. */
  rateLimit?: RateDecision;
  /** Outcome codes of the verifications this request made, for metrics (set where each path verifies). */
  verified?: string[];
  /** Set when the edge left the request to Yoga (metrics and traces tell the two GraphQL paths apart). */
  viaYoga?: boolean;
  /** The GraphQL operation's name, when a runner knew it (traces only: clients choose it). */
  operation?: string;
  /** The request's trace span, while tracing is on (server/observability/tracing.ts). */
  span?: unknown;
}

const metas = new WeakMap<Request, RequestMeta>();

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Request id and caller address, from the request's own X-Request-Id when it is harmless. */
export function newRequestMeta(givenId: string | null | undefined, server: ServerContext): RequestMeta {
  return {
    // A caller's own request id is kept when it is harmless, so logs can be joined up.
    id: givenId && REQUEST_ID.test(givenId) ? givenId : randomUUID(),
    startedAt: performance.now(),
    ip: server.ip ?? server.req?.socket.remoteAddress ?? null,
  };
}

export function startRequest(request: Request, server: ServerContext): RequestMeta {
  const meta = server.meta ?? newRequestMeta(request.headers.get("x-request-id"), server);
  metas.set(request, meta);
  return meta;
}

export function requestMeta(request: Request): RequestMeta {
  return metas.get(request) ?? { id: randomUUID(), startedAt: performance.now(), ip: null };
}
