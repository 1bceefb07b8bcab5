import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, signUpUser, startTestApp, type TestApp, uniqueEmail } from "../helpers/app";

// Limits an attacker walked around. signIn/signUp are limited per call, not per
// request: each alias, fields inside fragments, whatever credential is sent. Guessing
// one account's password is limited per account, from any number of IPs, and an
// unknown email is limited the same way. A key spends as many points as its request
// costs, so 500 aliased lists are 500 requests, not one.

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: Record<string, unknown> | null; errors?: { message: string; extensions: { code: string } }[] };
}

let ipCounter = 0;
/** A fresh address per attacker, so tests do not share an IP's attempts. */
const freshIp = () => `198.51.100.${++ipCounter}`;

async function send(
  app: TestApp,
  query: string,
  options: { ip: string; token?: string; origin?: string; variables?: unknown },
): Promise<Answer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.origin) headers.origin = options.origin;
  const response = await app.serve(
    "http://keyward.test/graphql",
    { method: "POST", headers, body: JSON.stringify({ query, variables: options.variables }) },
    { ip: options.ip },
  );
  return { status: response.status, headers: response.headers, body: (await response.json()) as Answer["body"] };
}

const codes = (answer: Answer) => (answer.body.errors ?? []).map((e) => e.extensions.code);
const signInField = (email: string, password: string, alias = "") =>
  `${alias ? `${alias}: ` : ""}signIn(input: { email: "${email}", password: "${password}" }) { token }`;
const signUpField = (email: string, alias: string) =>
  `${alias}: signUp(input: { email: "${email}", password: "${PASSWORD}", name: "Mallory" }) { token }`;

describe("the per-IP sign-in limit counts every call (limit 3)", () => {
  let app: TestApp;
  let victim: string;

  beforeAll(async () => {
    app = await startTestApp({ KEYWARD_AUTH_RATE_LIMIT: "3", KEYWARD_SIGNIN_ACCOUNT_LIMIT: "1000" });
    victim = uniqueEmail("victim");
    await send(app, `mutation { ${signUpField(victim, "s")} }`, { ip: freshIp() });
  });
  afterAll(() => app.close());

  /** Spends the IP's three attempts with plain wrong guesses. */
  async function exhaust(ip: string) {
    for (let i = 0; i < 3; i++) {
      expect(codes(await send(app, `mutation { ${signInField(victim, `wrong ${i}`)} }`, { ip }))).toEqual([
        "authentication_required",
      ]);
    }
  }

  it.each([
    ["wrapped in an inline fragment", `mutation { ... on Mutation { ${signInField("V", PASSWORD)} } }`],
    ["in an inline fragment without a type", `mutation { ... { ${signInField("V", PASSWORD)} } }`],
    ["in a named fragment", `mutation { ...F } fragment F on Mutation { ${signInField("V", PASSWORD)} }`],
    [
      "in a fragment inside a fragment",
      `mutation { ...F } fragment F on Mutation { ...G } fragment G on Mutation { ${signInField("V", PASSWORD)} }`,
    ],
  ])("once the IP got 429, signIn %s is still 429, and so are 40 more guesses", async (_label, template) => {
    const ip = freshIp();
    await exhaust(ip);
    const query = template.replace('"V"', `"${victim}"`);
    for (let i = 0; i < 41; i++) {
      const answer = await send(app, query, { ip });
      expect(answer.status).toBe(429);
      expect(codes(answer)).toEqual(["rate_limit_exceeded"]);
    }
  });

  it.each([
    ["a secret key", "secret"],
    ["a publishable key", "publishable"],
    ["a session token", "session"],
  ])("signIn sent with %s as Bearer is counted on the IP too", async (_label, kind) => {
    const owner = await signUpUser(app, "bearer-owner");
    const { createWorkspace } = await owner.client.createWorkspace({
      input: { name: "Bearer", slug: `bearer-${kind}-${process.pid}` },
    });
    const { createApiKey } = await owner.client.createApiKey({
      input: {
        workspaceId: createWorkspace.id,
        name: "bearer",
        type: kind === "publishable" ? "PUBLISHABLE" : "SECRET",
        environment: "LIVE",
        scopes: ["keys:read"],
        allowedOrigins: kind === "publishable" ? ["https://app.example.com"] : undefined,
      },
    });
    const token = kind === "session" ? owner.token : createApiKey.secret;
    const ip = freshIp();
    await exhaust(ip);
    const answer = await send(app, `mutation { ${signInField(victim, PASSWORD)} }`, {
      ip,
      token,
      origin: "https://app.example.com",
    });
    expect(answer.status).toBe(429);
    expect(codes(answer)).toEqual(["rate_limit_exceeded"]);
  });

  it("4 aliased signIns from an IP with 3 attempts left are refused whole: none runs", async () => {
    const ip = freshIp();
    const sessions = await app.db.session.count();
    const fields = [1, 2, 3, 4].map((i) => signInField(victim, i === 4 ? PASSWORD : `wrong ${i}`, `a${i}`));
    const answer = await send(app, `mutation { ${fields.join(" ")} }`, { ip });
    expect(answer.status).toBe(429);
    expect(answer.body.data ?? null).toBeNull();
    expect(await app.db.session.count()).toBe(sessions);
    // Refused whole, so nothing was spent: three single attempts still answer.
    await exhaust(ip);
  });

  it("10 aliased signUps make no accounts, where they made 10 for one attempt", async () => {
    const emails = Array.from({ length: 10 }, () => uniqueEmail("alias"));
    const fields = emails.map((email, i) => signUpField(email, `u${i}`));
    const answer = await send(app, `mutation { ${fields.join(" ")} }`, { ip: freshIp() });
    expect(answer.status).toBe(429);
    expect(await app.db.user.count({ where: { email: { in: emails } } })).toBe(0);
  });

  it("control: 3 aliased signUps spend the 3 attempts, and the next one is refused", async () => {
    const ip = freshIp();
    const emails = Array.from({ length: 3 }, () => uniqueEmail("three"));
    const answer = await send(app, `mutation { ${emails.map((e, i) => signUpField(e, `u${i}`)).join(" ")} }`, { ip });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(await app.db.user.count({ where: { email: { in: emails } } })).toBe(3);
    const next = await send(app, `mutation { ${signUpField(uniqueEmail("fourth"), "u")} }`, { ip });
    expect(codes(next)).toEqual(["rate_limit_exceeded"]);
  });
});

