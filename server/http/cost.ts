import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLField,
  GraphQLIncludeDirective,
  type GraphQLSchema,
  GraphQLSkipDirective,
  getDirectiveValues,
  getNamedType,
  isCompositeType,
  Kind,
  type OperationDefinitionNode,
  type SelectionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";

// What an operation costs, read from the document the way graphql-js will execute it:
// fragments and inline fragments expanded, @skip/@include applied, fields merged by
// response key, so each alias is one call.
//
// - every root field costs 1 (each alias counts), except those in `free`;
// - a field marked `extensions: { cost: n }` in the schema (one that reads the
//   database for each parent, e.g. ApiKey.usage) costs n each time it runs;
// - a connection (a field with a `first` argument) runs what is inside it once per
//   row: max(first, last), or the default page size, at most the maximum page size.
//
// Counting stops once past `maxCost`, after `maxFields` selections (a document of
// fragments spread inside fragments expands exponentially), or below `maxDepth`
// levels (fragments chained inside fragments nest deeper than the text shows): the
// answer is then Infinity, a request too expensive to run. The walk's recursion is
// bounded by that depth.

export interface CostRules {
  defaultPageSize: number;
  maxPageSize: number;
  maxCost: number;
  maxFields: number;
  maxDepth: number;
  /** Root fields that cost nothing here (verifyApiKey spends the verified key's limit instead). */
  free: ReadonlySet<string>;
}

export interface Operation {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName?: string | null;
  variables?: Readonly<Record<string, unknown>> | null;
}

interface Collected {
  parent: GraphQLCompositeType;
  nodes: FieldNode[];
}

class TooExpensive extends Error {}

function selectedOperation({ document, operationName }: Operation): OperationDefinitionNode | undefined {
  const operations = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  return operationName ? operations.find((o) => o.name?.value === operationName) : operations[0];
}

class Walk {
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  private fields = 0;
  cost = 0;
  /** Whether the answer read a variable (a page size or an @skip/@include condition). */
  readVariables = false;

  constructor(
    private readonly op: Operation,
    private readonly rules: CostRules,
  ) {
    for (const d of op.document.definitions)
      if (d.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(d.name.value, d);
  }

  private included(node: SelectionNode): boolean {
    if (!node.directives?.length) return true;
    if (node.directives.some((d) => d.arguments?.some((a) => a.value.kind === Kind.VARIABLE))) {
      this.readVariables = true;
    }
    const variables = (this.op.variables ?? {}) as Record<string, unknown>;
    try {
      if (getDirectiveValues(GraphQLSkipDirective, node, variables)?.if === true) return false;
      return getDirectiveValues(GraphQLIncludeDirective, node, variables)?.if !== false;
    } catch {
      // A bad `if: $variable` fails execution later; until then the field counts.
      return true;
    }
  }

  /** Fields by response key, as execution merges them. Each fragment is spread once per selection set, as in graphql-js. */
  collect(
    type: GraphQLCompositeType,
    set: SelectionSetNode,
    into = new Map<string, Collected>(),
    spread = new Set<string>(),
  ) {
    for (const selection of set.selections) {
      if (!this.included(selection)) continue;
      if (selection.kind === Kind.FIELD) {
        if (++this.fields > this.rules.maxFields) throw new TooExpensive();
        const key = selection.alias?.value ?? selection.name.value;
        const entry = into.get(key);
        if (entry) entry.nodes.push(selection);
        else into.set(key, { parent: type, nodes: [selection] });
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const on = selection.typeCondition ? this.op.schema.getType(selection.typeCondition.name.value) : type;
        if (on && isCompositeType(on)) this.collect(on, selection.selectionSet, into, spread);
      } else {
        const name = selection.name.value;
        const fragment = this.fragments.get(name);
        if (!fragment || spread.has(name)) continue;
        spread.add(name);
        const on = this.op.schema.getType(fragment.typeCondition.name.value);
        if (on && isCompositeType(on)) this.collect(on, fragment.selectionSet, into, spread);
      }
    }
    return into;
  }

  private intArgument(node: FieldNode, name: string): number | undefined {
    const value: ValueNode | undefined = node.arguments?.find((a) => a.name.value === name)?.value;
    if (value?.kind === Kind.INT) return Number(value.value);
    if (value?.kind === Kind.VARIABLE) {
      this.readVariables = true;
      const given = this.op.variables?.[value.name.value];
      return typeof given === "number" ? given : undefined;
    }
    return undefined;
  }

  private rows(node: FieldNode): number {
    const asked = [this.intArgument(node, "first"), this.intArgument(node, "last")].filter(
      (n): n is number => n !== undefined,
    );
    const size = asked.length ? Math.max(...asked) : this.rules.defaultPageSize;
    return Math.min(Math.max(size, 1), this.rules.maxPageSize);
  }

  private charge(points: number) {
    this.cost += points;
    if (this.cost > this.rules.maxCost) throw new TooExpensive();
  }

  /** Charges the fields of one selection level, run `runs` times, and everything below them. */
  walk(fields: Map<string, Collected>, runs: number, depth: number) {
    if (depth > this.rules.maxDepth) throw new TooExpensive();
    const root = depth === 0;
    for (const { parent, nodes } of fields.values()) {
      const first = nodes[0] as FieldNode;
      const name = first.name.value;
      const field: GraphQLField<unknown, unknown> | undefined =
        "getFields" in parent ? parent.getFields()[name] : undefined;
      if (root) this.charge(this.rules.free.has(name) ? 0 : 1);
      if (!field) continue;
      const own = field.extensions?.cost;
      if (!root && typeof own === "number") this.charge(own * runs);
      const type = getNamedType(field.type);
      if (!isCompositeType(type)) continue;
      const below = new Map<string, Collected>();
      const spread = new Set<string>();
      for (const node of nodes) if (node.selectionSet) this.collect(type, node.selectionSet, below, spread);
      const isConnection = field.args.some((a) => a.name === "first");
      this.walk(below, isConnection ? runs * this.rows(first) : runs, depth + 1);
    }
  }
}

export interface Measure {
  /** Points, or Infinity past the rules' limits. */
  cost: number;
  /** The root fields called, one entry per response key (so one per alias). */
  rootFields: string[];
  /** False when no variable changed the answer: it holds for every request with this document. */
  variable: boolean;
}

export function measure(op: Operation, rules: CostRules): Measure {
  const operation = selectedOperation(op);
  const rootType = operation && op.schema.getRootType(operation.operation);
  if (!operation || !rootType) return { cost: 0, rootFields: [], variable: false };
  const walk = new Walk(op, rules);
  let roots: Map<string, Collected>;
  try {
    roots = walk.collect(rootType, operation.selectionSet);
  } catch (error) {
    if (error instanceof TooExpensive) return { cost: Number.POSITIVE_INFINITY, rootFields: [], variable: true };
    throw error;
  }
  const rootFields = [...roots.values()].map((c) => (c.nodes[0] as FieldNode).name.value);
  try {
    walk.walk(roots, 1, 0);
  } catch (error) {
    if (error instanceof TooExpensive) return { cost: Number.POSITIVE_INFINITY, rootFields, variable: true };
    throw error;
  }
  return { cost: walk.cost, rootFields, variable: walk.readVariables };
}
