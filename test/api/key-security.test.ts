import { randomUUID } from "node:crypto";
import type { KeywardClient, KeywardError } from "@keyward/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signUpUser, startTestApp, type TestApp } from "../helpers/app";
import { expectCode } from "../helpers/expect-error";

// The shared security matrix for key operations: every credential that should be
// refused is tried against every key operation, and each gets its exact catalog
// code. A refusal must tell the caller nothing about keys, workspaces or
// environments it cannot see, and must change nothing.

const ALLOWED_ORIGIN = "https://app.example.com";
const EVIL_ORIGIN = "https://evil.example.com";
/** Name used by every refused write, so a write that got through is easy to find. */
const PWNED = "Pwned By Matrix";

const STATUS: Record<string, number> = {
  authentication_required: 401,
  invalid_key_format: 401,
  invalid_api_key: 401,
  key_expired: 401,
  insufficient_permissions: 403,
  insufficient_scope: 403,
  publishable_key_write: 403,
  workspace_access_denied: 403,
  origin_not_allowed: 403,
  not_found: 404,
};

type Person = Awaited<ReturnType<typeof signUpUser>>;
interface Key {
  id: string;
  start: string;
  name: string;
  secret: string;
}
interface Ws {
  id: string;
  slug: string;
  name: string;
}

let app: TestApp;
let a: Ws;
let b: Ws;
let ownerA: Person;
let ownerB: Person;
let memberA: Person;
let moderatorA: Person;
let outsider: Person;
const keys = {} as Record<
  | "target"
  | "caller"
  | "testKey"
  | "testTarget"
  | "publishable"
  | "revoked"
  | "expired"
  | "keyOfB"
  | "readOnly"
  | "writeOnly"
  | "powerful",
  Key
>;
/** Every key made in this file, including those made by rolls: no response or log line may show them. */
const created: Key[] = [];
let tampered: string;
let serial = 0;

async function createKey(
  client: KeywardClient,
  ws: Ws,
  label: string,
  options: {
    type?: "SECRET" | "PUBLISHABLE";
    environment?: "TEST" | "LIVE";
    scopes?: string[];
    allowedOrigins?: string[];
    expiresAt?: Date;
  } = {},
): Promise<Key> {
  serial += 1;
  const name = `${label} Okapi ${serial} ${randomUUID().slice(0, 8)}`;
  const { createApiKey } = await client.createApiKey({
    input: {
      workspaceId: ws.id,
      name,
      type: options.type ?? "SECRET",
      environment: options.environment ?? "LIVE",
      scopes: options.scopes ?? ["keys:read", "keys:write"],
      allowedOrigins: options.allowedOrigins,
      expiresAt: options.expiresAt?.toISOString(),
    },
  });
  const key = { id: createApiKey.apiKey.id, start: createApiKey.apiKey.start, name, secret: createApiKey.secret };
  created.push(key);
  return key;
}

/** A fresh LIVE secret key of A, so a destructive operation that wrongly succeeds spoils only its own cell. */
const freshTarget = () => createKey(ownerA.client, a, "Target");

