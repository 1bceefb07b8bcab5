import { GraphQLError, Kind } from "graphql";
import { builder } from "../builder";

const invalid = (message: string) =>
  new GraphQLError(message, { extensions: { code: "validation_failed", http: { status: 400 } } });

// Instants this API deals in: key expiries and usage since keys existed. Outside this
// range PostgreSQL or the ISO output format would fail later, as a server error.
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const ISO = /^(\d{4})-(\d{2})-(\d{2})T[\d:.]+(Z|[+-]\d{2}:\d{2})$/;

function parseDate(value: unknown): Date {
  const match = typeof value === "string" ? ISO.exec(value) : null;
  if (!match) throw invalid("DateTime must be an ISO-8601 string with a time zone, e.g. 2030-01-31T12:00:00Z");
  const date = new Date(value as string);
  // JavaScript rolls 2030-02-31 over into March; a calendar day that does not exist is a mistake.
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const calendar = new Date(0);
  calendar.setUTCFullYear(year, month - 1, day);
  const realDay = calendar.getUTCMonth() === month - 1 && calendar.getUTCDate() === day;
  if (Number.isNaN(date.getTime()) || !realDay) throw invalid(`"${value}" is not a real date and time`);
  if (date.getTime() < EARLIEST || date.getTime() > LATEST) {
    throw invalid("DateTime must be from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z");
  }
  return date;
}

/** How deep a JSON argument may nest before its shape is looked at (metadata allows 8). */
export const JSON_MAX_DEPTH = 32;

/** Walks with its own stack, so a value nested 100,000 deep is refused, not a stack overflow. */
function checkDepth(value: unknown): unknown {
  const pending: [unknown, number][] = [[value, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [item, depth] = next;
    if (item === null || typeof item !== "object") continue;
    if (depth >= JSON_MAX_DEPTH) throw invalid(`JSON values may nest at most ${JSON_MAX_DEPTH} levels deep`);
    for (const child of Object.values(item)) pending.push([child, depth + 1]);
  }
  return value;
}

builder.scalarType("DateTime", {
  description: "An instant, as an ISO-8601 string in UTC (2030-01-31T12:00:00.000Z), from 1970 to 9999.",
  serialize: (value) => value.toISOString(),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

builder.scalarType("JSON", {
  description: `Any JSON value, nested at most ${JSON_MAX_DEPTH} levels deep.`,
  serialize: (value) => value,
  parseValue: checkDepth,
});
