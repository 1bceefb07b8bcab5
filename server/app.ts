import type { Logger } from "pino";
import { AudienceCache } from "./audience/cache";
import { audienceTokens } from "./audience/tokens";
import type { Config } from "./config";
import type { AppDeps, Clock, KeyServices } from "./context";
import { type Database, openDatabase } from "./db";
import { createEdge, type Edge } from "./http/edge";
import { createFetchHandler, type FetchHandler } from "./http/fetch-handler";
import { KeyCache } from "./keys/cache";
import { localBus, postgresBus } from "./keys/invalidation";
import { connectRedis, RateLimits } from "./keys/ratelimit";
import { createSecretBox, loadMasterKey } from "./keys/secret-box";
import { UsageRecorder } from "./keys/usage";
import { migrate } from "./migrations";
import { WebhookWorker } from "./webhooks/worker";
import { createKeywardYoga, type KeywardYoga } from "./yoga";

export interface App {
  /** The request edge: every route's decisions (server/http/edge.ts). */
  edge: Edge;
  /** The whole server as a Fetch API handler (Request in, Response out), through the edge. */
  fetch: FetchHandler;
  /** GraphQL's general engine, behind the edge: GET, GraphiQL, and what the edge leaves to it. */
  yoga: KeywardYoga;
  /** What every request shares; the node:http fast path builds contexts from it. */
  deps: AppDeps;
  database: Database;
  keys: KeyServices;
  /** Sends due webhook deliveries (started here; stopped by close). */
  webhooks: WebhookWorker;
  close(): Promise<void>;
}

/** Opens the database, applies pending migrations and builds the Yoga instance. */
export async function createApp(options: {
  config: Config;
  logger: Logger;
  clock?: Clock;
  database?: Database;
  /** Where the dashboard's built files are (default: web/dist of this checkout). */
  dashboardDir?: string;
}): Promise<App> {
  const { config, logger } = options;
  const database =
    options.database ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }));
  const { applied } = await migrate(database);
  if (applied.length) logger.info({ applied }, "applied migrations");
  const cache = new KeyCache(database.prisma);
  // Other instances share PostgreSQL; the embedded database has only this process.
  const bus = config.databaseUrl ? await postgresBus(config.databaseUrl, cache, logger) : localBus(cache);
  const redis = config.redisUrl ? connectRedis(config.redisUrl, logger) : null;
  const box = createSecretBox(loadMasterKey(config));
  // Signing keys and audience trees, forgotten whenever the key cache forgets.
  const audiences = new AudienceCache(database.prisma, box, logger);
  cache.follow(audiences);
  const keys: KeyServices = {
    cache,
    bus,
    limits: new RateLimits(redis),
    usage: new UsageRecorder(database.prisma),
    audiences: audienceTokens(audiences),
  };
  keys.usage.start();
  const deps: AppDeps = {
    config,
    db: database.prisma,
    logger,
    clock: options.clock ?? (() => new Date()),
    keys,
    box,
  };
  const webhooks = new WebhookWorker({
    db: database.prisma,
    box,
    clock: deps.clock,
    logger,
    policy: { production: config.production, allowPrivate: config.webhooks.allowPrivate },
    timeoutMs: config.webhooks.timeoutMs,
    intervalMs: config.webhooks.intervalMs,
  });
  webhooks.start();
  const yoga = createKeywardYoga(deps);
  const edge = createEdge({ ...deps, ping: database.ping, dashboardDir: options.dashboardDir });
  return {
    edge,
    fetch: createFetchHandler(deps, edge, yoga),
    yoga,
    deps,
    database,
    keys,
    webhooks,
    close: async () => {
      // A delivery cut short here is sent again once its lease ends (server/webhooks/worker.ts).
      await webhooks.stop();
      // Uses collected since the last flush are written before the database closes.
      await keys.usage.stop().catch((error: unknown) => logger.error({ err: error }, "could not flush key usage"));
      await bus.close();
      redis?.disconnect();
      await database.close();
    },
  };
}
