import { apiError, type Result } from "../errors";

// The bridge from domain results to resolvers: a failed Result is thrown as its
// catalog error (apiError), a successful one is unwrapped.

export function unwrap<T>(result: Result<T>): T {
  if (result.ok) return result.value;
  throw apiError(result.error);
}
