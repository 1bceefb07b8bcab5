import type { HeaderSource } from "../context";
import type { RequestMeta } from "./request-meta";

// What the edge (edge.ts) and the routes behind it take and give: a request as plain
// facts, whichever transport it came by, and an answer as status, headers and body.

export interface EdgeRequest {
  method: string;
  /** Without the query string. */
  path: string;
  /** The query string without `?` ("" when there is none). */
  search: string;
  headers: HeaderSource;
  meta: RequestMeta;
  /** Base of docUrl: KEYWARD_PUBLIC_URL, or the request's own origin. */
  base: string;
  /** The body, read at most once and never past MAX_BODY_BYTES (also when chunked); null when it is longer. */
  body(): Promise<Uint8Array | null>;
}

export interface EdgeAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}
