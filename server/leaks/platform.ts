import { type Actor, recordAudit } from "../audit/log";
import { parsePlatformKey } from "../platform/format";
import { revokePlatformKeyIn } from "../platform/lifecycle";
import type { LeakDeps, LeakReport } from "./report";

// A leaked platform key (kwp_…): the operator's own credential, verifying keys of
// every workspace, so no workspace's leakPolicy applies to it — it is always
// revoked at once. Workspace webhooks never hear of it; the audit log does.

const REVOKE_REASON = "leaked";

/** Whether the token was a platform key (revoked now, or already). */
export async function reportPlatformLeak(
  deps: LeakDeps,
  actor: Actor,
  report: LeakReport,
  tokenHash: string,
): Promise<boolean> {
  if (!parsePlatformKey(report.token).ok) return false;
  const key = await deps.db.platformKey.findUnique({ where: { hash: tokenHash } });
  if (!key) return false;
  const revoked = await deps.db.$transaction(async (tx) => {
    const stopped = (await revokePlatformKeyIn(tx, actor, key.id, REVOKE_REASON, deps.now)).ok;
    await recordAudit(
      tx,
      actor,
      {
        workspaceId: null,
        action: "platform_key.leaked",
        targetType: "platform_key",
        targetId: key.id,
        data: { start: key.start, url: report.url, type: report.type, source: report.source, revoked: stopped },
      },
      deps.now,
    );
    return stopped;
  });
  if (revoked) deps.bus.invalidate({ kind: "keys", hashes: [tokenHash] });
  return true;
}
