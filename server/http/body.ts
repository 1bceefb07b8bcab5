import { catalog, docPath } from "../errors";

// The request-body rules, in one place for both ways in: the Yoga plugin
// (body-plugin.ts, which yoga.fetch and the node handler's Yoga fallback reach) and
// the node:http handler (node-handler.ts, which reads bodies itself for the fast
// path). Both call these functions, so an abusive body gets the same answer on
// either path.

export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * Nesting allowed in a JSON body, variables included. A key's metadata (at most 8
 * levels, checked with its own field error) fits inside `variables.input` with room
 * to spare; anything deeper only feeds recursive walkers.
 */
export const MAX_JSON_DEPTH = 16;

export interface BodyRefusal {
  code: "payload_too_large" | "unsupported_media_type" | "validation_failed";
  message: string;
}

export const tooLarge = (): BodyRefusal => ({
  code: "payload_too_large",
  message: `Request body exceeds ${MAX_BODY_BYTES} bytes.`,
});

const invalid = (message: string): BodyRefusal => ({ code: "validation_failed", message });

/** True when a Content-Length header already announces a body over the limit. */
export function declaredTooLarge(contentLength: string | null | undefined): boolean {
  return Number(contentLength ?? 0) > MAX_BODY_BYTES;
}

/**
 * A POST to /graphql must be JSON in UTF-8. Form, multipart and text/plain bodies are
 * what a cross-site HTML form can send without a CORS preflight, so refusing them
 * is also what keeps such a form from running a mutation.
 */
export function refuseMediaType(contentType: string | null | undefined): BodyRefusal | null {
  const [type = "", ...params] = (contentType ?? "").split(";").map((part) => part.trim().toLowerCase());
  const charset = params.find((param) => param.startsWith("charset="))?.slice("charset=".length);
  if (type === "application/json" && (charset === undefined || charset.replace(/"/g, "") === "utf-8")) return null;
  return {
    code: "unsupported_media_type",
    message: "POST /graphql accepts Content-Type: application/json (UTF-8) only.",
  };
}

/** True when objects/arrays nest deeper than `max` (the top level counts as 1). No recursion. */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const [node, depth] = item;
    if (node === null || typeof node !== "object") continue;
    if (depth > max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return false;
}

export const tooDeep = (): BodyRefusal => invalid(`JSON is nested deeper than ${MAX_JSON_DEPTH} levels.`);

export type ParsedBody = { ok: true; params: Record<string, unknown> } | { ok: false; refusal: BodyRefusal };

/**
 * Strict UTF-8 (bytes that are not UTF-8 are refused rather than turned into U+FFFD,
 * which would let a non-UTF-8 name through), JSON, one operation (no batching), and
 * bounded nesting.
 */
export function parseJsonBody(bytes: Uint8Array): ParsedBody {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, refusal: invalid("Request body is not valid UTF-8.") };
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, refusal: invalid("POST body sent invalid JSON.") };
  }
  if (Array.isArray(body)) {
    return { ok: false, refusal: invalid("Batched operations are not supported: send one operation per request.") };
  }
  if (!body || typeof body !== "object") return { ok: false, refusal: invalid("POST body must be a JSON object.") };
  if (nestedDeeperThan(body, MAX_JSON_DEPTH)) return { ok: false, refusal: tooDeep() };
  return { ok: true, params: body as Record<string, unknown> };
}

/** The catalog answer to a refused body, for callers that answer before Yoga runs. */
export function refusalAnswer(refusal: BodyRefusal, base: string): { status: number; body: string } {
  const status = catalog[refusal.code].status;
  const error = {
    message: refusal.message,
    extensions: { code: refusal.code, http: { status }, docUrl: base + docPath(refusal.code) },
  };
  return { status, body: JSON.stringify({ errors: [error] }) };
}

/** The body's bytes, or null once they pass `max`: reading stops there, with or without Content-Length. */
export async function readLimited(body: ReadableStream<Uint8Array> | null, max: number): Promise<Uint8Array | null> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    size += chunk.value.byteLength;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    parts.push(chunk.value);
  }
  return Buffer.concat(parts);
}
