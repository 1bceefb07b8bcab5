import { createHash, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, signUpUser, startTestApp, type TestApp, uniqueEmail } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// Sign-up, sign-in, sign-out and sessions, through the SDK as a dashboard would use them.

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(() => app.close());

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
/** A token with the right shape that no session was ever issued for. */
const unknownToken = () => `kws_${randomBytes(32).toString("base64url")}`;

describe("signUp", () => {
  it("creates an account, returns a kws_ session token and the user", async () => {
    const email = uniqueEmail("ada");
    const { signUp } = await app.client().signUp({ input: { email, password: PASSWORD, name: "Ada Lovelace" } });
    expect(signUp.token).toMatch(/^kws_[A-Za-z0-9_-]{43}$/);
    expect(signUp.user).toMatchObject({ email, name: "Ada Lovelace", isPlatformAdmin: false });
    const { me } = await app.client(signUp.token).me();
    expect(me).toMatchObject({ id: signUp.user.id, email, name: "Ada Lovelace", memberships: [] });
  });

  it("stores the email in lower case and trims the name", async () => {
    const email = uniqueEmail("Mixed.Case");
    const { signUp } = await app
      .client()
      .signUp({ input: { email: `  ${email.toUpperCase()} `, password: PASSWORD, name: "  Grace  " } });
    expect(signUp.user.email).toBe(email.toLowerCase());
    expect(signUp.user.name).toBe("Grace");
  });

  it("refuses a malformed email with validation_failed on field email", async () => {
    for (const bad of ["not-an-email", "a@", "@example.com", "a b@example.com", ""]) {
      const err = await expectCode(
        app.client().signUp({ input: { email: bad, password: PASSWORD, name: "X" } }),
        "validation_failed",
      );
      expect(err.field, bad).toBe("email");
      expect(err.status).toBe(400);
      expect(err.docUrl).toBe("http://keyward.test/docs/errors#validation_failed");
    }
  });

  it("refuses a password that is too short", async () => {
    const err = await expectCode(
      app.client().signUp({ input: { email: uniqueEmail(), password: "Ab1!x", name: "X" } }),
      "validation_failed",
    );
    expect(err.field).toBe("password");
    expect(err.message).toMatch(/at least 10/);
  });

  it("refuses a password that is long enough but too simple", async () => {
    for (const bad of ["aaaaaaaaaaaaaaaa", "abababababababab", "abcabcabcabcabc"]) {
      const err = await expectCode(
        app.client().signUp({ input: { email: uniqueEmail(), password: bad, name: "X" } }),
        "validation_failed",
      );
      expect(err.field, bad).toBe("password");
      expect(err.message).toMatch(/too simple/);
    }
  });

  it("refuses a 1 MB password with validation_failed, not a crash, on sign-up and sign-in", async () => {
    const huge = `${"x".repeat(1024 * 1024 - 4)}Ab1!`;
    const up = await expectCode(
      app.client().signUp({ input: { email: uniqueEmail(), password: huge, name: "X" } }),
      "validation_failed",
    );
    expect(up.field).toBe("password");
    const existing = await signUpUser(app, "huge");
    const inErr = await expectCode(
      app.client().signIn({ input: { email: existing.email, password: huge } }),
      "validation_failed",
    );
    expect(inErr.field).toBe("password");
    // The server is still fine afterwards.
    const { signIn } = await app.client().signIn({ input: { email: existing.email, password: PASSWORD } });
    expect(signIn.user.id).toBe(existing.user.id);
  });

  it("refuses a name with a NUL byte or other control characters", async () => {
    for (const bad of ["Bob\u0000", "Eve\u0007x", "\u001b[31mRed", "Line\nBreak", "Del\u007f"]) {
      const err = await expectCode(
        app.client().signUp({ input: { email: uniqueEmail(), password: PASSWORD, name: bad } }),
        "validation_failed",
      );
      expect(err.field, JSON.stringify(bad)).toBe("name");
    }
  });

  it("refuses an empty name and a name over 100 characters", async () => {
    for (const bad of ["", "   ", "n".repeat(101)]) {
      const err = await expectCode(
        app.client().signUp({ input: { email: uniqueEmail(), password: PASSWORD, name: bad } }),
        "validation_failed",
      );
      expect(err.field).toBe("name");
    }
  });

  it("refuses a duplicate email, also when it differs only by case", async () => {
    const first = await signUpUser(app, "dup");
    const same = await expectCode(
      app.client().signUp({ input: { email: first.email, password: PASSWORD, name: "Again" } }),
      "validation_failed",
    );
    expect(same.field).toBe("email");
    const upper = await expectCode(
      app.client().signUp({ input: { email: first.email.toUpperCase(), password: PASSWORD, name: "Again" } }),
      "validation_failed",
    );
    expect(upper.field).toBe("email");
    expect(await app.db.user.count({ where: { email: { equals: first.email, mode: "insensitive" } } })).toBe(1);
  });

  it("stores the password as argon2id, never in plain text", async () => {
    const { email } = await signUpUser(app, "argon");
    const row = await app.db.user.findUniqueOrThrow({ where: { email } });
    expect(row.passwordHash.startsWith("$argon2id$")).toBe(true);
    expect(JSON.stringify(row)).not.toContain(PASSWORD);
  });
});

