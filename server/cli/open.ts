import { ConfigError, loadConfig } from "../config";
import { type Database, openDatabase } from "../db";
import { migrate } from "../migrations";

/** Config and a migrated database for a command-line tool; a bad config ends the process with one line. */
export async function openForCli(): Promise<Database> {
  try {
    const config = loadConfig();
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    const { applied } = await migrate(database);
    for (const name of applied) console.error(`applied migration ${name}`);
    return database;
  } catch (error) {
    console.error(`keyward: ${error instanceof ConfigError || error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
