import { describe, expect, it } from "vitest";
import { ROLE_ORDER, roleAllows, mayManageRole as serverMayManage } from "../../server/auth/permissions";
import { canManageMembers, grantableRoles, mayManageRole } from "../../web/src/roles";

// The dashboard hides member controls the server would refuse: its copy of the rule must
// say exactly what the server's does, for every pair of roles, or a button appears that
// only ever answers insufficient_permissions (or one the server allows goes missing).

describe("the dashboard's member-management rule", () => {
  for (const actor of ROLE_ORDER) {
    for (const target of ROLE_ORDER) {
      it(`${actor} acting on ${target}: shown exactly when the server allows it`, () => {
        // The server's rule applies only to callers admitted with members:write.
        const server = roleAllows(actor, "members:write") && serverMayManage(actor, target);
        expect(mayManageRole(actor, target)).toBe(server);
      });
    }
    it(`${actor} may manage members in the dashboard exactly when the server grants members:write`, () => {
      expect(canManageMembers(actor)).toBe(roleAllows(actor, "members:write"));
    });
  }

  it("an ADMIN is offered every role but OWNER, an OWNER all four, a MODERATOR none", () => {
    expect(grantableRoles("ADMIN")).toEqual(["ADMIN", "MODERATOR", "MEMBER"]);
    expect(grantableRoles("OWNER")).toEqual(["OWNER", "ADMIN", "MODERATOR", "MEMBER"]);
    expect(grantableRoles("MODERATOR")).toEqual([]);
    expect(grantableRoles(null)).toEqual([]);
  });
});