describe("signUp when KEYWARD_SIGNUP=closed", () => {
  let closed: TestApp;
  beforeAll(async () => {
    closed = await startTestApp({ KEYWARD_SIGNUP: "closed" });
  });
  afterAll(() => closed.close());

  it("answers insufficient_permissions and creates no user", async () => {
    const err = await expectCode(
      closed.client().signUp({ input: { email: uniqueEmail(), password: PASSWORD, name: "X" } }),
      "insufficient_permissions",
    );
    expect(err.status).toBe(403);
    expect(await closed.db.user.count()).toBe(0);
  });
});

describe("signIn", () => {
  it("starts a new session with its own token", async () => {
    const user = await signUpUser(app, "signin");
    const { signIn } = await app.client().signIn({ input: { email: user.email, password: PASSWORD } });
    expect(signIn.token).toMatch(/^kws_/);
    expect(signIn.token).not.toBe(user.token);
    expect(signIn.user.id).toBe(user.user.id);
    const { me } = await app.client(signIn.token).me();
    expect(me?.id).toBe(user.user.id);
  });

  it("accepts the email in another case", async () => {
    const user = await signUpUser(app, "case");
    const { signIn } = await app.client().signIn({ input: { email: user.email.toUpperCase(), password: PASSWORD } });
    expect(signIn.user.id).toBe(user.user.id);
  });

  it("answers wrong password and unknown email alike, with authentication_required", async () => {
    const user = await signUpUser(app, "wrongpw");
    const wrong = await expectCode(
      app.client().signIn({ input: { email: user.email, password: `${PASSWORD}!` } }),
      "authentication_required",
    );
    const unknown = await expectCode(
      app.client().signIn({ input: { email: uniqueEmail("nobody"), password: PASSWORD } }),
      "authentication_required",
    );
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.message).toBe(wrong.message);
    expect(unknown.field).toBe(wrong.field);
  });
});

describe("me", () => {
  it("is null when anonymous", async () => {
    const { me } = await app.client().me();
    expect(me).toBeNull();
  });

  it("refuses a credential that does not work instead of answering null", async () => {
    await expectCode(app.client(unknownToken()).me(), "authentication_required");
    await expectCode(app.client(undefined, { authorization: "Basic abc" }).me(), "authentication_required");
  });
});

