import { builder } from "../builder";
import type { ApiKey, Membership, User, Workspace } from "../generated/prisma/client";

// The object types that refer to each other (a workspace lists memberships, a
// membership names its user and workspace, a key its workspace and creator),
// declared once here so that each noun's file implements its own type and imports
// the others' refs from here, not from each other.

export const UserRef = builder.objectRef<User>("User");
export const WorkspaceRef = builder.objectRef<Workspace>("Workspace");
export const MembershipRef = builder.objectRef<Membership>("Membership");
export const ApiKeyRef = builder.objectRef<ApiKey>("ApiKey");
