import type { Plugin } from "graphql-yoga";
import type { AppDeps } from "../../context";
import { MAX_BODY_BYTES } from "../body";
import { type ServerContext, startRequest } from "../request-meta";
import { createRestRoutes } from "./routes";

// The plain-HTTP routes inside Yoga, so yoga.fetch (the tests) reaches them
// exactly as node:http does (rest/node.ts). It must come before the request
// lifecycle plugin in yoga.ts: it starts the request itself (id, caller address)
// and answers before that plugin's body-size refusal, which speaks GraphQL's
// error shape; the lifecycle's onResponse still logs the request.

/** The body up to `max` bytes; null when it is longer, also for a stream without a Content-Length. */
async function readBody(request: Request, max: number): Promise<Uint8Array | null> {
  if (Number(request.headers.get("content-length") ?? 0) > max) return null;
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

export function useRestRoutes(deps: AppDeps): Plugin<Record<string, unknown>, ServerContext> {
  const routes = createRestRoutes(deps);
  return {
    async onRequest({ request, url, serverContext, endResponse, fetchAPI }) {
      const route = routes.match(url.pathname);
      if (!route) return;
      const meta = startRequest(request, serverContext ?? {});
      const body = route.readsBody ? await readBody(request, MAX_BODY_BYTES) : new Uint8Array();
      const answer = await route.handle({
        method: request.method,
        path: url.pathname,
        search: url.search.slice(1),
        headers: request.headers,
        body,
        meta,
        base: deps.config.publicUrl ?? url.origin,
      });
      endResponse(new fetchAPI.Response(answer.body || null, { status: answer.status, headers: answer.headers }));
    },
  };
}