describe("the per-account sign-in limit (3 failed attempts per account, from any IP)", () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ KEYWARD_SIGNIN_ACCOUNT_LIMIT: "3" });
  });
  afterAll(() => app.close());

  /** One guess per IP, as a botnet would guess. */
  const guess = (email: string, password: string) =>
    send(app, `mutation { ${signInField(email, password)} }`, { ip: freshIp() });

  it("guessing one account's password from a new IP each time is refused after 3 failures, right password included", async () => {
    const { email } = await signUpUser(app, "target");
    for (let i = 0; i < 3; i++) expect(codes(await guess(email, `wrong ${i}`))).toEqual(["authentication_required"]);
    const blocked = await guess(email, PASSWORD);
    expect(blocked.status).toBe(429);
    expect(codes(blocked)).toEqual(["rate_limit_exceeded"]);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // The same address in another case is the same account.
    expect(codes(await guess(email.toUpperCase(), PASSWORD))).toEqual(["rate_limit_exceeded"]);
  });

  it("an unknown email is limited exactly like a known one, so the limit tells nothing about who exists", async () => {
    const { email: known } = await signUpUser(app, "known");
    const unknown = uniqueEmail("nobody");
    const answers: Record<string, { status: number; codes: string[]; messages: string[] }[]> = {
      known: [],
      unknown: [],
    };
    for (let i = 0; i < 5; i++) {
      for (const [label, email] of [
        ["known", known],
        ["unknown", unknown],
      ] as const) {
        const answer = await guess(email, `wrong ${i}`);
        answers[label]?.push({
          status: answer.status,
          codes: codes(answer),
          messages: (answer.body.errors ?? []).map((e) => e.message.replace(/\d+ s\.$/, "N s.")),
        });
      }
    }
    expect(answers.unknown).toEqual(answers.known);
    expect(answers.known?.map((a) => a.codes[0])).toEqual([
      "authentication_required",
      "authentication_required",
      "authentication_required",
      "rate_limit_exceeded",
      "rate_limit_exceeded",
    ]);
  });

  it("control: successful sign-ins are not held against the account, and other accounts are not affected", async () => {
    const { email } = await signUpUser(app, "regular");
    for (let i = 0; i < 6; i++) expect(codes(await guess(email, PASSWORD))).toEqual([]);
    expect(codes(await guess(email, "wrong once"))).toEqual(["authentication_required"]);
    expect(codes(await guess(email, PASSWORD))).toEqual([]);
  });
});

