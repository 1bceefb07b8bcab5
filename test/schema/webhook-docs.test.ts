import {
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputField,
  isEnumType,
  isInputObjectType,
  isObjectType,
} from "graphql";
import { describe, expect, it } from "vitest";
import { schema } from "../../server/schema";

// GraphiQL's docs panel shows descriptions: every webhook type, field, argument and
// enum value must say what it is, so a reader need not open the README to use it.

const isWebhookName = (name: string) => /webhook/i.test(name);

/** "Type.field(arg)" for every piece of the webhook API that has no description. */
function undocumented(): string[] {
  const missing: string[] = [];
  const checkArgs = (owner: string, args: readonly GraphQLArgument[]) => {
    for (const arg of args) if (!arg.description) missing.push(`${owner}(${arg.name})`);
  };
  const checkFields = (type: string, fields: (GraphQLField<unknown, unknown> | GraphQLInputField)[]) => {
    for (const field of fields) {
      if (!field.description) missing.push(`${type}.${field.name}`);
      if ("args" in field) checkArgs(`${type}.${field.name}`, field.args);
    }
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith("__") || !isWebhookName(type.name)) continue;
    if (!type.description) missing.push(type.name);
    if (isObjectType(type) || isInputObjectType(type)) checkFields(type.name, Object.values(type.getFields()));
    if (isEnumType(type)) {
      for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
    }
  }
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    if (!root) continue;
    const fields = Object.values(root.getFields()).filter((field) => isWebhookName(field.name));
    checkFields(root.name, fields);
  }
  return missing;
}

describe("GraphiQL docs for webhooks", () => {
  it("every webhook type, field, argument and enum value has a description", () => {
    expect(undocumented()).toEqual([]);
  });

  it("the check covers the webhook API (it finds the types and root fields it should)", () => {
    const names = Object.keys(schema.getTypeMap()).filter(isWebhookName);
    expect(names).toEqual(
      expect.arrayContaining(["WebhookEndpoint", "WebhookDelivery", "WebhookAttempt", "CreateWebhookEndpointInput"]),
    );
    expect(Object.keys(schema.getMutationType()?.getFields() ?? {}).filter(isWebhookName)).toHaveLength(6);
  });
});
