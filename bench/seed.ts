// The benchmark's data: keys written straight into a fresh embedded database, and
// the mix of keys each run sends. Two workspaces: "bench", verified from its live
// keys, and "bench-gated", which requires deploys, so its keys are verified from
// its latest deployment (published by the same code as deployKeys).
import { randomBytes, randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import type { Db } from "../server/db";
import { openDatabase } from "../server/db";
import { deployKeys } from "../server/deployments/publish";
import { generateKey, hashKey, keyStart } from "../server/keys/format";
import { createSecretBox } from "../server/keys/secret-box";
import { migrate } from "../server/migrations";

/** One workspace's keys as the benchmark uses them. */
export interface SeededWorkspace {
  /** A secret key of the workspace holding keys:verify. */
  verifier: string;
  valid: string[];
  revoked: string[];
}

export interface Seeded {
  live: SeededWorkspace;
  gated: SeededWorkspace;
  /** Every key's hash, for the floor. */
  hashes: [string, { id: string; revoked: boolean }][];
  /** A publishable key of "bench" and tokens for it, signed by a signing key of the same workspace. */
  audience: { publishable: string; tokens: string[] };
}

/** Inserts `count` keys (every tenth revoked; the first is the verifier) in batches of 5,000; keeps `keep` valid ones. */
export async function insertKeys(
  db: Db,
  workspaceId: string,
  userId: string,
  count: number,
  hashes: Seeded["hashes"],
  keep = 2000,
) {
  const verifier = generateKey("SECRET", "LIVE");
  const seeded: SeededWorkspace = { verifier, valid: [], revoked: [] };
  const rows: string[][] = [];
  for (let i = 0; i < count; i++) {
    const secret = i === 0 ? verifier : generateKey("SECRET", "LIVE");
    const isRevoked = i % 10 === 9;
    const id = randomUUID();
    hashes.push([hashKey(secret), { id, revoked: isRevoked }]);
    if (i > 0 && seeded.valid.length < keep && !isRevoked) seeded.valid.push(secret);
    if (isRevoked && seeded.revoked.length < 500) seeded.revoked.push(secret);
    rows.push([id, hashKey(secret), keyStart(secret), i === 0 ? "keys:verify" : "", isRevoked ? "1" : ""]);
  }
  for (let i = 0; i < rows.length; i += 5000) {
    const batch = rows.slice(i, i + 5000);
    await db.$executeRawUnsafe(
      `INSERT INTO api_keys (id, workspace_id, environment, type, name, hash, start, scopes, allowed_origins, allowed_ips, revoked_at, created_by_id, rate_limit_limit, rate_limit_window_seconds)
       SELECT r.id::uuid, $1::uuid, 'LIVE', 'SECRET', 'bench', r.hash, r.start,
              CASE WHEN r.scope = '' THEN ARRAY[]::text[] ELSE ARRAY[r.scope] END, ARRAY[]::text[], ARRAY[]::text[],
              CASE WHEN r.revoked = '1' THEN now() ELSE NULL END, $2::uuid, 1000000000, 3600
       FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS r(id, hash, start, scope, revoked)`,
      workspaceId,
      userId,
      batch.map((r) => r[0]),
      batch.map((r) => r[1]),
      batch.map((r) => r[2]),
      batch.map((r) => r[3]),
      batch.map((r) => r[4]),
    );
  }
  return seeded;
}

export const WIDGET_ORIGIN = "https://chat.example.com";

/** A tree of two, a signing key (sealed under the server's master key), a publishable key and 200 tokens. */
async function seedAudience(db: Db, workspaceId: string, masterKey: string): Promise<Seeded["audience"]> {
  const root = await db.audience.create({ data: { workspaceId, name: "enterprise" } });
  await db.audience.create({ data: { workspaceId, name: "enterprise_b", parentId: root.id } });
  const signer = generateKey("SECRET", "LIVE");
  const publishable = generateKey("PUBLISHABLE", "LIVE");
  const common = {
    workspaceId,
    environment: "LIVE" as const,
    rateLimitLimit: 1_000_000_000,
    rateLimitWindowSeconds: 3600,
  };
  const signing = await db.apiKey.create({
    data: {
      ...common,
      type: "SECRET",
      name: "signer",
      hash: hashKey(signer),
      start: keyStart(signer),
      scopes: [],
      canSignTokens: true,
      sealedSecret: createSecretBox(Buffer.from(masterKey, "base64")).seal(signer),
    },
  });
  await db.apiKey.create({
    data: {
      ...common,
      type: "PUBLISHABLE",
      name: "widget",
      hash: hashKey(publishable),
      start: keyStart(publishable),
      scopes: ["keys:read"],
      allowedOrigins: [WIDGET_ORIGIN],
    },
  });
  const secret = new TextEncoder().encode(signer);
  const tokens = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      new SignJWT({ audience: i % 2 ? "enterprise_b" : "enterprise", n: i })
        .setProtectedHeader({ alg: "HS256", typ: "JWT", ...(i % 4 === 0 ? {} : { kid: signing.id }) })
        .setIssuedAt()
        .setExpirationTime("2h")
        .sign(secret),
    ),
  );
  return { publishable, tokens };
}

export interface SeedOptions {
  /** PostgreSQL instead of the embedded database in dataDir. */
  databaseUrl?: string;
  /** How many valid keys of "bench" to hand back (2,000 unless asked). */
  keep?: number;
}

export async function seed(
  dataDir: string,
  keys: number,
  gatedKeys: number,
  masterKey: string,
  options: SeedOptions = {},
): Promise<Seeded> {
  const database = await openDatabase(options.databaseUrl ? { databaseUrl: options.databaseUrl } : { dataDir });
  await migrate(database);
  const db = database.prisma;
  const user = await db.user.create({ data: { email: "bench@example.com", name: "Bench", passwordHash: "x" } });
  const hashes: Seeded["hashes"] = [];
  const workspace = async (slug: string) => {
    const made = await db.workspace.create({ data: { name: slug, slug } });
    await db.membership.create({ data: { workspaceId: made.id, userId: user.id, role: "OWNER" } });
    return made.id;
  };
  const liveId = await workspace("bench");
  const live = await insertKeys(db, liveId, user.id, keys, hashes, options.keep);
  const audience = await seedAudience(db, liveId, masterKey);
  const gatedId = await workspace("bench-gated");
  const gated = await insertKeys(db, gatedId, user.id, gatedKeys, hashes);
  await db.workspace.update({ where: { id: gatedId }, data: { requireDeploy: true } });
  const published = await deployKeys(
    db,
    { type: "system", id: null, ip: null },
    gatedId,
    { note: "bench" },
    new Date(),
  );
  if (!published.ok) throw new Error(`deploy: ${published.error.message}`);
  console.log(
    `seeded ${await db.apiKey.count()} keys; deployment ${published.value.version} lists ${published.value.keyCount}`,
  );
  await database.close();
  return { live, gated, hashes, audience };
}

/** The keys of the mix, in order: 80% valid (2,000 distinct), 10% revoked, 10% malformed. */
export function mix(seeded: SeededWorkspace): string[] {
  const out: string[] = [];
  for (let i = 0; i < 5000; i++) {
    const roll = i % 10;
    out.push(
      roll === 8
        ? (seeded.revoked[i % seeded.revoked.length] ?? "")
        : roll === 9
          ? `sk_live_${randomBytes(24).toString("base64url")}XXXXXX`
          : (seeded.valid[i % seeded.valid.length] ?? ""),
    );
  }
  return out;
}
