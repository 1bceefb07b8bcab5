import { requireApiKey, requireWorkspace, type WorkspaceCaller } from "../auth/access";
import { builder } from "../builder";
import type { Context } from "../context";
import { ok, type Result } from "../errors";
import type { Prisma } from "../generated/prisma/client";
import { idempotent, type Replayable } from "../keys/idempotency";
import { MAX_GRACE_SECONDS, METADATA_MAX_BYTES } from "../keys/input";
import type { CreatedKey } from "../keys/lifecycle";
import { type CreatedPair, createKeyPair, regenerateKeyPair } from "../keys/pairs";
import { CreatedApiKey, keyManager, principalId } from "./apikey";
import { RateLimitInput } from "./apikey-inputs";
import { EnvironmentEnum } from "./apikey-types";
import { unwrap } from "./result";

// Key pairs: a publishable and a secret key made together and rotated together.

const CreatedKeyPairRef = builder.objectRef<CreatedPair>("CreatedKeyPair").implement({
  description: "Both halves of a pair, each with its `secret` shown this once: store them now.",
  fields: (t) => ({
    publishableKey: t.field({ type: CreatedApiKey, resolve: (pair) => pair.publishable }),
    secretKey: t.field({ type: CreatedApiKey, resolve: (pair) => pair.secret }),
  }),
});

const KeyPairPublishableInput = builder.inputType("KeyPairPublishableInput", {
  description: "The browser half: keys:read and service.<slug>.read scopes only, from allowed origins.",
  fields: (t) => ({
    scopes: t.stringList(),
    allowedOrigins: t.stringList({ description: "Required: exact origins, or https://*.example.com." }),
    rateLimit: t.field({ type: RateLimitInput, description: "Default 100 per hour." }),
  }),
});

const KeyPairSecretInput = builder.inputType("KeyPairSecretInput", {
  description: "The server half.",
  fields: (t) => ({
    scopes: t.stringList(),
    allowedIps: t.stringList({ description: "CIDR blocks; empty allows any address." }),
    rateLimit: t.field({ type: RateLimitInput, description: "Default 1,000 per hour." }),
  }),
});

const CreateKeyPairInput = builder.inputType("CreateKeyPairInput", {
  description: "Both halves share a name, environment, service, expiry and metadata.",
  fields: (t) => ({
    workspaceId: t.id({ required: true }),
    name: t.string({ required: true, description: "Up to 100 characters; both keys carry it." }),
    environment: t.field({ type: EnvironmentEnum, required: true }),
    serviceId: t.id({ description: "Bind both halves to one service of the workspace." }),
    expiresAt: t.field({ type: "DateTime", description: "Must be in the future; omit for no expiry." }),
    metadata: t.field({ type: "JSON", description: `A JSON object of your own, up to ${METADATA_MAX_BYTES} bytes.` }),
    publishable: t.field({ type: KeyPairPublishableInput, required: true }),
    secret: t.field({ type: KeyPairSecretInput, required: true }),
  }),
});

const RegenerateKeyPairInput = builder.inputType("RegenerateKeyPairInput", {
  fields: (t) => ({
    id: t.id({ required: true, description: "Either half of the pair." }),
    gracePeriodSeconds: t.int({
      defaultValue: 0,
      description: `How long the old pair keeps working: 0 (the default: it breaks at once) to ${MAX_GRACE_SECONDS} (7 days).`,
    }),
  }),
});

interface PairReplay {
  publishable: Replayable;
  secret: Replayable;
}

const replayOf = (key: CreatedKey): Replayable => ({ apiKeyId: key.apiKey.id, secret: key.secret });

/** Makes a pair once per Idempotency-Key: a retry gets the same two keys and secrets. */
async function mintPairOnce(
  ctx: Context,
  caller: WorkspaceCaller,
  operation: string,
  input: unknown,
  mint: (tx: Prisma.TransactionClient) => Promise<Result<CreatedPair>>,
): Promise<CreatedPair> {
  const replay = unwrap(
    await idempotent<PairReplay>(
      ctx.db,
      ctx.box,
      { principal: principalId(caller), key: ctx.idempotencyKey, operation, input, now: ctx.now },
      async (tx) => {
        const made = await mint(tx);
        return made.ok
          ? ok({ publishable: replayOf(made.value.publishable), secret: replayOf(made.value.secret) })
          : made;
      },
    ),
  );
  const load = async ({ apiKeyId, secret }: Replayable): Promise<CreatedKey> => {
    ctx.loaders.apiKey.clear(apiKeyId);
    const apiKey = await ctx.loaders.apiKey.load(apiKeyId);
    if (!apiKey) throw new Error(`created key ${apiKeyId} is missing`);
    return { apiKey, secret };
  };
  const pair = { publishable: await load(replay.publishable), secret: await load(replay.secret) };
  // New hashes may sit in this instance's negative cache; other instances hear of it from the transaction.
  ctx.keys.bus.invalidate({ kind: "keys", hashes: [pair.publishable.apiKey.hash, pair.secret.apiKey.hash] });
  return pair;
}

builder.mutationFields((t) => ({
  createKeyPair: t.field({
    type: CreatedKeyPairRef,
    description:
      "Create a publishable key and a secret key that belong together (a widget's browser and server halves). Both secrets are shown once. Honours Idempotency-Key.",
    args: { input: t.arg({ type: CreateKeyPairInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const caller = unwrap(await requireWorkspace(ctx, { id: String(input.workspaceId) }, "keys:write"));
      const manager = keyManager(caller);
      const { workspaceId: _id, ...pair } = input;
      return mintPairOnce(ctx, caller, "createKeyPair", input, (tx) =>
        createKeyPair(tx, manager, pair, ctx.now, ctx.box),
      );
    },
  }),
  regenerateKeyPair: t.field({
    type: CreatedKeyPairRef,
    description:
      "Rotate both halves of a pair in one atomic step: two new keys (secrets shown once); the old pair works for gracePeriodSeconds more (default 0). Honours Idempotency-Key.",
    args: { input: t.arg({ type: RegenerateKeyPairInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { caller, apiKey } = unwrap(await requireApiKey(ctx, String(input.id), "keys:write"));
      const manager = keyManager(caller);
      const grace = { gracePeriodSeconds: input.gracePeriodSeconds ?? 0 };
      const partner = apiKey.pairedWithId ? await ctx.loaders.apiKey.load(apiKey.pairedWithId) : null;
      const pair = await mintPairOnce(ctx, caller, "regenerateKeyPair", input, (tx) =>
        regenerateKeyPair(tx, manager, apiKey, grace, ctx.now, ctx.box),
      );
      // The old pair's grace starts now: this instance drops both old rows before answering.
      const old = partner ? [apiKey, partner] : [apiKey];
      for (const key of old) ctx.loaders.apiKey.clear(key.id);
      ctx.keys.bus.invalidate({ kind: "keys", hashes: old.map((key) => key.hash) });
      return pair;
    },
  }),
}));
