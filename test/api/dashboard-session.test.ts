import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, signUpUser, startTestApp, type TestApp, uniqueEmail } from "../helpers/app";

// The dashboard's browser session: an HttpOnly, SameSite=Strict cookie set by
// POST /dashboard/session, honoured only with the CSRF header, on both GraphQL paths
// (the edge's runner for POST, Yoga for GET), and dead once signed out.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const CSRF = { "x-graphql-yoga-csrf": "1" };
const JSON_TYPE = { "content-type": "application/json" };

async function openSession(action: "signIn" | "signUp", input: Record<string, string>, headers = CSRF) {
  return app.fetch("/dashboard/session", {
    method: "POST",
    headers: { ...JSON_TYPE, ...headers },
    body: JSON.stringify({ action, input }),
  });
}

/** The cookie pair (name=value) a Set-Cookie header sets. */
const pair = (setCookie: string | null) => (setCookie ?? "").split(";")[0] ?? "";

async function signedUpCookie() {
  const email = uniqueEmail("dash");
  const response = await openSession("signUp", { email, password: PASSWORD, name: "Dash" });
  expect(response.status).toBe(200);
  return { cookie: pair(response.headers.get("set-cookie")), email, response };
}

const me = (headers: Record<string, string>) =>
  app.fetch("/graphql", {
    method: "POST",
    headers: { ...JSON_TYPE, ...headers },
    body: JSON.stringify({ query: "{ me { email } }" }),
  });
// GET goes to Yoga rather than the edge's runner: both must read the cookie alike.
const meViaYoga = (headers: Record<string, string>) =>
  app.fetch(`/graphql?query=${encodeURIComponent("{ me { email } }")}`, { headers });

describe("signing a browser in", () => {
  it("sets an HttpOnly, SameSite=Strict, Path=/ cookie and never shows the page the token", async () => {
    const { cookie, email, response } = await signedUpCookie();
    const setCookie = response.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^keyward_session=kws_[A-Za-z0-9_-]{43};/);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Path=/");
    expect(setCookie).not.toContain("Secure");
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ data: { user: { email } } });
    expect(text).not.toContain("kws_");
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(cookie).toMatch(/^keyward_session=/);
  });

  it("signs in an existing account the same way", async () => {
    const { email } = await signUpUser(app, "existing");
    const response = await openSession("signIn", { email, password: PASSWORD });
    expect(response.status).toBe(200);
    const cookie = pair(response.headers.get("set-cookie"));
    const answer = await me({ cookie, ...CSRF });
    expect(await answer.json()).toEqual({ data: { me: { email } } });
  });

  it("a wrong password gets the API's own error and no cookie", async () => {
    const { email } = await signUpUser(app, "wrongpw");
    const response = await openSession("signIn", { email, password: "not the password at all" });
    expect(response.status).toBe(401);
    expect(response.headers.get("set-cookie")).toBeNull();
    const body = await response.json();
    expect(body.errors[0].extensions).toMatchObject({ code: "authentication_required" });
    expect(body.errors[0].extensions.docUrl).toMatch(/\/docs\/errors#authentication_required$/);
  });

  it("an unknown action or a malformed input answers validation_failed", async () => {
    const bad = await app.fetch("/dashboard/session", {
      method: "POST",
      headers: { ...JSON_TYPE, ...CSRF },
      body: JSON.stringify({ action: "becomeAdmin", input: {} }),
    });
    expect(bad.status).toBe(400);
    expect((await bad.json()).errors[0].extensions).toMatchObject({ code: "validation_failed", field: "action" });
    const noInput = await openSession("signIn", {});
    expect(noInput.status).toBe(400);
    expect((await noInput.json()).errors[0].extensions.code).toBe("validation_failed");
  });

  it("in production the cookie is Secure", async () => {
    const production = await startTestApp({ NODE_ENV: "production" });
    try {
      const response = await production.fetch("/dashboard/session", {
        method: "POST",
        headers: { ...JSON_TYPE, ...CSRF },
        body: JSON.stringify({
          action: "signUp",
          input: { email: uniqueEmail("prod"), password: PASSWORD, name: "P" },
        }),
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("set-cookie")).toMatch(/; Secure/);
    } finally {
      await production.close();
    }
  });
});