beforeAll(async () => {
  app = await startTestApp();
  ownerA = await signUpUser(app, "owner-a");
  ownerB = await signUpUser(app, "owner-b");
  memberA = await signUpUser(app, "member-a");
  moderatorA = await signUpUser(app, "moderator-a");
  outsider = await signUpUser(app, "outsider");
  const wsA = await ownerA.client.createWorkspace({
    input: { name: "Quetzal Marmot Industries", slug: `quetzal-marmot-${process.pid}` },
  });
  a = { id: wsA.createWorkspace.id, slug: wsA.createWorkspace.slug, name: wsA.createWorkspace.name };
  const wsB = await ownerB.client.createWorkspace({
    input: { name: "Wombat Tangerine Ltd", slug: `wombat-tangerine-${process.pid}` },
  });
  b = { id: wsB.createWorkspace.id, slug: wsB.createWorkspace.slug, name: wsB.createWorkspace.name };
  await ownerA.client.addMember({ input: { workspaceId: a.id, email: memberA.email, role: "MEMBER" } });
  await ownerA.client.addMember({ input: { workspaceId: a.id, email: moderatorA.email, role: "MODERATOR" } });

  // The clock is shared by the whole app: expire this key first, then make the rest.
  keys.expired = await createKey(ownerA.client, a, "Expired", {
    expiresAt: new Date(app.clock.now.getTime() + 60_000),
  });
  app.clock.advance(61_000);

  keys.target = await createKey(ownerA.client, a, "Target");
  keys.caller = await createKey(ownerA.client, a, "Caller");
  keys.testKey = await createKey(ownerA.client, a, "Test Caller", { environment: "TEST" });
  keys.testTarget = await createKey(ownerA.client, a, "Test Target", { environment: "TEST" });
  keys.publishable = await createKey(ownerA.client, a, "Browser", {
    type: "PUBLISHABLE",
    scopes: ["keys:read"],
    allowedOrigins: [ALLOWED_ORIGIN],
  });
  keys.revoked = await createKey(ownerA.client, a, "Revoked");
  await ownerA.client.revokeApiKey({ input: { id: keys.revoked.id, reason: "security matrix" } });
  keys.readOnly = await createKey(ownerA.client, a, "Read Only", { scopes: ["keys:read"] });
  keys.writeOnly = await createKey(ownerA.client, a, "Write Only", { scopes: ["keys:write"] });
  keys.powerful = await createKey(ownerA.client, a, "Powerful", {
    scopes: ["keys:read", "keys:write", "members:write"],
  });
  keys.keyOfB = await createKey(ownerB.client, b, "Tenant B");

  // Same length and shape as a real key, but the checksum no longer matches.
  const last = keys.caller.secret.slice(-1);
  tampered = keys.caller.secret.slice(0, -1) + (last === "A" ? "B" : "A");
});
afterAll(() => app?.close());

// ---------------------------------------------------------------------------
// Operations

type OpName = "apiKey" | "apiKeys" | "createApiKey" | "updateApiKey" | "rollApiKey" | "revokeApiKey" | "setKeysEnabled";
const OP_NAMES: OpName[] = [
  "apiKey",
  "apiKeys",
  "createApiKey",
  "updateApiKey",
  "rollApiKey",
  "revokeApiKey",
  "setKeysEnabled",
];
const BY_ID: ReadonlySet<OpName> = new Set(["apiKey", "updateApiKey", "rollApiKey", "revokeApiKey"]);
const DESTRUCTIVE: ReadonlySet<OpName> = new Set(["updateApiKey", "rollApiKey", "revokeApiKey"]);

function runOp(op: OpName, client: KeywardClient, id: string): Promise<unknown> {
  switch (op) {
    case "apiKey":
      return client.apiKey({ id });
    case "apiKeys":
      return client.apiKeys({ workspaceId: a.id, environment: "LIVE" });
    case "createApiKey":
      return client.createApiKey({
        input: { workspaceId: a.id, name: PWNED, type: "SECRET", environment: "LIVE", scopes: ["keys:read"] },
      });
    case "updateApiKey":
      return client.updateApiKey({ input: { id, name: PWNED } });
    case "rollApiKey":
      return client.rollApiKey({ input: { id, gracePeriodSeconds: 0 } });
    case "revokeApiKey":
      return client.revokeApiKey({ input: { id, reason: PWNED } });
    case "setKeysEnabled":
      return client.setKeysEnabled({ input: { workspaceId: a.id, enabled: false } });
  }
}

/** The target an operation acts on: reads share one, destructive operations get their own. */
async function targetFor(op: OpName): Promise<Key | null> {
  if (!BY_ID.has(op)) return null;
  return DESTRUCTIVE.has(op) ? freshTarget() : keys.target;
}

/** A refused operation must have changed nothing. */
async function expectUnchanged(op: OpName, target: Key | null) {
  if (target) {
    const row = await app.db.apiKey.findUniqueOrThrow({ where: { id: target.id } });
    expect({ name: row.name, revokedAt: row.revokedAt, graceUntil: row.graceUntil }).toEqual({
      name: target.name,
      revokedAt: null,
      graceUntil: null,
    });
    expect(await app.db.apiKey.count({ where: { rolledFromId: target.id } })).toBe(0);
  }
  if (op === "createApiKey") expect(await app.db.apiKey.count({ where: { name: PWNED } })).toBe(0);
  if (op === "setKeysEnabled") {
    const ws = await app.db.workspace.findUniqueOrThrow({ where: { id: a.id } });
    // Put the switch back so one wrong answer does not turn every later cell into keys_disabled.
    if (!ws.keysEnabled) await app.db.workspace.update({ where: { id: a.id }, data: { keysEnabled: true } });
    expect(ws.keysEnabled, "a refused setKeysEnabled turned workspace A's keys off").toBe(true);
  }
}

// ---------------------------------------------------------------------------
// Leak checks

