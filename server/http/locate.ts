import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";

// graphql-jit reports an error with its path and locations but without the AST
// nodes that graphql-js errors carry, and the catalog mapping (errors-plugin.ts)
// rebuilds errors from their nodes: the same failure would lose its locations on
// the compiled runs of a document. This finds the field a path names, through
// aliases and fragments, so compiled errors carry the nodes graphql-js would give.

function fieldAt(document: DocumentNode, set: SelectionSetNode, key: string): FieldNode | null {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if ((selection.alias ?? selection.name).value === key) return selection;
      continue;
    }
    const inner =
      selection.kind === Kind.INLINE_FRAGMENT
        ? selection.selectionSet
        : document.definitions.find(
            (d): d is FragmentDefinitionNode =>
              d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value,
          )?.selectionSet;
    const found = inner ? fieldAt(document, inner, key) : null;
    if (found) return found;
  }
  return null;
}

export function withLocations(
  error: GraphQLError,
  document: DocumentNode,
  operation: OperationDefinitionNode,
): GraphQLError {
  if (error.nodes || !error.path) return error;
  let set: SelectionSetNode | undefined = operation.selectionSet;
  let node: FieldNode | null = null;
  for (const key of error.path) {
    if (typeof key === "number") continue;
    node = set ? fieldAt(document, set, key) : null;
    if (!node) return error;
    set = node.selectionSet;
  }
  if (!node) return error;
  return new GraphQLError(error.message, {
    nodes: [node],
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}
