import { requireWorkspace } from "../auth/access";
import { builder } from "../builder";
import { apiError } from "../errors";
import { setLeakPolicy } from "../leaks/policy";
import { reportLeak } from "../leaks/report";
import { WorkspaceRef } from "./refs";
import { unwrap } from "./result";

// Leaked keys (server/leaks/): the workspace's leakPolicy, and reportLeakedKey for
// anyone who finds a key — no credential needed, since whoever holds a leaked key
// has all the proof there is. GitHub's own reports arrive over POST /leaks/github.

const LeakPolicyEnum = builder.enumType("LeakPolicy", {
  description: "What a leaked-key report (GitHub secret scanning or reportLeakedKey) does to the key.",
  values: {
    REVOKE: { description: "Revoke it at once, even where the workspace requires deploys (the default)." },
    NOTIFY: { description: "Record the report in the audit log and leave the key working." },
  } as const,
});

builder.objectField(WorkspaceRef, "leakPolicy", (t) =>
  t.field({ type: LeakPolicyEnum, description: "What a leaked-key report does.", resolve: (w) => w.leakPolicy }),
);

const SetLeakPolicyInput = builder.inputType("SetLeakPolicyInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    policy: t.field({ type: LeakPolicyEnum, required: true }),
  }),
});

const MAX_KEY_LENGTH = 200;
/** KEYWARD_AUTH_RATE_LIMIT reports per IP per 10 minutes: the window signIn's attempts use. */
const REPORT_WINDOW_SECONDS = 600;
const MAX_URL_LENGTH = 2048;

const ReportLeakedKeyInput = builder.inputType("ReportLeakedKeyInput", {
  fields: (t) => ({
    key: t.string({ required: true, description: `The key found (at most ${MAX_KEY_LENGTH} characters).` }),
    url: t.string({ description: `Where it was found, e.g. a public commit (at most ${MAX_URL_LENGTH} characters).` }),
  }),
});

const LeakReportReceiptRef = builder.objectRef<{ received: true }>("LeakReportReceipt").implement({
  description: "The same answer for every report: it says nothing about whether the key exists.",
  fields: (t) => ({ received: t.exposeBoolean("received") }),
});

builder.mutationFields((t) => ({
  setLeakPolicy: t.field({
    type: WorkspaceRef,
    description: "What a leaked-key report does to the workspace's keys. OWNER or ADMIN members.",
    args: { input: t.arg({ type: SetLeakPolicyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const caller = unwrap(await requireWorkspace(ctx, { id: String(input.workspaceId) }, "workspace:write"));
      // The policy covers test and live keys alike, so no single (test or live) key may change it.
      if (!caller.user) {
        throw apiError({
          code: "insufficient_scope",
          message: "The leak policy covers test and live keys alike; a workspace member (OWNER or ADMIN) sets it.",
        });
      }
      ctx.loaders.workspace.clear(caller.workspace.id);
      return setLeakPolicy(ctx.db, caller.actor, caller.workspace.id, input.policy, ctx.now);
    },
  }),
  reportLeakedKey: t.field({
    type: LeakReportReceiptRef,
    description:
      "Report a key found where it should not be (a public repository, a paste). The workspace's leakPolicy decides what happens to it. No credential needed; limited per IP like signIn.",
    args: { input: t.arg({ type: ReportLeakedKeyInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      if (input.key.length > MAX_KEY_LENGTH) {
        throw apiError({
          code: "validation_failed",
          message: `key: at most ${MAX_KEY_LENGTH} characters`,
          field: "key",
        });
      }
      if (input.url != null && input.url.length > MAX_URL_LENGTH) {
        throw apiError({
          code: "validation_failed",
          message: `url: at most ${MAX_URL_LENGTH} characters`,
          field: "url",
        });
      }
      const limit = { limit: ctx.config.authRateLimit, windowSeconds: REPORT_WINDOW_SECONDS };
      const decision = await ctx.keys.limits.consume("leak-report-ip", ctx.ip ?? "unknown", limit);
      if (!decision.allowed) {
        ctx.meta.rateLimit = decision;
        throw apiError({
          code: "rate_limit_exceeded",
          message: `Rate limit of ${decision.limit} reports per window exceeded; retry in ${decision.retryAfterSeconds} s.`,
        });
      }
      const actor = { type: "system" as const, id: null, ip: ctx.ip };
      const report = { token: input.key, type: "keyward_api_key", url: input.url ?? null, source: "reportLeakedKey" };
      await reportLeak({ db: ctx.db, bus: ctx.keys.bus, now: ctx.now }, actor, report);
      return { received: true as const };
    },
  }),
}));
