import {
  type DocumentNode,
  type ExecutionResult,
  execute,
  type GraphQLError,
  getOperationAST,
  getVariableValues,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type OperationDefinitionNode,
  parse,
  specifiedRules,
  validate,
} from "graphql";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";
import { LRUCache } from "lru-cache";
import { verifierCaller } from "../auth/access";
import { type AppDeps, buildContext } from "../context";
import { apiError } from "../errors";
import { schema } from "../schema";
import { guardedSchema } from "../schema/guarded";
import { GRAPHQL_LIMITS, limitRules } from "./armor";
import { chargeCaller, chargesNothing, measureCost, rateLimitHeaders } from "./charge";
import type { Measure } from "./cost";
import { logUnexpected, outgoingErrors } from "./errors-plugin";
import type { EdgeAnswer, EdgeRequest } from "./exchange";
import { KNOWN_DOCUMENTS } from "./known-documents";
import { withLocations } from "./locate";

// Runs POST /graphql documents without Yoga's per-request pipeline (fetch adapter,
// plugin chain), which costs several times the work of a verification. A document is
// parsed and validated once — the schema's rules, the same graphql-armor limits as
// Yoga, no introspection in production — and kept by its text; from its second use
// it runs as a graphql-jit compiled query. Execution, the caller's limits
// (charge.ts), the shield rules and the error mapping are the ones Yoga uses.
//
// Whatever this does not run, Yoga answers in its own words (null): documents that
// do not parse or validate, a missing operation, variables that do not coerce,
// subscriptions, unusual Accept headers. So a refusal reads the same on every path.
//
// Documents that only call verifyApiKey run on the schema without the shield
// middleware (which wraps every field in a promise): verifyApiKey's rule is a rule
// about the caller alone (verifierCaller), applied here first, and every field below
// it is `allow` (test/unit/shield-verify.test.ts pins both).

const CACHED_DOCUMENTS = 1000;
const COMPILE_AFTER_USES = 2;

interface Prepared {
  document: DocumentNode;
  uses: number;
  compiled: Map<string, CompiledQuery | null>;
  /** Costs by operation name, for operations whose cost no variable changes. */
  costs: Map<string, Measure>;
}

const YOGA = null;

function onlyVerifies(operation: OperationDefinitionNode): boolean {
  return (
    operation.operation === "mutation" &&
    operation.selectionSet.selections.every(
      (s) => s.kind === Kind.FIELD && (s.name.value === "verifyApiKey" || s.name.value === "__typename"),
    )
  );
}

function mediaType(accept: string | null): string | null {
  if (!accept) return "application/json";
  for (const part of accept.toLowerCase().split(",")) {
    const type = part.split(";")[0]?.trim();
    if (type === "application/graphql-response+json") return type;
    if (type === "application/json" || type === "*/*" || type === "application/*") return "application/json";
  }
  return null;
}

