import type { Context } from "../context";
import { fail, ok, type Result } from "../errors";
import type { WebhookDelivery, WebhookEndpoint } from "../generated/prisma/client";
import { findDelivery } from "../webhooks/deliveries";
import { findEndpoint } from "../webhooks/endpoints";
import { nobody, requireWorkspace, type WorkspaceCaller } from "./access";
import type { Permission } from "./permissions";

// Webhook endpoints belong to a workspace and an environment: a key reaches only its
// own workspace's endpoints of its own environment. Any other endpoint, and its
// deliveries, answer not_found exactly like ids that do not exist.

export async function requireWebhookEndpoint(
  ctx: Context,
  id: string,
  permission: Permission,
): Promise<Result<{ caller: WorkspaceCaller; endpoint: WebhookEndpoint }>> {
  const p = ctx.principal;
  const refused = nobody(ctx);
  if (refused) return refused;
  const missing = fail("not_found", "No such webhook endpoint.", "id");
  const endpoint = await findEndpoint(ctx.db, id);
  if (!endpoint) return missing;
  if (p.kind === "key" && (endpoint.workspaceId !== p.workspace.id || endpoint.environment !== p.key.environment)) {
    return missing;
  }
  const caller = await requireWorkspace(ctx, { id: endpoint.workspaceId }, permission);
  if (!caller.ok) return caller.error.code === "not_found" ? missing : caller;
  return ok({ caller: caller.value, endpoint });
}

/** A delivery by id, through its endpoint's rule. */
export async function requireWebhookDelivery(ctx: Context, id: string, permission: Permission) {
  const delivery = await findDelivery(ctx.db, id);
  // A missing delivery asks for no endpoint ("undefined" is no id), so the endpoint's
  // rule answers it: an anonymous caller hears "sign in" for real and made-up ids alike.
  const access = await requireWebhookEndpoint(ctx, String(delivery?.endpointId), permission);
  if (!access.ok) {
    return access.error.code === "not_found" ? fail("not_found", "No such webhook delivery.", "id") : access;
  }
  // The rule found the delivery's endpoint, so the delivery exists.
  return ok({ ...access.value, delivery: delivery as WebhookDelivery });
}

/** A key may manage webhooks only of its own environment. */
export function checkEnvironment(caller: WorkspaceCaller, environment: string): Result<true> {
  return caller.environment && caller.environment !== environment
    ? fail("insufficient_scope", `This ${caller.environment} key cannot manage ${environment} webhooks.`, "environment")
    : ok(true);
}
