/**
 * Looking ahead in a connection's selection: which references its nodes' fields follow, so the
 * source can be asked to return those targets with the list itself (FHIR `_include`) instead of in
 * a request of their own one level down.
 */
import {
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  type FieldNode,
  type GraphQLInterfaceType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from 'graphql';
import { implementsResource } from './field-defaults';
import { readsOf } from './reads';

type Composite = GraphQLObjectType | GraphQLInterfaceType;

const isComposite = (type: GraphQLNamedType | null | undefined): type is Composite => isObjectType(type) || isInterfaceType(type);

/** The fields selected under `selectionSet` (through fragments), each with the type it is selected on. */
function fieldsOf(selectionSet: SelectionSetNode | undefined, on: Composite, info: GraphQLResolveInfo, out: [FieldNode, Composite][], depth = 0): void {
  if (!selectionSet || depth > 10) return;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      out.push([selection, on]);
      continue;
    }
    const fragment = selection.kind === Kind.INLINE_FRAGMENT ? selection : info.fragments[selection.name.value];
    if (!fragment) continue;
    const condition = fragment.typeCondition ? info.schema.getType(fragment.typeCondition.name.value) : on;
    if (isComposite(condition)) fieldsOf(fragment.selectionSet, condition, info, out, depth + 1);
  }
}

/** The sub-fields named `name` of the given fields, with the type they are selected on. */
function child(fields: [FieldNode, Composite][], name: string, info: GraphQLResolveInfo): [FieldNode, Composite][] {
  const out: [FieldNode, Composite][] = [];
  for (const [node, on] of fields) {
    const type = getNamedType(on.getFields()[node.name.value]?.type);
    if (!isComposite(type)) continue;
    const found: [FieldNode, Composite][] = [];
    fieldsOf(node.selectionSet, type, info, found);
    for (const [sub, subOn] of found) if (sub.name.value === name) out.push([sub, subOn]);
  }
  return out;
}

const remembered = new WeakMap<FieldNode, string[]>();

/**
 * The top-level elements of a connection's nodes that the query follows as references
 * (`edges { node { provider { name } } }` → `provider`). Directives are not evaluated: a field
 * under `@skip` only makes the source return a few records more.
 */
export function nodeReferences(info: GraphQLResolveInfo): string[] {
  const key = info.fieldNodes[0];
  const known = key && info.fieldNodes.length === 1 ? remembered.get(key) : undefined;
  if (known) return known;
  const parent = info.parentType;
  const own: [FieldNode, Composite][] = info.fieldNodes.map((node) => [node, parent]);
  const nodes = child(child(own, 'edges', info), 'node', info);
  const elements = new Set<string>();
  for (const [node, on] of nodes) {
    const type = getNamedType(on.getFields()[node.name.value]?.type);
    if (!isComposite(type)) continue;
    const fields: [FieldNode, Composite][] = [];
    fieldsOf(node.selectionSet, type, info, fields);
    for (const [field, fieldOn] of fields) {
      const target = getNamedType(fieldOn.getFields()[field.name.value]?.type);
      if (isComposite(target) && implementsResource(target) && field.name.value !== 'source') elements.add(field.name.value);
    }
  }
  const result = [...elements].sort();
  if (key && info.fieldNodes.length === 1) remembered.set(key, result);
  return result;
}

/** Top-level elements of each node type a list's selection reads; null for a type it may read whole. */
export type NodeElements = ReadonlyMap<string, readonly string[] | null>;

const rememberedElements = new WeakMap<FieldNode, NodeElements>();

function elementsOf(type: GraphQLObjectType, fields: [FieldNode, Composite][]): readonly string[] | null {
  const own = new Set<string>([type.name, ...type.getInterfaces().map((i) => i.name)]);
  const out = new Set<string>();
  for (const [field, on] of fields) {
    const name = field.name.value;
    if (!own.has(on.name) || name === '__typename') continue;
    const read = readsOf(type.getFields()[name]?.resolve);
    if (!read) return null;
    for (const element of read) out.add(element);
  }
  return [...out].sort();
}

/**
 * The top-level elements a connection's nodes are read for, per concrete node type (through
 * fragments and interfaces). A type the selection never names reads nothing; one with a field
 * whose resolver is not tagged (`reads`), such as `fhir`, reads everything (null).
 */
export function nodeElements(info: GraphQLResolveInfo): NodeElements {
  const key = info.fieldNodes[0];
  const known = key && info.fieldNodes.length === 1 ? rememberedElements.get(key) : undefined;
  if (known) return known;
  const own: [FieldNode, Composite][] = info.fieldNodes.map((node) => [node, info.parentType]);
  const fields: [FieldNode, Composite][] = [];
  const types = new Set<GraphQLObjectType>();
  for (const [node, on] of child(child(own, 'edges', info), 'node', info)) {
    const type = getNamedType(on.getFields()[node.name.value]?.type);
    if (!type) continue;
    // The schema has no union node types; a node of one would simply not be projected.
    if (!isComposite(type)) continue;
    if (isObjectType(type)) types.add(type);
    else for (const t of info.schema.getPossibleTypes(type)) types.add(t);
    fieldsOf(node.selectionSet, type, info, fields);
  }
  const result = new Map([...types].map((t) => [t.name, elementsOf(t, fields)]));
  if (key && info.fieldNodes.length === 1) rememberedElements.set(key, result);
  return result;
}

const rememberedCursors = new WeakMap<FieldNode, boolean>();

/** Whether a connection's selection reads cursors (`pageInfo`, or `edges { cursor }`): only then are positions worth fetching. */
export function selectsCursors(info: GraphQLResolveInfo): boolean {
  const key = info.fieldNodes[0];
  const known = key && info.fieldNodes.length === 1 ? rememberedCursors.get(key) : undefined;
  if (known !== undefined) return known;
  const own: [FieldNode, Composite][] = info.fieldNodes.map((node) => [node, info.parentType]);
  const result = child(own, 'pageInfo', info).length > 0 || child(child(own, 'edges', info), 'cursor', info).length > 0;
  if (key && info.fieldNodes.length === 1) rememberedCursors.set(key, result);
  return result;
}