function serialise(error: KeywardError): string {
  return `${error.message}\n${JSON.stringify(error.errors)}`;
}

/** Everything comparable about a refusal; requestId differs per request by design. */
function shapeOf(error: KeywardError) {
  return {
    code: error.code,
    message: error.message,
    status: error.status,
    field: error.field,
    docUrl: error.docUrl,
    errors: error.errors.map((e) => {
      const { requestId: _requestId, ...extensions } = e.extensions ?? {};
      return { message: e.message, path: e.path, extensions };
    }),
  };
}

interface LeakPolicy {
  /** The caller's own key: naming it back to its holder is not a leak. */
  own?: Key;
  /** Callers with no standing in workspace A must not learn its slug, name or people. */
  outsider: boolean;
  /** Callers outside workspace B must not learn anything about it either. */
  ofB: boolean;
}

function expectNoLeak(error: KeywardError, policy: LeakPolicy) {
  const text = serialise(error);
  const lower = text.toLowerCase();
  for (const key of created) {
    expect(text, `refusal shows a secret (${key.name})`).not.toContain(key.secret);
    expect(text, "refusal shows a nearly complete real key").not.toContain(key.secret.slice(0, 40));
    if (key === policy.own) continue;
    expect(text, `refusal shows the id of ${key.name}`).not.toContain(key.id);
    expect(text, `refusal shows the start of ${key.name}`).not.toContain(key.start);
    expect(lower, `refusal shows the name of ${key.name}`).not.toContain(key.name.toLowerCase());
  }
  if (policy.outsider) {
    for (const value of [a.slug, a.name, ownerA.email, memberA.email, moderatorA.email]) {
      expect(lower, `refusal shows ${value} of workspace A`).not.toContain(value.toLowerCase());
    }
  }
  if (policy.ofB) {
    for (const value of [b.id, b.slug, b.name, ownerB.email]) {
      expect(lower, `refusal shows ${value} of workspace B`).not.toContain(value.toLowerCase());
    }
  }
}

async function expectRefusal(call: Promise<unknown>, code: string, policy: LeakPolicy): Promise<KeywardError> {
  const error = await expectCode(call, code);
  expect(error.status, `HTTP status of ${code}`).toBe(STATUS[code]);
  expect(error.docUrl).toMatch(new RegExp(`/docs/errors#${code}$`));
  expectNoLeak(error, policy);
  return error;
}

// ---------------------------------------------------------------------------
// The matrix

type Expected = string | "allowed";

interface Credential {
  label: string;
  client: () => KeywardClient;
  policy: () => LeakPolicy;
  expect: Partial<Record<OpName, Expected>>;
  /** not_found on an existing key must be indistinguishable from a random id. */
  sameAsRandomId: boolean;
}

const everyOp = (code: string) => Object.fromEntries(OP_NAMES.map((op) => [op, code])) as Record<OpName, Expected>;
const outsiderPolicy = (): LeakPolicy => ({ outsider: true, ofB: true });

