// Whether a failure means the database could not be reached (down, restarting,
// refusing connections, or the connection dropped mid-query) rather than a bug or a
// refused statement. Such failures answer `database_unavailable` (503) instead of a
// masked 500, and let the key cache answer from what it holds (server/keys/cache.ts).
// Prisma reports them as P1xxx codes or as the driver adapter's error kinds; pg and
// node:net as PostgreSQL's connection error classes (08, 57P) and socket codes.

const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2037"]);
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
]);
const PG_MESSAGES =
  /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)/i;

type Described = { code?: unknown; kind?: unknown; message?: unknown; meta?: unknown; cause?: unknown };

export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== "object" || error === null || depth > 4) return false;
  const { code, kind, message, meta, cause } = error as Described;
  if (typeof code === "string") {
    if (PRISMA_CODES.has(code) || SOCKET_CODES.has(code)) return true;
    // PostgreSQL: connection exceptions (08…) and operator intervention (57P01–57P03).
    if (/^(08...|57P0[123])$/.test(code)) return true;
  }
  if (typeof kind === "string" && ADAPTER_KINDS.has(kind)) return true;
  if (typeof message === "string" && PG_MESSAGES.test(message)) return true;
  const adapterError = (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError;
  return isDatabaseUnavailable(adapterError, depth + 1) || isDatabaseUnavailable(cause, depth + 1);
}
