import { GraphQLError, Lexer, Source, TokenKind } from "graphql";
import type { Plugin } from "graphql-yoga";

// graphql-js parses recursively, so a document nested a few thousand levels deep
// (`metadata: {a: {a: …}}`) overflows the stack, which answered as a server error.
// The lexer is a loop: it finds the depth first, and a document deeper than any real
// query is refused as the caller's mistake.

export const MAX_DOCUMENT_DEPTH = 64;

const OPEN = new Set<string>([TokenKind.BRACE_L, TokenKind.BRACKET_L, TokenKind.PAREN_L]);
const CLOSE = new Set<string>([TokenKind.BRACE_R, TokenKind.BRACKET_R, TokenKind.PAREN_R]);

/** Whether the document's brackets nest deeper than `max`; a syntax error is left for the parser to report. */
export function nestsDeeperThan(source: string | Source, max: number): boolean {
  const lexer = new Lexer(typeof source === "string" ? new Source(source) : source);
  let depth = 0;
  try {
    for (let token = lexer.advance(); token.kind !== TokenKind.EOF; token = lexer.advance()) {
      if (OPEN.has(token.kind) && ++depth > max) return true;
      if (CLOSE.has(token.kind)) depth -= 1;
    }
  } catch {
    return false;
  }
  return false;
}

export function useDocumentDepthLimit(): Plugin {
  return {
    onParse({ params }) {
      if (nestsDeeperThan(params.source, MAX_DOCUMENT_DEPTH)) {
        throw new GraphQLError(`The document nests deeper than ${MAX_DOCUMENT_DEPTH} levels.`, {
          extensions: { code: "validation_failed", http: { status: 400 } },
        });
      }
    },
  };
}
