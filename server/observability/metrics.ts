import type { KeyServices } from "../context";
import type { Database } from "../db";
import type { RequestMeta } from "../http/request-meta";
import type { WebhookWorker } from "../webhooks/worker";
import { Buckets, CounterFamily, HistogramFamily, registerCollected } from "./collected";

// The metrics behind GET /metrics (KEYWARD_METRICS=on). One registry per app
// (tests run several apps in one process); prom-client is loaded only when
// metrics are on. Requests and verifications are counted in plain numbers by the
// edge when each request ends; everything else is read from the parts that keep
// it (cache, limiter, usage recorder, pool, webhook worker) when scraped. The
// README's "Metrics and traces" lists every series with an example query.

/** What the edge tells the metrics about each request, once it is answered. */
export interface Metrics {
  /** The route's label for a path: a fixed set, so a client cannot grow the series. */
  requestDone(meta: RequestMeta, path: string, status: number): void;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
}

export interface MetricSources {
  keys: KeyServices;
  database: Database;
  webhooks: WebhookWorker;
}

const ROUTES: Record<string, string> = {
  "/graphql": "/graphql",
  "/v1/keys/verify": "/v1/keys/verify",
  "/healthz": "/healthz",
  "/readyz": "/readyz",
  "/metrics": "/metrics",
  "/docs/errors": "/docs/errors",
  "/leaks/github": "/leaks/github",
};

export function routeOf(path: string): string {
  return ROUTES[path] ?? (path === "/v1/authorize" || path.startsWith("/v1/authorize/") ? "/v1/authorize" : "other");
}

/** Which way a verification came: the two GraphQL engines and the two plain-HTTP routes. */
function verifyPath(route: string, viaYoga: boolean): string {
  if (route === "/graphql") return viaYoga ? "graphql_yoga" : "graphql_fast";
  if (route === "/v1/keys/verify") return "rest_verify";
  if (route === "/v1/authorize") return "authorize";
  return "other";
}

const statusClass = (status: number) => `${Math.floor(status / 100)}xx`;

