import pg from "pg";
import type { Logger } from "pino";
import type { KeyCache } from "./cache";

// Tells every Keyward instance that a key or workspace changed. With PostgreSQL,
// through LISTEN/NOTIFY on the database they already share (a revocation reaches
// other instances in milliseconds); with the embedded database there is only this
// process. If the listening connection drops, the cache is cleared on reconnect,
// since messages may have been missed meanwhile.

export type Invalidation = { kind: "keys"; hashes: string[] } | { kind: "workspace"; id: string };

export interface InvalidationBus {
  /** Invalidates here at once, then tells the other instances. */
  publish(message: Invalidation): Promise<void>;
  close(): Promise<void>;
}

const CHANNEL = "keyward_invalidate";

function apply(cache: KeyCache, message: Invalidation) {
  if (message.kind === "keys") cache.invalidateKeys(message.hashes);
  else cache.invalidateWorkspace(message.id);
}

export function localBus(cache: KeyCache): InvalidationBus {
  return {
    publish: async (message) => apply(cache, message),
    close: async () => {},
  };
}

export async function postgresBus(url: string, cache: KeyCache, logger: Logger): Promise<InvalidationBus> {
  let closed = false;
  let listener: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const sender = new pg.Pool({ connectionString: url, max: 2 });
  sender.on("error", () => {});

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
    async publish(message) {
      apply(cache, message);
      try {
        await sender.query("SELECT pg_notify($1, $2)", [CHANNEL, JSON.stringify(message)]);
      } catch (error) {
        // The change is committed and this instance is correct; others fall back on cache TTLs.
        logger.error({ err: error }, "could not broadcast a cache invalidation");
      }
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      await listener?.end().catch(() => {});
      await sender.end().catch(() => {});
    },
  };
}
