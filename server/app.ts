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
import { createSecretBox, loadMasterKeys, type MasterKeyring } from "./keys/secret-box";
import { UsageRecorder } from "./keys/usage";
import { migrate } from "./migrations";
import { createMetrics, type Metrics } from "./observability/metrics";
import { startTracing, type Tracing } from "./observability/tracing";
import { ExpiryAlerts } from "./webhooks/expiry";
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
  /** The master keyring every sealed copy is under (rotate-master-key turns it). */
  box: MasterKeyring;
  /** Sends due webhook deliveries (started here; stopped by close). */
  webhooks: WebhookWorker;
  /** Enqueues key.expiring/key.expired alerts (started here; stopped by close). */
  expiry: ExpiryAlerts;
  /** This app's metrics (KEYWARD_METRICS=on), or null. */
  metrics: Metrics | null;
  /** This app's trace exporter (OTEL_EXPORTER_OTLP_ENDPOINT set), or null; close shuts it down. */
  tracing: Tracing | null;
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
  // Query events feed the query-latency histogram; they cost nothing when metrics are off.
  const log = config.metrics.enabled ? [{ emit: "event" as const, level: "query" as const }] : [];
  const database =
    options.database ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log }));
  const { applied } = await migrate(database);
  if (applied.length) logger.info({ applied }, "applied migrations");
  const cache = new KeyCache(database.prisma, config.keyCacheSize);
  // Read now, so even the first malformed key is refused without a query (keys/lookup.ts).
  await cache.importedPrefixes();
  // Other instances share PostgreSQL; the embedded database has only this process.
  const bus = config.databaseUrl ? await postgresBus(config.databaseUrl, cache, logger) : localBus(cache);
  const redis = config.redisUrl ? connectRedis(config.redisUrl, logger) : null;
  const box = createSecretBox(loadMasterKeys(config));
  // Signing keys and audience trees, forgotten whenever the key cache forgets.
  const audiences = new AudienceCache(database.prisma, box, logger);
  cache.follow(audiences);
  const keys: KeyServices = {
    cache,
    bus,
    limits: new RateLimits(redis),
    usage: new UsageRecorder(database.prisma, config.usageFlushMs),
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
  const expiry = new ExpiryAlerts({
    db: database.prisma,
    clock: deps.clock,
    logger,
    intervalMs: config.webhooks.expiryIntervalMs,
  });
  expiry.start();
  // One registry per app, so apps in one process (tests) never share series.
  const metrics = config.metrics.enabled ? await createMetrics({ keys, database, webhooks }) : null;
  const tracing: Tracing | null = config.traces.endpoint
    ? await startTracing({ endpoint: config.traces.endpoint, serviceName: config.traces.serviceName })
    : null;
  const yoga = createKeywardYoga(deps);
  const edge = createEdge({
    ...deps,
    readiness: async () => ({ database: await database.ping(), invalidations: bus.subscribed() }),
    metrics,
    tracing,
    dashboardDir: options.dashboardDir,
  });
  return {
    edge,
    fetch: createFetchHandler(deps, edge, yoga),
    yoga,
    deps,
    database,
    keys,
    box,
    webhooks,
    expiry,
    metrics,
    tracing,
    close: async () => {
      await expiry.stop();
      // A send still under way after the grace is cut off and handed back (server/webhooks/worker.ts).
      await webhooks.stop();
      // Uses collected since the last flush are written before the database closes.
      await keys.usage.stop().catch((error: unknown) => logger.error({ err: error }, "could not flush key usage"));
      await bus.close();
      redis?.disconnect();
      await database.close();
      // Spans still buffered are sent before the process goes.
      await tracing
        ?.shutdown()
        .catch((error: unknown) => logger.warn({ err: error }, "could not send the last traces"));
    },
  };
}
