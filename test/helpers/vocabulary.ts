// The workspace scope vocabulary as the design names it, written out here rather
// than imported from server/auth/permissions.ts, so a change to the server's table
// fails the tests that compare against it.
export const EXPECTED_WORKSPACE_SCOPES = [
  "keys:read",
  "keys:write",
  "keys:verify",
  "members:read",
  "members:write",
  "workspace:read",
  "workspace:write",
  "audit:read",
  "webhooks:read",
  "webhooks:write",
];
