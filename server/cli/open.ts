import { type Config, ConfigError, loadConfig } from "../config";
import { type Database, openDatabase } from "../db";
import { migrate } from "../migrations";

const exit = (error: unknown): never => {
  console.error(`keyward: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
};

/** The configuration for a command-line tool; a bad one ends the process with one line. */
export function cliConfig(): Config {
  try {
    return loadConfig();
  } catch (error) {
    return exit(error);
  }
}

/** Config and a migrated database for a command-line tool; a bad config ends the process with one line. */
export async function openForCli(config: Config = cliConfig()): Promise<Database> {
  try {
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    const { applied } = await migrate(database);
    for (const name of applied) console.error(`applied migration ${name}`);
    return database;
  } catch (error) {
    return exit(error);
  }
}
