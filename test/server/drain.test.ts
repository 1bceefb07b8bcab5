import { createServer, type Server } from "node:http";
import { type AddressInfo, connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { drainServer } from "../../server/http/drain";

// drainServer (server/http/drain.ts) against real sockets: what a stopping server
// owes the connections it holds.

let server: Server;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

/** Echoes the body once it has all arrived; keep-alive as long as Node allows, like the real server. */
async function echoServer(): Promise<number> {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk;
    });
    req.on("end", () => res.end(`got ${body}`));
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

function client(port: number) {
  const socket: Socket = connect(port, "127.0.0.1");
  let text = "";
  socket.on("data", (chunk: Buffer) => {
    text += chunk;
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return { socket, text: () => text, closed };
}

const post = (body: string, sent = body.length) =>
  `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, sent)}`;

describe("draining the HTTP server", () => {
  it("a request in flight is answered, and its keep-alive connection does not hold the stop for keepAliveTimeout", async () => {
    const port = await echoServer();
    const c = client(port);
    c.socket.write(post("1234567890", 5));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    const draining = drainServer(server, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    c.socket.write("67890");
    expect(await draining).toBe(true);
    expect(performance.now() - started).toBeLessThan(1_500);
    await c.closed;
    expect(c.text()).toContain("got 1234567890");
  });

  it("requests pipelined on an open connection after the stop began are answered `Connection: close`", async () => {
    const port = await echoServer();
    const c = client(port);
    // An open connection with a request in flight, then two more behind it.
    c.socket.write(post("first", 2));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const draining = drainServer(server, 5_000);
    c.socket.write(`rst${post("second")}${post("third")}`);
    expect(await draining).toBe(true);
    await c.closed;
    const answers = c.text().split("HTTP/1.1 ").slice(1);
    expect(answers.map((a) => a.slice(a.indexOf("\r\n\r\n") + 4))).toEqual(["got first", "got second"]);
    expect(answers[1]?.toLowerCase()).toContain("connection: close");
  });

  it("a request whose body never completes is cut at the deadline", async () => {
    const port = await echoServer();
    const c = client(port);
    c.socket.write(post("never finished", 3));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    expect(await drainServer(server, 300)).toBe(false);
    expect(performance.now() - started).toBeLessThan(1_500);
    await c.closed;
  });
});
