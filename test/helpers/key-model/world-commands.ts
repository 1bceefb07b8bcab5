import type { AsyncCommand } from "fast-check";
import { expect } from "vitest";
import { generateKey } from "../../../server/keys/format";
import { type Model, type ModelKey, predictVerify, status, type VerifyAsk } from "./model";
import type { Real } from "./real";
import { verifyBoth } from "./real";

// Commands that change the world around keys (the workspace's key switch, the
// clock) and the observations: verifying a key through both paths, and reading
// every key's status back.

type WorldCommand = AsyncCommand<Model, Real>;

export class SetKeysEnabled implements WorldCommand {
  constructor(readonly enabled: boolean) {}
  check = () => true;
  async run(model: Model, real: Real) {
    const { setKeysEnabled } = await real.client.setKeysEnabled({
      input: { workspaceId: real.workspaceId, enabled: this.enabled },
    });
    expect(setKeysEnabled.keysEnabled).toBe(this.enabled);
    model.keysEnabled = this.enabled;
  }
  toString = () => `setKeysEnabled(${this.enabled})`;
}

export class AdvanceClock implements WorldCommand {
  constructor(readonly ms: number) {}
  check = () => true;
  async run(model: Model, real: Real) {
    real.app.clock.advance(this.ms);
    model.now += this.ms;
    expect(real.app.clock.now.getTime()).toBe(model.now);
  }
  toString = () => `advance(${this.ms / 1000}s)`;
}

/** Which key a verification presents. */
export type Target = "any" | "rolled" | "revoked" | "made-up" | "malformed";

function candidates(model: Readonly<Model>, target: Target): readonly ModelKey[] {
  if (target === "rolled") return model.keys.filter((key) => key.rolledTo !== null);
  if (target === "revoked") return model.keys.filter((key) => key.revoked);
  return model.keys;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** One character changed: the checksum no longer matches. */
function altered(secret: string, position: number): string {
  const at = 8 + (position % (secret.length - 8));
  const was = secret[at] as string;
  const next = ALPHABET[(ALPHABET.indexOf(was) + 1) % ALPHABET.length] as string;
  return `${secret.slice(0, at)}${next}${secret.slice(at + 1)}`;
}

export class VerifyKey implements WorldCommand {
  constructor(
    readonly target: Target,
    readonly index: number,
    readonly ask: VerifyAsk,
  ) {}
  check = (model: Readonly<Model>) =>
    this.target === "made-up" || this.target === "malformed" || candidates(model, this.target).length > 0;
  async run(model: Model, real: Real) {
    if (this.target === "made-up") {
      const made = generateKey(this.index % 2 ? "SECRET" : "PUBLISHABLE", this.index % 3 ? "LIVE" : "TEST");
      await verifyBoth(real, made, this.ask, () => predictVerify(model, null, this.ask), "a made-up key");
      return;
    }
    if (this.target === "malformed") {
      const known = model.keys[this.index % Math.max(1, model.keys.length)];
      const base = known?.secret ?? generateKey("SECRET", "LIVE");
      const expected = () => ({ code: "invalid_key_format", keyId: null, remaining: null });
      await verifyBoth(real, altered(base, this.index), this.ask, expected, "a mistyped key");
      return;
    }
    const pool = candidates(model, this.target);
    const key = pool[this.index % pool.length] as ModelKey;
    const label = `${this.target} key ${key.id.slice(0, 8)} (${status(key, model.now)})`;
    await verifyBoth(real, key.secret, this.ask, () => predictVerify(model, key, this.ask), label);
  }
  toString = () => `verify(${this.target} #${this.index}, ${JSON.stringify(this.ask)})`;
}

export class ReadStatuses implements WorldCommand {
  check = (model: Readonly<Model>) => model.keys.length > 0;
  async run(model: Model, real: Real) {
    const seen = new Map<string, string>();
    for (const environment of ["TEST", "LIVE"] as const) {
      const { apiKeys } = await real.client.apiKeys({ workspaceId: real.workspaceId, environment, first: 100 });
      for (const edge of apiKeys.edges) seen.set(edge.node.id, edge.node.status);
    }
    const expected = new Map(model.keys.map((key) => [key.id, status(key, model.now)]));
    expect(Object.fromEntries(seen), "every key's status in apiKeys").toEqual(Object.fromEntries(expected));
  }
  toString = () => "readStatuses()";
}
