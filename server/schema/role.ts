import { builder } from "../builder";

export const RoleEnum = builder.enumType("Role", {
  description: "A member's role in a workspace; see the role table in the README.",
  values: {
    OWNER: { description: "Everything, including members, ownership and deleting the workspace." },
    ADMIN: { description: "Everything but ownership transfer and deleting the workspace." },
    MODERATOR: { description: "View, create, roll and revoke keys; flip the key switch; read members." },
    MEMBER: { description: "Sees the workspace; nothing about keys." },
  } as const,
});