describe("session tokens on a protected operation", () => {
  const create = (client: ReturnType<TestApp["client"]>) =>
    client.createWorkspace({ input: { name: "Acme", slug: `acme-${randomBytes(4).toString("hex")}` } });

  it("works with a valid token", async () => {
    const user = await signUpUser(app, "valid");
    const { createWorkspace } = await create(user.client);
    expect(createWorkspace.viewerRole).toBe("OWNER");
  });

  it("without an Authorization header answers authentication_required", async () => {
    const err = await expectCode(create(app.client()), "authentication_required");
    expect(err.status).toBe(401);
    expect(err.docUrl).toBe("http://keyward.test/docs/errors#authentication_required");
  });

  it("with a garbled token answers authentication_required", async () => {
    await expectCode(create(app.client("kws_garbage")), "authentication_required");
    await expectCode(create(app.client(undefined, { authorization: "Bearer kws_garbage" })), "authentication_required");
    await expectCode(create(app.client(undefined, { authorization: "Bearer " })), "authentication_required");
    await expectCode(create(app.client(undefined, { authorization: "Bearer" })), "authentication_required");
  });

  it("with a non-Bearer header answers authentication_required", async () => {
    await expectCode(create(app.client(undefined, { authorization: "Basic abc" })), "authentication_required");
    const user = await signUpUser(app, "basic");
    await expectCode(
      create(app.client(undefined, { authorization: `Token ${user.token}` })),
      "authentication_required",
    );
  });

  it("with a well-formed token of no session answers authentication_required", async () => {
    await expectCode(create(app.client(unknownToken())), "authentication_required");
  });

  it("after signOut answers authentication_required, while other sessions keep working", async () => {
    const user = await signUpUser(app, "signout");
    const { signIn: second } = await app.client().signIn({ input: { email: user.email, password: PASSWORD } });
    const { signOut } = await user.client.signOut();
    expect(signOut).toBe(true);
    await expectCode(create(user.client), "authentication_required");
    await expectCode(user.client.me(), "authentication_required");
    const { createWorkspace } = await create(app.client(second.token));
    expect(createWorkspace.viewerRole).toBe("OWNER");
    const row = await app.db.session.findUniqueOrThrow({ where: { tokenHash: sha256(user.token) } });
    expect(row.revokedAt).not.toBeNull();
  });

  it("signOut with allSessions ends every session of the user and no one else's", async () => {
    const user = await signUpUser(app, "all");
    const other = await signUpUser(app, "bystander");
    const tokens = [user.token];
    for (let i = 0; i < 2; i += 1) {
      const { signIn } = await app.client().signIn({ input: { email: user.email, password: PASSWORD } });
      tokens.push(signIn.token);
    }
    const { signOut } = await app.client(tokens[1]).signOut({ input: { allSessions: true } });
    expect(signOut).toBe(true);
    for (const token of tokens) await expectCode(create(app.client(token)), "authentication_required");
    const { me } = await other.client.me();
    expect(me?.id).toBe(other.user.id);
    expect(await app.db.session.count({ where: { userId: user.user.id, revokedAt: null } })).toBe(0);
  });

  it("signOut without a session answers authentication_required", async () => {
    await expectCode(app.client().signOut(), "authentication_required");
  });

  it("stores only the SHA-256 of the token", async () => {
    const user = await signUpUser(app, "hash");
    const rows = await app.db.session.findMany({ where: { userId: user.user.id } });
    expect(rows).toHaveLength(1);
    const row = rows[0];
    expect(row?.tokenHash).toBe(sha256(user.token));
    expect(row?.tokenHash).not.toBe(user.token);
    const secretPart = user.token.slice("kws_".length);
    const stored = JSON.stringify(row);
    expect(stored).not.toContain(user.token);
    expect(stored).not.toContain(secretPart);
  });

  // Last in this file: it moves the app's clock forward for good.
  it("expires after KEYWARD_SESSION_TTL_HOURS (720 h by default)", async () => {
    const user = await signUpUser(app, "expiry");
    app.clock.advance(720 * 3600_000 - 60_000);
    const { me } = await user.client.me();
    expect(me?.id).toBe(user.user.id);
    app.clock.advance(2 * 60_000);
    await expectCode(create(user.client), "authentication_required");
    await expectCode(user.client.me(), "authentication_required");
    // Signing in again gives a fresh session that works at the new time.
    const { signIn } = await app.client().signIn({ input: { email: user.email, password: PASSWORD } });
    const { me: again } = await app.client(signIn.token).me();
    expect(again?.id).toBe(user.user.id);
  });
});

describe("secrets never reach the logs", () => {
  it("logs JSON lines with a request id, and no token or password", async () => {
    const password = `log-secret ${randomBytes(8).toString("hex")}`;
    const email = uniqueEmail("logs");
    const tokens: string[] = [];
    const { signUp } = await app.client().signUp({ input: { email, password, name: "Logger" } });
    tokens.push(signUp.token);
    for (let i = 0; i < 2; i += 1) {
      const { signIn } = await app.client().signIn({ input: { email, password } });
      tokens.push(signIn.token);
    }
    await expectCode(app.client().signIn({ input: { email, password: `${password}x` } }), "authentication_required");
    await app.client(tokens[0]).me();
    await app.client(tokens[1]).signOut();
    await expectCode(app.client(tokens[1]).me(), "authentication_required");

    const text = app.logs.join("");
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(password);
    for (const token of tokens) {
      expect(text).not.toContain(token);
      expect(text).not.toContain(token.slice("kws_".length));
    }
    const lines = text.split("\n").filter((line) => line.trim() !== "");
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = parsed.filter((entry) => entry.msg === "request");
    // Every request above wrote an access-log line, and each names its request.
    expect(requests.length).toBeGreaterThanOrEqual(7);
    for (const entry of requests) expect(entry.requestId).toEqual(expect.any(String));
  });
});
