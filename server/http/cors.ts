import type { CORSOptions } from "graphql-yoga";

// CORS is opt-in: without KEYWARD_CORS_ORIGINS no answer carries
// Access-Control-Allow-Origin, so no other site's script can read one. Listed
// origins are matched exactly and never with credentials; `null` (sandboxed frames,
// file:// pages) cannot be listed (config.ts), so it is never allowed.

const ALLOWED_HEADERS = ["authorization", "content-type", "idempotency-key", "x-request-id", "x-graphql-yoga-csrf"];
const EXPOSED_HEADERS = [
  "x-request-id",
  "x-ratelimit-limit",
  "x-ratelimit-remaining",
  "x-ratelimit-reset",
  "retry-after",
];

export function corsFor(origins: readonly string[]): false | ((request: Request) => CORSOptions) {
  if (origins.length === 0) return false;
  const allowed = new Set(origins);
  return (request) => {
    const origin = request.headers.get("origin");
    if (origin === null || !allowed.has(origin)) return false;
    return {
      origin: [origin],
      credentials: false,
      methods: ["GET", "POST"],
      allowedHeaders: ALLOWED_HEADERS,
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: 600,
    };
  };
}

/** The CORS headers of an answer the edge gives itself (Yoga's plugin answers preflights). */
export function corsHeaders(origins: readonly string[]): (origin: string | null) => Record<string, string> | null {
  const allowed = new Set(origins);
  return (origin) =>
    origin !== null && allowed.has(origin)
      ? {
          "access-control-allow-origin": origin,
          vary: "Origin",
          "access-control-expose-headers": EXPOSED_HEADERS.join(", "),
        }
      : null;
}
