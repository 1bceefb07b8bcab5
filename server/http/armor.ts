import { EnvelopArmorPlugin } from "@escape.tech/graphql-armor";
import { characterLimitPlugin } from "@escape.tech/graphql-armor-character-limit";
import { costLimitRule } from "@escape.tech/graphql-armor-cost-limit";
import { maxAliasesRule } from "@escape.tech/graphql-armor-max-aliases";
import { maxDepthRule } from "@escape.tech/graphql-armor-max-depth";
import { maxDirectivesRule } from "@escape.tech/graphql-armor-max-directives";
import type { GraphQLArmorRejectCallback } from "@escape.tech/graphql-armor-types";
import { GraphQLError, type ValidationRule } from "graphql";
import type { Plugin } from "graphql-yoga";
import { catalog } from "../errors";

// Limits on the shape of a GraphQL document, set for this schema (graphql-armor).
// They are checked while parsing (characters, tokens) and validating (the rest),
// so an abusive document is refused before a resolver runs. Every SDK operation
// and every example in the README stays well inside them (test/api/hardening-limits).
//
// Measured on the SDK (fragments flattened): the deepest operation (ApiKeys) nests
// fields 5 levels, the costliest (ApiKeys) costs about 140, the longest (ApiKeys) is
// about 850 characters and 115 tokens, and none uses an alias or a directive. Cost
// also admits a page of 100 keys (the largest page) with a few fields each, written
// with a literal `first: 100` as one would in GraphiQL; every field of 100 keys is
// refused.

export const GRAPHQL_LIMITS = {
  /** Characters of the query text, checked before parsing. */
  characters: 8_000,
  /** Lexical tokens; parsing stops at the first one over (also bounds nesting). */
  tokens: 800,
  /** Field nesting; fragments count as the fields they hold. */
  depth: 6,
  aliases: 15,
  directives: 10,
  /** graphql-armor's cost: objects 2, scalars 1, ×1.5 per level, × a literal `first`. */
  cost: 3_000,
} as const;

const MESSAGES = {
  characters: "Query is too long.",
  tokens: "Query has too many tokens.",
  depth: "Query is nested too deeply.",
  aliases: "Query has too many aliases.",
  directives: "Query has too many directives.",
  cost: "Query is too expensive.",
} as const;

/**
 * Armor reports a refusal as a bare "Syntax Error: …" (a 500 to Yoga's eyes); this
 * throws it as the catalog's validation_failed instead, stopping the parse or
 * validation at once.
 */
const asCatalogError: GraphQLArmorRejectCallback = (_context, error) => {
  throw new GraphQLError(error.message.replace(/^Syntax Error: /, ""), {
    extensions: { code: "validation_failed", http: { status: catalog.validation_failed.status } },
  });
};

/** The limits' options, shared by Yoga's plugins and the edge's validation rules. */
function limitOptions(production: boolean) {
  // Outside production the message states the limit and what was found, for whoever
  // writes the query; in production it only says which limit.
  const common = (limit: keyof typeof MESSAGES) => ({
    exposeLimits: !production,
    errorMessage: MESSAGES[limit],
    onReject: [asCatalogError],
    propagateOnRejection: true,
  });
  return {
    maxTokens: { n: GRAPHQL_LIMITS.tokens, ...common("tokens") },
    maxDepth: { n: GRAPHQL_LIMITS.depth, flattenFragments: true, ...common("depth") },
    maxAliases: { n: GRAPHQL_LIMITS.aliases, ...common("aliases") },
    maxDirectives: { n: GRAPHQL_LIMITS.directives, ...common("directives") },
    costLimit: { maxCost: GRAPHQL_LIMITS.cost, flattenFragments: true, ...common("cost") },
    characters: { maxLength: GRAPHQL_LIMITS.characters, ...common("characters") },
  };
}

export function useGraphQLArmor(options: { production: boolean }): Plugin[] {
  const { characters, ...limits } = limitOptions(options.production);
  return [
    EnvelopArmorPlugin({
      ...limits,
      // "Did you mean …?" describes the schema. Production hides it; development keeps
      // it for whoever is exploring in GraphiQL.
      blockFieldSuggestion: { enabled: options.production, mask: "" },
    }) as Plugin,
    // After the token limit: it wraps the parser in place, where max-tokens replaces
    // it, so the length is checked before a single token is read.
    characterLimitPlugin(characters),
  ];
}

/**
 * The same limits as validation rules, for documents the edge runs itself
 * (graphql-runner.ts); characters and tokens are checked there while parsing. A
 * refusal throws, as in Yoga.
 */
export function limitRules(production: boolean): ValidationRule[] {
  const limits = limitOptions(production);
  return [
    maxDepthRule(limits.maxDepth),
    maxAliasesRule(limits.maxAliases),
    maxDirectivesRule(limits.maxDirectives),
    costLimitRule(limits.costLimit),
  ];
}
