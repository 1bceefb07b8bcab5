import { apiError } from "../errors";

// Page sizes of every connection. Pothos would cap `first: 500` silently and throw an
// unexpected error for `first: -1`; both are the caller's mistake, so both are refused.

export const PAGE_SIZE = { default: 50, max: 100 } as const;

export const PAGE_SIZE_DESCRIPTION = `Page size: 0 to ${PAGE_SIZE.max} (default ${PAGE_SIZE.default}).`;

interface PageArgs {
  first?: number | null;
  last?: number | null;
}

/** The connection arguments, once `first` and `last` are known to be in range. */
export function checkedPage<T extends PageArgs>(args: T): T {
  for (const field of ["first", "last"] as const) {
    const size = args[field];
    if (size != null && (size < 0 || size > PAGE_SIZE.max)) {
      throw apiError({
        code: "validation_failed",
        message: `${field}: must be from 0 to ${PAGE_SIZE.max}`,
        field,
      });
    }
  }
  return args;
}
