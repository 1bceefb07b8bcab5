import { type AdminReply, callAdminChannel, NO_SERVER } from "../platform/admin-channel";
import { type OperatorCommands, operatorCommands } from "../platform/operations";
import { cliConfig, openForCli } from "./open";

// Where an operator command runs. With PostgreSQL (DATABASE_URL) the CLI opens its
// own connection, whether or not servers run: a change's transaction announces it
// to them (server/keys/invalidation.ts). With the embedded database, a running
// server holds the data directory, so the command goes through that server's local
// admin channel (server/platform/admin-channel.ts); with no server running, the CLI
// opens the data directory itself.

type Name = keyof OperatorCommands;
type Input<C extends Name> = Parameters<OperatorCommands[C]>[0];
export type Value<C extends Name> = Extract<Awaited<ReturnType<OperatorCommands[C]>>, { ok: true }>["value"];

const problem = (message: string): null => {
  console.error(`keyward: ${message}`);
  process.exitCode = 1;
  return null;
};

/** Runs the command where it must run; prints a failure and answers null. */
export async function runOperatorCommand<C extends Name>(command: C, input: Input<C>): Promise<Value<C> | null> {
  const config = cliConfig();
  let reply: AdminReply;
  try {
    const viaServer = config.databaseUrl ? NO_SERVER : await callAdminChannel(config.dataDir, command, input);
    if (viaServer !== NO_SERVER) reply = viaServer;
    else {
      const database = await openForCli(config);
      try {
        const run = operatorCommands(database.prisma)[command] as (input: unknown) => Promise<AdminReply>;
        reply = await run(input);
      } finally {
        await database.close();
      }
    }
  } catch (error) {
    return problem(error instanceof Error ? error.message : String(error));
  }
  // The catalog code after the message, as the API's errors carry it (docs/errors).
  return reply.ok ? (reply.value as Value<C>) : problem(`${reply.error.message} (${reply.error.code})`);
}
