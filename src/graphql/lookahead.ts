/**
 * Looking ahead in a connection's selection, once per field of the operation: which references its
 * nodes' fields follow (so the source can return those targets with the list, FHIR `_include`),
 * which elements of its nodes are read (so a source can return only those), and whether its
 * cursors are read (so a source that pages by keyset returns positions).
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
import { readsAsIsOf, readsOf } from './reads';

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

/** Top-level elements of each node type a list's selection reads; null for a type it may read whole. */
export type NodeElements = ReadonlyMap<string, readonly string[] | null>;

export interface ListLookahead {
  /**
   * The top-level elements of the nodes that the query follows as references
   * (`edges { node { provider { name } } }` → `provider`). Directives are not evaluated: a field
   * under `@skip` only makes the source return a few records more.
   */
  references: string[];
  /**
   * The top-level elements the nodes are read for, per concrete node type (through fragments and
   * interfaces). A type the selection never names reads nothing; one with a field whose resolver is
   * not tagged (`reads`), such as `fhir`, reads everything (null).
   */
  elements: NodeElements;
  /**
   * Per node type, the elements of `elements` whose texts the query never reads: every field that
   * reads one returns it as it is (`readsAsIs`), and nothing under those fields is named `display`
   * or `text` or has a resolver of its own. A source may leave the texts of such elements out
   * (a code's display name, from a look-up join).
   */
  textless: ReadonlyMap<string, readonly string[]>;
  /** Whether the selection reads cursors (`pageInfo`, or `edges { cursor }`): only then are positions worth fetching. */
  cursors: boolean;
}

/** Member names that hold text about a code (Coding.display, CodeableConcept.text) rather than the code. */
const TEXT_MEMBERS = new Set(['display', 'text']);

/** Scalars that carry whole JSON values (texts included). */
const OPAQUE_SCALARS = new Set(['JSON']);

/** Whether a field's sub-selection (through fragments) reads no text member and nothing through a resolver of its own. */
function readsNoText(node: FieldNode, on: Composite, info: GraphQLResolveInfo, depth = 0): boolean {
  const type = getNamedType(on.getFields()[node.name.value]?.type);
  if (!node.selectionSet) return !(type && OPAQUE_SCALARS.has(type.name));
  if (!isComposite(type) || depth > 10) return false;
  const fields: [FieldNode, Composite][] = [];
  fieldsOf(node.selectionSet, type, info, fields);
  return fields.every(([sub, subOn]) => {
    const name = sub.name.value;
    if (name === '__typename') return true;
    if (TEXT_MEMBERS.has(name)) return false;
    const resolve = subOn.getFields()[name]?.resolve;
    return (resolve === undefined || readsAsIsOf(resolve)) && readsNoText(sub, subOn, info, depth + 1);
  });
}

/** The elements of `read` whose texts no field of the type's selection reads (see `ListLookahead.textless`). */
function textlessOf(type: GraphQLObjectType, fields: [FieldNode, Composite][], info: GraphQLResolveInfo, read: readonly string[]): readonly string[] {
  const own = new Set<string>([type.name, ...type.getInterfaces().map((i) => i.name)]);
  const texty = new Set<string>();
  for (const [field, on] of fields) {
    const name = field.name.value;
    if (!own.has(on.name) || name === '__typename') continue;
    const resolve = type.getFields()[name]?.resolve;
    const elements = readsOf(resolve) ?? [];
    if (readsAsIsOf(resolve) && readsNoText(field, type, info)) continue;
    for (const element of elements) texty.add(element);
  }
  return read.filter((element) => !texty.has(element));
}

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

function lookahead(info: GraphQLResolveInfo): ListLookahead {
  const own: [FieldNode, Composite][] = info.fieldNodes.map((node) => [node, info.parentType]);
  const edges = child(own, 'edges', info);
  // The fields selected on the nodes, and the concrete types the nodes may be.
  const fields: [FieldNode, Composite][] = [];
  const types = new Set<GraphQLObjectType>();
  for (const [node, on] of child(edges, 'node', info)) {
    const type = getNamedType(on.getFields()[node.name.value]?.type);
    // The schema has no union node types; a node of one would simply not be looked into.
    if (!isComposite(type)) continue;
    if (isObjectType(type)) types.add(type);
    else for (const t of info.schema.getPossibleTypes(type)) types.add(t);
    fieldsOf(node.selectionSet, type, info, fields);
  }
  const references = new Set<string>();
  for (const [field, on] of fields) {
    const target = getNamedType(on.getFields()[field.name.value]?.type);
    if (isComposite(target) && implementsResource(target) && field.name.value !== 'source') references.add(field.name.value);
  }
  const elements = new Map([...types].map((t) => [t.name, elementsOf(t, fields)]));
  const textless = new Map<string, readonly string[]>();
  for (const t of types) {
    const read = elements.get(t.name);
    const found = read ? textlessOf(t, fields, info, read) : [];
    if (found.length > 0) textless.set(t.name, found);
  }
  return {
    references: [...references].sort(),
    elements,
    textless,
    cursors: child(own, 'pageInfo', info).length > 0 || child(edges, 'cursor', info).length > 0,
  };
}

/**
 * What a list of `type` asks its source for, by what its nodes read: `{ elements, textless }`, or
 * `{}` for whole records (a selection that may read anything).
 */
export function projectionOf(ahead: ListLookahead, type: string): { elements?: readonly string[]; textless?: readonly string[] } {
  const elements = ahead.elements.get(type);
  if (!elements) return {};
  const textless = ahead.textless.get(type);
  return textless ? { elements, textless } : { elements };
}

const remembered = new WeakMap<FieldNode, ListLookahead>();

/** What a connection field's selection reads ahead, worked out once per field of an operation. */
export function listLookahead(info: GraphQLResolveInfo): ListLookahead {
  const key = info.fieldNodes.length === 1 ? info.fieldNodes[0] : undefined;
  let found = key && remembered.get(key);
  if (!found) {
    found = lookahead(info);
    if (key) remembered.set(key, found);
  }
  return found;
}
