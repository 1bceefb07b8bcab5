import { z } from "zod";
import { verifiableBy, verifierCaller } from "../../auth/access";
import { type AppDeps, buildContext } from "../../context";
import type { Failure } from "../../errors";
import { verifyKey, verifyRequest, verifyResultView } from "../../keys/verify";
import { noteVerification } from "../../observability/note";
import { MAX_BODY_BYTES } from "../body";
import { json, type RestAnswer, type RestRequest, refuse } from "./answer";

// POST /v1/keys/verify: verifyApiKey without GraphQL. The body is the mutation's
// input as JSON, the verifier's credential the same Bearer, and the answer the
// same VerifyResult (always 200 for a refused key, with its code). Only problems
// with the request or the caller are errors, in the order GraphQL reports them:
// the body first, then who is calling.

const JSON_TYPE = /^application\/json\s*(;|$)/i;
// Reusable: without { stream: true } every decode starts afresh.
const UTF8 = new TextDecoder("utf-8", { fatal: true });

const optionalString = z.string("must be a string").nullish();

const Input = z.strictObject({
  key: z.string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") }),
  requiredScopes: z.array(z.string("must be a string"), "must be an array of strings").nullish(),
  origin: optionalString,
  ip: optionalString,
  token: optionalString,
});

const invalid = (field: string, message: string): Failure => ({
  code: "validation_failed",
  message: `${field}: ${message}`,
  field,
});

/** The body as the input object, or the failure naming what is wrong with it. */
function parseBody(request: RestRequest): z.output<typeof Input> | Failure {
  if (request.method !== "POST") return invalid("method", "use POST with a JSON body");
  if (!JSON_TYPE.test(request.headers.get("content-type") ?? "")) {
    return invalid("Content-Type", "must be application/json");
  }
  // The same code and status as an oversized POST /graphql (413), in this route's shape.
  if (request.body === null)
    return { code: "payload_too_large", message: `body: exceeds ${MAX_BODY_BYTES} bytes`, field: "body" };
  let text: string;
  try {
    text = UTF8.decode(request.body);
  } catch {
    return invalid("body", "is not valid UTF-8");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return invalid("body", "is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return invalid("body", "must be a JSON object");
  }
  const parsed = Input.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === "unrecognized_keys") return invalid(issue.keys[0] ?? "body", "is not a field of this input");
  return invalid(issue?.path.map(String).join(".") || "body", issue?.message ?? "is invalid");
}

export async function verifyRoute(deps: AppDeps, request: RestRequest): Promise<RestAnswer> {
  const input = parseBody(request);
  if ("code" in input) return refuse(request, input, request.method === "POST" ? undefined : { allow: "POST" });
  // The caller: the same context and rule as the GraphQL mutation (a signed-in
  // user, a secret key or a platform key with keys:verify; which keys it may
  // verify is decided per key).
  const ctx = await buildContext(deps, request.headers, request.meta);
  const caller = verifierCaller(ctx);
  if (!caller.ok) return refuse(request, caller.error);
  const checked = verifyRequest(input);
  if (!checked.ok) return refuse(request, checked.error);
  // A use of the verifier key, but not one its own rate limit counts (as for verifyApiKey).
  if (ctx.principal.kind === "key") deps.keys.usage.touch(ctx.principal.key.id, ctx.now);
  const outcome = await verifyKey(
    {
      cache: deps.keys.cache,
      limits: deps.keys.limits,
      usage: deps.keys.usage,
      audiences: deps.keys.audiences,
      now: ctx.now,
    },
    verifiableBy(ctx),
    checked.value,
  );
  noteVerification(request.meta, outcome.code);
  if (ctx.principal.kind === "platform") {
    deps.keys.usage.usePlatformKey(ctx.principal.key.id, "verify", outcome.code, ctx.now);
  }
  return json(request, 200, verifyResultView(outcome));
}
