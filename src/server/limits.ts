/**
 * Query limits, enforced at validation time before anything is fetched: depth, aliases and cost
 * (each object field costs 1; a list's cost multiplies by its `first`, so nested lists compound).
 * Introspection fields are exempt from depth so tools and the playground keep working.
 */
import {
  GraphQLError,
  Kind,
  getNamedType,
  isListType,
  isNonNullType,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import type { LimitsConfig } from '../config/schema';

function tooComplex(message: string, extensions: Record<string, unknown>): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', ...extensions } });
}

function depthOf(set: SelectionSetNode | undefined, fragments: Record<string, FragmentDefinitionNode>, seen: Set<string>): number {
  if (!set) return 0;
  let max = 0;
  for (const selection of set.selections) {
    let depth = 0;
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith('__')) continue;
      depth = selection.selectionSet ? 1 + depthOf(selection.selectionSet, fragments, seen) : 1;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      depth = depthOf(selection.selectionSet, fragments, seen);
    } else {
      const name = selection.name.value;
      const fragment = fragments[name];
      if (!fragment || seen.has(name)) continue;
      depth = depthOf(fragment.selectionSet, fragments, new Set([...seen, name]));
    }
    max = Math.max(max, depth);
  }
  return max;
}

/** The depth of one operation of a document (fragments followed, introspection exempt). */
export function operationDepth(document: DocumentNode, operationName: string | undefined): number {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments[def.name.value] = def;
  let depth = 0;
  for (const def of document.definitions) {
    if (def.kind !== Kind.OPERATION_DEFINITION || (operationName !== undefined && def.name?.value !== operationName)) continue;
    depth = Math.max(depth, depthOf(def.selectionSet, fragments, new Set()));
  }
  return depth;
}

export function depthLimitRule(maxDepth: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const def of context.getDocument().definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments[def.name.value] = def;
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, fragments, new Set());
        if (depth > maxDepth) {
          context.reportError(tooComplex(`Query depth ${depth} exceeds the limit of ${maxDepth}`, { depth, maxDepth }));
        }
      },
    };
  };
}

export function aliasLimitRule(maxAliases: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    let aliases = 0;
    let reported = false;
    return {
      Field(node) {
        if (!node.alias) return;
        aliases++;
        if (aliases > maxAliases && !reported) {
          reported = true;
          context.reportError(tooComplex(`The query uses more than ${maxAliases} aliases`, { maxAliases }));
        }
      },
    };
  };
}

/** Lists multiply what is below them by their page size (`first`), or the number of ids asked for. */
const listSizeEstimator: ComplexityEstimator = ({ args, childComplexity, field }) => {
  if (typeof args.first === 'number') return 1 + Math.max(1, args.first) * childComplexity;
  if (Array.isArray(args.ids)) return 1 + Math.max(1, args.ids.length) * childComplexity;
  const type = isNonNullType(field.type) ? field.type.ofType : field.type;
  const named = getNamedType(field.type);
  const isObjectish = 'getFields' in named;
  // A connection's `edges` hold at most `first` items, and the connection field already multiplied by it.
  if (isListType(type) && isObjectish && named.name.endsWith('Edge')) return 1 + childComplexity;
  if (isListType(type) && isObjectish) return 1 + 5 * childComplexity;
  return (isObjectish ? 1 : 0) + childComplexity;
};

/**
 * Costs already estimated, per parsed document (Apollo hands the same document object to every
 * request with the same text) and per cost-relevant shape of the variables: numbers, booleans and
 * list lengths decide the cost; the text of a string never does, so every string counts as "".
 */
const estimated = new WeakMap<DocumentNode, Map<string, number>>();
const MAX_SHAPES_PER_DOCUMENT = 64;
const costShape = (operationName: string | undefined, variables: Record<string, unknown>): string =>
  `${operationName ?? ''}\u0000${JSON.stringify(variables, (_key, value: unknown) => (typeof value === 'string' ? '' : value))}`;

function estimate(schema: GraphQLSchema, query: DocumentNode, operationName: string | undefined, variables: Record<string, unknown>): number {
  let shapes = estimated.get(query);
  const shape = costShape(operationName, variables);
  const known = shapes?.get(shape);
  if (known !== undefined) return known;
  let cost: number;
  try {
    cost = getComplexity({ schema, query, operationName, variables, estimators: [listSizeEstimator] });
  } catch (error) {
    // getComplexity coerces the variables itself; a bad variable is the client's mistake, not an internal error.
    if (error instanceof GraphQLError) throw new GraphQLError(error.message, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
    throw error;
  }
  if (!shapes) {
    shapes = new Map();
    estimated.set(query, shapes);
  }
  if (shapes.size >= MAX_SHAPES_PER_DOCUMENT) shapes.clear();
  shapes.set(shape, cost);
  return cost;
}

/** The estimated cost of an operation with its variables; throws QUERY_TOO_COMPLEX over the limit. */
export function checkCost(schema: GraphQLSchema, query: DocumentNode, operationName: string | undefined, variables: Record<string, unknown>, maxCost: number): number {
  const cost = estimate(schema, query, operationName, variables);
  if (cost > maxCost) throw tooComplex(`Query cost ${cost} exceeds the limit of ${maxCost}`, { cost, maxCost, http: { status: 400 } });
  return cost;
}

/** The static rules (depth, aliases). Cost depends on variables and is checked per request (checkCost). */
export function staticLimitRules(limits: LimitsConfig): ValidationRule[] {
  return [depthLimitRule(limits.maxDepth), aliasLimitRule(limits.maxAliases)];
}
