import pg from "pg";
import type { Logger } from "pino";
import type { Prisma } from "../generated/prisma/client";
import type { KeyCache } from "./cache";

// Tells every Keyward instance that a key or workspace changed. The change's own
// transaction announces it (pg_notify): PostgreSQL delivers a notification sent
// inside a transaction when, and only if, it commits, so no committed revocation
// can go unannounced and no rolled-back one is announced. Each instance listens
// on the database they already share and drops the cache entries named; the
// instance that made the change also drops them itself before answering. The
// embedded database has only this process.
//
// Messages sent while the listening connection is down are lost to this instance.
// So the connection is watched (its 'error' and 'end', and a heartbeat query that
// must answer within a second, for a connection that hangs without breaking): the
// moment it is lost the cache is distrusted (every lookup reads the database), the
// listener reconnects with backoff, and once it listens again everything cached is
// dropped. /readyz reports the gap.

export type Invalidation =
  | { kind: "keys"; hashes: string[] }
  | { kind: "workspace"; id: string }
  /** Keys were imported (server/keys/import.ts): forget cached misses, re-read imported prefixes. */
  | { kind: "imports" };

export interface InvalidationBus {
  /** Drops the entries here, at once; other instances hear of it from the change's transaction. */
  invalidate(message: Invalidation): void;
  /** Whether this instance hears every change made elsewhere (false while reconnecting). */
  subscribed(): boolean;
  close(): Promise<void>;
}

const CHANNEL = "keyward_invalidate";

/** Inside the transaction that makes the change: every instance hears of it once it commits. */
export async function announce(tx: Prisma.TransactionClient, message: Invalidation): Promise<void> {
  await tx.$executeRaw`SELECT pg_notify(${CHANNEL}, ${JSON.stringify(message)})`;
}

function apply(cache: KeyCache, message: Invalidation) {
  if (message.kind === "keys") cache.invalidateKeys(message.hashes);
  else if (message.kind === "imports") cache.invalidateImports();
  else cache.invalidateWorkspace(message.id);
}

export function localBus(cache: KeyCache): InvalidationBus {
  return {
    invalidate: (message) => apply(cache, message),
    subscribed: () => true,
    close: async () => {},
  };
}

export interface ListenerTiming {
  /** How often the listening connection is asked to answer. */
  heartbeatMs: number;
  /** How long it has to answer before it counts as lost. */
  timeoutMs: number;
}

// A connection that stops answering is noticed within a second: asked every 250 ms, given 750 ms.
const TIMING: ListenerTiming = { heartbeatMs: 250, timeoutMs: 750 };
/** Reconnection delays: 100 ms doubling to 2 s. */
const backoff = (attempt: number) => Math.min(100 * 2 ** attempt, 2_000);
export const LISTENER_NAME = "keyward-invalidation";

export async function postgresBus(
  url: string,
  cache: KeyCache,
  logger: Logger,
  timing: ListenerTiming = TIMING,
): Promise<InvalidationBus> {
  let closed = false;
  let listener: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let attempt = 0;
  let beating = false;

  const lost = (client: pg.Client, error?: Error) => {
    if (closed || listener !== client) return;
    listener = undefined;
    cache.distrust();
    logger.warn({ err: error }, "cache invalidation listener lost: the cache reads the database until it is back");
    client.end().catch(() => {});
    reconnect();
  };

  const reconnect = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect(true).then(
        () => logger.info("cache invalidation listener reconnected: cache dropped and trusted again"),
        () => reconnect(),
      );
    }, backoff(attempt++));
    retry.unref();
  };

  const connect = async (reconnecting: boolean): Promise<void> => {
    const client = new pg.Client({
      connectionString: url,
      application_name: LISTENER_NAME,
      connectionTimeoutMillis: timing.timeoutMs * 2,
      query_timeout: timing.timeoutMs,
      keepAlive: true,
    });
    client.on("notification", (note) => {
      if (note.channel !== CHANNEL || !note.payload) return;
      try {
        apply(cache, JSON.parse(note.payload) as Invalidation);
      } catch {
        cache.clear();
      }
    });
    client.on("error", (error) => lost(client, error));
    client.on("end", () => lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    if (closed) {
      await client.end().catch(() => {});
      return;
    }
    listener = client;
    attempt = 0;
    // Listening from here on: what was cached meanwhile may have missed messages.
    if (reconnecting) cache.trust();
  };

  await connect(false);
  // A connection can stop answering without breaking (a frozen server, a cut
  // network): a heartbeat that does not come back in time counts as a loss.
  const heartbeat = setInterval(() => {
    const client = listener;
    if (!client || beating) return;
    beating = true;
    client
      .query("SELECT 1")
      .catch((error: Error) => lost(client, error))
      .finally(() => {
        beating = false;
      });
  }, timing.heartbeatMs);
  heartbeat.unref();
  return {
    invalidate: (message) => apply(cache, message),
    subscribed: () => listener !== undefined,
    async close() {
      closed = true;
      clearInterval(heartbeat);
      if (retry) clearTimeout(retry);
      await listener?.end().catch(() => {});
    },
  };
}
