import type { HeaderSource } from "../../context";
import { catalog, docPath, type Failure } from "../../errors";
import type { RequestMeta } from "../request-meta";

// What a plain-HTTP route gets and gives: the request as plain facts, the answer
// as status, headers and body, so one route serves both transports.
//
// Errors have one shape on every route here, for callers that speak no GraphQL:
//   { "error": { "code", "message", "field"?, "docUrl", "requestId" } }
// with the catalog's HTTP status.

export interface RestRequest {
  method: string;
  /** Without the query string. */
  path: string;
  /** The query string without `?` ("" when there is none). */
  search: string;
  headers: HeaderSource;
  /** The body, for routes that read one; null when it was over MAX_BODY_BYTES (reading stopped counting). */
  body: Uint8Array | null;
  meta: RequestMeta;
  /** Base of docUrl: KEYWARD_PUBLIC_URL, or the request's own origin. */
  base: string;
}

export interface RestAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const JSON_TYPE = "application/json; charset=utf-8";

// No object spreads on this path: V8 copies objects with header-like keys through
// a slow path (about 50 times an Object.assign of the same object, measured).

/** A JSON answer; `headers` come after the common ones (type, no-store, request id). */
export function json(
  request: RestRequest,
  status: number,
  body: unknown,
  headers?: Record<string, string>,
): RestAnswer {
  const all: Record<string, string> = {
    "content-type": JSON_TYPE,
    "cache-control": "no-store",
    "x-request-id": request.meta.id,
  };
  if (headers) Object.assign(all, headers);
  // HEAD answers carry the headers only.
  return { status, headers: all, body: request.method === "HEAD" ? "" : JSON.stringify(body) };
}

export function refuse(request: RestRequest, failure: Failure, headers?: Record<string, string>): RestAnswer {
  const error = {
    code: failure.code,
    message: failure.message,
    field: failure.field,
    docUrl: request.base + docPath(failure.code),
    requestId: request.meta.id,
  };
  // JSON.stringify leaves out `field` when it is undefined.
  return json(request, catalog[failure.code].status, { error }, headers);
}
