import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { RequestMeta } from "./request-meta";

// Answers finished within one turn of the event loop are written together at the
// end of that turn (setImmediate runs right after the poll phase that delivered
// the requests). The number of writes is the same, but a client sees a burst of
// answers instead of a trickle, so it is woken once per burst rather than once
// per answer; on a small machine shared with its callers that wake-up cost was
// the largest single cost per verification (bench/README.md has the figures).
// With one request in flight nothing waits: the check phase follows at once.

export interface Answer {
  status: number;
  headers: OutgoingHttpHeaders;
  body: string;
  meta: RequestMeta;
}

export interface WriteBatchHooks<A extends Answer = Answer> {
  /** After an answer is handed to its socket (request logging). */
  written(answer: A): void;
  failed(error: unknown, res: ServerResponse, answer: A): void;
}

export function createWriteBatch<A extends Answer = Answer>(hooks: WriteBatchHooks<A>) {
  let pending: [ServerResponse, A][] = [];

  function flush() {
    const batch = pending;
    pending = [];
    for (const [res, answer] of batch) {
      try {
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
        hooks.written(answer);
      } catch (error) {
        // One broken answer must not keep the rest of the batch from being written.
        hooks.failed(error, res, answer);
      }
    }
  }

  return function write(res: ServerResponse, answer: A): void {
    if (pending.push([res, answer]) === 1) setImmediate(flush);
  };
}