describe("a key spends its request's cost", () => {
  let app: TestApp;
  let owner: Awaited<ReturnType<typeof signUpUser>>;
  let wsId: string;

  beforeAll(async () => {
    app = await startTestApp();
    owner = await signUpUser(app, "cost-owner");
    wsId = (await owner.client.createWorkspace({ input: { name: "Cost", slug: `cost-${process.pid}` } }))
      .createWorkspace.id;
  });
  afterAll(() => app.close());

  async function keyWithLimit(limit: number) {
    const { createApiKey } = await owner.client.createApiKey({
      input: {
        workspaceId: wsId,
        name: "cost",
        type: "SECRET",
        environment: "LIVE",
        scopes: ["keys:read", "keys:verify"],
        rateLimit: { limit, windowSeconds: 60 },
      },
    });
    return createApiKey.secret;
  }

  const lists = (n: number, alias = "k") =>
    Array.from(
      { length: n },
      (_, i) => `${alias}${i}: apiKeys(workspaceId: "${wsId}", environment: LIVE, first: 100) { totalCount }`,
    ).join(" ");

  it("5 aliased lists spend 5 points of a 5-point key; the next request is 429", async () => {
    const token = await keyWithLimit(5);
    const ip = freshIp();
    const answer = await send(app, `{ ${lists(5)} }`, { ip, token });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-ratelimit-remaining")).toBe("0");
    const next = await send(app, `{ ${lists(1)} }`, { ip, token });
    expect(next.status).toBe(429);
  });

  it("lists hidden in a named fragment and an inline fragment are counted", async () => {
    const token = await keyWithLimit(10);
    const query = `{ ...F ... on Query { ${lists(2, "i")} } } fragment F on Query { ${lists(3)} }`;
    const answer = await send(app, query, { ip: freshIp(), token });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("x-ratelimit-remaining")).toBe("5");
  });

  it("500 aliased lists of 100 are refused for a key of 100 points, and spend nothing", async () => {
    const token = await keyWithLimit(100);
    const ip = freshIp();
    const answer = await send(app, `{ ${lists(500)} }`, { ip, token });
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual(["validation_failed"]);
    const single = await send(app, `{ ${lists(1)} }`, { ip, token });
    expect(single.headers.get("x-ratelimit-remaining")).toBe("99");
  });

  it("a request costing more than what is left is 429 and spends nothing; a smaller one still runs", async () => {
    const token = await keyWithLimit(5);
    const ip = freshIp();
    expect((await send(app, `{ ${lists(3)} }`, { ip, token })).headers.get("x-ratelimit-remaining")).toBe("2");
    const tooMuch = await send(app, `{ ${lists(3)} }`, { ip, token });
    expect(tooMuch.status).toBe(429);
    const fits = await send(app, `{ ${lists(2)} }`, { ip, token });
    expect(fits.status).toBe(200);
    expect(fits.headers.get("x-ratelimit-remaining")).toBe("0");
  });

  it("the same document is charged what its variables ask each time, not what its first use cost", async () => {
    // The edge keeps a document's cost between requests only when no variable changes it.
    const token = await keyWithLimit(1000);
    const ip = freshIp();
    const query = `query Page($n: Int!) { apiKeys(workspaceId: "${wsId}", environment: LIVE, first: $n) {
      edges { node { usage(from: "2026-01-01T00:00:00Z", to: "2026-01-02T00:00:00Z") { count } } } } }`;
    const remaining = async (n: number) => {
      const answer = await send(app, query, { ip, token, variables: { n } });
      expect(answer.status).toBe(200);
      return Number(answer.headers.get("x-ratelimit-remaining"));
    };
    // 1 for the list, plus one usage query per row asked for.
    expect(await remaining(2)).toBe(1000 - 3);
    expect(await remaining(2)).toBe(1000 - 6);
    expect(await remaining(50)).toBe(1000 - 6 - 51);
    expect(await remaining(1)).toBe(1000 - 6 - 51 - 2);
  });

  it("1,001 aliased calls are refused for a signed-in user too (no request may cost more than 1,000)", async () => {
    const me = Array.from({ length: 1001 }, (_, i) => `m${i}: me { id }`).join(" ");
    const answer = await send(app, `{ ${me} }`, { ip: freshIp(), token: owner.token });
    expect(answer.status).toBe(400);
    expect(codes(answer)).toEqual(["validation_failed"]);
  });

  it("control: aliased verifyApiKey calls cost the caller nothing", async () => {
    const token = await keyWithLimit(5);
    const customer = await keyWithLimit(1000);
    const calls = Array.from({ length: 10 }, (_, i) => `v${i}: verifyApiKey(input: { key: "${customer}" }) { code }`);
    const answer = await send(app, `mutation { ${calls.join(" ")} }`, { ip: freshIp(), token });
    expect(answer.status).toBe(200);
    expect(Object.values(answer.body.data ?? {})).toEqual(Array(10).fill({ code: "VALID" }));
    const after = await send(app, `{ ${lists(1)} }`, { ip: freshIp(), token });
    expect(after.headers.get("x-ratelimit-remaining")).toBe("4");
  });
});
