import type { Logger } from "pino";
import { type Principal, resolvePrincipal } from "./auth/principal";
import type { Config } from "./config";
import type { Db } from "./db";
import type { RequestMeta } from "./http/request-meta";
import { credentialsFrom } from "./identity/session-cookie";
import type { KeyCache } from "./keys/cache";
import type { InvalidationBus } from "./keys/invalidation";
import type { RateLimits } from "./keys/ratelimit";
import type { SecretBox } from "./keys/secret-box";
import type { UsageRecorder } from "./keys/usage";
import type { AudienceTokens } from "./keys/verify";
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
  /** Audience tokens sent with verified keys (server/audience/). */
  audiences: AudienceTokens;
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

// A class rather than an object literal with getters: one is built per request, and
// a literal with accessors is slow to create. Loaders and the child logger are made
// on first use: a verification needs neither.
class RequestContext implements Context {
  private madeLoaders: Loaders | undefined;
  private madeLog: Logger | undefined;
  readonly db: Db;
  readonly config: Config;
  readonly box: SecretBox;
  readonly keys: KeyServices;
  readonly requestId: string;
  readonly ip: string | null;

  constructor(
    private readonly deps: AppDeps,
    readonly principal: Principal,
    readonly now: Date,
    readonly idempotencyKey: string | null,
    readonly meta: RequestMeta,
  ) {
    this.db = deps.db;
    this.config = deps.config;
    this.box = deps.box;
    this.keys = deps.keys;
    this.requestId = meta.id;
    this.ip = meta.ip;
  }

  get loaders(): Loaders {
    this.madeLoaders ??= createLoaders(this.deps.db);
    return this.madeLoaders;
  }

  get log(): Logger {
    this.madeLog ??= this.deps.logger.child({ requestId: this.requestId });
    return this.madeLog;
  }
}

export async function buildContext(deps: AppDeps, headers: HeaderSource, meta: RequestMeta): Promise<Context> {
  const now = deps.clock();
  const principal = await resolvePrincipal(deps.db, deps.keys.cache, credentialsFrom(headers), {
    now,
    origin: headers.get("origin"),
    ip: meta.ip,
  });
  return new RequestContext(deps, principal, now, headers.get("idempotency-key"), meta);
}