const CREDENTIALS: Credential[] = [
  {
    label: "no credential",
    client: () => app.client(),
    policy: outsiderPolicy,
    expect: everyOp("authentication_required"),
    sameAsRandomId: false,
  },
  {
    label: "Bearer garbage",
    client: () => app.client("garbage"),
    policy: outsiderPolicy,
    expect: everyOp("authentication_required"),
    sameAsRandomId: false,
  },
  {
    label: "key-shaped string, bad checksum",
    client: () => app.client(tampered),
    policy: outsiderPolicy,
    expect: everyOp("invalid_key_format"),
    sameAsRandomId: false,
  },
  {
    label: "revoked key",
    client: () => app.client(keys.revoked.secret),
    policy: () => ({ own: keys.revoked, outsider: true, ofB: true }),
    expect: everyOp("invalid_api_key"),
    sameAsRandomId: false,
  },
  {
    label: "expired key",
    client: () => app.client(keys.expired.secret),
    policy: () => ({ own: keys.expired, outsider: true, ofB: true }),
    expect: everyOp("key_expired"),
    sameAsRandomId: false,
  },
  {
    label: "pk from its allowed Origin",
    client: () => app.client(keys.publishable.secret, { Origin: ALLOWED_ORIGIN }),
    policy: () => ({ own: keys.publishable, outsider: false, ofB: true }),
    expect: {
      apiKey: "allowed",
      apiKeys: "allowed",
      createApiKey: "publishable_key_write",
      updateApiKey: "publishable_key_write",
      rollApiKey: "publishable_key_write",
      revokeApiKey: "publishable_key_write",
      setKeysEnabled: "publishable_key_write",
    },
    sameAsRandomId: false,
  },
  {
    label: "pk without an Origin",
    client: () => app.client(keys.publishable.secret),
    policy: () => ({ own: keys.publishable, outsider: true, ofB: true }),
    expect: everyOp("origin_not_allowed"),
    sameAsRandomId: false,
  },
  {
    label: "pk from Origin evil.example.com",
    client: () => app.client(keys.publishable.secret, { Origin: EVIL_ORIGIN }),
    policy: () => ({ own: keys.publishable, outsider: true, ofB: true }),
    expect: everyOp("origin_not_allowed"),
    sameAsRandomId: false,
  },
  {
    label: "secret key of workspace B",
    client: () => app.client(keys.keyOfB.secret),
    policy: () => ({ own: keys.keyOfB, outsider: true, ofB: false }),
    expect: {
      apiKey: "not_found",
      apiKeys: "workspace_access_denied",
      createApiKey: "workspace_access_denied",
      updateApiKey: "not_found",
      rollApiKey: "not_found",
      revokeApiKey: "not_found",
      setKeysEnabled: "workspace_access_denied",
    },
    sameAsRandomId: true,
  },
  {
    label: "TEST key of A on LIVE data",
    client: () => app.client(keys.testKey.secret),
    policy: () => ({ own: keys.testKey, outsider: false, ofB: true }),
    expect: {
      apiKey: "not_found",
      apiKeys: "insufficient_scope",
      createApiKey: "insufficient_scope",
      updateApiKey: "not_found",
      rollApiKey: "not_found",
      revokeApiKey: "not_found",
      // The switch is workspace-wide: a TEST key must not turn LIVE keys off.
      setKeysEnabled: "insufficient_scope",
    },
    sameAsRandomId: true,
  },
  {
    label: "MEMBER session of A",
    client: () => memberA.client,
    policy: () => ({ outsider: false, ofB: true }),
    expect: everyOp("insufficient_permissions"),
    sameAsRandomId: false,
  },
  {
    label: "signed-in non-member",
    client: () => outsider.client,
    policy: outsiderPolicy,
    expect: everyOp("not_found"),
    sameAsRandomId: true,
  },
];

/** What an allowed read may show: workspace A's LIVE keys and nothing else. */
function checkAllowedRead(op: OpName, result: unknown, target: Key | null) {
  if (op === "apiKey") {
    const { apiKey } = result as { apiKey: { id: string; environment: string } };
    expect(apiKey).toMatchObject({ id: target?.id, environment: "LIVE" });
    return;
  }
  const { apiKeys } = result as {
    apiKeys: { edges: { node: { id: string; environment: string; workspace: { id: string } } }[] };
  };
  const nodes = apiKeys.edges.map((e) => e.node);
  expect(nodes.map((n) => n.id)).toContain(keys.target.id);
  for (const node of nodes)
    expect({ environment: node.environment, workspace: node.workspace.id }).toEqual({
      environment: "LIVE",
      workspace: a.id,
    });
  const listed = new Set(nodes.map((n) => n.id));
  for (const hidden of [keys.testKey, keys.testTarget, keys.keyOfB]) expect(listed.has(hidden.id)).toBe(false);
  expect(JSON.stringify(result)).not.toContain(keys.target.secret);
}

describe.each(CREDENTIALS)("key operations with $label", (credential) => {
  const rows = OP_NAMES.filter((op) => credential.expect[op] !== undefined).map((op) => ({
    op,
    expected: credential.expect[op] as Expected,
  }));

  it.each(rows)("$op → $expected", async ({ op, expected }) => {
    const target = await targetFor(op);
    const call = runOp(op, credential.client(), target?.id ?? "");
    if (expected === "allowed") {
      checkAllowedRead(op, await call, target);
      return;
    }
    const error = await expectRefusal(call, expected, credential.policy());
    if (expected === "publishable_key_write") expect(error.message).toMatch(/secret key/i);
    if (credential.sameAsRandomId && BY_ID.has(op)) {
      const random = await expectCode(runOp(op, credential.client(), randomUUID()), "not_found");
      expect(shapeOf(error), "an existing key of another tenant/environment answers unlike a random id").toEqual(
        shapeOf(random),
      );
    }
    await expectUnchanged(op, target);
  });
});

