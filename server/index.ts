import { createServer } from "node:http";
import { createApp } from "./app";
import { ConfigError, loadConfig } from "./config";
import { drainServer } from "./http/drain";
import { createNodeHandler } from "./http/node-handler";
import { createLogger } from "./logger";
import { openAdminChannel } from "./platform/admin-channel";
import { operatorCommands } from "./platform/operations";

// Reads config, starts HTTP, stops gracefully. Everything else lives in app.ts / yoga.ts.

let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(`keyward: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger(config.logLevel);
const app = await createApp({ config, logger });
// The embedded database lives in this process: `npm run admin` reaches it through
// this channel while the server runs. With PostgreSQL the CLI connects itself.
const adminChannel = config.databaseUrl
  ? null
  : await openAdminChannel(
      config.dataDir,
      operatorCommands(
        app.deps.db,
        (hashes) => app.keys.bus.invalidate({ kind: "keys", hashes }),
        (message) => app.keys.bus.invalidate(message),
        app.box,
      ),
      logger,
    );
const server = createServer(createNodeHandler(app));
server.keepAliveTimeout = 5_000;

server.listen(config.port, config.host, () => {
  const where = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${config.port}`;
  logger.info(
    { url: `${where}/graphql`, database: app.database.kind, graphiql: !config.production },
    `Keyward listening on ${where}/graphql`,
  );
});

server.on("error", (error) => {
  logger.fatal({ err: error }, "server error");
  process.exit(1);
});

// SIGTERM: stop accepting, let requests in flight finish (at most DRAIN_MS, then
// their connections are cut), stop the webhook worker (a send under way gets the
// same time, then goes back to the queue), write the usage collected so far, close
// the database. A shutdown that has not finished by FORCE_MS exits with code 1.
const DRAIN_MS = 7_000;
const FORCE_MS = 10_000;
let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down: finishing in-flight requests");
  const force = setTimeout(() => {
    logger.error(`shutdown did not finish within ${FORCE_MS / 1000} s; exiting`);
    process.exit(1);
  }, FORCE_MS);
  force.unref();
  const deliveries = app.webhooks.stop(DRAIN_MS);
  if (!(await drainServer(server, DRAIN_MS))) {
    logger.warn(`requests still open after ${DRAIN_MS / 1000} s were cut off`);
  }
  await deliveries;
  await adminChannel?.close();
  await app.close();
  logger.info("stopped");
  process.exit(0);
}

process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
