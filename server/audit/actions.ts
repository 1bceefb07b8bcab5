// Every action the audit log records, in one place: `recordAudit` accepts only these,
// so a new kind of event is added here first, and the SDK's copy (which the
// dashboard's filter offers) is generated from this file by `npm run generate`.

/** Recorded in a workspace's log: what its OWNERs and ADMINs can read and filter by. */
export const WORKSPACE_AUDIT_ACTIONS = [
  "api_key.create",
  "api_key.import",
  "api_key.leaked",
  "api_key.revoke",
  "api_key.revoke_immediate",
  "api_key.roll",
  "api_key.update",
  "api_key_pair.create",
  "api_key_pair.regenerate",
  "audience.create",
  "audience.delete",
  "audience.rename",
  "deployment.publish",
  "deployment.rollback",
  "member.add",
  "member.remove",
  "member.update_role",
  "service.activate",
  "service.create",
  "service.deactivate",
  "webhook_delivery.redeliver",
  "webhook_endpoint.auto_disable",
  "webhook_endpoint.create",
  "webhook_endpoint.delete",
  "webhook_endpoint.rotate_secret",
  "webhook_endpoint.test",
  "webhook_endpoint.update",
  "workspace.create",
  "workspace.keys_disable",
  "workspace.keys_enable",
  "workspace.leak_policy",
  "workspace.require_audience_token",
  "workspace.require_deploy_disable",
  "workspace.require_deploy_enable",
] as const;

/** Recorded outside any workspace (people, platform keys, the operator's CLI): only `npm run admin -- verify-audit` reads them. */
export const PLATFORM_AUDIT_ACTIONS = [
  "master_key.rotate",
  "platform_key.create",
  "platform_key.leaked",
  "platform_key.revoke",
  "user.create_admin",
  "user.sign_in",
  "user.sign_out",
  "user.sign_up",
] as const;

export type WorkspaceAuditAction = (typeof WORKSPACE_AUDIT_ACTIONS)[number];
export type AuditAction = WorkspaceAuditAction | (typeof PLATFORM_AUDIT_ACTIONS)[number];
