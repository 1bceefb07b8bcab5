// `npm run admin -- <command>`: operator tasks. Platform admins and, besides the
// API, platform keys are made only here, so there is no window in which a stranger
// could claim the role through the API. Every command works while the server runs
// (server/cli/operator.ts says how, on either database).
import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { text } from "node:stream/consumers";
import { Command } from "commander";
import { MAX_REQUEST_BYTES } from "../platform/admin-channel";
import { PLATFORM_SCOPES } from "../platform/scopes";
import { rotateMasterKey } from "./master-key";
import { cliConfig } from "./open";
import { runOperatorCommand } from "./operator";

const program = new Command("keyward-admin").description("Keyward operator commands");

/** Repeated `--scope` options and comma-separated lists alike. */
const collect = (value: string, previous: string[]) => [
  ...previous,
  ...value
    .split(",")
    .map((scope) => scope.trim())
    .filter(Boolean),
];

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
    const admin = await runOperatorCommand("createAdmin", { email: options.email, name: options.name, password });
    if (!admin) return;
    console.log(`created platform admin ${admin.email} (${admin.id})`);
    // Shown once, on the operator's terminal; never logged or stored in plaintext.
    if (generated) console.log(`password: ${password}`);
  });

program
  .command("verify-audit")
  .description("check the audit log's hash chain from the first row to the last")
  .action(async () => {
    const result = await runOperatorCommand("verifyAudit", undefined);
    if (!result) return;
    if (result.ok) console.log(`audit chain intact: ${result.checked} events`);
    else {
      console.error(
        `audit chain BROKEN at event ${result.id} (seq ${result.seq}): ${result.reason}; ${result.checked} events before it are intact`,
      );
      process.exitCode = 2;
    }
  });

program
  .command("create-platform-key")
  .description("create a platform key (kwp_…); prints its value once, alone on standard output")
  .requiredOption("--name <name>", "what it is for, e.g. edge-verifier")
  .requiredOption("--scope <scope>", `${PLATFORM_SCOPES.join(" or ")}; repeat or separate with commas`, collect, [])
  .option("--expires-at <time>", "ISO 8601 time after which it stops working, e.g. 2027-01-01T00:00:00Z")
  .action(async (options: { name: string; scope: string[]; expiresAt?: string }) => {
    const created = await runOperatorCommand("createPlatformKey", {
      name: options.name,
      scopes: options.scope,
      expiresAt: options.expiresAt ?? null,
    });
    if (!created) return;
    const { platformKey: key, secret } = created;
    // Details on stderr, the value alone on stdout: `KWP=$(npm run -s admin -- create-platform-key …)`.
    console.error(`created platform key ${key.name} (${key.id}), scopes ${key.scopes.join(", ")}`);
    console.error("its value follows, shown this once: store it now");
    console.log(secret);
  });

program
  .command("list-platform-keys")
  .description("list platform keys, newest first (never their values)")
  .option("--json", "print JSON instead of a table")
  .action(async (options: { json?: boolean }) => {
    const keys = await runOperatorCommand("listPlatformKeys", undefined);
    if (!keys) return;
    if (options.json) {
      console.log(JSON.stringify(keys, null, 2));
      return;
    }
    if (keys.length === 0) console.log("no platform keys");
    for (const key of keys) {
      console.log(
        [key.id, key.start, key.status, key.scopes.join(","), key.name, `last used ${key.lastUsedAt ?? "never"}`].join(
          "  ",
        ),
      );
    }
  });

program
  .command("revoke-platform-key")
  .description("revoke a platform key at once")
  .argument("<id>", "the key's id (list-platform-keys shows it)")
  .option("--reason <reason>", "why, for the audit log")
  .action(async (id: string, options: { reason?: string }) => {
    const key = await runOperatorCommand("revokePlatformKey", { id, reason: options.reason ?? null });
    if (key) console.log(`revoked platform key ${key.name} (${key.id}) at ${key.revokedAt}`);
  });

program
  .command("import-keys")
  .description("import keys issued elsewhere from JSON lines (README: Moving keys in and out); all or nothing")
  .argument("<file>", "one JSON object per line: hash or key, prefix, workspace, environment, type, name, …")
  .action(async (file: string) => {
    let text: string;
    try {
      // Leave room for the request around it on the admin channel.
      if (statSync(file).size > MAX_REQUEST_BYTES - 1024) throw new Error("is larger than 64 MiB: split it");
      text = readFileSync(file, "utf8");
    } catch (error) {
      console.error(`keyward: ${file}: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
      return;
    }
    const summary = await runOperatorCommand("importKeys", { text });
    if (!summary) return;
    if (summary.imported === 0) {
      console.log(`nothing imported: all ${summary.skipped} keys are already present`);
      return;
    }
    for (const ws of summary.workspaces) {
      console.log(`${ws.slug}: ${ws.imported} imported, ${ws.skipped} already present`);
    }
    console.log(`imported ${summary.imported} keys (${summary.skipped} already present)`);
    if (summary.prefixes.length) console.log(`keys beginning ${summary.prefixes.join(", ")} are looked up by hash`);
  });

program
  .command("export-workspace")
  .description("write a JSON backup of a workspace: no secrets, but key hashes unless --without-hashes")
  .argument("<slug>", "the workspace's slug")
  .option("--out <file>", "write it to this file (mode 0600) instead of standard output")
  .option("--without-hashes", "leave key hashes out: a record that cannot restore keys")
  .action(async (slug: string, options: { out?: string; withoutHashes?: boolean }) => {
    const backup = await runOperatorCommand("exportWorkspace", { slug, withoutHashes: options.withoutHashes ?? false });
    if (!backup) return;
    const text = `${JSON.stringify(backup, null, 2)}\n`;
    if (!options.out) {
      process.stdout.write(text);
      return;
    }
    // Key hashes are what a lookup matches: the file is readable by its owner only.
    writeFileSync(options.out, text, { mode: 0o600 });
    chmodSync(options.out, 0o600);
    const keys = (backup.keys as unknown[]).length;
    console.error(`wrote ${options.out} (mode 0600): workspace ${slug}, ${keys} working keys`);
  });

program
  .command("rotate-master-key")
  .description(
    "seal every encrypted copy under a new master key while the server keeps serving (README: Moving keys in and out)",
  )
  .action(() => rotateMasterKey(cliConfig()));

await program.parseAsync();
