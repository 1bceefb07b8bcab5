import { builder } from "../builder";
import type { Context } from "../context";
import type { Membership, User } from "../generated/prisma/client";
import { type AttemptGate, signIn, signOut, signUp } from "../identity/accounts";
import { MembershipRef, UserRef } from "./refs";
import { unwrap } from "./result";

UserRef.implement({
  description: "A person who signs in to Keyward.",
  fields: (t) => ({
    id: t.exposeID("id"),
    email: t.exposeString("email"),
    name: t.exposeString("name"),
    isPlatformAdmin: t.exposeBoolean("isPlatformAdmin", {
      description: "Platform admins operate the Keyward server itself and act as OWNER in every workspace.",
    }),
    createdAt: t.expose("createdAt", { type: "DateTime" }),
    memberships: t.field({
      type: [MembershipRef],
      description: "The workspaces this user belongs to, with their role. Only visible on yourself (`me`).",
      // One query per user (server/http/cost.ts).
      extensions: { cost: 1 },
      resolve: (user, _args, ctx): Promise<Membership[]> =>
        ctx.db.membership.findMany({ where: { userId: user.id }, orderBy: { createdAt: "asc" } }),
    }),
  }),
});

interface AuthPayloadShape {
  token: string;
  user: User;
}

const AuthPayload = builder.objectRef<AuthPayloadShape>("AuthPayload").implement({
  description: "A new session. The token is shown once; send it as `Authorization: Bearer <token>`.",
  fields: (t) => ({
    token: t.exposeString("token", {
      description: "Opaque session token (kws_…). Stored only as a hash on the server.",
    }),
    user: t.field({ type: UserRef, resolve: (payload) => payload.user }),
  }),
});

const SignUpInput = builder.inputType("SignUpInput", {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true, description: "10 to 256 characters." }),
    name: t.string({ required: true, description: "Display name, up to 100 characters." }),
  }),
});

const SignInInput = builder.inputType("SignInInput", {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
  }),
});

const SignOutInput = builder.inputType("SignOutInput", {
  fields: (t) => ({
    allSessions: t.boolean({ description: "End every session of this user, not only the current one." }),
  }),
});

const SIGN_IN_WINDOW_SECONDS = 600;

/** Sign-in attempts per account, counted where the per-IP and per-key limits are. */
function accountAttempts(ctx: Context): AttemptGate {
  const limit = { limit: ctx.config.signInAccountLimit, windowSeconds: SIGN_IN_WINDOW_SECONDS };
  return {
    take: async (email) => {
      const decision = await ctx.keys.limits.consume("signin-account", email, limit);
      // A refusal answers with this limit's Retry-After.
      if (!decision.allowed) ctx.meta.rateLimit = decision;
      return decision;
    },
    giveBack: (email) => ctx.keys.limits.giveBack("signin-account", email, limit),
  };
}

builder.queryField("me", (t) =>
  t.field({
    type: UserRef,
    nullable: true,
    description: "The signed-in user, or null without a credential.",
    resolve: (_root, _args, ctx) => (ctx.principal.kind === "user" ? ctx.principal.user : null),
  }),
);

builder.mutationFields((t) => ({
  signUp: t.field({
    type: AuthPayload,
    description: "Create an account and sign in. Closed when the server runs with KEYWARD_SIGNUP=closed.",
    args: { input: t.arg({ type: SignUpInput, required: true }) },
    resolve: async (_root, { input }, ctx) => unwrap(await signUp(ctx.db, ctx.config, input, ctx.ip, ctx.now)),
  }),
  signIn: t.field({
    type: AuthPayload,
    description: "Start a session with email and password.",
    args: { input: t.arg({ type: SignInInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      unwrap(await signIn(ctx.db, ctx.config, accountAttempts(ctx), input, ctx.ip, ctx.now)),
  }),
  signOut: t.boolean({
    description: "End the current session (or all of them). The token stops working at once.",
    args: { input: t.arg({ type: SignOutInput }) },
    resolve: async (_root, { input }, ctx) => {
      if (ctx.principal.kind !== "user") return false;
      const session = { userId: ctx.principal.user.id, sessionId: ctx.principal.sessionId };
      return unwrap(await signOut(ctx.db, session, input?.allSessions ?? false, ctx.ip, ctx.now));
    },
  }),
}));