export async function createMetrics(sources: MetricSources): Promise<Metrics> {
  const prom = await import("prom-client");
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry });
  const { keys, database, webhooks } = sources;

  const durations = new HistogramFamily(["route", "engine", "status"]);
  // The hot path's series by a string built once per request, not a label object.
  const byId = new Map<string, Buckets>();
  const verifications = new CounterFamily(["path", "code"]);
  registerCollected(
    registry,
    {
      name: "keyward_http_request_duration_seconds",
      help: "Time to answer, by route, engine (edge or yoga) and status class.",
      type: "histogram",
    },
    () => durations.samples("keyward_http_request_duration_seconds"),
  );
  registerCollected(
    registry,
    {
      name: "keyward_verifications_total",
      help: "Key verifications by path and outcome code (VALID or a catalog code).",
      type: "counter",
    },
    () => verifications.samples(),
  );

  const { stats } = keys.cache;
  const cacheCounter = (name: string, help: string, read: () => number) =>
    registerCollected(registry, { name, help, type: "counter" }, () => [{ labels: {}, value: read() }]);
  cacheCounter("keyward_key_cache_hits_total", "Key lookups answered from this process's cache.", () => stats.hits);
  cacheCounter(
    "keyward_key_cache_misses_total",
    "Key lookups the cache did not hold (read from the database).",
    () => stats.misses,
  );
  cacheCounter(
    "keyward_key_cache_negative_hits_total",
    "Unknown keys answered from the negative cache.",
    () => stats.negativeHits,
  );
  cacheCounter(
    "keyward_key_cache_db_lookups_total",
    "Database reads made by the key cache (keys, workspaces, services, deployments).",
    () => stats.dbLookups,
  );

  registerCollected(
    registry,
    {
      name: "keyward_rate_limit_rejections_total",
      help: "Requests refused by a rate limit, by limit kind.",
      type: "counter",
    },
    () => [...keys.limits.rejections].map(([limit, value]) => ({ labels: { limit }, value })),
  );

  const flushRows = new Buckets([1, 10, 100, 1_000, 10_000, 100_000]);
  const flushSeconds = new Buckets([0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5]);
  let flushFailures = 0;
  keys.usage.onFlush = ({ rows, seconds, ok }) => {
    if (!ok) flushFailures++;
    flushRows.observe(rows);
    flushSeconds.observe(seconds);
  };
  registerCollected(
    registry,
    {
      name: "keyward_usage_flush_lag_seconds",
      help: "Seconds since usage (lastUsedAt, counts) was last written.",
      type: "gauge",
    },
    () => [{ labels: {}, value: (Date.now() - keys.usage.lastFlushedAt) / 1000 }],
  );
  registerCollected(
    registry,
    { name: "keyward_usage_pending_entries", help: "Usage entries collected and not yet written.", type: "gauge" },
    () => [{ labels: {}, value: keys.usage.pending }],
  );
  registerCollected(
    registry,
    { name: "keyward_usage_flush_batch_rows", help: "Rows written per usage flush.", type: "histogram" },
    () => flushRows.samples("keyward_usage_flush_batch_rows", {}),
  );
  registerCollected(
    registry,
    { name: "keyward_usage_flush_duration_seconds", help: "Time one usage flush took.", type: "histogram" },
    () => flushSeconds.samples("keyward_usage_flush_duration_seconds", {}),
  );
  registerCollected(
    registry,
    {
      name: "keyward_usage_flush_failures_total",
      help: "Usage flushes that failed (their entries are kept for the next).",
      type: "counter",
    },
    () => [{ labels: {}, value: flushFailures }],
  );

  observeDatabase(registry, database);

  registerCollected(
    registry,
    {
      name: "keyward_webhook_queue_depth",
      help: "Webhook deliveries waiting to be sent (due now or retrying later).",
      type: "gauge",
    },
    async () => {
      try {
        return [{ labels: {}, value: await database.prisma.webhookDelivery.count({ where: { status: "PENDING" } }) }];
      } catch {
        // The database is down: the scrape still answers (/readyz reports the outage).
        return [];
      }
    },
  );
  registerCollected(
    registry,
    { name: "keyward_webhook_attempts_total", help: "Webhook delivery attempts by result.", type: "counter" },
    () => [
      { labels: { result: "succeeded" }, value: webhooks.stats.succeeded },
      { labels: { result: "failed" }, value: webhooks.stats.failed },
    ],
  );
  registerCollected(
    registry,
    {
      name: "keyward_webhook_abandoned_total",
      help: "Webhook deliveries given up after their last attempt.",
      type: "counter",
    },
    () => [{ labels: {}, value: webhooks.stats.abandoned }],
  );

  return {
    requestDone(meta, path, status) {
      const route = routeOf(path);
      const engine = meta.viaYoga ? "yoga" : "edge";
      const id = `${route} ${engine} ${status}`;
      let series = byId.get(id);
      if (!series) {
        series = durations.get([route, engine, statusClass(status)]);
        byId.set(id, series);
      }
      series.observe((performance.now() - meta.startedAt) / 1000);
      if (meta.verified) {
        const way = verifyPath(route, meta.viaYoga === true);
        for (const code of meta.verified) verifications.inc([way, code]);
      }
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/** Pool counts (PostgreSQL) and query latency from Prisma's query events (both databases). */
function observeDatabase(registry: import("prom-client").Registry, database: Database): void {
  const { pool } = database;
  if (pool) {
    registerCollected(
      registry,
      {
        name: "keyward_db_pool_connections",
        help: "PostgreSQL pool connections by state (total, idle, waiting clients).",
        type: "gauge",
      },
      () => [
        { labels: { state: "total" }, value: pool.totalCount },
        { labels: { state: "idle" }, value: pool.idleCount },
        { labels: { state: "waiting" }, value: pool.waitingCount },
      ],
    );
  }
  const queries = new Buckets([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5]);
  // Fires only when the client was opened with query events (createApp does so when metrics are on).
  (database.prisma as unknown as { $on(event: "query", cb: (e: { duration: number }) => void): void }).$on(
    "query",
    (event) => queries.observe(Number(event.duration) / 1000),
  );
  registerCollected(
    registry,
    {
      name: "keyward_db_query_duration_seconds",
      help: "Database statements' time as Prisma measured it.",
      type: "histogram",
    },
    () => queries.samples("keyward_db_query_duration_seconds", { database: database.kind }),
  );
}
