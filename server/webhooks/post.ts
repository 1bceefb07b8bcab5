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
}

export function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs: number; allowPrivate: boolean },
): Promise<PostResult> {
  const target = new URL(url);
  const client = target.protocol === "https:" ? https : http;
  const started = performance.now();
  return new Promise((resolve) => {
    let timedOut = false;
    const finish = (statusCode: number | null, text: string) => {
      clearTimeout(timer);
      const latencyMs = Math.round(performance.now() - started);
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
    request.on("error", (error) => finish(null, error.message.slice(0, MAX_RESPONSE_BYTES)));
    request.end(body);
  });
}
