import type { Logger } from "pino";
import { type Principal, resolvePrincipal } from "./auth/principal";
import type { Config } from "./config";
import type { Db } from "./db";
import type { SecretBox } from "./keys/secret-box";
import type { LastUsedRecorder } from "./keys/usage";
import { createLoaders, type Loaders } from "./loaders";

export type Clock = () => Date;

/** What the server holds for its whole life; built once in createApp. */
export interface AppDeps {
  config: Config;
  db: Db;
  logger: Logger;
  clock: Clock;
  usage: LastUsedRecorder;
  box: SecretBox;
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
}

export async function buildContext(
  deps: AppDeps,
  request: Request,
  requestId: string,
  ip: string | null,
): Promise<Context> {
  const now = deps.clock();
  const principal = await resolvePrincipal(deps.db, request.headers.get("authorization"), {
    now,
    origin: request.headers.get("origin"),
    ip,
  });
  if (principal.kind === "key") deps.usage.touch(principal.key.id, now);
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
  };
}
