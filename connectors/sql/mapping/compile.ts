/**
 * A validated mapping compiled for one database: per resource type, its table mappings ("parts"),
 * the statement scope and builder of each, and the capabilities the core plans against.
 */
import { SEARCH_PARAMS, type Criterion, type ResourceType, type SortField, type TypeCapabilities } from '../../types';
import type { Dialect } from '../dialects/types';
import { compileElements, type CompiledElements } from './build';
import { hasConditionSql } from './cohort';
import { criterionCondition, referenceColumn, sortExpressions, type PredicateContext } from './predicates';
import type { MappingSpec, PartSpec } from './schema';
import { Params, Scope, type SqlContext } from './scope';

export interface CompiledPart {
  index: number;
  spec: PartSpec;
  scope: Scope;
  idExpr: string;
  lastUpdatedKey?: string;
  elements: CompiledElements;
}

export interface CompiledType {
  type: ResourceType;
  parts: CompiledPart[];
  caps: TypeCapabilities;
}

export interface CompiledMapping {
  ctx: SqlContext;
  pctx: PredicateContext;
  types: Map<ResourceType, CompiledType>;
}

const PROBES: Record<Criterion['param'], Criterion> = {
  patient: { param: 'patient', ids: ['1'] },
  encounter: { param: 'encounter', ids: ['1'] },
  _id: { param: '_id', ids: ['1'] },
  code: { param: 'code', tokens: [{ code: 'x' }, { system: 'http://snomed.info/sct', code: '' }] },
  identifier: { param: 'identifier', tokens: [{ code: 'x' }, { system: 'urn:x', code: 'x' }] },
  category: { param: 'category', tokens: [{ code: 'x' }, { system: 'urn:x', code: 'x' }] },
  status: { param: 'status', tokens: [{ code: 'x' }] },
  gender: { param: 'gender', tokens: [{ code: 'female' }] },
  date: { param: 'date', range: { from: '2000', to: '2001' } },
  birthdate: { param: 'birthdate', range: { from: '2000' } },
  name: { param: 'name', text: 'x' },
  family: { param: 'family', text: 'x' },
  given: { param: 'given', text: 'x' },
  hasCondition: { param: 'hasCondition', tokens: [{ code: 'x' }, { system: 'http://snomed.info/sct', code: 'x' }] },
};
const SORTS: SortField[] = ['date', 'name', 'birthdate', 'lastUpdated', 'id'];

export function compileMapping(mapping: MappingSpec, dialect: Dialect, schema: string | undefined): CompiledMapping {
  const ctx: SqlContext = { dialect, schema, lookups: mapping.lookups };
  const pctx: PredicateContext = { idTypes: {} };
  const entries = Object.entries(mapping.resources) as [ResourceType, PartSpec | PartSpec[]][];
  for (const [type, spec] of entries) pctx.idTypes[type] = (Array.isArray(spec) ? spec[0]! : spec).idType;
  const conditionSpec = mapping.resources.Condition;
  if (conditionSpec) {
    const conditions = Array.isArray(conditionSpec) ? conditionSpec : [conditionSpec];
    pctx.hasCondition = (patient, scope, idExpr, tokens, p) => hasConditionSql(conditions, patient, scope, idExpr, tokens, p, pctx);
  }
  const types = new Map<ResourceType, CompiledType>();
  for (const [type, spec] of entries) {
    const specs = Array.isArray(spec) ? spec : [spec];
    const parts = specs.map((part, index) => compilePart(ctx, type, part, index, specs.length));
    types.set(type, { type, parts, caps: capabilitiesOf(type, parts, pctx) });
  }
  return { ctx, pctx, types };
}

/** One table mapping of a type, compiled: its statement scope (columns, joins) and row builder. */
function compilePart(
  ctx: SqlContext,
  type: ResourceType,
  part: PartSpec,
  index: number,
  count: number,
  elements: PartSpec['elements'] = part.elements,
  textless: ReadonlySet<string> = new Set(),
): CompiledPart {
  const where = `resources.${type}${count > 1 ? `[${index}]` : ''}`;
  const scope = new Scope(ctx, part.table, 't', part.joins, where, count > 1 ? `p${index}_` : 'c');
  scope.idColumn = part.id;
  const idExpr = scope.col(part.id);
  const lastUpdatedKey = part.lastUpdated ? scope.select(scope.col(part.lastUpdated)) : undefined;
  return { index, spec: part, scope, idExpr, lastUpdatedKey, elements: compileElements(elements, scope, `${where}.elements`, textless) };
}

/**
 * The type compiled for a projection: the same tables and criteria, but each part selects only the
 * columns, look-up joins and child rows of the named elements (the others are left out of the
 * resources), and the elements in `textless` leave out their texts (coding displays, `text`) and the
 * columns those come from. Compiled once per type and element set by the caller.
 */
export function projectType(mapping: CompiledMapping, compiled: CompiledType, elements: readonly string[], textless: readonly string[] = []): CompiledType {
  const wanted = new Set(elements);
  const withoutTexts = new Set(textless);
  const count = compiled.parts.length;
  const parts = compiled.parts.map((part) =>
    compilePart(
      mapping.ctx,
      compiled.type,
      part.spec,
      part.index,
      count,
      Object.fromEntries(Object.entries(part.spec.elements).filter(([name]) => wanted.has(name))),
      withoutTexts,
    ),
  );
  return { type: compiled.type, parts, caps: compiled.caps };
}

function capabilitiesOf(type: ResourceType, parts: CompiledPart[], pctx: PredicateContext): TypeCapabilities {
  const params = new Set(
    SEARCH_PARAMS.filter((param) =>
      parts.every((part) => {
        const p = new Params(part.scope.ctx.dialect);
        return criterionCondition(type, part.spec, PROBES[param], part.scope, part.idExpr, p, pctx) !== null;
      }),
    ),
  );
  const sorts = new Set(SORTS.filter((field) => parts.every((part) => sortExpressions(type, part.spec, field, part.scope) !== null)));
  const refs = (['patient', 'encounter'] as const).filter((param) => params.has(param) && parts.every((part) => referenceColumn(type, part.spec, param, part.scope) !== null));
  return { params, sorts, multiValueRefs: true, limitPerRef: new Set(refs), projects: true, keyset: true };
}

/** Resource types whose ids may carry a prefix, and the part an id belongs to. */
export function partForId(compiled: CompiledType, id: string): CompiledPart | undefined {
  return compiled.parts.find((p) => id.startsWith(p.spec.idPrefix));
}

export type { Dialect };
