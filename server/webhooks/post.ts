import http from "node:http";
import https from "node:https";
import { guardedLookup } from "./ssrf";

// One POST to a receiver: no redirects followed (a redirect could point inside the
// network), the connection's addresses checked as it is made, an overall timeout,
// and at most MAX_RESPONSE_BYTES of the answer read.

export const MAX_RESPONSE_BYTES = 1024;

export interface PostResult {
  /** null: no HTTP answer (refused address, timeout, connection error). */
  statusCode: number | null;
  /** The first MAX_RESPONSE_BYTES of the answer, or why there was none. */
  body: string;
  latencyMs: number;
  /** Cut off by the caller's signal (the worker stopping): no verdict on the receiver. */
  aborted?: true;
}

export function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; allowPrivate: boolean; signal?: AbortSignal },
): Promise<PostResult> {
  const target = new URL(url);
  const client = target.protocol === "https:" ? https : http;
  const started = performance.now();
  return new Promise((resolve) => {
    let timedOut = false;
    let aborted = false;
    const finish = (statusCode: number | null, text: string) => {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", abort);
      const latencyMs = Math.round(performance.now() - started);
      if (aborted) return resolve({ statusCode: null, body: "stopped", latencyMs, aborted: true });
      // An answer cut off by the timeout is no answer, whatever status it began with.
      resolve(timedOut ? { statusCode: null, body: timeoutMessage, latencyMs } : { statusCode, body: text, latencyMs });
    };
    const request = client.request(
      target,
      {
        method: "POST",
        headers: {
          ...headers,
          "content-type": "application/json",
          "content-length": String(Buffer.byteLength(body)),
          "user-agent": "Keyward-Webhooks/1",
        },
        lookup: guardedLookup(options.allowPrivate) as unknown as typeof import("node:dns").lookup,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          const text = Buffer.concat(chunks).subarray(0, MAX_RESPONSE_BYTES).toString("utf8");
          finish(response.statusCode ?? null, text);
        };
        response.on("data", (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          // Enough read: a receiver cannot make the worker hold a large answer.
          if (size >= MAX_RESPONSE_BYTES) {
            done();
            response.destroy();
          }
        });
        response.on("end", done);
        // Cut off by the timeout or the receiver: what arrived still counts.
        response.on("close", done);
        response.on("error", done);
      },
    );
    const timeoutMessage = `timed out after ${options.timeoutMs} ms`;
    const timer = setTimeout(() => {
      timedOut = true;
      request.destroy(new Error(timeoutMessage));
    }, options.timeoutMs);
    const abort = () => {
      aborted = true;
      request.destroy(new Error("stopped"));
    };
    if (options.signal?.aborted) abort();
    else options.signal?.addEventListener("abort", abort, { once: true });
    request.on("error", (error) => finish(null, error.message.slice(0, MAX_RESPONSE_BYTES)));
    request.end(body);
  });
}
