import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Principal, parseBearer, resolvePrincipal } from "../../server/auth/principal";
import { createPlatformAdmin } from "../../server/identity/accounts";
import type { Credentials } from "../../server/identity/session-cookie";
import { generateKey } from "../../server/keys/format";
import { generatePlatformKey } from "../../server/platform/format";
import { PASSWORD, signUpUser, startTestApp, type TestApp, uniqueEmail } from "../helpers/app";

// Who a request is, from its Authorization header or the dashboard's cookie
// (server/auth/principal.ts), against a real database and key cache: each way a
// credential can be wrong is named with its exact answer, because a caller told
// "sign in" when their header is merely malformed goes looking in the wrong place,
// and a credential accepted in a shape it should not have is a way in.

let app: TestApp;
let session: string;
let userId: string;
let secret: string;
let revokedSecret: string;
let platformSecret: string;
let revokedPlatformSecret: string;

beforeAll(async () => {
  app = await startTestApp();
  const owner = await signUpUser(app, "owner");
  session = owner.token;
  userId = owner.user.id;
  const { createWorkspace } = await owner.client.createWorkspace({ input: { name: "Acme", slug: "acme-creds" } });
  const make = async (name: string) =>
    (
      await owner.client.createApiKey({
        input: { workspaceId: createWorkspace.id, name, type: "SECRET", environment: "LIVE", scopes: ["keys:read"] },
      })
    ).createApiKey;
  secret = (await make("live")).secret;
  const doomed = await make("doomed");
  revokedSecret = doomed.secret;
  await owner.client.revokeApiKey({ input: { id: doomed.apiKey.id } });

  const email = uniqueEmail("ops");
  const made = await createPlatformAdmin(app.db, { email, password: PASSWORD, name: "Ops" }, app.clock.now);
  if (!made.ok) throw new Error(made.error.message);
  const { signIn } = await app.client().signIn({ input: { email, password: PASSWORD } });
  const ops = app.client(signIn.token);
  const platform = async () =>
    (await ops.createPlatformKey({ input: { name: "edge", scopes: ["keys:verify"] } })).createPlatformKey;
  platformSecret = (await platform()).secret;
  const gone = await platform();
  revokedPlatformSecret = gone.secret;
  await ops.revokePlatformKey({ input: { id: gone.platformKey.id } });
});
afterAll(() => app.close());

const facts = () => ({ now: app.clock.now, origin: null, ip: "203.0.113.7" });
const resolve = (credentials: Partial<Credentials>): Promise<Principal> =>
  resolvePrincipal(
    app.db,
    app.keys.cache,
    { authorization: null, cookie: null, csrfHeader: false, ...credentials },
    facts(),
  );
const bearer = (token: string) => resolve({ authorization: `Bearer ${token}` });
const invalid = (code: string, message: string) => ({ kind: "invalid", failure: { code, message } });
const MALFORMED_HEADER = invalid(
  "authentication_required",
  "Malformed Authorization header: expected `Bearer <token>`.",
);
const UNRECOGNISED = invalid(
  "authentication_required",
  "Unrecognised bearer token: expected a session token (kws_…), an API key (sk_… / pk_…) or a platform key (kwp_…).",
);

describe("the Authorization header", () => {
  it("no header, or a blank one, is an anonymous caller", async () => {
    expect(await resolve({})).toEqual({ kind: "anonymous" });
    expect(await resolve({ authorization: "" })).toEqual({ kind: "anonymous" });
    expect(await resolve({ authorization: "   " })).toEqual({ kind: "anonymous" });
    expect(parseBearer(null)).toEqual({ ok: true, value: null });
  });

  it("`Bearer <session>` is that user, whatever the case of Bearer and around spaces", async () => {
    for (const header of [`Bearer ${session}`, `bearer ${session}`, `BEARER ${session}`, `  Bearer ${session}  `]) {
      expect(await resolve({ authorization: header }), header).toMatchObject({ kind: "user", user: { id: userId } });
    }
  });

  it("attack: anything but exactly `Bearer <one printable token>` is refused as malformed, never read as a token", async () => {
    const headers = [
      "Bearer",
      `Basic ${session}`,
      `Bearer  ${session}`,
      `Bearer ${session} extra`,
      `xBearer ${session}`,
      `Bearer ${session}\u00e9`,
      `Bearer ${"a".repeat(513)}`,
      `Bearer\t${session}`,
    ];
    for (const header of headers) {
      expect(await resolve({ authorization: header }), header).toEqual(MALFORMED_HEADER);
      expect(parseBearer(header), header).toEqual({ ok: false, error: MALFORMED_HEADER.failure });
    }
  });

  it("a 512-character token is read as a token (and then not recognised); the exact token is passed on", async () => {
    expect(await bearer("a".repeat(512))).toEqual(UNRECOGNISED);
    expect(parseBearer(`Bearer ${"!~".repeat(256)}`)).toEqual({ ok: true, value: "!~".repeat(256) });
  });

  it("a token of no known kind is named as unrecognised", async () => {
    expect(await bearer("hello")).toEqual(UNRECOGNISED);
  });
});

