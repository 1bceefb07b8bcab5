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
