import { afterEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app";

// One access-log line per request, whoever answered it (the edge itself or Yoga
// behind it), and KEYWARD_ACCESS_LOG decides which requests get one.

let app: TestApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

const requestLines = (logs: string[]) =>
  logs.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === "request");

async function traffic(target: TestApp) {
  await target.fetch("/healthz");
  await target.fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ me { id } }" }),
  });
  // Yoga answers this one (a document that does not validate).
  await target.fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: "{ nope }" }),
  });
  await target.fetch("/graphql", { method: "POST", headers: { "content-type": "text/plain" }, body: "x" });
}

describe("KEYWARD_ACCESS_LOG", () => {
  it("all (the default): one line per request, with its id, method, path and status", async () => {
    app = await startTestApp();
    await traffic(app);
    const lines = requestLines(app.logs);
    expect(lines.map((l) => [l.method, l.path, l.status])).toEqual([
      ["GET", "/healthz", 200],
      ["POST", "/graphql", 200],
      ["POST", "/graphql", 400],
      ["POST", "/graphql", 415],
    ]);
    for (const line of lines) expect(line.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("errors: only answers with a status of 400 and up", async () => {
    app = await startTestApp({ KEYWARD_ACCESS_LOG: "errors" });
    await traffic(app);
    expect(requestLines(app.logs).map((l) => l.status)).toEqual([400, 415]);
  });

  it("off: none", async () => {
    app = await startTestApp({ KEYWARD_ACCESS_LOG: "off" });
    await traffic(app);
    expect(requestLines(app.logs)).toEqual([]);
  });
});
