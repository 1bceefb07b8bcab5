import { z } from "zod";
import type { Actor } from "../../audit/log";
import type { AppDeps } from "../../context";
import type { Failure } from "../../errors";
import type { GithubKeys } from "../../leaks/github-keys";
import { type LeakReport, reportLeak } from "../../leaks/report";
import { MAX_BODY_BYTES } from "../body";
import { json, type RestAnswer, type RestRequest, refuse } from "./answer";

// POST /leaks/github: GitHub's secret scanning partner endpoint. GitHub posts the
// tokens matching the patterns an operator registered (README: "Leaked keys"),
// signed with one of its published keys; we answer its feedback array, one entry
// per token: true_positive for a Keyward key, false_positive for anything else,
// nothing more. The signature is checked over the raw bytes before the body is
// even parsed: an unsigned or forged report changes nothing.

const JSON_TYPE = /^application\/json\s*(;|$)/i;
const UTF8 = new TextDecoder("utf-8", { fatal: true });
/** GitHub batches matches; far more than it sends, far fewer than a body could hold. */
export const MAX_TOKENS = 1000;

const Match = z.object({
  token: z.string("must be a string"),
  type: z.string("must be a string"),
  url: z.string("must be a string").nullish(),
  source: z.string("must be a string").nullish(),
});
const Body = z.array(Match, "must be a JSON array of matches").max(MAX_TOKENS, `at most ${MAX_TOKENS} matches`);

const invalid = (field: string, message: string): Failure => ({
  code: "validation_failed",
  message: `${field}: ${message}`,
  field,
});

const unsigned = (field: string, message: string): Failure => ({ code: "invalid_signature", message, field });

async function checkSignature(keys: GithubKeys, request: RestRequest, body: Uint8Array): Promise<Failure | null> {
  const keyId = request.headers.get("github-public-key-identifier");
  const signature = request.headers.get("github-public-key-signature");
  if (!keyId) return unsigned("Github-Public-Key-Identifier", "Github-Public-Key-Identifier: is required");
  if (!signature) return unsigned("Github-Public-Key-Signature", "Github-Public-Key-Signature: is required");
  const check = await keys.check(keyId, signature, body);
  if (check === "unknown_key") {
    return unsigned("Github-Public-Key-Identifier", "Github-Public-Key-Identifier: names no GitHub public key");
  }
  if (check === "bad_signature") {
    return unsigned("Github-Public-Key-Signature", "Github-Public-Key-Signature: does not match the body");
  }
  return null;
}

function parseMatches(body: Uint8Array): z.output<typeof Body> | Failure {
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(body));
  } catch {
    return invalid("body", "is not valid UTF-8 JSON");
  }
  const parsed = Body.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  return invalid(issue?.path.map(String).join(".") || "body", issue?.message ?? "is invalid");
}

export function leaksRoute(keys: GithubKeys) {
  return async (deps: AppDeps, request: RestRequest): Promise<RestAnswer> => {
    if (request.method !== "POST") {
      return refuse(request, invalid("method", "use POST with a JSON body"), { allow: "POST" });
    }
    if (!JSON_TYPE.test(request.headers.get("content-type") ?? "")) {
      return refuse(request, invalid("Content-Type", "must be application/json"));
    }
    if (request.body === null) {
      return refuse(request, {
        code: "payload_too_large",
        message: `body: exceeds ${MAX_BODY_BYTES} bytes`,
        field: "body",
      });
    }
    const forged = await checkSignature(keys, request, request.body);
    if (forged) return refuse(request, forged);
    const matches = parseMatches(request.body);
    if ("code" in matches) return refuse(request, matches);
    const actor: Actor = { type: "system", id: null, ip: request.meta.ip };
    const leak = { db: deps.db, bus: deps.keys.bus, now: deps.clock() };
    const feedback = [];
    // One at a time: each may revoke in its own transaction, and the audit chain serialises them anyway.
    for (const match of matches) {
      const report: LeakReport = {
        token: match.token,
        type: match.type,
        url: match.url ?? null,
        source: match.source ?? "github",
      };
      const outcome = await reportLeak(leak, actor, report);
      feedback.push({ token_hash: outcome.tokenHash, token_type: match.type, label: outcome.label });
    }
    return json(request, 200, feedback);
  };
}
