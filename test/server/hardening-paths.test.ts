import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createNodeHandler } from "../../server/http/node-handler";
import { ABUSIVE_GET_REQUESTS, ABUSIVE_REQUESTS, type AbusiveRequest } from "../helpers/abuse";
import { startTestApp, type TestApp } from "../helpers/app";

// A production server is reached two ways: the node:http handler (server/index.ts,
// with its own body reading and fast path) and yoga.fetch. Every abusive request
// must be refused on both, with the same catalog answer.

interface Answer {
  status: number;
  code: string | undefined;
  message: string | undefined;
  docUrl: string | undefined;
  httpStatus: number | undefined;
}

let app: TestApp;
let server: Server;
let origin: string;

beforeAll(async () => {
  app = await startTestApp({ NODE_ENV: "production" });
  const node = createNodeHandler(app);
  server = createServer((req, res) => void node(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await app.close();
});

const CHUNK = 64 * 1024;

function pieces(body: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < body.length; at += CHUNK) out.push(body.subarray(at, at + CHUNK));
  return out;
}

function read(status: number, text: string): Answer {
  const body = JSON.parse(text) as {
    errors?: { message: string; extensions?: { code?: string; docUrl?: string; http?: { status?: number } } }[];
  };
  const error = body.errors?.[0];
  return {
    status,
    code: error?.extensions?.code,
    message: error?.message,
    docUrl: error?.extensions?.docUrl?.replace(/^https?:\/\/[^/]+/, ""),
    httpStatus: error?.extensions?.http?.status,
  };
}

/** Through yoga.fetch; a chunked body is a stream, and the answer counts how much of it was pulled. */
async function viaYogaFetch(abuse: AbusiveRequest): Promise<Answer & { pulled: number }> {
  let pulled = 0;
  const headers: Record<string, string> = { ...abuse.headers };
  let body: BodyInit | undefined;
  if (abuse.body && abuse.chunked) {
    const queue = pieces(abuse.body);
    body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = queue.shift();
        if (!next) return controller.close();
        pulled += next.length;
        controller.enqueue(new Uint8Array(next));
      },
    });
  } else if (abuse.body) {
    headers["content-length"] = String(abuse.body.length);
    body = new Uint8Array(abuse.body);
    pulled = abuse.body.length;
  }
  const init = { method: abuse.method, headers, body, duplex: "half" } as RequestInit;
  const response = await app.fetch(abuse.path, init);
  return { ...read(response.status, await response.text()), pulled };
}

/** Over a real socket to the node:http handler; the answer may come before the whole body is sent. */
function viaNodeHandler(abuse: AbusiveRequest): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...abuse.headers };
    if (abuse.body && !abuse.chunked) headers["content-length"] = abuse.body.length;
    let answered = false;
    const req = request(`${origin}${abuse.path}`, { method: abuse.method, headers }, (res) => {
      answered = true;
      let text = "";
      res.on("data", (chunk: Buffer) => {
        text += chunk.toString("utf8");
      });
      res.on("end", () => {
        resolve(read(res.statusCode ?? 0, text));
        req.destroy();
      });
    });
    // The server may close the connection once it has answered, while the rest is still being sent.
    req.on("error", (error) => {
      if (!answered) reject(error);
    });
    if (!abuse.body) {
      req.end();
      return;
    }
    const queue = abuse.chunked ? pieces(abuse.body) : [abuse.body];
    const sendMore = () => {
      while (!answered && !req.destroyed) {
        const next = queue.shift();
        if (!next) return void req.end();
        if (!req.write(next)) return void req.once("drain", sendMore);
      }
    };
    sendMore();
  });
}

describe("an abusive request gets the same catalog answer through yoga.fetch and node:http", () => {
  it.each([...ABUSIVE_REQUESTS, ...ABUSIVE_GET_REQUESTS].map((abuse) => [abuse.name, abuse] as const))(
    "%s",
    async (_name, abuse) => {
      const fetched = await viaYogaFetch(abuse);
      const served = await viaNodeHandler(abuse);
      const expected = {
        status: abuse.expect.status,
        code: abuse.expect.code,
        httpStatus: abuse.expect.status,
        docUrl: `/docs/errors#${abuse.expect.code}`,
      };
      expect(fetched).toMatchObject(expected);
      expect(served).toMatchObject(expected);
      if (abuse.expect.message !== undefined) {
        if (typeof abuse.expect.message === "string") expect(fetched.message).toBe(abuse.expect.message);
        else expect(fetched.message).toMatch(abuse.expect.message);
      }
      expect(served.message).toBe(fetched.message);
    },
  );

  it("sends most abusive documents over GET too", () => {
    expect(ABUSIVE_GET_REQUESTS.length).toBeGreaterThanOrEqual(12);
  });

  it("stops reading a chunked body at the limit instead of taking all 10 MB", async () => {
    const abuse = ABUSIVE_REQUESTS.find((a) => a.chunked && a.expect.code === "payload_too_large");
    expect(abuse).toBeDefined();
    const fetched = await viaYogaFetch(abuse as AbusiveRequest);
    expect(fetched.status).toBe(413);
    expect(fetched.pulled).toBeLessThan(3 * 1024 * 1024);
  });

  it("answers a chunked body over the limit before the client has finished sending it", async () => {
    // The client sends 3 MiB and then waits: only a server that stops at the limit answers.
    const answer = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${origin}/graphql`,
        { method: "POST", headers: { "content-type": "application/json" } },
        (res) => {
          resolve(res.statusCode ?? 0);
          res.resume();
          req.destroy();
        },
      );
      req.on("error", reject);
      req.write('{"query":"{ me { id } }","padding":"');
      for (const piece of pieces(Buffer.alloc(3 * 1024 * 1024, "x"))) req.write(piece);
    });
    expect(answer).toBe(413);
  });
});
