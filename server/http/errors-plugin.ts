import { GraphQLError } from "graphql";
import { type Plugin, useErrorHandler } from "graphql-yoga";
import type { Logger } from "pino";
import type { Context } from "../context";
import { isDatabaseUnavailable } from "../db-unavailable";
import { catalog, docPath, isErrorCode } from "../errors";
import { requestMeta } from "./request-meta";

// Every error leaves the server in one shape: extensions { code, docUrl, http:
// { status } } (plus field/requestId where they apply). Errors that did not come
// from the catalog are mapped: GraphQL's own parse/validation errors and Yoga's
// request errors (bad JSON, missing query) become validation_failed; anything
// unexpected stays masked as INTERNAL_SERVER_ERROR and is logged here.

type ErrorExtensions = Record<string, unknown> & { code?: unknown; http?: { status?: number } };

// graphql-js: `Variable "$input" got invalid value <the value, printed>[ at "input.path"]; <problem>`.
// The printed value may hold anything the caller sent, so the last "; " is the split.
const BAD_VARIABLE = /^(Variable "\$[^"]+" got invalid value )([\s\S]*); ([\s\S]*)$/;

/** Production: the variable and the problem, without the printed input. */
function withoutDump(message: string): string {
  const match = BAD_VARIABLE.exec(message);
  if (!match) return message;
  const at = / at "[^"]*"$/.exec(match[2] ?? "")?.[0] ?? "";
  return `${match[1]}…${at}; ${match[3]}`;
}

export function normalise(error: GraphQLError, base: string, requestId: string, production: boolean): GraphQLError {
  const ext = { ...(error.extensions as ErrorExtensions) };
  // Internals never leave the server: Yoga's flags and the original exception.
  delete ext.unexpected;
  delete ext.originalError;
  let message = error.message;
  if (!isErrorCode(ext.code)) {
    const status = ext.http?.status;
    const isClientError =
      ext.code === "GRAPHQL_VALIDATION_FAILED" ||
      ext.code === "GRAPHQL_PARSE_FAILED" ||
      ext.code === "BAD_USER_INPUT" ||
      (typeof status === "number" && status >= 400 && status < 500) ||
      (ext.code === undefined && !error.originalError && error.locations !== undefined);
    if (isClientError) ext.code = "validation_failed";
    else if (isDatabaseUnavailable(error.originalError)) {
      ext.code = "database_unavailable";
      ext.requestId = requestId;
      message = "The database is unavailable; retry shortly.";
    } else {
      ext.code = "INTERNAL_SERVER_ERROR";
      ext.requestId = requestId;
      ext.http = { status: 500 };
      ext.docUrl = base + docPath("INTERNAL_SERVER_ERROR");
      message = "Unexpected error.";
    }
  }
  if (isErrorCode(ext.code)) {
    ext.http = { status: catalog[ext.code].status };
    ext.docUrl = base + docPath(ext.code);
    // Field suggestions ("Did you mean …?") describe the schema; production hides it.
    if (production) message = withoutDump(message.replace(/ Did you mean .*\?$/, ""));
  }
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: ext,
  });
}

/** Logs, with the request's logger, every error that a bug (not a catalog refusal) caused. */
export function logUnexpected(log: Logger | undefined, errors: readonly unknown[]): void {
  for (const error of errors) {
    const original = error instanceof GraphQLError ? error.originalError : error;
    // An outage is logged once, by the part that lost the database, not per request.
    if (original && !(original instanceof GraphQLError) && !isDatabaseUnavailable(original)) {
      log?.error({ err: original, path: error instanceof GraphQLError ? error.path : undefined }, "unexpected error");
    }
  }
}

/**
 * The errors of a result as they leave the server. A request refused before execution
 * (parse, validation, variables) lists one error per problem: every missing field of an
 * input type, with its type. In production that is a map of the schema, so only the
 * first problem is named.
 */
export function outgoingErrors(
  result: { data?: unknown; errors?: readonly unknown[] },
  base: string,
  requestId: string,
  production: boolean,
): GraphQLError[] {
  const all = result.errors ?? [];
  const refused = production && result.data === undefined;
  return (refused ? all.slice(0, 1) : all).map((e) =>
    normalise(e instanceof GraphQLError ? e : new GraphQLError(String(e)), base, requestId, production),
  );
}

export function useCatalogErrors(options: { publicUrl: string | undefined; production: boolean }): Plugin {
  return {
    onPluginInit({ addPlugin }) {
      // Sees execution errors before Yoga masks them, with the request's logger.
      addPlugin(
        useErrorHandler(({ errors, context }) => {
          // Envelop hands over the execution args here; the GraphQL context is inside.
          const args = context as { contextValue?: Partial<Context> } & Partial<Context>;
          logUnexpected(args.contextValue?.log ?? args.log, errors);
        }),
      );
    },
    onResultProcess({ request, result, setResult }) {
      if (Array.isArray(result) || !("errors" in result) || !result.errors?.length) return;
      const base = options.publicUrl ?? new URL(request.url).origin;
      const errors = outgoingErrors(result, base, requestMeta(request).id, options.production);
      // Yoga strips extensions.http from the body; Keyward's contract keeps it, so
      // this result serialises itself (Yoga calls `stringify` when present).
      const body = { ...result, errors };
      setResult({ ...body, stringify: () => JSON.stringify({ ...body, errors: errors.map((e) => e.toJSON()) }) });
    },
  };
}
