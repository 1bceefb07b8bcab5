import type { AppDeps } from "../context";
import type { KeywardYoga } from "../yoga";
import { declaredTooLarge, MAX_BODY_BYTES, readLimited } from "./body";
import { type Edge, unexpectedAnswer } from "./edge";
import type { EdgeAnswer } from "./exchange";
import { newRequestMeta, type ServerContext } from "./request-meta";

// The Fetch API transport: a Request in, a Response out, through the same edge as
// node:http (node-handler.ts). Tests call the server this way (in process), and so
// can anything that embeds Keyward in a fetch-style runtime.

export type FetchHandler = (input: string | Request, init?: RequestInit, server?: ServerContext) => Promise<Response>;

const toResponse = (answer: EdgeAnswer, method: string) =>
  new Response(method === "HEAD" || answer.body === "" ? null : answer.body, {
    status: answer.status,
    headers: answer.headers,
  });

export function createFetchHandler(deps: AppDeps, edge: Edge, yoga: KeywardYoga): FetchHandler {
  return async (input, init, server = {}) => {
    const request = typeof input === "string" ? new Request(input, init) : input;
    const url = new URL(request.url);
    const meta = newRequestMeta(request.headers.get("x-request-id"), server);
    let read: Promise<Uint8Array | null> | undefined;
    const body = () => {
      read ??= declaredTooLarge(request.headers.get("content-length"))
        ? Promise.resolve(null)
        : readLimited(request.body, MAX_BODY_BYTES);
      return read;
    };
    const base = deps.config.publicUrl ?? url.origin;
    const edgeRequest = {
      method: request.method,
      path: url.pathname,
      search: url.search.slice(1),
      headers: request.headers,
      meta,
      base,
      body,
    };
    let response: Response;
    try {
      const answer = await edge.handle(edgeRequest);
      if (answer) response = toResponse(answer, request.method);
      else {
        // Yoga gets the bytes the edge read, or the untouched request.
        const bytes = read ? await read : undefined;
        const forward = bytes
          ? new Request(request.url, { method: request.method, headers: request.headers, body: new Uint8Array(bytes) })
          : request;
        response = await yoga.fetch(forward, { ...server, meta });
      }
    } catch (error) {
      deps.logger.error({ err: error, requestId: meta.id }, "unexpected error in the HTTP handler");
      response = toResponse(unexpectedAnswer(base, meta.id), request.method);
    }
    edge.log(edgeRequest, response.status);
    return response;
  };
}
