import type { Server } from "node:http";

// Stopping the HTTP side of a server without cutting a request short. close()
// stops accepting at once, but Node keeps a keep-alive connection open after the
// answer it was waiting for (until keepAliveTimeout), so close() alone waits
// seconds for nothing; and a client pipelining on an open connection would keep
// it busy for ever. So: every answer from now on says `Connection: close`, idle
// connections are closed as soon as they become idle, and connections still busy
// at the deadline are cut.

const SWEEP_MS = 50;

/** Resolves once every connection is closed: true if all drained, false if some were cut at the deadline. */
export function drainServer(server: Server, deadlineMs: number): Promise<boolean> {
  // Runs before the request handler, so the header is there whatever the handler writes.
  server.prependListener("request", (_req, res) => {
    if (!res.headersSent) res.setHeader("connection", "close");
  });
  return new Promise((resolve) => {
    let cut = false;
    const sweep = setInterval(() => server.closeIdleConnections(), SWEEP_MS);
    const deadline = setTimeout(() => {
      cut = true;
      server.closeAllConnections();
    }, deadlineMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(deadline);
      resolve(!cut);
    });
    server.closeIdleConnections();
  });
}
