import pg from "pg";
import type { Logger } from "pino";
import type { Prisma } from "../generated/prisma/client";
import type { KeyCache } from "./cache";

// Tells every Keyward instance that a key or workspace changed. The change's own
// transaction announces it (pg_notify): PostgreSQL delivers a notification sent
// inside a transaction when, and only if, it commits, so no committed revocation
// can go unannounced and no rolled-back one is announced. Each instance listens
// on the database they already share and drops the cache entries named; the
// instance that made the change also drops them itself before answering. If the
// listening connection drops, the cache is cleared on reconnect, since messages
// may have been missed meanwhile. The embedded database has only this process.

export type Invalidation =
  | { kind: "keys"; hashes: string[] }
  | { kind: "workspace"; id: string }
  /** Keys were imported (server/keys/import.ts): forget cached misses, re-read imported prefixes. */
  | { kind: "imports" };

export interface InvalidationBus {
  /** Drops the entries here, at once; other instances hear of it from the change's transaction. */
  invalidate(message: Invalidation): void;
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
    close: async () => {},
  };
}

export async function postgresBus(url: string, cache: KeyCache, logger: Logger): Promise<InvalidationBus> {
  let closed = false;
  let listener: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (reconnecting: boolean): Promise<void> => {
    const client = new pg.Client({ connectionString: url });
    client.on("notification", (note) => {
      if (note.channel !== CHANNEL || !note.payload) return;
      try {
        apply(cache, JSON.parse(note.payload) as Invalidation);
      } catch {
        cache.clear();
      }
    });
    const lost = (error?: Error) => {
      if (closed || listener !== client) return;
      listener = undefined;
      logger.warn({ err: error }, "cache invalidation listener lost; reconnecting");
      cache.clear();
      retry = setTimeout(() => void connect(true).catch(() => lost()), 500);
      retry.unref();
    };
    client.on("error", lost);
    client.on("end", () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    listener = client;
    if (reconnecting) {
      cache.clear();
      logger.info("cache invalidation listener reconnected");
    }
  };

  await connect(false);
  return {
    invalidate: (message) => apply(cache, message),
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      await listener?.end().catch(() => {});
    },
  };
}
