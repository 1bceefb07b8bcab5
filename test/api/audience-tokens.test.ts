import { base64url, generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../server/keys/format";
import { startTestApp, type TestApp } from "../helpers/app";
import {
  type AudienceTenant,
  type Claims,
  ORIGIN,
  seconds,
  seedAudienceTenant,
  sign,
  TRANSPORTS,
  verifyThrough,
} from "../helpers/audience";
import { expectCode } from "../helpers/expect-error";

// A publishable key sent with an audience token, on every verification path:
// GraphQL's verifyApiKey, POST /v1/keys/verify and GET /v1/authorize. Each
// refusal is an attack one step away from the valid token beside it, so what
// refuses it is the rule named, never some other fault.

let app: TestApp;
let a: AudienceTenant;
let b: AudienceTenant;

beforeAll(async () => {
  app = await startTestApp();
  a = await seedAudienceTenant(app, "aud-a", [
    ["enterprise", null],
    ["enterprise_b", "enterprise"],
    ["team_1", "enterprise_b"],
  ]);
  b = await seedAudienceTenant(app, "aud-b", [
    ["enterprise_b", null],
    ["beta_only", null],
  ]);
});
afterAll(() => app.close());

/** Claims of a valid token: an audience and an expiry ten minutes ahead. */
const claims = (audience: unknown = "enterprise_b", extra: Claims = {}): Claims => ({
  audience,
  iat: seconds(app),
  exp: seconds(app, 600),
  ...extra,
});

const json = (value: unknown) => base64url.encode(JSON.stringify(value));

/** Why each attack is refused, as the answer's message says it. */
const WHY = {
  ALG: "signed with HS256; no other alg is accepted",
  SIGNATURE: "signature matches no signing key of this workspace",
  KID: "kid names no signing key of this workspace and environment",
  EXPIRED: "has expired",
  NBF: "not valid yet (nbf)",
  EXP_MISSING: "exp claim is missing or invalid",
  UNKNOWN: "names an audience this workspace does not have",
  NO_AUDIENCE: "has no audience claim",
  NOT_JWT: "not a signed JWT",
};

interface Attack {
  name: string;
  why: string;
  token(): Promise<string>;
  /** The publishable key sent (default: workspace A's). */
  key?: () => string;
  /** Who verifies (default: A's owner). */
  verifier?: () => string;
}

const ATTACKS: Attack[] = [
  {
    name: "alg none: an unsigned token claiming enterprise_b",
    why: WHY.ALG,
    token: async () => new UnsecuredJWT(claims() as Record<string, unknown>).encode(),
  },
  {
    name: "alg none naming the signing key's kid, with an empty signature",
    why: WHY.ALG,
    token: async () => `${json({ alg: "none", kid: a.signer.id })}.${json(claims())}.`,
  },
  {
    name: "HS512 signed with the real signing secret",
    why: WHY.ALG,
    token: () => sign(a.signer.secret, claims(), { alg: "HS512" }),
  },
  {
    name: "RS256 signed with the attacker's own RSA key, naming the signing key's kid",
    why: WHY.ALG,
    token: async () => {
      const { privateKey } = await generateKeyPair("RS256");
      return new SignJWT(claims() as Record<string, unknown>)
        .setProtectedHeader({ alg: "RS256", kid: a.signer.id })
        .sign(privateKey);
    },
  },
  {
    name: "HS256 signed with a made-up secret",
    why: WHY.SIGNATURE,
    token: () => sign(generateKey("SECRET", "LIVE"), claims()),
  },
  {
    name: "HS256 signed with a secret key of the workspace that may not sign",
    why: WHY.SIGNATURE,
    token: () => sign(a.plain.secret, claims()),
  },
  {
    name: "HS256 signed with a non-signing key, naming that key's id as kid",
    why: WHY.KID,
    token: () => sign(a.plain.secret, claims(), { kid: a.plain.id }),
  },
  {
    name: "the real signing secret, but a kid naming a key that does not sign",
    why: WHY.KID,
    token: () => sign(a.signer.secret, claims(), { kid: a.plain.id }),
  },
  {
    name: "HS256 signed by another workspace's signing key",
    why: WHY.KID,
    token: () => sign(b.signer.secret, claims(), { kid: b.signer.id }),
  },
  {
    name: "another workspace's signing key, naming this workspace's signing key as kid",
    why: WHY.KID,
    token: () => sign(b.signer.secret, claims(), { kid: a.signer.id }),
  },
  {
    name: "signed by the workspace's TEST signing key, sent with a LIVE publishable key",
    why: WHY.KID,
    token: () => sign(a.testSigner.secret, claims(), { kid: a.testSigner.id }),
  },
  {
    name: "a token workspace A signed, sent with workspace B's publishable key to B's verifier",
    why: WHY.KID,
    token: () => sign(a.signer.secret, claims(), { kid: a.signer.id }),
    key: () => b.pk.secret,
    verifier: () => b.owner.token,
  },
  {
    name: "expired: exp 60 s ago, beyond the 30 s clock skew",
    why: WHY.EXPIRED,
    token: () => sign(a.signer.secret, claims("enterprise_b", { exp: seconds(app, -60) })),
  },
  {
    name: "not yet valid: nbf 120 s ahead",
    why: WHY.NBF,
    token: () => sign(a.signer.secret, claims("enterprise_b", { nbf: seconds(app, 120) })),
  },
  {
    name: "no exp: a token that would never expire",
    why: WHY.EXP_MISSING,
    token: () => sign(a.signer.secret, { audience: "enterprise_b", iat: seconds(app) }),
  },
  {
    name: "unknown audience: correctly signed, naming an audience the workspace does not have",
    why: WHY.UNKNOWN,
    token: () => sign(a.signer.secret, claims("enterprise_z")),
  },
  {
    name: "another workspace's audience: correctly signed, naming one only B has",
    why: WHY.UNKNOWN,
    token: () => sign(a.signer.secret, claims("beta_only")),
  },
  {
    name: "an audience claim that is not a string",
    why: WHY.NO_AUDIENCE,
    token: () => sign(a.signer.secret, claims(["enterprise_b"])),
  },
  { name: "no audience claim", why: WHY.NO_AUDIENCE, token: () => sign(a.signer.secret, { exp: seconds(app, 600) }) },
  {
    name: "a payload edited after signing (enterprise → team_1)",
    why: WHY.SIGNATURE,
    token: async () => {
      const [header, , signature] = (await sign(a.signer.secret, claims("enterprise"))).split(".");
      return `${header}.${json(claims("team_1"))}.${signature}`;
    },
  },
  { name: "a raw audience value sent as the token, unsigned", why: WHY.NOT_JWT, token: async () => "enterprise_b" },
  {
    name: "a raw audience claim in base64url, unsigned",
    why: WHY.NOT_JWT,
    token: async () => json({ audience: "enterprise_b" }),
  },
];

describe.each(TRANSPORTS)("%s", (transport) => {
  const refusedStatus = transport === "GET /v1/authorize" ? 401 : 200;

  it("control: the valid token answers its audience and the path to the root", async () => {
    const token = await sign(a.signer.secret, claims(), { kid: a.signer.id });
    const answer = await verifyThrough(app, transport, { key: a.pk.secret, token, verifier: a.owner.token });
    expect(answer).toMatchObject({
      code: "VALID",
      status: 200,
      audience: "enterprise_b",
      audiencePath: ["enterprise_b", "enterprise"],
    });
    if (transport === "GET /v1/authorize") {
      expect(answer.headers).toEqual({ audience: "enterprise_b", path: "enterprise_b,enterprise" });
    }
  });

  it.each(ATTACKS.map((attack) => [attack.name, attack] as const))(
    "refuses %s (invalid_audience_token)",
    async (_name, attack) => {
      const answer = await verifyThrough(app, transport, {
        key: attack.key?.() ?? a.pk.secret,
        token: await attack.token(),
        verifier: attack.verifier?.() ?? a.owner.token,
      });
      expect(answer).toEqual({
        code: "invalid_audience_token",
        message: expect.stringContaining(attack.why),
        status: refusedStatus,
        audience: null,
        audiencePath: null,
        headers: { audience: null, path: null },
      });
    },
  );

  it("accepts a token without kid, and one at each depth of the tree", async () => {
    const paths: Record<string, string[]> = {
      enterprise: ["enterprise"],
      enterprise_b: ["enterprise_b", "enterprise"],
      team_1: ["team_1", "enterprise_b", "enterprise"],
    };
    for (const [audience, path] of Object.entries(paths)) {
      const token = await sign(a.signer.secret, claims(audience));
      const answer = await verifyThrough(app, transport, { key: a.pk.secret, token, verifier: a.owner.token });
      expect(answer).toMatchObject({ code: "VALID", audience, audiencePath: path });
    }
  });

  it("tolerates 30 s of clock skew: exp 20 s ago and nbf 20 s ahead still pass", async () => {
    const token = await sign(a.signer.secret, claims("enterprise", { exp: seconds(app, -20), nbf: seconds(app, 20) }));
    const answer = await verifyThrough(app, transport, { key: a.pk.secret, token, verifier: a.owner.token });
    expect(answer).toMatchObject({ code: "VALID", audience: "enterprise" });
  });

  it("another workspace's token proves nothing for B, yet B's own token works with B's key", async () => {
    const token = await sign(b.signer.secret, claims(), { kid: b.signer.id });
    const answer = await verifyThrough(app, transport, { key: b.pk.secret, token, verifier: b.owner.token });
    expect(answer).toMatchObject({ code: "VALID", audience: "enterprise_b", audiencePath: ["enterprise_b"] });
  });
});

describe.each(TRANSPORTS)("%s with requireAudienceToken", (transport) => {
  const set = (required: boolean) =>
    a.owner.client.setRequireAudienceToken({ input: { workspaceId: a.workspaceId, required } });

  it("refuses a publishable key sent without a token (audience_token_required), and only then", async () => {
    const ask = (key: string, token?: string) => verifyThrough(app, transport, { key, token, verifier: a.owner.token });
    expect(await ask(a.pk.secret)).toMatchObject({ code: "VALID", audience: null, audiencePath: null });
    await set(true);
    try {
      const required = { code: "audience_token_required", status: transport === "GET /v1/authorize" ? 403 : 200 };
      expect(await ask(a.pk.secret)).toMatchObject(required);
      expect(await ask(a.pk.secret, "")).toMatchObject(required);
      expect(await ask(a.pk.secret, "enterprise_b")).toMatchObject({ code: "invalid_audience_token" });
      const token = await sign(a.signer.secret, claims());
      expect(await ask(a.pk.secret, token)).toMatchObject({ code: "VALID", audience: "enterprise_b" });
      // The rule is about publishable keys, which browsers hold; a secret key is already the backend.
      expect(await ask(a.plain.secret)).toMatchObject({ code: "VALID", audience: null });
    } finally {
      await set(false);
    }
    expect(await ask(a.pk.secret)).toMatchObject({ code: "VALID", audience: null });
  });
});

describe("a token too long to be one (over 4,096 characters)", () => {
  it("is validation_failed naming the token, on all three paths, before any signature work", async () => {
    const token = `${await sign(a.signer.secret, claims())}${"A".repeat(4096)}`;
    const graphql = await expectCode(
      a.owner.client.verifyApiKey({ input: { key: a.pk.secret, token, origin: ORIGIN } }),
      "validation_failed",
    );
    expect(graphql.field).toBe("token");
    const rest = await app.fetch("/v1/keys/verify", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${a.owner.token}` },
      body: JSON.stringify({ key: a.pk.secret, token, origin: ORIGIN }),
    });
    expect(rest.status).toBe(400);
    expect(((await rest.json()) as { error: { field: string } }).error.field).toBe("token");
    const gateway = await app.fetch("/v1/authorize", {
      headers: { "x-api-key": a.pk.secret, origin: ORIGIN, "x-keyward-audience-token": token },
    });
    expect(gateway.status).toBe(400);
    expect(((await gateway.json()) as { error: { field: string } }).error.field).toBe("X-Keyward-Audience-Token");
  });
});
