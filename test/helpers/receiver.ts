import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";

// A real webhook receiver on 127.0.0.1: it records what arrives and answers with
// whatever status and body the test sets, so delivery runs through real HTTP.

export interface Received {
  /** The request's path: give each endpoint its own to tell their deliveries apart. */
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Answered, to a sender still connected: a sender killed mid-request never saw the answer. */
  answered: boolean;
}

export interface Receiver {
  /** The receiver's base URL; append a path per endpoint. */
  url: string;
  received: Received[];
  /** What the next requests are answered with. */
  answer: { status: number; body: string; delayMs: number; stall: boolean };
  close(): Promise<void>;
}

export async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const answer = { status: 200, body: "ok", delayMs: 0, stall: false };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const entry: Received = {
        path: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
        answered: false,
      };
      received.push(entry);
      response.on("finish", () => {
        entry.answered = !request.socket.destroyed;
      });
      setTimeout(() => {
        if (request.socket.destroyed) return;
        response.writeHead(answer.status, { "content-type": "text/plain" });
        // stall: the status and a first chunk, then nothing (a receiver that hangs mid-answer).
        if (answer.stall) response.write(answer.body.slice(0, 10));
        else response.end(answer.body);
      }, answer.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    answer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
