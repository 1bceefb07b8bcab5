import { type ExecutionResult, execute, GraphQLError, parse, validate } from "graphql";
import { compileQuery, isCompiledQuery } from "graphql-jit";
import { VerifyApiKeyDocument } from "../../sdk/src/generated/graphql";
import { verifierCaller } from "../auth/access";
import { type AppDeps, buildContext, type HeaderSource } from "../context";
import { schema } from "../schema";
import { guardedSchema } from "../yoga";
import { normalise } from "./errors-plugin";
import type { RequestMeta } from "./request-meta";

// A persisted-operation fast path for the hottest call. When the body's query is
// exactly a registered document (the SDK's VerifyApiKey), it runs the same
// resolvers and error mapping, but without Yoga's per-request pipeline (fetch
// adapter, plugin chain, re-parsing), which costs several times the verification
// itself. It gets a body that already passed body.ts's rules (node-handler.ts).
// Anything unusual (another document, a caller verifyApiKey's rule refuses,
// variables that do not coerce) returns null and is served by Yoga as usual.

export interface FastAnswer {
  status: number;
  body: string;
}

const PERSISTED = [VerifyApiKeyDocument.toString()];

function compile(source: string) {
  const document = parse(source);
  const errors = validate(guardedSchema, document);
  if (errors.length) throw new Error(`persisted operation does not validate: ${errors[0]?.message}`);
  // Compiled once into a specialised function (graphql-jit): same resolvers, no
  // per-request walk of the document. It runs on the schema without the shield
  // middleware (which wraps every field in a promise): the persisted document's
  // only guarded field is verifyApiKey itself, whose rule (verifierCaller) the
  // fast path applies before executing; the result types' fields are all `allow`.
  const compiled = compileQuery(schema, document);
  return { document, compiled: isCompiledQuery(compiled) ? compiled : null };
}

export function createFastVerify(deps: AppDeps) {
  const documents = new Map(PERSISTED.map((source) => [source, compile(source)]));

  return async function answer(
    params: { query?: unknown; variables?: unknown; operationName?: unknown },
    headers: HeaderSource,
    meta: RequestMeta,
    base: string,
  ): Promise<FastAnswer | null> {
    if (typeof params.query !== "string") return null;
    const operation = documents.get(params.query);
    if (!operation) return null;
    const ctx = await buildContext(deps, headers, meta);
    const p = ctx.principal;
    // The shield's own rule for verifyApiKey; Yoga answers refused callers with the right error.
    if (!verifierCaller(ctx).ok) return null;
    if (p.kind === "key") deps.keys.usage.touch(p.key.id, ctx.now);
    const variables = (params.variables ?? undefined) as Record<string, unknown> | undefined;
    const result = (
      operation.compiled
        ? await operation.compiled.query(undefined, ctx, variables)
        : await execute({
            schema: guardedSchema,
            document: operation.document,
            variableValues: variables,
            operationName: typeof params.operationName === "string" ? params.operationName : undefined,
            contextValue: ctx,
          })
    ) as ExecutionResult;
    if (!result.errors?.length) return { status: 200, body: JSON.stringify({ data: result.data }) };
    // No data: the variables did not coerce and nothing ran; Yoga words that error.
    if (result.data === undefined) return null;
    const errors = result.errors.map((e) =>
      normalise(e instanceof GraphQLError ? e : new GraphQLError(String(e)), base, meta.id, deps.config.production),
    );
    const status = Math.max(...errors.map((e) => (e.extensions.http as { status: number }).status));
    return { status, body: JSON.stringify({ data: result.data ?? null, errors: errors.map((e) => e.toJSON()) }) };
  };
}
