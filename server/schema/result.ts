import { GraphQLError } from "graphql";
import { catalog, type Failure, type Result } from "../errors";

// The bridge from domain results to GraphQL: a Failure becomes a GraphQLError
// carrying its catalog code and HTTP status (docUrl is added per request, see
// server/http/errors-plugin.ts, because it names this server's own address).

export function apiError(failure: Failure): GraphQLError {
  return new GraphQLError(failure.message, {
    extensions: {
      code: failure.code,
      http: { status: catalog[failure.code].status },
      ...(failure.field ? { field: failure.field } : {}),
    },
  });
}

export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw apiError(result.error);
}