describe("session tokens", () => {
  it("a malformed, unknown, signed-out or expired session each says so", async () => {
    expect(await bearer("kws_short")).toEqual(invalid("authentication_required", "Malformed session token."));
    expect(await bearer(`kws_${"A".repeat(43)}`)).toEqual(
      invalid("authentication_required", "Unknown session token: sign in again."),
    );
    const signedOut = await signUpUser(app, "leaver");
    await signedOut.client.signOut();
    expect(await bearer(signedOut.token)).toEqual(
      invalid("authentication_required", "This session was signed out: sign in again."),
    );
  });

  it("a session is refused from the instant it expires, not a moment later", async () => {
    const person = await signUpUser(app, "short");
    const row = await app.db.session.findFirstOrThrow({ where: { userId: person.user.id } });
    const expired = invalid("authentication_required", "This session has expired: sign in again.");
    await app.db.session.update({ where: { id: row.id }, data: { expiresAt: new Date(app.clock.now.getTime() + 1) } });
    expect(await bearer(person.token)).toMatchObject({ kind: "user" });
    await app.db.session.update({ where: { id: row.id }, data: { expiresAt: app.clock.now } });
    expect(await bearer(person.token)).toEqual(expired);
  });
});

describe("the dashboard's cookie", () => {
  it("counts only with the CSRF header, and only when no Authorization header is sent", async () => {
    expect(await resolve({ cookie: session, csrfHeader: true })).toMatchObject({ kind: "user", user: { id: userId } });
    expect(await resolve({ authorization: "  ", cookie: session, csrfHeader: true })).toMatchObject({ kind: "user" });
    // The header decides when there is one, even a bad one.
    expect(await resolve({ authorization: "Bearer", cookie: session, csrfHeader: true })).toEqual(MALFORMED_HEADER);
    expect(await resolve({ authorization: `Bearer ${secret}`, cookie: session, csrfHeader: true })).toMatchObject({
      kind: "key",
    });
  });

  it("attack: a cross-site request rides the cookie without the CSRF header", async () => {
    expect(await resolve({ cookie: session, csrfHeader: false })).toEqual(
      invalid(
        "authentication_required",
        "A request signed in by the dashboard's session cookie must carry the x-graphql-yoga-csrf header.",
      ),
    );
  });

  it("attack: an API key planted as the session cookie is not a credential", async () => {
    expect(await resolve({ cookie: secret, csrfHeader: true })).toEqual(
      invalid("authentication_required", "Malformed session cookie."),
    );
  });
});

describe("API keys and platform keys", () => {
  it("a working key is that key in its workspace", async () => {
    expect(await bearer(secret)).toMatchObject({
      kind: "key",
      key: { type: "SECRET" },
      workspace: { slug: "acme-creds" },
    });
    expect(await bearer(platformSecret)).toMatchObject({ kind: "platform", key: { scopes: ["keys:verify"] } });
  });

  it("a mistyped key says what is wrong with its shape; an unknown one is unknown", async () => {
    const mistyped = await bearer(`${secret.slice(0, -1)}!`);
    expect(mistyped).toMatchObject({ kind: "invalid", failure: { code: "invalid_key_format" } });
    expect((mistyped as { failure: { message: string } }).failure.message).toMatch(/^Invalid API key: /);
    expect(await bearer(generateKey("SECRET", "LIVE"))).toEqual(invalid("invalid_api_key", "Unknown API key."));
  });

  it("a revoked key is refused by the key rules, not taken as its workspace", async () => {
    expect(await bearer(revokedSecret)).toMatchObject({ kind: "invalid", failure: { code: "invalid_api_key" } });
  });

  it("platform keys: a mistyped one names its shape, an unknown one is unknown, a revoked one refused", async () => {
    const mistyped = await bearer(`${platformSecret.slice(0, 8)}`);
    expect(mistyped).toMatchObject({ kind: "invalid", failure: { code: "invalid_key_format" } });
    expect((mistyped as { failure: { message: string } }).failure.message).toMatch(/^Invalid platform key: /);
    expect(await bearer(generatePlatformKey())).toEqual(invalid("invalid_api_key", "Unknown platform key."));
    expect(await bearer(revokedPlatformSecret)).toMatchObject({
      kind: "invalid",
      failure: { code: "invalid_api_key" },
    });
  });
});
