import { describe, expect, it } from "vitest";
import { checkEnvironment, checkRate, checkSelfChange, checkShape, type KeyManager } from "../../server/keys/grants";

// The words and field of each key-rule refusal, exactly: callers act on the field
// named and the message is the only explanation they get (the API tests assert the
// codes; the mutation run showed the wording was unguarded).

const keyCaller: KeyManager = {
  actor: { type: "api_key", id: "key-1", ip: null },
  workspaceId: "ws-1",
  held: ["keys:write"],
  platformAdmin: false,
  environment: "LIVE",
  grantsServiceScopes: false,
  rate: { limit: 50, windowSeconds: 60 },
  signsTokens: false,
  serviceId: null,
};

const shape = (type: "SECRET" | "PUBLISHABLE", over: Partial<Parameters<typeof checkShape>[0]> = {}) =>
  checkShape({ type, scopes: [], allowedOrigins: [], allowedIps: [], ...over });

describe("key-rule refusals say what and where", () => {
  it("a key giving a key more than its own limit", () => {
    expect(checkRate(keyCaller, { limit: 51, windowSeconds: 60 })).toEqual({
      code: "insufficient_permissions",
      message: "rateLimit: a key cannot give a key more than its own limit (50 per 60 s).",
      field: "rateLimit",
    });
  });

  it("a key changing its own scopes", () => {
    expect(checkSelfChange(keyCaller, { id: "key-1" }, ["name", "scopes"])).toEqual({
      code: "insufficient_permissions",
      message: "scopes: a key cannot change its own scopes.",
      field: "scopes",
    });
  });

  it("only the key itself is held to the self-change rule: a person editing the key is not, whatever their id", () => {
    const person: KeyManager = { ...keyCaller, actor: { type: "user", id: "key-1", ip: null } };
    expect(checkSelfChange(person, { id: "key-1" }, ["scopes", "rateLimit", "expiresAt"])).toBeNull();
    expect(checkSelfChange(keyCaller, { id: "key-2" }, ["scopes"])).toBeNull();
    expect(checkSelfChange(keyCaller, { id: "key-1" }, ["name", "metadata"])).toBeNull();
  });

  it("a publishable key asking for a write scope", () => {
    expect(shape("PUBLISHABLE", { scopes: ["keys:write"], allowedOrigins: ["https://a.example"] })).toEqual({
      code: "validation_failed",
      message: "scopes: publishable keys hold only keys:read and service.<slug>.read scopes, not keys:write",
      field: "scopes",
    });
  });

  it("a publishable key without an origin", () => {
    expect(shape("PUBLISHABLE", { scopes: ["keys:read"] })).toEqual({
      code: "validation_failed",
      message: "allowedOrigins: publishable keys need at least one allowed origin",
      field: "allowedOrigins",
    });
  });

  it("a secret key with origins", () => {
    expect(shape("SECRET", { allowedOrigins: ["https://a.example"] })).toEqual({
      code: "validation_failed",
      message: "allowedOrigins: origins apply to publishable keys; secret keys use allowedIps",
      field: "allowedOrigins",
    });
  });

  it("a LIVE key acting on TEST data", () => {
    expect(checkEnvironment(keyCaller, "TEST")).toEqual({
      code: "insufficient_scope",
      message: "A LIVE key works only with LIVE data.",
      field: "environment",
    });
  });
});
