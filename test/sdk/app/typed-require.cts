// The CommonJS side of the type check: a .cts file resolves the package's require types.
import { createClient, type ErrorCode } from "@keyward/sdk";

export const client = createClient({ url: "http://127.0.0.1:4000/graphql" });
export const code: ErrorCode = "not_found";
