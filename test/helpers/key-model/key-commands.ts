import type { AsyncCommand } from "fast-check";
import { expect } from "vitest";
import {
  ALLOWED_ORIGIN,
  type Environment,
  IP_BLOCK,
  type KeyType,
  type Model,
  type ModelKey,
  OTHER_ORIGIN,
  type RateLimit,
  rollRefusal,
  status,
  successor,
} from "./model";
import { attempt, type Real } from "./real";

// Commands that change keys: create, update, roll, revoke. Each asks the model what
// must happen (done, or refused and why), does it through the API, and checks the
// answer before updating the model.

type KeyCommand = AsyncCommand<Model, Real>;

const iso = (ms: number) => new Date(ms).toISOString();
const pick = (model: Model, index: number): ModelKey => model.keys[index % model.keys.length] as ModelKey;
const label = (key: ModelKey) => `${key.type.toLowerCase()} ${key.environment.toLowerCase()} ${key.id.slice(0, 8)}`;

export interface CreateSpec {
  type: KeyType;
  environment: Environment;
  /** Secret keys' scopes; a publishable key keeps only keys:read of them. */
  scopes: string[];
  expiresInSeconds: number | null;
  rateLimit: RateLimit | null;
  /** A secret key limited to IP_BLOCK. */
  restrictIps: boolean;
}

export class CreateKey implements KeyCommand {
  constructor(readonly spec: CreateSpec) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const { type, environment, expiresInSeconds, rateLimit, restrictIps } = this.spec;
    const publishable = type === "PUBLISHABLE";
    const scopes = publishable ? this.spec.scopes.filter((scope) => scope === "keys:read") : this.spec.scopes;
    const expiresAt = expiresInSeconds === null ? null : model.now + expiresInSeconds * 1000;
    const { createApiKey } = await real.client.createApiKey({
      input: {
        workspaceId: real.workspaceId,
        name: "model key",
        type,
        environment,
        scopes,
        ...(publishable ? { allowedOrigins: [ALLOWED_ORIGIN] } : { allowedIps: restrictIps ? [IP_BLOCK] : [] }),
        ...(expiresAt === null ? {} : { expiresAt: iso(expiresAt) }),
        ...(rateLimit === null ? {} : { rateLimit }),
      },
    });
    expect(createApiKey.apiKey.status).toBe("ACTIVE");
    model.keys.push({
      id: createApiKey.apiKey.id,
      secret: createApiKey.secret,
      type,
      environment,
      scopes,
      allowedOrigins: publishable ? [ALLOWED_ORIGIN] : [],
      allowedIps: !publishable && restrictIps ? [IP_BLOCK] : [],
      expiresAt,
      graceUntil: null,
      revoked: false,
      rolledTo: null,
      rateLimit,
    });
  }
  toString = () => `create(${JSON.stringify(this.spec)})`;
}

export type Change =
  | { kind: "scopes"; scopes: string[] }
  | { kind: "rateLimit"; rateLimit: RateLimit }
  | { kind: "expiresIn"; seconds: number }
  /** Secret: IP_BLOCK or none; publishable: ALLOWED_ORIGIN or OTHER_ORIGIN. */
  | { kind: "allowlist"; narrow: boolean }
  | { kind: "name" };

/** The update's input for this key's type, and what it changes in the model's key. */
function updateOf(key: ModelKey, change: Change, now: number): { fields: object; patch: Partial<ModelKey> } {
  switch (change.kind) {
    case "scopes": {
      const scopes =
        key.type === "PUBLISHABLE" ? change.scopes.filter((scope) => scope === "keys:read") : change.scopes;
      return { fields: { scopes }, patch: { scopes } };
    }
    case "rateLimit":
      return { fields: { rateLimit: change.rateLimit }, patch: { rateLimit: change.rateLimit } };
    case "expiresIn": {
      const expiresAt = now + change.seconds * 1000;
      return { fields: { expiresAt: iso(expiresAt) }, patch: { expiresAt } };
    }
    case "allowlist": {
      if (key.type === "PUBLISHABLE") {
        const allowedOrigins = [change.narrow ? OTHER_ORIGIN : ALLOWED_ORIGIN];
        return { fields: { allowedOrigins }, patch: { allowedOrigins } };
      }
      const allowedIps = change.narrow ? [IP_BLOCK] : [];
      return { fields: { allowedIps }, patch: { allowedIps } };
    }
    case "name":
      return { fields: { name: "renamed model key" }, patch: {} };
  }
}

export class UpdateKey implements KeyCommand {
  constructor(
    readonly index: number,
    readonly change: Change,
  ) {}
  check = (model: Readonly<Model>) => model.keys.length > 0;
  async run(model: Model, real: Real) {
    const key = pick(model, this.index);
    const { fields, patch } = updateOf(key, this.change, model.now);
    const outcome = await attempt(real.client.updateApiKey({ input: { id: key.id, ...fields } }));
    if (key.revoked) {
      expect(outcome, `update of revoked ${label(key)}`).toMatchObject({ ok: false, code: "validation_failed" });
      return;
    }
    expect(outcome, `update of ${label(key)}`).toMatchObject({ ok: true });
    Object.assign(key, patch);
  }
  toString = () => `update(#${this.index}, ${JSON.stringify(this.change)})`;
}

export class RollKey implements KeyCommand {
  constructor(
    readonly index: number,
    readonly graceSeconds: number,
  ) {}
  check = (model: Readonly<Model>) => model.keys.length > 0;
  async run(model: Model, real: Real) {
    const key = pick(model, this.index);
    const refusal = rollRefusal(key, model.now);
    const outcome = await attempt(
      real.client.rollApiKey({ input: { id: key.id, gracePeriodSeconds: this.graceSeconds } }),
    );
    if (refusal !== null || !outcome.ok) {
      expect(outcome, `roll of ${label(key)} (${status(key, model.now)})`).toMatchObject({
        ok: false,
        code: "validation_failed",
        message: expect.stringContaining(refusal ?? "(the model expected this roll to go through)"),
      });
      return;
    }
    const { apiKey, secret } = outcome.value.rollApiKey;
    expect(apiKey.rolledFromId).toBe(key.id);
    key.graceUntil = model.now + this.graceSeconds * 1000;
    key.rolledTo = apiKey.id;
    model.keys.push(successor(key, apiKey.id, secret));
  }
  toString = () => `roll(#${this.index}, grace ${this.graceSeconds}s)`;
}

export class RevokeKey implements KeyCommand {
  constructor(readonly index: number) {}
  check = (model: Readonly<Model>) => model.keys.length > 0;
  async run(model: Model, real: Real) {
    const key = pick(model, this.index);
    const outcome = await attempt(real.client.revokeApiKey({ input: { id: key.id, reason: "model" } }));
    if (key.revoked) {
      expect(outcome, `second revoke of ${label(key)}`).toMatchObject({
        ok: false,
        code: "validation_failed",
        message: expect.stringContaining("already revoked"),
      });
      return;
    }
    expect(outcome, `revoke of ${label(key)}`).toMatchObject({
      ok: true,
      value: { revokeApiKey: { status: "REVOKED" } },
    });
    key.revoked = true;
  }
  toString = () => `revoke(#${this.index})`;
}
