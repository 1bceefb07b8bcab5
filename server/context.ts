import type { Logger } from "pino";
import { type Principal, resolvePrincipal } from "./auth/principal";
import type { Config } from "./config";
import type { Db } from "./db";
import { createLoaders, type Loaders } from "./loaders";

export type Clock = () => Date;

/** What the server holds for its whole life; built once in createApp. */
export interface AppDeps {
  config: Config;
  db: Db;
  logger: Logger;
  clock: Clock;
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
}

export async function buildContext(
  deps: AppDeps,
  request: Request,
  requestId: string,
  ip: string | null,
): Promise<Context> {
  const now = deps.clock();
  return {
    db: deps.db,
    config: deps.config,
    principal: await resolvePrincipal(deps.db, request.headers.get("authorization"), now),
    loaders: createLoaders(deps.db),
    requestId,
    ip,
    now,
    log: deps.logger.child({ requestId }),
  };
}
