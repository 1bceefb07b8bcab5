// `npm run bench:import`: how long import-keys takes for a file of 10,000 keys
// (the operator command's own code, without the CLI's process start), then for
// the same file again (every line skipped). On a fresh in-memory embedded
// database, or on PostgreSQL with BENCH_DATABASE_URL (a database it may write to).
import { randomBytes } from "node:crypto";
import { openDatabase } from "../server/db";
import { migrate } from "../server/migrations";
import { operatorCommands } from "../server/platform/operations";

const COUNT = Number(process.env.BENCH_IMPORT_KEYS ?? 10_000);
const url = process.env.BENCH_DATABASE_URL;
const database = await openDatabase({ databaseUrl: url });
await migrate(database);
const slug = `bench-import-${randomBytes(3).toString("hex")}`;
const workspace = await database.prisma.workspace.create({ data: { slug, name: "Import bench" } });
await database.prisma.service.create({ data: { workspaceId: workspace.id, slug: "forms", name: "Forms" } });
const lines: string[] = [];
for (let i = 0; i < COUNT; i++) {
  lines.push(
    JSON.stringify({
      key: `acme_${randomBytes(24).toString("hex")}`,
      prefix: "acme_",
      workspace: slug,
      environment: i % 2 ? "live" : "test",
      type: "secret",
      name: `customer ${i}`,
      scopes: ["keys:read", "service.forms.read"],
      metadata: { customer: i },
    }),
  );
}
const text = lines.join("\n");
const commands = operatorCommands(database.prisma);
const timed = async () => {
  const started = performance.now();
  const result = await commands.importKeys({ text });
  if (!result.ok) throw new Error(result.error.message);
  return { ...result.value, ms: Math.round(performance.now() - started) };
};
const first = await timed();
const again = await timed();
console.log(
  JSON.stringify({
    database: url ? "postgresql" : "embedded",
    keys: COUNT,
    fileBytes: Buffer.byteLength(text),
    import: { imported: first.imported, ms: first.ms },
    rerun: { skipped: again.skipped, ms: again.ms },
  }),
);
await database.close();
