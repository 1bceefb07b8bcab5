import { findAudience } from "../audience/audiences";
import type { AudienceRow } from "../audience/tree";
import type { Context } from "../context";
import { fail, ok, type Result } from "../errors";
import { isUuid } from "../loaders";
import { nobody, publishableWrite, requireWorkspace, type WorkspaceCaller, type WorkspaceRef } from "./access";

// Who may change a workspace's audience tree and its requireAudienceToken setting:
// members whose role has workspace:write (OWNER, ADMIN). Not API keys, even with
// workspace:write: the tree and the setting serve test and live keys alike, so a
// test key must not change what live verification accepts (the key switch follows
// the same rule). Reading the tree is workspace:read (every member, and secret keys
// holding it), checked by the shield's ordinary workspace rule.

export async function requireAudienceWriter(ctx: Context, ref: WorkspaceRef): Promise<Result<WorkspaceCaller>> {
  const caller = await requireWorkspace(ctx, ref, "workspace:write");
  if (!caller.ok) return caller;
  if (!caller.value.user) {
    return fail(
      "insufficient_scope",
      "Audiences serve test and live keys alike; a workspace member (OWNER or ADMIN) must change them.",
    );
  }
  return caller;
}

/**
 * An audience by id, with its writer admitted. Audiences of other workspaces
 * answer not_found, exactly like ids that do not exist.
 */
export async function requireAudience(
  ctx: Context,
  id: string,
): Promise<Result<{ caller: WorkspaceCaller; audience: AudienceRow }>> {
  const p = ctx.principal;
  if (p.kind === "key" && p.key.type === "PUBLISHABLE") return publishableWrite();
  const refused = nobody(ctx);
  if (refused) return refused;
  const missing = fail("not_found", "No such audience.", "id");
  const audience = isUuid(id) ? await findAudience(ctx.db, id) : null;
  if (!audience) return missing;
  if (p.kind === "key" && audience.workspaceId !== p.workspace.id) return missing;
  const caller = await requireAudienceWriter(ctx, { id: audience.workspaceId });
  if (!caller.ok) return caller.error.code === "not_found" ? missing : caller;
  return ok({ caller: caller.value, audience });
}
