import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import type { RequestMeta } from "../../server/http/request-meta";
import { type Answer, createWriteBatch } from "../../server/http/write-batch";

// Answers queued in one turn of the event loop are written together at its end,
// in order, and one answer that fails to write does not hold back the others.

function fakeResponse(events: string[], name: string, broken = false) {
  return {
    writeHead(status: number) {
      if (broken) throw new Error(`${name} is broken`);
      events.push(`${name} head ${status}`);
      return this;
    },
    end(body: string) {
      events.push(`${name} end ${body}`);
      return this;
    },
  } as unknown as ServerResponse;
}

const meta = (id: string): RequestMeta => ({ id, startedAt: performance.now(), ip: null });
const answer = (id: string, status = 200): Answer => ({ status, headers: {}, body: `{"id":"${id}"}`, meta: meta(id) });
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("createWriteBatch", () => {
  it("holds answers until the end of the turn, then writes them in order", async () => {
    const events: string[] = [];
    const written: string[] = [];
    const write = createWriteBatch({ written: (a) => written.push(a.meta.id), failed: () => events.push("failed") });
    write(fakeResponse(events, "a"), answer("a"));
    write(fakeResponse(events, "b"), answer("b", 429));
    await Promise.resolve();
    expect(events).toEqual([]);

    await nextTurn();
    expect(events).toEqual(["a head 200", 'a end {"id":"a"}', "b head 429", 'b end {"id":"b"}']);
    expect(written).toEqual(["a", "b"]);

    // A later answer starts a batch of its own.
    write(fakeResponse(events, "c"), answer("c"));
    await nextTurn();
    expect(events.at(-1)).toBe('c end {"id":"c"}');
    expect(written).toEqual(["a", "b", "c"]);
  });

  it("a failing answer goes to failed() and the rest of the batch is still written", async () => {
    const events: string[] = [];
    const failures: string[] = [];
    const write = createWriteBatch({
      written: () => {},
      failed: (error) => failures.push(error instanceof Error ? error.message : String(error)),
    });
    write(fakeResponse(events, "a"), answer("a"));
    write(fakeResponse(events, "b", true), answer("b"));
    write(fakeResponse(events, "c"), answer("c"));
    await nextTurn();
    expect(failures).toEqual(["b is broken"]);
    expect(events).toEqual(["a head 200", 'a end {"id":"a"}', "c head 200", 'c end {"id":"c"}']);
  });
});
