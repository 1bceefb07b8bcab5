import { GraphQLError } from "graphql";
import type { GraphQLParams, Plugin } from "graphql-yoga";
import { catalog, docPath } from "../errors";

// Reads JSON request bodies strictly: bytes that are not UTF-8 are refused rather
// than silently turned into U+FFFD (which would let a non-UTF-8 name through),
// and the size limit holds even for bodies without a Content-Length.

export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** The answer to a body over the limit, for callers that refuse it before any parsing. */
export function bodyTooLarge(base: string): { status: number; body: string } {
  const status = catalog.validation_failed.status;
  const error = {
    message: `Request body exceeds ${MAX_BODY_BYTES} bytes.`,
    extensions: { code: "validation_failed", docUrl: base + docPath("validation_failed"), http: { status } },
  };
  return { status, body: JSON.stringify({ errors: [error] }) };
}

const bad = (message: string) =>
  new GraphQLError(message, { extensions: { code: "validation_failed", http: { status: 400 } } });

export function useStrictJsonBody(maxBytes = MAX_BODY_BYTES): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method !== "POST") return;
      if (!/^application\/(graphql\+)?json\b/i.test(request.headers.get("content-type") ?? "")) return;
      setRequestParser(async (req) => {
        const bytes = new Uint8Array(await req.arrayBuffer());
        if (bytes.byteLength > maxBytes) throw bad(`Request body exceeds ${maxBytes} bytes.`);
        let text: string;
        try {
          text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
        } catch {
          throw bad("Request body is not valid UTF-8.");
        }
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw bad("POST body sent invalid JSON.");
        }
        if (!body || typeof body !== "object") throw bad("POST body must be a JSON object.");
        return body as GraphQLParams;
      });
    },
  };
}