// ---------------------------------------------------------------------------
// Scopes and escalation

describe("a key lacking the operation's scope gets insufficient_scope", () => {
  const rows: { label: string; key: "readOnly" | "writeOnly"; op: OpName }[] = [
    ...(["createApiKey", "updateApiKey", "rollApiKey", "revokeApiKey", "setKeysEnabled"] as const).map((op) => ({
      label: "keys:read only",
      key: "readOnly" as const,
      op,
    })),
    ...(["apiKey", "apiKeys"] as const).map((op) => ({ label: "keys:write only", key: "writeOnly" as const, op })),
  ];

  it.each(rows)("$label: $op → insufficient_scope", async ({ key, op }) => {
    const target = await targetFor(op);
    const call = runOp(op, app.client(keys[key].secret), target?.id ?? "");
    await expectRefusal(call, "insufficient_scope", { own: keys[key], outsider: false, ofB: true });
    await expectUnchanged(op, target);
  });
});

describe("nobody grants a scope they do not hold (key = LIVE keys:read+keys:write)", () => {
  interface Grant {
    label: string;
    client: () => KeywardClient;
    own?: () => Key;
    run: (client: KeywardClient) => Promise<{ check: () => Promise<void>; call: Promise<unknown> }>;
  }
  const createWith = (scopes: string[]) => async (client: KeywardClient) => ({
    call: client.createApiKey({
      input: { workspaceId: a.id, name: PWNED, type: "SECRET", environment: "LIVE", scopes },
    }),
    check: async () => expect(await app.db.apiKey.count({ where: { name: PWNED } })).toBe(0),
  });
  const updateTo = (scopes: string[]) => async (client: KeywardClient) => {
    const target = await freshTarget();
    return {
      call: client.updateApiKey({ input: { id: target.id, scopes } }),
      check: async () => {
        const row = await app.db.apiKey.findUniqueOrThrow({ where: { id: target.id } });
        expect(row.scopes).toEqual(["keys:read", "keys:write"]);
      },
    };
  };
  const rollPowerful = async (client: KeywardClient) => ({
    call: client.rollApiKey({ input: { id: keys.powerful.id, gracePeriodSeconds: 60 } }),
    check: async () => {
      const row = await app.db.apiKey.findUniqueOrThrow({ where: { id: keys.powerful.id } });
      expect(row.graceUntil).toBeNull();
      expect(await app.db.apiKey.count({ where: { rolledFromId: keys.powerful.id } })).toBe(0);
    },
  });
  const moderator = () => moderatorA.client;
  const callerKey = () => app.client(keys.caller.secret);
  const GRANTS: Grant[] = [
    { label: "MODERATOR grants members:write", client: moderator, run: createWith(["members:write"]) },
    { label: 'MODERATOR grants "*"', client: moderator, run: createWith(["*"]) },
    {
      label: 'OWNER (no platform admin) grants "*"',
      client: () => ownerA.client,
      run: createWith(["*"]),
    },
    {
      label: "key grants members:read it lacks",
      client: callerKey,
      own: () => keys.caller,
      run: createWith(["keys:read", "members:read"]),
    },
    {
      label: 'key grants "*"',
      client: callerKey,
      own: () => keys.caller,
      run: createWith(["*"]),
    },
    {
      label: "MODERATOR widens to members:write",
      client: moderator,
      run: updateTo(["keys:read", "members:write"]),
    },
    {
      label: "key widens a key to audit:read",
      client: callerKey,
      own: () => keys.caller,
      run: updateTo(["audit:read"]),
    },
    { label: "MODERATOR rolls a members:write key", client: moderator, run: rollPowerful },
    {
      label: "key rolls a members:write key",
      client: callerKey,
      own: () => keys.caller,
      run: rollPowerful,
    },
  ];

  it.each(GRANTS)("$label → insufficient_permissions", async (grant) => {
    const { call, check } = await grant.run(grant.client());
    await expectRefusal(call, "insufficient_permissions", { own: grant.own?.(), outsider: false, ofB: true });
    await check();
  });

  it("control: the same MODERATOR and key may grant scopes they hold", async () => {
    const byModerator = await createKey(moderatorA.client, a, "Moderator Made", { scopes: ["keys:read"] });
    const byKey = await createKey(app.client(keys.caller.secret), a, "Key Made", {
      scopes: ["keys:read", "keys:write"],
    });
    const rows = await app.db.apiKey.findMany({ where: { id: { in: [byModerator.id, byKey.id] } } });
    expect(rows.map((r) => r.scopes).sort()).toEqual([["keys:read"], ["keys:read", "keys:write"]]);
  });
});

