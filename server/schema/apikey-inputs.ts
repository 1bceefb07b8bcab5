import { builder } from "../builder";
import { MAX_GRACE_SECONDS, METADATA_MAX_BYTES } from "../keys/input";
import { ApiKeyTypeEnum, EnvironmentEnum } from "./apikey-types";

// The input types of the key mutations, with the descriptions GraphiQL shows.

export const RateLimitInput = builder.inputType("RateLimitInput", {
  fields: (t) => ({
    limit: t.int({ required: true, description: "1 to 1,000,000 requests." }),
    windowSeconds: t.int({ required: true, description: "1 to 86,400 seconds." }),
  }),
});

const keyFields = {
  scopes:
    "keys:read, keys:write, keys:verify, members:read, members:write, workspace:read, workspace:write, audit:read, webhooks:read, webhooks:write, or service.<slug>.<action>. You can grant only scopes you hold. Publishable keys: keys:read and service.<slug>.read only.",
  origins: "Publishable keys (required): exact origins like https://app.example.com, or https://*.example.com.",
  ips: "Secret keys: CIDR blocks like 203.0.113.0/24; empty allows any address.",
  metadata: `A JSON object of your own, up to ${METADATA_MAX_BYTES} bytes.`,
  signs:
    "Secret keys only: the key may sign audience tokens (HS256) for this workspace's publishable keys. Set at creation only; Keyward then keeps the key sealed under its master key.",
};

export const CreateApiKeyInput = builder.inputType("CreateApiKeyInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    name: t.string({ required: true, description: "Up to 100 characters." }),
    type: t.field({ type: ApiKeyTypeEnum, required: true }),
    environment: t.field({ type: EnvironmentEnum, required: true }),
    scopes: t.stringList({ description: keyFields.scopes }),
    allowedOrigins: t.stringList({ description: keyFields.origins }),
    allowedIps: t.stringList({ description: keyFields.ips }),
    expiresAt: t.field({ type: "DateTime", description: "Must be in the future; omit for no expiry." }),
    rateLimit: t.field({
      type: RateLimitInput,
      description: "Override the default (secret 1000/h, publishable 100/h).",
    }),
    metadata: t.field({ type: "JSON", description: keyFields.metadata }),
    canSignTokens: t.boolean({ description: keyFields.signs }),
    serviceId: t.id({
      description:
        "Bind the key to one service of the workspace: it stops while the service is inactive, and its service scopes may name only that service. Required for a publishable key with service scopes. Fixed once created.",
    }),
  }),
});

export const UpdateApiKeyInput = builder.inputType("UpdateApiKeyInput", {
  description: "Only the fields given change.",
  fields: (t) => ({
    id: t.id({ required: true }),
    name: t.string(),
    scopes: t.stringList({ description: keyFields.scopes }),
    allowedOrigins: t.stringList({ description: keyFields.origins }),
    allowedIps: t.stringList({ description: keyFields.ips }),
    expiresAt: t.field({ type: "DateTime" }),
    rateLimit: t.field({ type: RateLimitInput }),
    metadata: t.field({ type: "JSON", description: keyFields.metadata }),
    canSignTokens: t.boolean({
      description: "false stops the key signing audience tokens (and drops its sealed copy); true is refused.",
    }),
  }),
});

export const RollApiKeyInput = builder.inputType("RollApiKeyInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    gracePeriodSeconds: t.int({
      required: true,
      description: `How long the old key keeps working: 0 (breaks at once) to ${MAX_GRACE_SECONDS} (7 days).`,
    }),
  }),
});

export const RevokeApiKeyInput = builder.inputType("RevokeApiKeyInput", {
  fields: (t) => ({
    id: t.id({ required: true }),
    reason: t.string({ description: "Why, for the audit log (up to 500 characters)." }),
    immediate: t.boolean({
      description:
        "Where the workspace requires deploys: refuse the key now instead of at the next deployment, and after any rollback too (the brake for a compromised key). Elsewhere every revocation is immediate.",
    }),
  }),
});

export const SetKeysEnabledInput = builder.inputType("SetKeysEnabledInput", {
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    enabled: t.boolean({ required: true, description: "false: no key of the workspace works until turned back on." }),
  }),
});
