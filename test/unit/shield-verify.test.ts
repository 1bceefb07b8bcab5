import { getNamedType, isObjectType } from "graphql";
import { allow } from "graphql-shield";
import { describe, expect, it } from "vitest";
import { RULES, userOrSecretKey } from "../../server/auth/shield";
import { schema } from "../../server/schema";

// The edge's runner (server/http/graphql-runner.ts) runs documents that only call
// verifyApiKey without the shield middleware, after applying verifyApiKey's rule
// itself. That is the shield's answer only while the rule is about the caller alone
// and everything below verifyApiKey is `allow`: these tests fail the moment either
// changes, so the runner cannot silently skip a new rule.

describe("what the runner's unguarded verify path relies on", () => {
  it("verifyApiKey's rule is userOrSecretKey, the caller-only rule the runner applies", () => {
    expect(RULES.Mutation.verifyApiKey).toBe(userOrSecretKey);
  });

  it("every type reachable below verifyApiKey is `allow` as a whole", () => {
    const seen = new Set<string>();
    const visit = (name: string) => {
      if (seen.has(name)) return;
      seen.add(name);
      const type = schema.getType(name);
      if (!isObjectType(type)) return;
      for (const field of Object.values(type.getFields())) {
        const named = getNamedType(field.type);
        if (isObjectType(named)) visit(named.name);
      }
    };
    const verify = schema.getMutationType()?.getFields().verifyApiKey;
    if (!verify) throw new Error("no verifyApiKey in the schema");
    visit(getNamedType(verify.type).name);
    expect([...seen].sort()).toEqual(["RateLimitState", "VerifyResult"]);
    for (const name of seen) expect(RULES[name as keyof typeof RULES], name).toBe(allow);
  });
});
