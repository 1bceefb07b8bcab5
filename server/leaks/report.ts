import type { Actor } from "../audit/log";
import { recordAudit } from "../audit/log";
import type { Db } from "../db";
import { revokeImmediatelyIn } from "../deployments/emergency";
import type { ApiKey, LeakPolicy, Prisma } from "../generated/prisma/client";
import { hashKey, parseKey } from "../keys/format";
import type { InvalidationBus } from "../keys/invalidation";
import { looksLikePlatformKey } from "../platform/format";
import { emitKeyEvent } from "../webhooks/events";
import { reportPlatformLeak } from "./platform";

// A key reported as leaked, by GitHub's secret scanning (server/http/rest/leaks.ts)
// or by anyone holding it (reportLeakedKey). One path for both: the checksum, the
// hash lookup, then the key's workspace's leakPolicy — REVOKE brakes the key at
// once (the immediate revocation, which also stops a deploy-gated key), NOTIFY
// leaves it working; either way the report is recorded (recordLeak). An unknown or
// malformed token is a false positive and changes nothing. Platform keys (kwp_…)
// take their own path (platform.ts).

export interface LeakReport {
  token: string;
  /** The token type the reporter matched (GitHub's registered type name). */
  type: string;
  /** Where it was found (a public URL), if the reporter says. */
  url: string | null;
  /** What found it (GitHub: "content", "commit", "pull_request", …; reportLeakedKey: "report"). */
  source: string;
}

export type LeakLabel = "true_positive" | "false_positive";

export interface LeakOutcome {
  label: LeakLabel;
  /** SHA-256 hex of the token: GitHub's token_hash (and the stored key hash). */
  tokenHash: string;
}

export interface LeakDeps {
  db: Db;
  bus: InvalidationBus;
  now: Date;
}

const REVOKE_REASON = "leaked";

/**
 * The one place a leak is recorded, inside the transaction that acts on it: the
 * `key.leaked` webhook belongs here, written to the outbox beside this event.
 */
async function recordLeak(
  tx: Prisma.TransactionClient,
  actor: Actor,
  key: ApiKey,
  report: LeakReport,
  effect: { policy: LeakPolicy; revoked: boolean },
  now: Date,
): Promise<void> {
  await recordAudit(
    tx,
    actor,
    {
      workspaceId: key.workspaceId,
      action: "api_key.leaked",
      targetType: "api_key",
      targetId: key.id,
      data: {
        start: key.start,
        url: report.url,
        type: report.type,
        source: report.source,
        policy: effect.policy,
        revoked: effect.revoked,
      },
    },
    now,
  );
  // The workspace's own systems hear of it too, in the same transaction.
  await emitKeyEvent(
    tx,
    key,
    "key.leaked",
    { url: report.url, type: report.type, source: report.source, policy: effect.policy, revoked: effect.revoked },
    now,
  );
}

/** Acts on one reported token; the answer says only whether it was a Keyward key. */
export async function reportLeak(deps: LeakDeps, actor: Actor, report: LeakReport): Promise<LeakOutcome> {
  const tokenHash = hashKey(report.token);
  const falsePositive: LeakOutcome = { label: "false_positive", tokenHash };
  if (looksLikePlatformKey(report.token)) {
    return (await reportPlatformLeak(deps, actor, report, tokenHash))
      ? { label: "true_positive", tokenHash }
      : falsePositive;
  }
  if (!parseKey(report.token).ok) return falsePositive;
  // The row itself, not a cached or deployed view: a report must see a revocation made a moment ago.
  const found = await deps.db.apiKey.findUnique({
    where: { hash: tokenHash },
    include: { workspace: { select: { leakPolicy: true, requireDeploy: true } } },
  });
  if (!found) return falsePositive;
  const { workspace, ...key } = found;
  const policy = workspace.leakPolicy;
  // A revoked key still works where its revocation waits for a deployment: that one is braked too.
  const working = key.revokedAt === null || (workspace.requireDeploy && !key.revokedImmediately);
  const revoked = await deps.db.$transaction(async (tx) => {
    // Already stopped: nothing left to do but record the report.
    const braked =
      policy === "REVOKE" && working && (await revokeImmediatelyIn(tx, actor, key, REVOKE_REASON, deps.now)).ok;
    await recordLeak(tx, actor, key, report, { policy, revoked: braked }, deps.now);
    return braked;
  });
  // Before answering: this instance refuses the key from now on; the others hear it from the commit.
  if (revoked) deps.bus.invalidate({ kind: "keys", hashes: [tokenHash] });
  return { label: "true_positive", tokenHash };
}