export function createGraphQLRunner(deps: AppDeps) {
  const production = deps.config.production;
  const rules = [...specifiedRules, ...limitRules(production)];
  if (production) rules.push(NoSchemaIntrospectionCustomRule);
  // false: a document Yoga answers (it did not parse or validate here).
  const documents = new LRUCache<string, Prepared | false>({ max: CACHED_DOCUMENTS });

  function prepare(query: string): Prepared | false {
    if (query.length > GRAPHQL_LIMITS.characters) return false;
    try {
      const document = parse(query, { maxTokens: GRAPHQL_LIMITS.tokens });
      if (validate(guardedSchema, document, rules).length) return false;
      return { document, uses: 0, compiled: new Map(), costs: new Map() };
    } catch {
      // A limit refused it (armor throws): Yoga words that refusal.
      return false;
    }
  }

  function compiled(prepared: Prepared, operationName: string | null, open: boolean): CompiledQuery | null {
    const key = `${open ? "open" : "guarded"}:${operationName ?? ""}`;
    if (!prepared.compiled.has(key)) {
      const query = compileQuery(open ? schema : guardedSchema, prepared.document, operationName ?? undefined);
      prepared.compiled.set(key, isCompiledQuery(query) ? query : null);
    }
    return prepared.compiled.get(key) ?? null;
  }

  // Parsed, validated and compiled before the first request (both ways it can run).
  for (const query of KNOWN_DOCUMENTS) {
    const prepared = prepare(query);
    if (!prepared) throw new Error("a known document does not validate against the schema");
    prepared.uses = COMPILE_AFTER_USES;
    documents.set(query, prepared);
    const operation = getOperationAST(prepared.document);
    compiled(prepared, operation?.name?.value ?? null, false);
    if (operation && onlyVerifies(operation)) compiled(prepared, operation.name?.value ?? null, true);
  }

  return async function run(params: Record<string, unknown>, request: EdgeRequest): Promise<EdgeAnswer | null> {
    const { query, variables, operationName } = params;
    const contentType = mediaType(request.headers.get("accept"));
    if (typeof query !== "string" || !contentType) return YOGA;
    if (operationName != null && typeof operationName !== "string") return YOGA;
    if (variables != null && (typeof variables !== "object" || Array.isArray(variables))) return YOGA;
    let prepared = documents.get(query);
    if (prepared === undefined) {
      prepared = prepare(query);
      documents.set(query, prepared);
    }
    if (!prepared) return YOGA;
    const operation = getOperationAST(prepared.document, operationName ?? undefined);
    if (!operation || operation.operation === "subscription") return YOGA;
    const inputs = (variables ?? {}) as Record<string, unknown>;
    const name = operation.name?.value ?? null;
    if (name) request.meta.operation = name;
    let measured = prepared.costs.get(name ?? "");
    // Nobody is charged for a request whose variables do not coerce: Yoga refuses it.
    // Coerced here first, unless the document is known to charge nothing (the
    // verification documents): then execution's own coercion decides, below.
    let coerced: Record<string, unknown> | undefined;
    if (!measured || !chargesNothing(measured)) {
      const values = getVariableValues(guardedSchema, operation.variableDefinitions ?? [], inputs);
      if (values.errors) return YOGA;
      coerced = values.coerced;
    }
    const asked = { schema: guardedSchema, document: prepared.document, operationName: name, variables: coerced };
    if (!measured) {
      measured = measureCost(asked);
      if (!measured.variable) prepared.costs.set(name ?? "", measured);
    }

    const ctx = await buildContext(deps, request.headers, request.meta);
    const refused = await chargeCaller(ctx, asked, measured);
    let result: ExecutionResult;
    let jit: CompiledQuery | null = null;
    if (refused) result = { errors: [apiError(refused)] };
    else {
      const open = onlyVerifies(operation) && verifierCaller(ctx).ok;
      prepared.uses += 1;
      jit = prepared.uses >= COMPILE_AFTER_USES ? compiled(prepared, name, open) : null;
      result = (
        jit
          ? await jit.query(undefined, ctx, inputs)
          : await execute({
              schema: open ? schema : guardedSchema,
              document: prepared.document,
              operationName: name,
              variableValues: inputs,
              contextValue: ctx,
            })
      ) as ExecutionResult;
    }
    // Variables that did not coerce (only documents that charge nothing get this far
    // with them): nothing ran, and Yoga words the refusal.
    if (!coerced && !refused && result.errors?.length && !("data" in result)) return YOGA;
    const headers: Record<string, string> = {
      "content-type": `${contentType}; charset=utf-8`,
      "x-request-id": request.meta.id,
    };
    if (ctx.meta.rateLimit) Object.assign(headers, rateLimitHeaders(ctx.meta.rateLimit));
    if (!result.errors?.length) return { status: 200, headers, body: JSON.stringify({ data: result.data }) };
    logUnexpected(ctx.log, result.errors);
    const located = jit ? result.errors.map((e) => withLocations(e, prepared.document, operation)) : result.errors;
    const errors = outgoingErrors({ data: result.data, errors: located }, request.base, request.meta.id, production);
    const status = Math.max(...errors.map((e) => (e.extensions.http as { status: number }).status));
    // graphql-js's order, as Yoga prints it: errors, then data (absent when nothing ran).
    const body = { errors: errors.map((e: GraphQLError) => e.toJSON()), data: result.data };
    return { status, headers, body: JSON.stringify(body) };
  };
}
