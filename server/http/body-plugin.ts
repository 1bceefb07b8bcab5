import { GraphQLError } from "graphql";
import type { GraphQLParams, Plugin } from "graphql-yoga";
import { catalog } from "../errors";
import {
  type BodyRefusal,
  MAX_BODY_BYTES,
  MAX_JSON_DEPTH,
  nestedDeeperThan,
  parseJsonBody,
  readLimited,
  refuseMediaType,
  tooDeep,
  tooLarge,
} from "./body";

// Yoga's own request parsers (form-urlencoded, multipart, application/graphql) read
// any body of any size and decode it leniently; this plugin replaces them for every
// POST, so the only body Yoga ever sees is one that passed the rules in body.ts.

const refuse = (refusal: BodyRefusal) =>
  new GraphQLError(refusal.message, {
    extensions: { code: refusal.code, http: { status: catalog[refusal.code].status } },
  });

export function useStrictJsonBody(): Plugin {
  return {
    onRequestParse({ request, setRequestParser }) {
      if (request.method !== "POST") return;
      // Thrown here, before the CSRF check (yoga.ts), so a form's content type is
      // always answered 415, whatever headers came with it.
      const mediaType = refuseMediaType(request.headers.get("content-type"));
      if (mediaType) throw refuse(mediaType);
      setRequestParser(async (req) => {
        const bytes = await readLimited(req.body, MAX_BODY_BYTES);
        if (!bytes) throw refuse(tooLarge());
        const parsed = parseJsonBody(bytes);
        if (!parsed.ok) throw refuse(parsed.refusal);
        return parsed.params as GraphQLParams;
      });
    },
    // GET carries variables and extensions as JSON in the query string: same depth rule
    // as inside a POST body, where they sit one level down.
    onParams({ params }) {
      for (const value of [params.variables, params.extensions]) {
        if (nestedDeeperThan(value, MAX_JSON_DEPTH - 1)) throw refuse(tooDeep());
      }
    },
  };
}
