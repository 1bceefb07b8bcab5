import { GraphQLError } from "graphql";

// The one catalog of error codes. Everything that reports a failure to a caller
// names a code from here; /docs/errors is generated from this table.

export const catalog = {
  authentication_required: {
    status: 401,
    title: "Authentication required",
    description:
      "The request has no usable credential: the Authorization header is missing or malformed, or the session is unknown, expired or signed out. Send `Authorization: Bearer <session token or API key>`.",
  },
  invalid_key_format: {
    status: 401,
    title: "Invalid key format",
    description:
      "The API key (or platform key, kwp_…) does not have a known prefix, has the wrong length, or its checksum does not match. It was refused without a database lookup.",
  },
  invalid_api_key: {
    status: 401,
    title: "Invalid API key",
    description: "The API key (or platform key) is unknown or has been revoked.",
  },
  key_expired: {
    status: 401,
    title: "Key expired",
    description: "The API key (or platform key) is past its expiry date, or past the grace period of a roll.",
  },
  key_not_deployed: {
    status: 401,
    title: "Key not deployed",
    description:
      "The workspace publishes key changes by deployment (`requireDeploy`), and this key was created after its latest deployment. It works once `deployKeys` publishes it; `pendingDeployment` lists what the next deployment would publish.",
  },
  invalid_audience_token: {
    status: 401,
    title: "Invalid audience token",
    description:
      "The audience token sent with the key was refused: it is not a JWT signed with HS256 (`none` and every other `alg` are refused), no signing key (`canSignTokens`) of the key's own workspace and environment made its signature, it has no `exp`, it is expired or not yet valid (`nbf`) beyond 30 seconds of clock skew, or its `audience` claim names no audience of the workspace. `verifyApiKey` and `POST /v1/keys/verify` answer it as `valid: false`; `/v1/authorize` answers 401.",
  },
  invalid_signature: {
    status: 401,
    title: "Invalid signature",
    description:
      "`POST /leaks/github` accepts only reports GitHub signed: the `Github-Public-Key-Identifier` and `Github-Public-Key-Signature` headers are required, the identifier must name an ECDSA P-256 key in GitHub's secret scanning public-keys document (`KEYWARD_GITHUB_KEYS_URL`), and the signature must be that key's over the exact body bytes. Nothing in the report was acted on.",
  },
  insufficient_permissions: {
    status: 403,
    title: "Insufficient permissions",
    description: "Your role in this workspace does not allow this operation.",
  },
  insufficient_scope: {
    status: 403,
    title: "Insufficient scope",
    description:
      "The API key lacks a scope this operation requires. A platform key holds only keys:verify and workspaces:read, and gets this for anything else in a workspace.",
  },
  publishable_key_write: {
    status: 403,
    title: "Publishable key cannot write",
    description: "Publishable keys are read-only. Use a secret key (sk_…) from your server for writes.",
  },
  workspace_access_denied: {
    status: 403,
    title: "Workspace access denied",
    description: "The key or user does not belong to that workspace.",
  },
  origin_not_allowed: {
    status: 403,
    title: "Origin not allowed",
    description: "The publishable key was used from an Origin that is not on its allowlist.",
  },
  ip_not_allowed: {
    status: 403,
    title: "IP not allowed",
    description: "The secret key was used from an IP address outside its allowlist.",
  },
  keys_disabled: {
    status: 403,
    title: "Keys disabled",
    description: "The workspace's key switch is off: none of its keys work until it is turned back on.",
  },
  audience_token_required: {
    status: 403,
    title: "Audience token required",
    description:
      "The workspace has `requireAudienceToken` on, and a publishable key came without an audience token. Send the token your backend signed with the key (`token` in `verifyApiKey` and `POST /v1/keys/verify`, `X-Keyward-Audience-Token` on `/v1/authorize`).",
  },
  service_inactive: {
    status: 402,
    title: "Service inactive",
    description:
      "The service this key is bound to, or a service whose scope the request requires, is switched off (`setServiceActive`), for example because its subscription lapsed. Nothing is wrong with the key: it works again the moment the service is turned back on.",
  },
  not_found: {
    status: 404,
    title: "Not found",
    description: "No such object is visible to you. Objects that exist but belong to someone else answer the same way.",
  },
  validation_failed: {
    status: 400,
    title: "Validation failed",
    description:
      "The input is malformed or breaks a rule. `extensions.field` names the offending field where there is one, and the message says why.",
  },
  payload_too_large: {
    status: 413,
    title: "Payload too large",
    description:
      "The request body is over the limit (2 MiB), whatever its content type or transfer encoding. The server stops reading at the limit; send a smaller request.",
  },
  unsupported_media_type: {
    status: 415,
    title: "Unsupported media type",
    description:
      "`POST /graphql` accepts `Content-Type: application/json` (UTF-8) only. Form posts, multipart uploads, `text/plain` and `application/graphql` bodies are refused, so a plain HTML form cannot run a mutation.",
  },
  rate_limit_exceeded: {
    status: 429,
    title: "Rate limit exceeded",
    description:
      "Too many requests. The `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `X-RateLimit-Reset` and `Retry-After` headers say when to retry.",
  },
  database_unavailable: {
    status: 503,
    title: "Database unavailable",
    description:
      "The database could not be reached (stopped, restarting, or the connection dropped), so the request could not be carried out. Each write is one transaction: a refused change was made whole or not at all, and not at all unless the connection dropped during the commit itself. Retry shortly; a retried `createApiKey` or `rollApiKey` with the same `Idempotency-Key` is made at most once. Verifications of keys this instance already knows keep answering meanwhile.",
  },
} as const satisfies Record<string, { status: number; title: string; description: string }>;

export type ErrorCode = keyof typeof catalog;

export const errorCodes = Object.keys(catalog) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(catalog, value);
}

/** An expected failure, as a value. Domain code returns these; it never throws them. */
export interface Failure {
  code: ErrorCode;
  message: string;
  field?: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: Failure };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });

export const fail = (code: ErrorCode, message: string, field?: string): { ok: false; error: Failure } => ({
  ok: false,
  error: field === undefined ? { code, message } : { code, message, field },
});

export function docPath(code: string): string {
  return `/docs/errors#${code}`;
}

/**
 * A Failure as a GraphQL error carrying its catalog code and HTTP status (docUrl is
 * added per request, in server/http/errors-plugin.ts, because it names this server's
 * own address). Shield rules and resolvers alike throw or return these.
 */
export function apiError(failure: Failure): GraphQLError {
  return new GraphQLError(failure.message, {
    extensions: {
      code: failure.code,
      http: { status: catalog[failure.code].status },
      ...(failure.field ? { field: failure.field } : {}),
    },
  });
}
