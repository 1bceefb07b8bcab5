import type { Logger } from "pino";
import type { Config } from "./config";
import type { Clock } from "./context";
import { type Database, openDatabase } from "./db";
import { createSecretBox, loadMasterKey } from "./keys/secret-box";
import { LastUsedRecorder } from "./keys/usage";
import { migrate } from "./migrations";
import { createKeywardYoga, type KeywardYoga } from "./yoga";

export interface App {
  yoga: KeywardYoga;
  database: Database;
  usage: LastUsedRecorder;
  close(): Promise<void>;
}

/** Opens the database, applies pending migrations and builds the Yoga instance. */
export async function createApp(options: {
  config: Config;
  logger: Logger;
  clock?: Clock;
  database?: Database;
}): Promise<App> {
  const { config, logger } = options;
  const database =
    options.database ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }));
  const { applied } = await migrate(database);
  if (applied.length) logger.info({ applied }, "applied migrations");
  const usage = new LastUsedRecorder(database.prisma);
  usage.start();
  const box = createSecretBox(loadMasterKey(config));
  const yoga = createKeywardYoga({
    config,
    db: database.prisma,
    logger,
    clock: options.clock ?? (() => new Date()),
    ping: database.ping,
    usage,
    box,
  });
  return {
    yoga,
    database,
    usage,
    close: async () => {
      // Uses collected since the last flush are written before the database closes.
      await usage.stop().catch((error) => logger.error({ err: error }, "could not flush lastUsedAt"));
      await database.close();
    },
  };
}
