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

export async function buildContext(deps: AppDeps, request: Request, meta: RequestMeta): Promise<Context> {
  const now = deps.clock();
  const { id: requestId, ip } = meta;
  const principal = await resolvePrincipal(deps.db, deps.keys.cache, request.headers.get("authorization"), {
    now,
    origin: request.headers.get("origin"),
    ip,
  });
  return {
    db: deps.db,
    config: deps.config,
    principal,
    loaders: createLoaders(deps.db),
    requestId,
    ip,
    now,
    log: deps.logger.child({ requestId }),
    idempotencyKey: request.headers.get("idempotency-key"),
    box: deps.box,
    keys: deps.keys,
    meta,
  };
}