// ---------------------------------------------------------------------------
// Controls: each credential works where it should, so the refusals above are real.

describe("controls", () => {
  it("the LIVE caller key of A performs every key operation on A's LIVE data", async () => {
    const client = app.client(keys.caller.secret);
    const listed = await client.apiKeys({ workspaceId: a.id, environment: "LIVE" });
    expect(listed.apiKeys.edges.map((e) => e.node.id)).toContain(keys.target.id);
    expect((await client.apiKey({ id: keys.target.id })).apiKey.id).toBe(keys.target.id);
    const made = await createKey(client, a, "Control Made", { scopes: ["keys:read"] });
    const target = await freshTarget();
    expect((await client.updateApiKey({ input: { id: target.id, name: "Control Renamed" } })).updateApiKey.name).toBe(
      "Control Renamed",
    );
    const { rollApiKey } = await client.rollApiKey({ input: { id: made.id, gracePeriodSeconds: 0 } });
    created.push({ ...rollApiKey.apiKey, secret: rollApiKey.secret });
    expect((await client.revokeApiKey({ input: { id: target.id } })).revokeApiKey.status).toBe("REVOKED");
  });

  it("the key switch covers both environments, so only a member flips it, never a key", async () => {
    await expectCode(
      app.client(keys.caller.secret).setKeysEnabled({ input: { workspaceId: a.id, enabled: true } }),
      "insufficient_scope",
    );
    const { setKeysEnabled } = await ownerA.client.setKeysEnabled({ input: { workspaceId: a.id, enabled: true } });
    expect(setKeysEnabled.keysEnabled).toBe(true);
  });

  it("the TEST key of A sees A's TEST keys only", async () => {
    const client = app.client(keys.testKey.secret);
    const { apiKeys } = await client.apiKeys({ workspaceId: a.id, environment: "TEST" });
    const ids = apiKeys.edges.map((e) => e.node.id);
    expect(ids).toEqual(expect.arrayContaining([keys.testKey.id, keys.testTarget.id]));
    expect(ids).not.toContain(keys.target.id);
    expect(apiKeys.edges.every((e) => e.node.environment === "TEST")).toBe(true);
    expect((await client.apiKey({ id: keys.testTarget.id })).apiKey.id).toBe(keys.testTarget.id);
  });

  it("the key of B works in B and lists none of A's keys", async () => {
    const { apiKeys } = await app.client(keys.keyOfB.secret).apiKeys({ workspaceId: b.id, environment: "LIVE" });
    const ids = apiKeys.edges.map((e) => e.node.id);
    expect(ids).toContain(keys.keyOfB.id);
    expect(apiKeys.edges.every((e) => e.node.workspace.id === b.id)).toBe(true);
  });

  it("the MEMBER really is a member of A, and the non-member is not", async () => {
    expect((await memberA.client.workspace({ id: a.id })).workspace?.viewerRole).toBe("MEMBER");
    await expectRefusal(outsider.client.workspace({ id: a.id }), "not_found", outsiderPolicy());
  });
});

// ---------------------------------------------------------------------------

describe("after every call above", () => {
  it("no secret or credential appears in the server log", () => {
    expect(app.logs.length).toBeGreaterThan(0);
    const log = app.logs.join("\n");
    for (const key of created) {
      expect(log.includes(key.secret), `log shows the secret of ${key.name}`).toBe(false);
    }
    expect(log.includes(tampered), "log shows a rejected bearer that is nearly a real key").toBe(false);
    for (const person of [ownerA, ownerB, memberA, moderatorA, outsider]) {
      expect(log.includes(person.token), `log shows the session token of ${person.email}`).toBe(false);
    }
  });

  it("workspace A's keys are still on and no refused write left a trace", async () => {
    expect((await app.db.workspace.findUniqueOrThrow({ where: { id: a.id } })).keysEnabled).toBe(true);
    expect(await app.db.apiKey.count({ where: { name: PWNED } })).toBe(0);
    expect(await app.db.apiKey.count({ where: { revokedReason: PWNED } })).toBe(0);
    const target = await app.db.apiKey.findUniqueOrThrow({ where: { id: keys.target.id } });
    expect({ name: target.name, revokedAt: target.revokedAt, graceUntil: target.graceUntil }).toEqual({
      name: keys.target.name,
      revokedAt: null,
      graceUntil: null,
    });
  });
});
