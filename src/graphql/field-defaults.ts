/**
 * How schema fields read FHIR JSON when no resolver says otherwise. Field names follow FHIR element
 * names, so most fields need no resolver at all; this module supplies, once for the whole schema:
 * - reading the element from the resource (source records) or the nested element (nested models);
 * - `id`, `source` and `fhir` on every resource type;
 * - turning references into objects through the data-access layer (so every read is authorized);
 * - `[]` for absent list elements, and null for codes outside a required-binding enum.
 */
import {
  GraphQLEnumType,
  GraphQLObjectType,
  GraphQLInterfaceType,
  getNamedType,
  isListType,
  isNonNullType,
  type GraphQLFieldConfig,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { MapperKind, mapSchema } from '@graphql-tools/utils';
import type { ResourceType, SourceRecord } from '../../connectors/types';
import type { GatewayContext } from '../context';
import { encodeId } from '../ids';
import { reads, readsAsIs, readsAsIsOf } from './reads';
import { isObject, type FhirJson } from '../model/fhir-json';
import { MEDICATION_TYPES } from '../model/elements';
import type { NestedModel } from '../model/nested';

/** Schema types whose parent is a nested FHIR element that holds references. */
export const NESTED_TYPES = new Set([
  'EncounterParticipant',
  'EncounterLocation',
  'ClaimInsurance',
  'ClaimDiagnosis',
  'ClaimProcedure',
  'ClaimItem',
  'DocumentContext',
  'DocumentContent',
]);

type Parent = SourceRecord | NestedModel | FhirJson;

function isRecord(parent: Parent): parent is SourceRecord {
  return 'resource' in parent && 'type' in parent && isObject(parent.resource);
}

function isNested(parent: Parent): parent is NestedModel {
  return 'json' in parent && 'source' in parent && isObject(parent.json);
}

function elementOf(parent: Parent, name: string): unknown {
  if (isRecord(parent)) return parent.resource[name];
  if (isNested(parent)) return parent.json[name];
  return parent[name];
}

function sourceOf(parent: Parent): string | undefined {
  return isRecord(parent) || isNested(parent) ? parent.source : undefined;
}

/** Whether a schema type is a FHIR resource (a field of that type follows a reference). */
export function implementsResource(type: GraphQLObjectType | GraphQLInterfaceType): boolean {
  return type.name === 'Resource' || type.getInterfaces().some((i) => i.name === 'Resource');
}

/** Resource types a reference field may point at. */
function referenceTargets(named: GraphQLObjectType | GraphQLInterfaceType): readonly ResourceType[] {
  return named.name === 'MedicationRecord' ? MEDICATION_TYPES : [named.name as ResourceType];
}

function unwrapList(type: GraphQLOutputType): boolean {
  const inner = isNonNullType(type) ? type.ofType : type;
  return isListType(inner);
}

function asArray(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function enumGuard(type: GraphQLEnumType): (value: unknown) => unknown {
  const allowed = new Set(type.getValues().map((v) => v.value as unknown));
  return (value) => (allowed.has(value) ? value : null);
}

function untaggedResolver(config: GraphQLFieldConfig<Parent, GatewayContext>, fieldName: string, ownerIsResource: boolean): GraphQLFieldConfig<Parent, GatewayContext>['resolve'] {
  const named = getNamedType(config.type);
  const isList = unwrapList(config.type);

  if (ownerIsResource && fieldName === 'id') return (p) => (isRecord(p) ? encodeId(p.source, p.type, p.id) : undefined);
  if (ownerIsResource && fieldName === 'source') return (p) => p;
  if (ownerIsResource && fieldName === 'fhir') return (p) => (isRecord(p) ? p.resource : undefined);

  if ((named instanceof GraphQLObjectType || named instanceof GraphQLInterfaceType) && implementsResource(named)) {
    const targets = referenceTargets(named);
    return (parent, _args, ctx) => {
      const source = sourceOf(parent);
      const value = elementOf(parent, fieldName);
      // A plain model (an edge's `node`) already holds the record; FHIR elements hold references.
      if (source === undefined) return value;
      return isList ? ctx.data.resolveMany(source, asArray(value), targets) : ctx.data.resolve(source, value, targets);
    };
  }
  if (named instanceof GraphQLObjectType && NESTED_TYPES.has(named.name)) {
    return (parent) => {
      const source = sourceOf(parent) ?? '';
      const wrap = (json: unknown): NestedModel | null => (isObject(json) ? { source, json } : null);
      const value = elementOf(parent, fieldName);
      return isList ? asArray(value).map(wrap).filter((n) => n !== null) : wrap(value);
    };
  }
  if (named instanceof GraphQLEnumType) {
    const guard = enumGuard(named);
    return readsAsIs(fieldName, (parent: Parent) => {
      const value = elementOf(parent, fieldName);
      return isList ? asArray(value).map(guard).filter((v) => v !== null) : guard(value);
    });
  }
  if (isList) return readsAsIs(fieldName, (parent: Parent) => asArray(elementOf(parent, fieldName)));
  return readsAsIs(fieldName, (parent: Parent) => elementOf(parent, fieldName));
}

/**
 * The default resolver of a field, tagged with the element it reads (`reads`) so lists can be
 * projected; `fhir` reads everything. One that returns its element as it is (`readsAsIs`) lets the
 * query's sub-selection say which parts of the element are read.
 */
function defaultResolver(config: GraphQLFieldConfig<Parent, GatewayContext>, fieldName: string, ownerIsResource: boolean): GraphQLFieldConfig<Parent, GatewayContext>['resolve'] {
  const resolve = untaggedResolver(config, fieldName, ownerIsResource);
  if (!resolve || (ownerIsResource && fieldName === 'fhir') || readsAsIsOf(resolve)) return resolve;
  if (ownerIsResource && fieldName === 'id') return reads([], resolve);
  if (ownerIsResource && fieldName === 'source') return reads(['meta'], resolve);
  return reads([fieldName], resolve);
}

/**
 * Plain types: object types only ever reached as the value of a field of a resource or nested
 * element (FHIR data types such as Period and Coding, and connections and their edges), so their
 * parent is always a plain object. A type with a resolver of its own is left out.
 */
function plainDataTypes(schema: GraphQLSchema): Set<string> {
  const plain = new Set<string>();
  const isCandidate = (type: GraphQLObjectType): boolean =>
    !implementsResource(type) && !NESTED_TYPES.has(type.name) && Object.values(type.getFields()).every((f) => f.resolve === undefined);
  const visit = (owner: GraphQLObjectType): void => {
    for (const field of Object.values(owner.getFields())) {
      const named = getNamedType(field.type);
      if (named instanceof GraphQLObjectType && !plain.has(named.name) && isCandidate(named)) {
        plain.add(named.name);
        visit(named);
      }
    }
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type instanceof GraphQLObjectType && !type.name.startsWith('__') && (implementsResource(type) || NESTED_TYPES.has(type.name))) visit(type);
  }
  return plain;
}

/**
 * Applies the defaults to every field that has no resolver of its own. A single, non-enum field of
 * a plain type (FHIR data types, connections, edges) needs none: the engine reads the property
 * itself, which is what the default would do (graphql-jit inlines such reads instead of calling a
 * function).
 */
export function applyFieldDefaults(schema: GraphQLSchema): GraphQLSchema {
  const plain = plainDataTypes(schema);
  return mapSchema(schema, {
    [MapperKind.OBJECT_FIELD]: (config, fieldName, typeName) => {
      if (config.resolve) return config;
      const owner = schema.getType(typeName);
      if (!(owner instanceof GraphQLObjectType) || typeName === 'Query' || typeName === 'Mutation') return config;
      // A plain parent has no source, so even a field of a resource type reads the property as it is (an edge's node).
      if (plain.has(typeName) && !unwrapList(config.type) && !(getNamedType(config.type) instanceof GraphQLEnumType)) return config;
      return { ...config, resolve: defaultResolver(config as GraphQLFieldConfig<Parent, GatewayContext>, fieldName, implementsResource(owner)) } as typeof config;
    },
  });
}

/** Enum values of required FHIR bindings map to FHIR codes: `IN_PROGRESS` ↔ `in-progress`. */
export function fhirEnumValues(schema: GraphQLSchema, names: readonly string[]): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const name of names) {
    const type = schema.getType(name);
    if (!(type instanceof GraphQLEnumType)) throw new Error(`${name} is not an enum in the schema`);
    out[name] = Object.fromEntries(type.getValues().map((v) => [v.name, v.name.toLowerCase().replace(/_/g, '-')]));
  }
  return out;
}
