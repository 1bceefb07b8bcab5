import fc from "fast-check";
import { type Change, CreateKey, RevokeKey, RollKey, UpdateKey } from "./key-commands";
import { ALLOWED_ORIGIN, IP_INSIDE, IP_OUTSIDE, type Model, OTHER_ORIGIN, type RateLimit } from "./model";
import type { Real } from "./real";
import { AdvanceClock, ReadStatuses, SetKeysEnabled, type Target, VerifyKey } from "./world-commands";

// The random command sequences. Durations are drawn from a few values around each
// other (expiry and grace of 60 s, 10 min, 1 h; clock steps of 1 s to 1 h, 60 s
// exactly among them) so that sequences land before, on and after each boundary.
// Limits are small enough (1–4 per hour) that rate_limit_exceeded is reached.

const SECRET_SCOPES = ["keys:read", "keys:verify", "audit:read"];
const REQUIRED_SCOPES = ["keys:read", "keys:verify"];

const seconds = fc.constantFrom(60, 600, 3600);
const rateLimit: fc.Arbitrary<RateLimit> = fc.record({
  limit: fc.integer({ min: 1, max: 4 }),
  windowSeconds: fc.constant(3600),
});
const index = fc.nat({ max: 1000 });

const create = fc
  .record({
    type: fc.constantFrom("SECRET" as const, "PUBLISHABLE" as const),
    environment: fc.constantFrom("TEST" as const, "LIVE" as const),
    scopes: fc.subarray(SECRET_SCOPES),
    expiresInSeconds: fc.option(seconds, { nil: null }),
    rateLimit: fc.option(rateLimit, { nil: null, freq: 2 }),
    restrictIps: fc.constantFrom(false, false, true),
  })
  .map((spec) => new CreateKey(spec));

const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({ kind: fc.constant("scopes" as const), scopes: fc.subarray(SECRET_SCOPES) }),
  fc.record({ kind: fc.constant("rateLimit" as const), rateLimit }),
  fc.record({ kind: fc.constant("expiresIn" as const), seconds }),
  fc.record({ kind: fc.constant("allowlist" as const), narrow: fc.boolean() }),
  fc.constant({ kind: "name" as const }),
);

const ask = fc.record({
  origin: fc.constantFrom(null, ALLOWED_ORIGIN, ALLOWED_ORIGIN, OTHER_ORIGIN),
  ip: fc.constantFrom(null, IP_INSIDE, IP_INSIDE, IP_OUTSIDE),
  requiredScopes: fc.oneof({ arbitrary: fc.constant<string[]>([]), weight: 2 }, fc.subarray(REQUIRED_SCOPES)),
});

const verify = fc
  .tuple(
    fc.constantFrom<Target>("any", "any", "any", "any", "any", "rolled", "revoked", "made-up", "malformed"),
    index,
    ask,
  )
  .map(([target, at, what]) => new VerifyKey(target, at, what));

export const lifecycleCommands = [
  create,
  create,
  fc.tuple(index, change).map(([at, what]) => new UpdateKey(at, what)),
  fc.tuple(index, fc.oneof(fc.constant(0), seconds)).map(([at, grace]) => new RollKey(at, grace)),
  index.map((at) => new RevokeKey(at)),
  fc.constantFrom(true, true, false).map((enabled) => new SetKeysEnabled(enabled)),
  fc.constantFrom(1_000, 1_000, 59_000, 60_000, 600_000, 3_600_000).map((ms) => new AdvanceClock(ms)),
  verify,
  verify,
  verify,
  verify,
  verify,
  fc.constant(new ReadStatuses()),
];

/** A fresh model for a fresh workspace: keys on, nothing made, nothing spent. */
export function emptyModel(now: number): Model {
  return { now, keysEnabled: true, keys: [], spent: new Map() };
}

export type { Real };
