import {
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  getNamedType,
  isLeafType,
  isNonNullType,
  isObjectType,
} from "graphql";
import { GRAPHQL_LIMITS } from "../../../server/http/armor";
import { fieldArgument } from "./recipes";
import type { Caller, World } from "./world";

// Builds the matrix's documents from the schema and reads one outcome out of each
// answer: "✓" (allowed), a catalog error code, "null" (hidden by the resolver) or
// "—" (not reached: the caller was refused further up).

type Field = GraphQLField<unknown, unknown>;

export interface GraphQLAnswer {
  data?: Record<string, unknown> | null;
  errors?: { path?: (string | number)[]; extensions?: { code?: string } }[];
}

export async function send(world: World, caller: Caller, query: string, variables: Record<string, unknown>) {
  const response = await world.app.fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", ...caller.headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as GraphQLAnswer;
}

function variableList(field: Field) {
  if (!field.args.length) return { definitions: "", uses: "" };
  return {
    definitions: `(${field.args.map((a) => `$${a.name}: ${String(a.type)}`).join(", ")})`,
    uses: `(${field.args.map((a) => `${a.name}: $${a.name}`).join(", ")})`,
  };
}

/** One root field with the smallest selection, so only its own rule can refuse. */
export function rootDocument(kind: "query" | "mutation", field: Field): string {
  const type = getNamedType(field.type);
  const code = isObjectType(type) && type.getFields().code ? " code" : "";
  const selection = isLeafType(type) ? "" : ` { __typename${code} }`;
  const { definitions, uses } = variableList(field);
  return `${kind} Matrix${definitions} { ${field.name}${uses}${selection} }`;
}

const codeOf = (error: NonNullable<GraphQLAnswer["errors"]>[number]) => error.extensions?.code ?? "(no code)";

export function rootOutcome(field: string, answer: GraphQLAnswer): string {
  const errors = answer.errors ?? [];
  const own = errors.find((e) => e.path?.length === 1 && e.path[0] === field) ?? errors.find((e) => !e.path);
  if (own) return codeOf(own);
  const value = answer.data?.[field] as { code?: unknown } | null | undefined;
  return typeof value?.code === "string" ? `✓ ${value.code}` : "✓";
}

/** A chain of object-typed fields below a root query field, e.g. workspace.members.user.memberships. */
export interface FieldPath {
  root: Field;
  chain: Field[];
}

// The root field, the chain and `__typename` must fit the server's depth limit.
const MAX_SEGMENTS = GRAPHQL_LIMITS.depth - 2;

/** Every object-typed field below the query roots, each type expanded at most once per path. */
export function fieldPaths(schema: GraphQLSchema): FieldPath[] {
  const paths: FieldPath[] = [];
  const walk = (root: Field, chain: Field[], type: GraphQLObjectType, seen: Set<string>) => {
    for (const field of Object.values(type.getFields())) {
      const named = getNamedType(field.type);
      if (!isObjectType(named)) continue;
      const next = [...chain, field];
      paths.push({ root, chain: next });
      if (next.length < MAX_SEGMENTS && !seen.has(named.name)) walk(root, next, named, new Set([...seen, named.name]));
    }
  };
  for (const root of Object.values(schema.getQueryType()?.getFields() ?? {})) {
    const named = getNamedType(root.type);
    if (isObjectType(named)) walk(root, [], named, new Set([named.name]));
  }
  return paths;
}

export const pathName = (path: FieldPath) => [path.root.name, ...path.chain.map((f) => f.name)].join(".");

/** The path's document, with literal values for required arguments below the root. */
export function pathDocument(path: FieldPath): string {
  const { definitions, uses } = variableList(path.root);
  let selection = "{ __typename }";
  for (const field of [...path.chain].reverse()) {
    const required = field.args.filter((a) => isNonNullType(a.type));
    const args = required.length
      ? `(${required.map((a) => `${a.name}: ${JSON.stringify(fieldArgument(a.name, getNamedType(a.type).name))}`).join(", ")})`
      : "";
    selection = `{ ${field.name}${args} ${selection} }`;
  }
  return `query Matrix${definitions} { ${path.root.name}${uses} ${selection} }`;
}

const strip = (path: (string | number)[] | undefined) => (path ?? []).filter((p) => typeof p === "string").join(".");

export function pathOutcome(path: FieldPath, answer: GraphQLAnswer): string {
  const name = pathName(path);
  const errors = answer.errors ?? [];
  const own = new Set(errors.filter((e) => strip(e.path) === name).map(codeOf));
  if (own.size) return [...own].sort().join(" / ");
  if (errors.some((e) => name.startsWith(`${strip(e.path)}.`) && e.path?.length)) return "—";
  const stray = errors.find((e) => !e.path?.length);
  if (stray) return `error: ${codeOf(stray)}`;
  // Walk the data down the chain; lists fan out.
  let values: unknown[] = [answer.data?.[path.root.name]];
  const segments = path.chain.map((f) => f.name);
  for (const [i, segment] of segments.entries()) {
    values = values
      .flatMap((v) => (Array.isArray(v) ? v : [v]))
      .filter((v): v is Record<string, unknown> => v !== null && typeof v === "object")
      .map((v) => v[segment]);
    if (i === segments.length - 1) values = values.flatMap((v) => (Array.isArray(v) ? v : [v]));
  }
  if (!values.length) return "—";
  const kinds = new Set(values.map((v) => (v === null || v === undefined ? "null" : "✓")));
  return [...kinds].sort().join(" / ");
}
