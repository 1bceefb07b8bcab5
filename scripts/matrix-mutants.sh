#!/usr/bin/env bash
# Changes one entry of a module-level rule table at a time, runs the authorization
# matrix test alone (test/api/permissions-matrix.test.ts), and reports whether it
# noticed ("killed") — the table entries Stryker's per-test runs cannot reach.
# Each change is undone with `git checkout` before the next; run it on a clean tree.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -n "$(git status --porcelain server)" ]; then echo "server/ has uncommitted changes; commit or stash them first" >&2; exit 2; fi

# file | exact text | replacement | what the change means
MUTANTS=(
  'server/auth/permissions.ts|"keys:verify", "members:read", "workspace:read"]|"keys:verify", "workspace:read"]|MODERATOR loses members:read'
  'server/auth/permissions.ts|MEMBER: new Set<Permission>(["workspace:read"])|MEMBER: new Set<Permission>(["workspace:read", "keys:read"])|MEMBER gains keys:read'
  'server/auth/permissions.ts|OWNER: new Set<Permission>([...admin, "workspace:delete", "ownership:transfer"])|OWNER: new Set<Permission>([...admin, "workspace:delete"])|OWNER loses ownership:transfer'
  'server/auth/permissions.ts|["MEMBER", "MODERATOR", "ADMIN", "OWNER"]|["MEMBER", "ADMIN", "MODERATOR", "OWNER"]|ROLE_ORDER: ADMIN and MODERATOR swapped'
  'server/auth/permissions.ts|  "audit:read",|  "audit:view",|WORKSPACE_SCOPES: audit:read renamed audit:view'
  'server/auth/shield.ts|auditEvents: inWorkspace("audit:read"|auditEvents: inWorkspace("keys:read"|shield: auditEvents asks keys:read'
  'server/auth/shield.ts|createApiKey: inWorkspace("keys:write"|createApiKey: inWorkspace("keys:read"|shield: createApiKey asks keys:read'
  'server/auth/shield.ts|setKeysEnabled: inWorkspace("keys:write"|setKeysEnabled: inWorkspace("keys:verify"|shield: setKeysEnabled asks keys:verify'
  'server/auth/shield.ts|members: onParentWorkspace("members:read")|members: onParentWorkspace("workspace:read")|shield: Workspace.members asks workspace:read'
  'server/auth/shield.ts|memberships: isSelf|memberships: allow|shield: User.memberships open to all'
  'server/auth/shield.ts|signOut: signedIn,|signOut: allow,|shield: signOut open to all'
  'server/auth/shield.ts|verifyApiKey: userOrSecretKey,|verifyApiKey: allow,|shield: verifyApiKey open to all'
)

killed=0
printf '| table entry changed | matrix test |\n| --- | --- |\n'
for mutant in "${MUTANTS[@]}"; do
  IFS='|' read -r file from to what <<<"$mutant"
  FROM="$from" TO="$to" perl -0pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/ or die "not found\n"' "$file" || { echo "| $what | (text not found in $file) |"; continue; }
  if npx vitest run test/api/permissions-matrix.test.ts >/dev/null 2>&1; then result="survived"; else result="killed"; killed=$((killed + 1)); fi
  git checkout -q -- "$file"
  printf '| %s (`%s`) | %s |\n' "$what" "$file" "$result"
done
echo
echo "$killed of ${#MUTANTS[@]} changes killed by the matrix test alone"
