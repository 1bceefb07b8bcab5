import type { Logger } from "pino";
import { type Principal, resolvePrincipal } from "./auth/principal";
import type { Config } from "./config";
import type { Db } from "./db";
import type { RequestMeta } from "./http/request-meta";
import type { KeyCache } from "./keys/cache";
import type { InvalidationBus } from "./keys/invalidation";
import type { RateLimits } from "./keys/ratelimit";
import type { SecretBox } from "./keys/secret-box";
import type { UsageRecorder } from "./keys/usage";
import { createLoaders, type Loaders } from "./loaders";

export type Clock = () => Date;

/** What the server holds for its whole life; built once in createApp. */
export interface AppDeps {
  config: Config;
  db: Db;
  logger: Logger;
  clock: Clock;
  keys: KeyServices;
  box: SecretBox;
}

/** The key engine's long-lived parts: cache, cross-instance invalidation, limits, usage. */
export interface KeyServices {
  cache: KeyCache;
  bus: InvalidationBus;
  limits: RateLimits;
  usage: UsageRecorder;
}

export interface Context {
  db: Db;
  config: Config;
  principal: Principal;
  loaders: Loaders;
  requestId: string;
  ip: string | null;
  now: Date;
  log: Logger;
  /** The Idempotency-Key header, for createApiKey and rollApiKey. */
  idempotencyKey: string | null;
  box: SecretBox;
  keys: KeyServices;
  meta: RequestMeta;
}

/** Only what the context reads from a request, so the fast path can build one from node:http headers. */
export interface HeaderSource {
  get(name: string): string | null;
}

export async function buildContext(deps: AppDeps, headers: HeaderSource, meta: RequestMeta): Promise<Context> {
  const now = deps.clock();
  const { id: requestId, ip } = meta;
  const principal = await resolvePrincipal(deps.db, deps.keys.cache, headers.get("authorization"), {
    now,
    origin: headers.get("origin"),
    ip,
  });
  // Loaders and the child logger are made on first use: a verification needs neither.
  let loaders: Loaders | undefined;
  let log: Logger | undefined;
  return {
    db: deps.db,
    config: deps.config,
    principal,
    get loaders() {
      loaders ??= createLoaders(deps.db);
      return loaders;
    },
    requestId,
    ip,
    now,
    get log() {
      log ??= deps.logger.child({ requestId });
      return log;
    },
    idempotencyKey: headers.get("idempotency-key"),
    box: deps.box,
    keys: deps.keys,
    meta,
  };
}
