import type { CreateApiKeyInput } from "@keyward/sdk";
import { SignJWT } from "jose";
import { signUpUser, type TestApp } from "./app";

// Audience tokens as a customer's backend makes them (the README's Node example),
// and the three ways a token reaches verification: GraphQL's verifyApiKey,
// POST /v1/keys/verify and the forward-auth GET /v1/authorize.

export const ORIGIN = "https://chat.example.com";

export interface Claims {
  audience?: unknown;
  exp?: number;
  nbf?: number;
  iat?: number;
}

/** Seconds since the epoch on the app's clock, shifted by `offset` seconds. */
export const seconds = (app: TestApp, offset = 0) => Math.floor(app.clock.now.getTime() / 1000) + offset;

/** A token signed with a key's full value as the HMAC secret, as the README shows. */
export function sign(secret: string, claims: Claims, header: { alg?: string; kid?: string } = {}): Promise<string> {
  return new SignJWT(claims as Record<string, unknown>)
    .setProtectedHeader({ typ: "JWT", ...header, alg: header.alg ?? "HS256" })
    .sign(new TextEncoder().encode(secret));
}

export const TRANSPORTS = ["verifyApiKey", "POST /v1/keys/verify", "GET /v1/authorize"] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface Answer {
  /** VALID or the refusal's code. */
  code: string;
  /** Why, in words. */
  message: string;
  /** The HTTP status (200 for every verifyApiKey and POST /v1/keys/verify answer). */
  status: number;
  audience: string | null;
  audiencePath: string[] | null;
  /** /v1/authorize's X-Keyward-Audience and -Path headers. */
  headers: { audience: string | null; path: string | null };
}

interface Asked {
  key: string;
  token?: string;
  origin?: string;
  /** Who verifies (verifyApiKey and POST /v1/keys/verify): a session token or a secret key. */
  verifier: string;
}

interface VerifyBody {
  code: string;
  message: string;
  audience: string | null;
  audiencePath: string[] | null;
}

export async function verifyThrough(app: TestApp, transport: Transport, asked: Asked): Promise<Answer> {
  const { key, token, origin = ORIGIN, verifier } = asked;
  const none = { audience: null, path: null };
  if (transport === "verifyApiKey") {
    const { verifyApiKey } = await app.client(verifier).verifyApiKey({ input: { key, token, origin } });
    const { code, message, audience, audiencePath } = verifyApiKey;
    return { code, message, status: 200, audience, audiencePath, headers: none };
  }
  if (transport === "POST /v1/keys/verify") {
    const response = await app.fetch("/v1/keys/verify", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${verifier}` },
      body: JSON.stringify({ key, token, origin }),
    });
    const body = (await response.json()) as VerifyBody;
    return { ...pick(body), status: response.status, headers: none };
  }
  const headers: Record<string, string> = { "x-api-key": key, origin };
  if (token !== undefined) headers["x-keyward-audience-token"] = token;
  const response = await app.fetch("/v1/authorize", { headers });
  const body = (await response.json()) as VerifyBody | { error: { code: string; message: string } };
  const answer =
    "error" in body
      ? { code: body.error.code, message: body.error.message, audience: null, audiencePath: null }
      : pick(body);
  return {
    ...answer,
    status: response.status,
    headers: {
      audience: response.headers.get("x-keyward-audience"),
      path: response.headers.get("x-keyward-audience-path"),
    },
  };
}

const pick = ({ code, message, audience, audiencePath }: VerifyBody) => ({ code, message, audience, audiencePath });

export interface MadeKey {
  id: string;
  secret: string;
}

export interface AudienceTenant {
  owner: Awaited<ReturnType<typeof signUpUser>>;
  workspaceId: string;
  /** A LIVE secret key that signs audience tokens. */
  signer: MadeKey;
  /** A LIVE secret key that does not. */
  plain: MadeKey;
  /** A LIVE publishable key allowed from ORIGIN. */
  pk: MadeKey;
  /** A TEST secret key that signs audience tokens. */
  testSigner: MadeKey;
  makeKey(input: Partial<Omit<CreateApiKeyInput, "workspaceId">>): Promise<MadeKey>;
}

let slugs = 0;

/** A workspace with the given audiences ([name, parent] in creation order) and one key of each kind. */
export async function seedAudienceTenant(
  app: TestApp,
  label: string,
  audiences: [string, string | null][],
): Promise<AudienceTenant> {
  const owner = await signUpUser(app, `${label}-owner`);
  const slug = `${label}-${process.pid}-${++slugs}`;
  const workspaceId = (await owner.client.createWorkspace({ input: { name: label, slug } })).createWorkspace.id;
  for (const [name, parent] of audiences) {
    await owner.client.createAudience({ input: { workspaceId, name, parent } });
  }
  const makeKey = async (input: Partial<Omit<CreateApiKeyInput, "workspaceId">>): Promise<MadeKey> => {
    const { createApiKey } = await owner.client.createApiKey({
      input: { workspaceId, name: "key", type: "SECRET", environment: "LIVE", scopes: [], ...input },
    });
    return { id: createApiKey.apiKey.id, secret: createApiKey.secret };
  };
  return {
    owner,
    workspaceId,
    signer: await makeKey({ name: "signer", canSignTokens: true }),
    plain: await makeKey({ name: "plain" }),
    pk: await makeKey({ type: "PUBLISHABLE", scopes: ["keys:read"], allowedOrigins: [ORIGIN] }),
    testSigner: await makeKey({ name: "test signer", environment: "TEST", canSignTokens: true }),
    makeKey,
  };
}
