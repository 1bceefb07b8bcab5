import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { createClient, type KeywardClient } from "@keyward/sdk";
import { createApp } from "../../server/app";
import { type Config, loadConfig } from "../../server/config";
import type { Database } from "../../server/db";
import { createLogger } from "../../server/logger";
import { openTestDatabase, type TestDatabase } from "./db";

export const TEST_IP = "203.0.113.7";

export interface TestApp {
  yoga: Awaited<ReturnType<typeof createApp>>["yoga"];
  /** The request edge, for a real node:http server in tests (createNodeHandler(app)). */
  edge: Awaited<ReturnType<typeof createApp>>["edge"];
  /** The whole server as a Fetch API handler, through the edge (what `fetch` and `client` use). */
  serve: Awaited<ReturnType<typeof createApp>>["fetch"];
  /** What every request shares (for the node:http handler's fast path). */
  deps: Awaited<ReturnType<typeof createApp>>["deps"];
  /** The key engine: cache (with its stats), invalidation bus, limits, usage recorder. */
  keys: Awaited<ReturnType<typeof createApp>>["keys"];
  /** The master keyring (rotate-master-key turns it). */
  box: Awaited<ReturnType<typeof createApp>>["box"];
  /** SQL statements sent so far, with `countQueries`. */
  queries: string[];
  /** Runs `call` and returns the SQL statements it issued (with `countQueries`). */
  counting<T>(call: () => Promise<T>): Promise<{ result: T; statements: string[] }>;
  /** Writes batched lastUsedAt values now. */
  flushUsage(): Promise<number>;
  /** Runs the webhook worker's pass now (after any under way); returns how many deliveries it sent. */
  deliverWebhooks(): Promise<number>;
  /** Runs the expiry job's pass now; returns the alerts it enqueued (null: another pass held the lock). */
  alertExpiry(): Promise<number | null>;
  db: TestDatabase["database"]["prisma"];
  database: TestDatabase;
  /** Every log line the server wrote, as raw JSON text. */
  logs: string[];
  /** An SDK client that calls the server in process, through the edge. */
  client(token?: string, headers?: Record<string, string>): KeywardClient;
  /** Raw HTTP through the edge, in process, for what the SDK cannot send (bad JSON, odd headers). */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  clock: { now: Date; advance(ms: number): void };
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Record every SQL statement Prisma sends in `app.queries`. */
  countQueries?: boolean;
  /** Serve the dashboard's files from here instead of web/dist. */
  dashboardDir?: string;
  /** Wraps the Prisma client the server uses (the test's own `db` stays unwrapped), e.g. to schedule its queries. */
  prisma?: (client: Database["prisma"]) => Database["prisma"];
}

export async function startTestApp(env: Record<string, string> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const queries: string[] = [];
  const database = await openTestDatabase(options.countQueries ? { log: [{ emit: "event", level: "query" }] } : {});
  if (options.countQueries) {
    // The client is built with a query log; its type does not say so.
    (database.database.prisma as unknown as { $on(event: "query", cb: (e: { query: string }) => void): void }).$on(
      "query",
      (event) => {
        queries.push(event.query);
      },
    );
  }
  const config: Config = loadConfig({
    LOG_LEVEL: "info",
    NODE_ENV: "test",
    // Keeps tests from writing a master key file into ./data.
    KEYWARD_MASTER_KEY: randomBytes(32).toString("base64"),
    // Suites sign up many users from one address; the limit itself has its own test.
    KEYWARD_AUTH_RATE_LIMIT: "1000000",
    // Where statements are counted, the background jobs' timers would put their own
    // polls into a counted window: those suites run the jobs by hand
    // (deliverWebhooks, alertExpiry) instead.
    ...(options.countQueries ? { KEYWARD_WEBHOOK_INTERVAL_MS: "3600000", KEYWARD_EXPIRY_INTERVAL_MS: "3600000" } : {}),
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const clock = {
    now: new Date(),
    advance(ms: number) {
      clock.now = new Date(clock.now.getTime() + ms);
    },
  };
  const served = options.prisma
    ? { ...database.database, prisma: options.prisma(database.database.prisma) }
    : database.database;
  const app = await createApp({
    config,
    logger: createLogger(config.logLevel, sink),
    database: served,
    clock: () => clock.now,
    ...(options.dashboardDir ? { dashboardDir: options.dashboardDir } : {}),
  });
  const fetchIn = (input: string, init?: RequestInit) => app.fetch(input, init, { ip: TEST_IP });
  return {
    yoga: app.yoga,
    edge: app.edge,
    serve: app.fetch,
    deps: app.deps,
    keys: app.keys,
    box: app.box,
    queries,
    counting: async (call) => {
      const from = queries.length;
      const result = await call();
      return { result, statements: queries.slice(from) };
    },
    db: database.database.prisma,
    database,
    logs,
    clock,
    client: (token, headers) => createClient({ url: "http://keyward.test/graphql", token, fetch: fetchIn, headers }),
    fetch: (path, init) => fetchIn(`http://keyward.test${path}`, init),
    flushUsage: () => app.keys.usage.flush(),
    deliverWebhooks: () => app.webhooks.run(),
    alertExpiry: () => app.expiry.run(),
    close: async () => {
      await app.expiry.stop();
      await app.webhooks.stop();
      await app.keys.usage.stop();
      await app.keys.bus.close();
      // Spans still buffered reach the collector (test/api/traces.test.ts).
      await app.tracing?.shutdown();
      await database.drop();
    },
  };
}

let counter = 0;
/** A unique, valid email for this test run. */
export function uniqueEmail(name = "user"): string {
  counter += 1;
  return `${name}.${process.pid}.${counter}@example.com`;
}

export const PASSWORD = "correct horse battery staple";

/** Signs up a fresh user and returns their client and identity. */
export async function signUpUser(app: TestApp, name = "user") {
  const email = uniqueEmail(name);
  const { signUp } = await app.client().signUp({ input: { email, password: PASSWORD, name } });
  return { token: signUp.token, user: signUp.user, email, client: app.client(signUp.token) };
}
