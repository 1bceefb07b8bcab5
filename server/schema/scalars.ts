import { GraphQLError, Kind } from "graphql";
import { builder } from "../builder";

const invalid = (message: string) =>
  new GraphQLError(message, { extensions: { code: "validation_failed", http: { status: 400 } } });

function parseDate(value: unknown): Date {
  if (typeof value !== "string" || !/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:\d{2})$/.test(value)) {
    throw invalid("DateTime must be an ISO-8601 string with a time zone, e.g. 2030-01-31T12:00:00Z");
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw invalid(`"${value}" is not a real date and time`);
  return date;
}

builder.scalarType("DateTime", {
  description: "An instant, as an ISO-8601 string in UTC (2030-01-31T12:00:00.000Z).",
  serialize: (value) => value.toISOString(),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

builder.scalarType("JSON", {
  description: "Any JSON value.",
  serialize: (value) => value,
  parseValue: (value) => value,
});
