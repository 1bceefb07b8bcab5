// `npm run admin -- <command>`: operator tasks that need direct database access.
// Platform admins are made only here, so there is no window in which a stranger
// could claim the role through the API.
import { randomBytes } from "node:crypto";
import { text } from "node:stream/consumers";
import { Command } from "commander";
import { verifyAuditChain } from "../audit/log";
import { createPlatformAdmin } from "../identity/accounts";
import { openForCli } from "./open";

const program = new Command("keyward-admin").description("Keyward operator commands");

program
  .command("create-admin")
  .description("create a platform admin account")
  .requiredOption("--email <email>", "the admin's email")
  .option("--name <name>", "display name", "Platform admin")
  .option("--password-stdin", "read the password from standard input instead of generating one")
  .action(async (options: { email: string; name: string; passwordStdin?: boolean }) => {
    const generated = !options.passwordStdin;
    const password = generated
      ? randomBytes(18).toString("base64url")
      : (await text(process.stdin)).replace(/\r?\n$/, "");
    const database = await openForCli();
    try {
      const result = await createPlatformAdmin(
        database.prisma,
        { email: options.email, name: options.name, password },
        new Date(),
      );
      if (!result.ok) {
        console.error(`keyward: ${result.error.message}`);
        process.exitCode = 1;
        return;
      }
      console.log(`created platform admin ${result.value.email} (${result.value.id})`);
      // Shown once, on the operator's terminal; never logged or stored in plaintext.
      if (generated) console.log(`password: ${password}`);
    } finally {
      await database.close();
    }
  });

program
  .command("verify-audit")
  .description("check the audit log's hash chain from the first row to the last")
  .action(async () => {
    const database = await openForCli();
    try {
      const result = await verifyAuditChain(database.prisma);
      if (result.ok) console.log(`audit chain intact: ${result.checked} events`);
      else {
        console.error(
          `audit chain BROKEN at event ${result.id} (seq ${result.seq}): ${result.reason}; ${result.checked} events before it are intact`,
        );
        process.exitCode = 2;
      }
    } finally {
      await database.close();
    }
  });

await program.parseAsync();
