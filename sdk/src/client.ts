import { type CatalogErrorCode, catalogErrorCodes } from "./generated/error-codes.js";
import type { TypedDocumentString } from "./generated/graphql.js";
import * as operations from "./generated/graphql.js";

/**
 * What `KeywardError.code` can be: a catalog code, `INTERNAL_SERVER_ERROR` for a masked
 * failure (quote its requestId), or `network_error` when no answer came. A `switch` on it
 * with a `never` default fails to compile when the catalog grows.
 */
export type ErrorCode = CatalogErrorCode | "INTERNAL_SERVER_ERROR" | "network_error";

/** A failure reported by Keyward, carrying its catalog code (see /docs/errors). */
export class KeywardError extends Error {
  override name = "KeywardError";
  constructor(
    message: string,
    /** Catalog code, e.g. `not_found`; `INTERNAL_SERVER_ERROR` for masked failures; `network_error` when no answer came. */
    readonly code: ErrorCode,
    /** HTTP status the server answered with (0 when no answer came). */
    readonly status: number,
    readonly docUrl: string | undefined,
    /** The input field at fault, for validation_failed. */
    readonly field: string | undefined,
    /** Quote this when reporting an unexpected error. */
    readonly requestId: string | undefined,
    /** Every error in the response, when there was more than one. */
    readonly errors: readonly GraphQLErrorBody[],
  ) {
    super(message);
  }
}

export interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: { code?: string; docUrl?: string; field?: string; requestId?: string; http?: { status?: number } };
}

export interface RequestOptions {
  /** Extra headers for this call only, e.g. `{ "Idempotency-Key": "…" }`. */
  headers?: Record<string, string>;
}

export interface ClientOptions {
  /** The GraphQL endpoint, e.g. `https://keys.example.com/graphql`. */
  url: string;
  /** A session token (kws_…) or an API key (sk_… / pk_…). */
  token?: string | undefined;
  /** Defaults to the global fetch; pass `yoga.fetch` in tests. */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /** Sent with every request (e.g. Origin for publishable keys outside a browser). */
  headers?: Record<string, string>;
  /** Sees every raw response, e.g. to read X-RateLimit-* headers. */
  onResponse?: (response: Response) => void;
}

type Operations = typeof operations;

type Method<D> =
  D extends TypedDocumentString<infer Result, infer Variables>
    ? Record<string, never> extends Variables
      ? (variables?: Variables, options?: RequestOptions) => Promise<Result>
      : (variables: Variables, options?: RequestOptions) => Promise<Result>
    : never;

/**
 * One typed method per operation in sdk/operations, named after it:
 * `SignUpDocument` → `client.signUp(variables)`.
 */
export type KeywardClient = {
  [K in keyof Operations as K extends `${infer Name}Document` ? Uncapitalize<Name> : never]: Method<Operations[K]>;
} & {
  /** Runs any typed document (e.g. one of your own) with this client's credentials. */
  request<Result, Variables>(
    document: TypedDocumentString<Result, Variables>,
    variables?: Variables,
    options?: RequestOptions,
  ): Promise<Result>;
};

interface ResponseBody {
  data?: unknown;
  errors?: GraphQLErrorBody[];
}

const known = new Set<string>(catalogErrorCodes);

/**
 * A code as the server sent it, typed: the server names only catalog codes, so an answer
 * without one (a proxy's error page), or with one this SDK predates, is unexpected
 * (`INTERNAL_SERVER_ERROR`); a KeywardError's `errors` keeps the raw code.
 */
export function knownCode(code: string | undefined): ErrorCode {
  return code !== undefined && known.has(code) ? (code as CatalogErrorCode) : "INTERNAL_SERVER_ERROR";
}

function toError(body: ResponseBody | undefined, status: number): KeywardError {
  const errors = body?.errors ?? [];
  const first = errors[0];
  const ext = first?.extensions ?? {};
  return new KeywardError(
    first?.message ?? `Keyward answered HTTP ${status} without a GraphQL body`,
    knownCode(ext.code),
    ext.http?.status ?? status,
    ext.docUrl,
    ext.field,
    ext.requestId,
    errors,
  );
}

export function createClient(options: ClientOptions): KeywardClient {
  const doFetch = options.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
  const requester = async <R, V>(query: string, variables?: V, request?: RequestOptions): Promise<R> => {
    const headers: Record<string, string> = {
      "content-type": "application/json",
      accept: "application/graphql-response+json, application/json",
      ...options.headers,
      ...request?.headers,
    };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let response: Response;
    try {
      response = await doFetch(options.url, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    } catch (cause) {
      const message = cause instanceof Error ? cause.message : String(cause);
      throw new KeywardError(
        `Could not reach Keyward: ${message}`,
        "network_error",
        0,
        undefined,
        undefined,
        undefined,
        [],
      );
    }
    options.onResponse?.(response);
    let body: ResponseBody | undefined;
    try {
      body = (await response.json()) as ResponseBody;
    } catch {
      body = undefined;
    }
    if (!body || body.errors?.length || body.data == null) throw toError(body, response.status);
    return body.data as R;
  };
  const methods: Record<string, unknown> = {
    request: (document: TypedDocumentString<unknown, unknown>, variables?: unknown, request?: RequestOptions) =>
      requester(document.toString(), variables, request),
  };
  for (const [name, value] of Object.entries(operations)) {
    if (!name.endsWith("Document") || !(value instanceof operations.TypedDocumentString)) continue;
    const method = name.charAt(0).toLowerCase() + name.slice(1, -"Document".length);
    const query = value.toString();
    methods[method] = (variables?: unknown, request?: RequestOptions) => requester(query, variables, request);
  }
  return methods as KeywardClient;
}
