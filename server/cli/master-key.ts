import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync } from "node:fs";
import type { Config } from "../config";
import { masterKeyFiles, masterKeyId, writeKeyFile } from "../keys/secret-box";
import { runOperatorCommand } from "./operator";

// `npm run admin -- rotate-master-key`, the operator's side. Where the new key
// comes from:
// - KEYWARD_MASTER_KEY set: it is the new key, and KEYWARD_MASTER_KEY_PREVIOUS
//   holds the old one(s). The operator then keeps both variables until every
//   instance runs with the new key (README: Moving keys in and out).
// - unset (the embedded default, master.key in the data directory): a new key
//   is written to master.key.next first (which every start reads as a key that
//   opens), so a rotation cut short loses nothing and is resumed by running the
//   command again; once every copy is re-sealed, master.key becomes
//   master.key.previous and master.key.next becomes master.key.

function fileRing(dataDir: string): { key: string; previous: string[] } {
  const files = masterKeyFiles(dataDir);
  if (!existsSync(files.current)) throw new Error(`no master key to rotate: ${files.current} does not exist`);
  const current = readFileSync(files.current, "utf8").trim();
  if (!existsSync(files.next)) writeKeyFile(files.next, randomBytes(32));
  const next = readFileSync(files.next, "utf8").trim();
  const older = existsSync(files.previous) ? [readFileSync(files.previous, "utf8").trim()] : [];
  return { key: next, previous: [current, ...older] };
}

export async function rotateMasterKey(config: Config): Promise<void> {
  let ring: { key: string; previous: string[] };
  try {
    ring = config.masterKey ? { key: config.masterKey, previous: config.previousMasterKeys } : fileRing(config.dataDir);
  } catch (error) {
    console.error(`keyward: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
    return;
  }
  const summary = await runOperatorCommand("rotateMasterKey", ring);
  if (!summary) return;
  for (const column of summary.columns) {
    console.log(`${column.column}: ${column.resealed} re-sealed, ${column.unreadable} unreadable`);
  }
  console.log(`re-sealed ${summary.resealed} values under master key ${summary.keyId}`);
  if (summary.unreadable > 0) {
    // Sealed under a key this ring does not hold: the old key must stay until they are dealt with.
    console.error(
      `keyward: ${summary.unreadable} values open under none of the keys given; keep the old key and add the missing one to KEYWARD_MASTER_KEY_PREVIOUS`,
    );
    process.exitCode = 2;
    return;
  }
  if (config.masterKey) {
    console.log(
      "every copy is under the new key: once every instance runs with KEYWARD_MASTER_KEY set to it, remove KEYWARD_MASTER_KEY_PREVIOUS",
    );
    return;
  }
  const files = masterKeyFiles(config.dataDir);
  renameSync(files.current, files.previous);
  renameSync(files.next, files.current);
  const id = masterKeyId(Buffer.from(ring.key, "base64"));
  console.log(`${files.current} now holds master key ${id}; the old one is in ${files.previous}`);
  console.log(`delete ${files.previous} once you no longer need to open older backups of the database`);
}