describe("the cookie as a credential", () => {
  it("with the CSRF header it signs GraphQL requests in, on the runner and on Yoga alike", async () => {
    const { cookie, email } = await signedUpCookie();
    expect(await (await me({ cookie, ...CSRF })).json()).toEqual({ data: { me: { email } } });
    expect(await (await meViaYoga({ cookie, ...CSRF })).json()).toEqual({ data: { me: { email } } });
  });

  it("attack: a cross-site request rides the cookie without the CSRF header — refused with authentication_required", async () => {
    const { cookie } = await signedUpCookie();
    const runner = await me({ cookie });
    expect(runner.status).toBe(401);
    const body = await runner.json();
    expect(body.errors[0].extensions.code).toBe("authentication_required");
    expect(body.errors[0].message).toContain("x-graphql-yoga-csrf");
    expect(body.data?.me ?? null).toBeNull();
    // A mutation likewise: nothing is created.
    const created = await app.fetch("/graphql", {
      method: "POST",
      headers: { ...JSON_TYPE, cookie },
      body: JSON.stringify({
        query: 'mutation { createWorkspace(input: { name: "Evil", slug: "evil-csrf" }) { id } }',
      }),
    });
    expect((await created.json()).errors[0].extensions.code).toBe("authentication_required");
    expect(await app.db.workspace.count({ where: { slug: "evil-csrf" } })).toBe(0);
  });

  it("attack: the cookie without the CSRF header cannot verify keys over plain HTTP either", async () => {
    const { cookie } = await signedUpCookie();
    const verify = (headers: Record<string, string>) =>
      app.fetch("/v1/keys/verify", {
        method: "POST",
        headers: { ...JSON_TYPE, cookie, ...headers },
        body: JSON.stringify({ key: "sk_test_not_a_real_key" }),
      });
    const refused = await verify({});
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe("authentication_required");
    // With the header the caller is signed in, and the key itself is what gets judged.
    const judged = await verify(CSRF);
    expect(judged.status).toBe(200);
    expect((await judged.json()).valid).toBe(false);
  });

  it("attack: an API key planted as the session cookie is not taken as a credential", async () => {
    const { client } = await signUpUser(app, "planter");
    const ws = (await client.createWorkspace({ input: { name: "Planted", slug: `planted-${Date.now()}` } }))
      .createWorkspace;
    const { secret } = (
      await client.createApiKey({ input: { workspaceId: ws.id, name: "k", type: "SECRET", environment: "TEST" } })
    ).createApiKey;
    const answer = await me({ cookie: `keyward_session=${secret}`, ...CSRF });
    expect(answer.status).toBe(401);
    expect((await answer.json()).errors[0]).toMatchObject({
      message: "Malformed session cookie.",
      extensions: { code: "authentication_required" },
    });
  });

  it("an Authorization header wins over the cookie", async () => {
    const { cookie } = await signedUpCookie();
    const other = await signUpUser(app, "header");
    const answer = await me({ cookie, authorization: `Bearer ${other.token}` });
    expect(await answer.json()).toEqual({ data: { me: { email: other.email } } });
  });
});

describe("signing out", () => {
  it("ends the session and clears the cookie; the old cookie is refused afterwards", async () => {
    const { cookie } = await signedUpCookie();
    const out = await app.fetch("/dashboard/session", { method: "DELETE", headers: { cookie, ...CSRF } });
    expect(out.status).toBe(200);
    expect(await out.json()).toEqual({ data: { signOut: true } });
    const cleared = out.headers.get("set-cookie") ?? "";
    expect(cleared).toMatch(/^keyward_session=;/);
    expect(cleared).toContain("Max-Age=0");
    // attack: a copy of the cookie kept from before the sign-out is replayed.
    const replay = await me({ cookie, ...CSRF });
    expect(replay.status).toBe(401);
    expect((await replay.json()).errors[0].message).toBe("This session was signed out: sign in again.");
  });

  it("attack: a cross-site page signs the browser out (or in) without the CSRF header — refused, nothing changes", async () => {
    const { cookie } = await signedUpCookie();
    const out = await app.fetch("/dashboard/session", { method: "DELETE", headers: { cookie } });
    expect(out.status).toBe(401);
    expect(out.headers.get("set-cookie")).toBeNull();
    expect(await (await me({ cookie, ...CSRF })).json()).toMatchObject({ data: { me: {} } });
    const { email } = await signUpUser(app, "loginCsrf");
    const login = await openSession("signIn", { email, password: PASSWORD }, {} as typeof CSRF);
    expect(login.status).toBe(401);
    expect(login.headers.get("set-cookie")).toBeNull();
    expect((await login.json()).errors[0].extensions.code).toBe("authentication_required");
  });

  it("attack: a plain HTML form posts the sign-in — refused as unsupported_media_type", async () => {
    const { email } = await signUpUser(app, "form");
    const response = await app.fetch("/dashboard/session", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...CSRF },
      body: `action=signIn&email=${encodeURIComponent(email)}&password=x`,
    });
    expect(response.status).toBe(415);
    expect(response.headers.get("set-cookie")).toBeNull();
  });
});
