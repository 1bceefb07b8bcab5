import type { Config } from "../../config";
import { catalog, docPath, type Failure } from "../../errors";
import { CSRF_HEADER, clearedSessionCookie, sessionCookie } from "../../identity/session-cookie";
import { parseJsonBody, refuseMediaType } from "../body";
import type { EdgeAnswer, EdgeRequest } from "../exchange";

// POST /dashboard/session signs a browser up or in, DELETE signs it out. Both run
// the API's own signUp / signIn / signOut documents through the GraphQL runner, so
// validation, per-IP and per-account attempt limits, audit entries and error words
// are the API's; this only moves the session token from the answer into the
// HttpOnly cookie (server/identity/session-cookie.ts), so the page never holds it.

export const SESSION_PATH = "/dashboard/session";

type Runner = (params: Record<string, unknown>, request: EdgeRequest) => Promise<EdgeAnswer | null>;

const DOCUMENTS = {
  signIn: "mutation DashboardSignIn($input: SignInInput!) { signIn(input: $input) { token user { id email name } } }",
  signUp: "mutation DashboardSignUp($input: SignUpInput!) { signUp(input: $input) { token user { id email name } } }",
} as const;
const SIGN_OUT = "mutation DashboardSignOut { signOut }";

function failure(
  request: EdgeRequest,
  { code, message, field }: Failure,
  headers: Record<string, string> = {},
): EdgeAnswer {
  const status = catalog[code].status;
  const extensions = {
    code,
    field,
    http: { status },
    docUrl: request.base + docPath(code),
    requestId: request.meta.id,
  };
  const error = { message, extensions };
  return {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "x-request-id": request.meta.id,
      ...headers,
    },
    body: JSON.stringify({ errors: [error] }),
  };
}

const noCsrfHeader: Failure = {
  code: "authentication_required",
  message: `The dashboard's session requests must carry the ${CSRF_HEADER} header (a page on another site cannot add it).`,
};

export function createSessionRoute(config: Config, run: Runner) {
  const secure = config.production || (config.publicUrl?.startsWith("https:") ?? false);
  const maxAgeSeconds = Math.floor(config.sessionTtlMs / 1000);

  async function open(request: EdgeRequest): Promise<EdgeAnswer> {
    const mediaType = refuseMediaType(request.headers.get("content-type"));
    if (mediaType) return failure(request, mediaType);
    const bytes = await request.body();
    if (!bytes) return failure(request, { code: "payload_too_large", message: "Request body is too large." });
    const parsed = parseJsonBody(bytes);
    if (!parsed.ok) return failure(request, parsed.refusal);
    const { action, input } = parsed.params;
    if (action !== "signIn" && action !== "signUp") {
      return failure(request, {
        code: "validation_failed",
        message: "action: must be signIn or signUp",
        field: "action",
      });
    }
    const answer = await run({ query: DOCUMENTS[action], variables: { input } }, request);
    if (!answer) {
      return failure(request, {
        code: "validation_failed",
        message: "input: expected the fields of SignInInput or SignUpInput",
        field: "input",
      });
    }
    const body = JSON.parse(answer.body) as { data?: Record<string, { token: string; user: unknown } | null> };
    const signed = body.data?.[action];
    if (!signed) return answer;
    // The token goes into the cookie and nowhere else: the page gets the user only.
    answer.headers["set-cookie"] = sessionCookie(signed.token, { secure, maxAgeSeconds });
    answer.headers["cache-control"] = "no-store";
    answer.body = JSON.stringify({ data: { user: signed.user } });
    return answer;
  }

  async function close(request: EdgeRequest): Promise<EdgeAnswer> {
    const answer = await run({ query: SIGN_OUT }, request);
    const cleared = { "set-cookie": clearedSessionCookie({ secure }) };
    // The cookie is forgotten either way: a dead session's cookie is no use to keep.
    if (!answer) return failure(request, { code: "authentication_required", message: "Not signed in." }, cleared);
    Object.assign(answer.headers, cleared, { "cache-control": "no-store" });
    return answer;
  }

  return async (request: EdgeRequest): Promise<EdgeAnswer | null> => {
    if (request.method !== "POST" && request.method !== "DELETE") return null;
    // Login CSRF too: another site must not sign this browser in to the attacker's account.
    if (request.headers.get(CSRF_HEADER) === null) return failure(request, noCsrfHeader);
    return request.method === "POST" ? open(request) : close(request);
  };
}
