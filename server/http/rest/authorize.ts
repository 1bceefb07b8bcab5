import { parseBearer } from "../../auth/principal";
import type { AppDeps, HeaderSource } from "../../context";
import { catalog, type Failure, fail, ok, type Result } from "../../errors";
import { effectiveScopes } from "../../keys/scopes";
import { verifyKey, verifyRequest, verifyResultView } from "../../keys/verify";
import { noteVerification } from "../../observability/note";
import { rateLimitHeaders } from "../charge";
import { JSON_TYPE, type RestAnswer, type RestRequest, refuse } from "./answer";

// /v1/authorize: forward authentication for gateways (nginx auth_request, Traefik
// ForwardAuth, Envoy ext_authz over HTTP). The key the gateway's customer sent is
// itself the credential checked, so no verifier is needed: the answer says only
// what the holder of that key can learn by using it anyway. It is a use of the
// key and spends its rate limit, like verifyApiKey does for the verified key.
//
// - key: `X-API-Key`, else `Authorization: Bearer`;
// - required scopes: `X-Keyward-Required-Scopes` and `?scopes=`, comma or space
//   separated, all of them together (a client adding one only narrows access);
// - origin: the Origin header; IP: the connection's peer address only, never
//   X-Forwarded-For (behind a gateway that is the gateway's address);
// - audience token: `X-Keyward-Audience-Token` (server/audience/tokens.ts).
// 200 carries the key's identity in X-Keyward-* headers (and the deployment that
// answered, where the workspace requires deploys); a refusal carries the
// catalog status (401/403/429) and the JSON error body. Any method is answered
// alike and no body is read: Envoy forwards the customer's method and path.

export const SCOPES_HEADER = "x-keyward-required-scopes";
export const TOKEN_HEADER = "x-keyward-audience-token";
// verifyRequest's fields, as this route reads them.
const FIELD_HEADERS: Record<string, string> = {
  requiredScopes: "X-Keyward-Required-Scopes",
  token: "X-Keyward-Audience-Token",
};
const SEPARATORS = /[\s,]+/;
// The key is the credential: every key may be checked by whoever holds it.
const ANYONE = () => true;

function credential(headers: HeaderSource): Result<string> {
  const apiKey = headers.get("x-api-key")?.trim();
  if (apiKey) return ok(apiKey);
  const bearer = parseBearer(headers.get("authorization"));
  if (!bearer.ok) return bearer;
  if (bearer.value === null) {
    return fail("authentication_required", "Send the API key as `X-API-Key: <key>` or `Authorization: Bearer <key>`.");
  }
  return ok(bearer.value);
}

function requiredScopes(request: RestRequest): string[] {
  const lists = [request.headers.get(SCOPES_HEADER) ?? ""];
  if (request.search) lists.push(...new URLSearchParams(request.search).getAll("scopes"));
  const scopes = new Set<string>();
  for (const list of lists) for (const scope of list.split(SEPARATORS)) if (scope) scopes.add(scope);
  return [...scopes];
}

const CHALLENGE = { "www-authenticate": 'Bearer realm="keyward"' };

function refused(request: RestRequest, failure: Failure, headers?: Record<string, string>): RestAnswer {
  // A 401 says how to authenticate (RFC 9110); nginx passes it on to the client.
  return refuse(request, failure, catalog[failure.code].status === 401 ? CHALLENGE : headers);
}

export async function authorizeRoute(deps: AppDeps, request: RestRequest): Promise<RestAnswer> {
  const key = credential(request.headers);
  if (!key.ok) return refused(request, key.error);
  const checked = verifyRequest({
    key: key.value,
    requiredScopes: requiredScopes(request),
    origin: request.headers.get("origin"),
    ip: request.meta.ip,
    token: request.headers.get(TOKEN_HEADER),
  });
  if (!checked.ok) {
    const { code, message, field } = checked.error;
    return refused(request, { code, message, field: FIELD_HEADERS[field ?? ""] ?? field });
  }
  const outcome = await verifyKey(
    {
      cache: deps.keys.cache,
      limits: deps.keys.limits,
      usage: deps.keys.usage,
      audiences: deps.keys.audiences,
      now: deps.clock(),
    },
    ANYONE,
    checked.value,
  );
  noteVerification(request.meta, outcome.code);
  const { code, message, key: apiKey, ratelimit } = outcome;
  if (code === "VALID") {
    if (!apiKey || !ratelimit) throw new Error("a valid verification came without its key and rate limit");
    // One literal with every header: the hottest answer of this route.
    const answer: RestAnswer = {
      status: 200,
      headers: {
        "content-type": JSON_TYPE,
        "cache-control": "no-store",
        "x-request-id": request.meta.id,
        "x-keyward-key-id": apiKey.id,
        "x-keyward-workspace-id": apiKey.workspaceId,
        "x-keyward-environment": apiKey.environment,
        "x-keyward-key-type": apiKey.type,
        "x-keyward-scopes": effectiveScopes(apiKey).join(","),
        "x-ratelimit-limit": String(ratelimit.limit),
        "x-ratelimit-remaining": String(ratelimit.remaining),
        "x-ratelimit-reset": String(Math.ceil(ratelimit.resetAt.getTime() / 1000)),
      },
      body: request.method === "HEAD" ? "" : JSON.stringify(verifyResultView(outcome)),
    };
    if (outcome.audience) {
      answer.headers["x-keyward-audience"] = outcome.audience.name;
      answer.headers["x-keyward-audience-path"] = outcome.audience.path.join(",");
    }
    if (outcome.deploymentVersion !== null) {
      answer.headers["x-keyward-deployment-version"] = String(outcome.deploymentVersion);
    }
    return answer;
  }
  // With no verifier there is no "not yours to verify": an unknown key is simply
  // not a credential, as on every other request made with it.
  if (code === "not_found") return refused(request, { code: "invalid_api_key", message: "Unknown API key." });
  return refused(request, { code, message }, ratelimit ? rateLimitHeaders(ratelimit) : undefined);
}
