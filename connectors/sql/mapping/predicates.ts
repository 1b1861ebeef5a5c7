/**
 * Compiling the gateway's criteria into SQL conditions over a mapping, with the same meaning
 * src/model/evaluate.ts gives them over the FHIR JSON the mapping produces: tokens `system|code`
 * (no system: any system; code '': any code of the system), date-range overlap at the stored
 * precision, case-insensitive name prefixes, references by record id. Every value is a parameter;
 * identifiers come only from the validated mapping. `null` means "cannot push this down".
 */
import type { Criterion, DateRange, ResourceType, Token } from '../../types';
import { filterRange } from '../../../src/model/dates';
import { ELEMENTS } from '../../../src/model/elements';
import { prefixPattern } from '../dialects/types';
import type { ColumnSpec, ConceptSpec, PartSpec, RowsSpec, ValueSpec } from './schema';
import { type Params, Scope } from './scope';

export const TRUE = '1 = 1';
export const FALSE = '1 = 0';

interface Located {
  spec: ValueSpec;
  rows?: RowsSpec;
}

export interface PredicateContext {
  /** The id column type of each mapped resource type (references are compared with it). */
  idTypes: Partial<Record<ResourceType, 'string' | 'integer'>>;
  /**
   * `hasCondition` over a Patient table mapping (cohort.ts, set by compile.ts once every type is
   * compiled); null when it cannot be written in SQL.
   */
  hasCondition?: (patient: PartSpec, scope: Scope, idExpr: string, tokens: Token[], p: Params) => string | null;
}

function expand(item: Located): Located[] {
  const { spec } = item;
  if (typeof spec === 'object' && 'list' in spec) return spec.list.flatMap((s) => expand({ spec: s, rows: item.rows }));
  if (typeof spec === 'object' && 'rows' in spec) return item.rows ? [] : expand({ spec: spec.rows.value, rows: spec.rows });
  return [item];
}

/** The element specs at a dotted FHIR path (`period.start`, `item.encounter`), through lists and child rows. */
export function locate(elements: Record<string, ValueSpec>, path: string): Located[] {
  const [head, ...rest] = path.split('.');
  const start = head !== undefined ? elements[head] : undefined;
  if (start === undefined) return [];
  let current = expand({ spec: start });
  for (const segment of rest) {
    current = current.flatMap((item) => {
      const { spec } = item;
      if (typeof spec === 'object' && 'object' in spec && spec.object[segment] !== undefined) return expand({ spec: spec.object[segment], rows: item.rows });
      return [];
    });
  }
  return current;
}

export const or = (parts: string[]): string => {
  const useful = parts.filter((p) => p !== FALSE);
  if (useful.includes(TRUE)) return TRUE;
  return useful.length === 0 ? FALSE : useful.length === 1 ? useful[0]! : `(${useful.join(' OR ')})`;
};
export const and = (parts: string[]): string => {
  const useful = parts.filter((p) => p !== TRUE);
  if (useful.includes(FALSE)) return FALSE;
  return useful.length === 0 ? TRUE : useful.length === 1 ? useful[0]! : `(${useful.join(' AND ')})`;
};

const INT_RE = /^-?\d{1,15}$/;

/** A parameter value typed for the column, or undefined when the text cannot be such a value. */
function typed(text: string, type: string | undefined): string | number | undefined {
  if (type === 'integer') return INT_RE.test(text) ? Number(text) : undefined;
  if (type === 'decimal') return /^-?\d{1,15}(\.\d{1,15})?$/.test(text) ? Number(text) : undefined;
  return text;
}

function equals(expr: string, text: string, type: string | undefined, p: Params): string {
  const value = typed(text, type);
  return value === undefined ? FALSE : `${expr} = ${p.add(value)}`;
}

function inValues(scope: Scope, expr: string, texts: string[], type: string | undefined, p: Params): string {
  const values = texts.map((t) => typed(t, type)).filter((v): v is string | number => v !== undefined);
  return scope.ctx.dialect.inList(expr, [...new Set(values)], p.add);
}

interface CodingLike {
  system?: unknown;
  code?: unknown;
}

function constCodings(value: unknown): CodingLike[] {
  if (typeof value === 'string') return [{ code: value }];
  if (typeof value !== 'object' || value === null) return [];
  const v = value as Record<string, unknown>;
  if (Array.isArray(v.coding)) return v.coding as CodingLike[];
  return [v];
}

function tokenMatches(token: Token, coding: CodingLike): boolean {
  if (token.system !== undefined && coding.system !== token.system) return false;
  return token.code === '' ? coding.code !== undefined : coding.code === token.code;
}

function splitCoding(text: string): CodingLike {
  const bar = text.indexOf('|');
  return bar < 0 ? { code: text } : { system: text.slice(0, bar), code: text.slice(bar + 1) };
}

function conceptToken(spec: ConceptSpec, token: Token, scope: Scope, p: Params): string {
  const col = scope.col(spec.column);
  const q = scope.ctx.dialect.quote;
  if (spec.lookup) {
    const lookup = scope.lookup(spec.lookup);
    const ignored = lookup.ignore.map(String);
    const keyType = lookup.keyType;
    const notIgnored = ignored.length === 0 ? `${col} IS NOT NULL` : and([`${col} IS NOT NULL`, `NOT (${inValues(scope, col, ignored, keyType, p)})`]);
    const sub = (vocabularies: string[], code: string): string => {
      if (vocabularies.length === 0) return FALSE;
      const conds = [scope.ctx.dialect.inList(`l.${q(lookup.system)}`, vocabularies, p.add)];
      conds.push(code === '' ? `l.${q(lookup.code)} IS NOT NULL` : `l.${q(lookup.code)} = ${p.add(code)}`);
      return `${col} IN (SELECT l.${q(lookup.key)} FROM ${qualifyLookup(scope, lookup.table)} l WHERE ${conds.join(' AND ')})`;
    };
    const keepMatch = (code: string): string =>
      code === '' ? notIgnored : ignored.includes(code) ? FALSE : equals(col, code, keyType, p);
    const allVocabularies = Object.keys(lookup.systems);
    if (token.system === undefined) {
      if (lookup.keep) return token.code === '' ? notIgnored : or([sub(allVocabularies, token.code), keepMatch(token.code)]);
      return sub(allVocabularies, token.code);
    }
    const parts: string[] = [];
    if (lookup.keep && token.system === lookup.keep.system) parts.push(keepMatch(token.code));
    const vocabularies = allVocabularies.filter((v) => lookup.systems[v] === token.system);
    if (vocabularies.length > 0) parts.push(sub(vocabularies, token.code));
    return or(parts);
  }
  if (spec.map) {
    const keys = Object.entries(spec.map)
      .filter(([, coding]) => tokenMatches(token, splitCoding(coding)))
      .map(([key]) => key);
    return keys.length === 0 ? FALSE : inValues(scope, col, keys, spec.as, p);
  }
  const codeCond = token.code === '' ? `${col} IS NOT NULL` : equals(col, token.code, spec.as, p);
  if (spec.systemColumn) {
    if (token.system === undefined) return codeCond;
    const locals = Object.entries(spec.systems ?? {})
      .filter(([, uri]) => uri === token.system)
      .map(([local]) => local);
    if (locals.length === 0) return FALSE;
    return and([scope.ctx.dialect.inList(scope.col(spec.systemColumn), locals, p.add), codeCond]);
  }
  if (token.system !== undefined && token.system !== spec.system) return FALSE;
  return codeCond;
}

function qualifyLookup(scope: Scope, table: string): string {
  const { ctx } = scope;
  const q = ctx.dialect.quote;
  return ctx.schema && ctx.dialect.name !== 'sqlite' ? `${q(ctx.schema)}.${q(table)}` : q(table);
}

function columnToken(spec: ColumnSpec, token: Token, scope: Scope, p: Params): string | null {
  const col = scope.col(spec.column);
  if (spec.map) {
    if (Object.values(spec.map).some((v) => typeof v !== 'string' && v !== null)) return null;
    const explicit = Object.entries(spec.map).filter(([k]) => k !== '*');
    const matching = explicit.filter(([, v]) => typeof v === 'string' && tokenMatches(token, { code: v })).map(([k]) => k);
    const fallback = spec.map['*'];
    const cond = matching.length === 0 ? FALSE : inValues(scope, col, matching, spec.as, p);
    if (typeof fallback === 'string' && tokenMatches(token, { code: fallback })) {
      const others = explicit.map(([k]) => k);
      return or([cond, and([`${col} IS NOT NULL`, others.length === 0 ? TRUE : `NOT (${inValues(scope, col, others, spec.as, p)})`])]);
    }
    return cond;
  }
  if (token.system !== undefined) return FALSE;
  return token.code === '' ? `${col} IS NOT NULL` : equals(col, token.code, spec.as, p);
}

/** One token against one element spec. */
function specToken(spec: ValueSpec, token: Token, scope: Scope, p: Params): string | null {
  if (typeof spec === 'string') return columnToken({ column: spec }, token, scope, p);
  if ('const' in spec) return constCodings(spec.const).some((c) => tokenMatches(token, c)) ? TRUE : FALSE;
  if ('column' in spec && !('reference' in spec)) return columnToken(spec, token, scope, p);
  if ('concept' in spec) return conceptToken(spec.concept, token, scope, p);
  if ('coding' in spec) return conceptToken(spec.coding, token, scope, p);
  if ('object' in spec) {
    const { system, code } = spec.object;
    if (code === undefined) return null;
    if (system !== undefined && !(typeof system === 'object' && 'const' in system)) return null;
    const sys = system && typeof system === 'object' && 'const' in system ? system.const : undefined;
    if (token.system !== undefined && token.system !== sys) return FALSE;
    return specToken(code, { code: token.code }, scope, p);
  }
  return null;
}

function identifierToken(spec: ValueSpec, token: Token, scope: Scope, p: Params): string | null {
  if (typeof spec !== 'object' || !('object' in spec)) return null;
  const { system, value } = spec.object;
  if (value === undefined) return null;
  const valueCol = typeof value === 'string' ? { column: value } : 'column' in value && !('reference' in value) ? value : undefined;
  if (!valueCol) return null;
  const col = scope.col(valueCol.column);
  const valueCond = token.code === '' ? `${col} IS NOT NULL` : equals(col, token.code, valueCol.as, p);
  if (token.system === undefined) return valueCond;
  if (system === undefined) return FALSE;
  if (typeof system === 'object' && 'const' in system) return system.const === token.system ? valueCond : FALSE;
  const sysCol = typeof system === 'string' ? system : 'column' in system && !('reference' in system) && !system.map ? system.column : undefined;
  if (!sysCol) return null;
  return and([`${scope.col(sysCol)} = ${p.add(token.system)}`, valueCond]);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function sqlDay(ms: number, format: string | undefined): string {
  const d = new Date(ms);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  return format === 'yyyymmdd' ? day.replace(/-/g, '') : day;
}

function sqlSecond(ms: number): string {
  const d = new Date(ms);
  return `${sqlDay(ms, 'iso')} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

const MIN_MS = Date.UTC(1, 0, 1);
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/** The record's date (at the column's precision) overlaps the filter range. */
function dateColumnCond(spec: ColumnSpec, range: DateRange, scope: Scope, p: Params): string | null {
  if (spec.as !== 'date' && spec.as !== 'dateTime') return null;
  const wanted = filterRange(range.from, range.to);
  if (!wanted) return FALSE;
  const col = scope.col(spec.column);
  const conds = [`${col} IS NOT NULL`];
  if (spec.as === 'date') {
    if (wanted.start > MIN_MS) conds.push(`${col} >= ${p.add(sqlDay(wanted.start, spec.format))}`);
    // `<` the next day: also right for a timestamp column shown as a date.
    if (wanted.end < MAX_MS) conds.push(`${col} < ${p.add(sqlDay(wanted.end + 1, spec.format))}`);
  } else {
    if (spec.format === 'yyyymmdd') return null;
    if (wanted.start > MIN_MS) conds.push(`${col} >= ${p.add(sqlSecond(Math.ceil((wanted.start - 999) / 1000) * 1000))}`);
    if (wanted.end < MAX_MS) conds.push(`${col} <= ${p.add(sqlSecond(Math.floor(wanted.end / 1000) * 1000))}`);
  }
  return and(conds);
}

function asColumnSpec(spec: ValueSpec): ColumnSpec | undefined {
  if (typeof spec === 'string') return { column: spec };
  if ('column' in spec && !('reference' in spec)) return spec;
  return undefined;
}

/** The columns holding name parts, for `name` / `family` / `given`. */
function nameColumns(part: PartSpec, which: 'name' | 'family' | 'given'): { cols: string[]; text: string[] } | null {
  const cols: string[] = [];
  const text: string[] = [];
  for (const name of locate(part.elements, 'name')) {
    if (name.rows) return null;
    const spec = name.spec;
    if (typeof spec !== 'object' || !('object' in spec)) return null;
    const pick = (field: string): string[] =>
      locate(spec.object, field).map((l) => {
        const column = asColumnSpec(l.spec);
        if (!column || l.rows) throw new Error('unsupported');
        return column.column;
      });
    try {
      if (which !== 'given') cols.push(...pick('family'));
      if (which !== 'family') cols.push(...pick('given'));
      if (which === 'name') text.push(...pick('text'));
    } catch {
      return null;
    }
  }
  return { cols, text };
}

/** The SQL condition for one criterion over one table mapping, or null when it cannot be pushed down. */
export function criterionCondition(
  type: ResourceType,
  part: PartSpec,
  criterion: Criterion,
  scope: Scope,
  idExpr: string,
  p: Params,
  pctx: PredicateContext,
): string | null {
  if (criterion.param !== '_id' && (part.search as Record<string, false | undefined>)[criterion.param] === false) return null;
  const elements = ELEMENTS[type];
  const dialect = scope.ctx.dialect;

  /** Runs `inScope` for each located spec, wrapping those reached through child rows in EXISTS. */
  const overLocated = (located: Located[], inScope: (spec: ValueSpec, s: Scope) => string | null): string | null => {
    const parts: string[] = [];
    for (const item of located) {
      if (!item.rows) {
        const cond = inScope(item.spec, scope);
        if (cond === null) return null;
        parts.push(cond);
        continue;
      }
      const child = new Scope(scope.ctx, item.rows.table, `${scope.alias}x${parts.length}`, item.rows.joins ?? [], 'rows');
      const cond = inScope(item.spec, child);
      if (cond === null) return null;
      if (cond === FALSE) continue;
      const parent = item.rows.parent ? scope.col(item.rows.parent) : idExpr;
      parts.push(`EXISTS (SELECT 1 ${child.fromWithoutLookups()} WHERE ${child.col(item.rows.key)} = ${parent} AND ${cond})`);
    }
    return or(parts);
  };
  const tokensOver = (paths: string[] | string | undefined, tokens: Token[], fn = specToken): string | null => {
    const list = paths === undefined ? [] : Array.isArray(paths) ? paths : [paths];
    const located = list.flatMap((path) => locate(part.elements, path));
    if (located.length === 0) return FALSE;
    return overLocated(located, (spec, s) => {
      const conds: string[] = [];
      for (const token of tokens) {
        const c = fn(spec, token, s, p);
        if (c === null) return null;
        conds.push(c);
      }
      return or(conds);
    });
  };

  switch (criterion.param) {
    case '_id': {
      const ids = criterion.ids.filter((id) => id.startsWith(part.idPrefix)).map((id) => id.slice(part.idPrefix.length));
      return ids.length === 0 ? FALSE : inValues(scope, idExpr, ids, part.idType, p);
    }
    case 'patient':
    case 'encounter': {
      const target: ResourceType = criterion.param === 'patient' ? 'Patient' : 'Encounter';
      if (type === target) return null;
      const paths = elements[criterion.param] ?? [];
      const located = paths.flatMap((path) => locate(part.elements, path));
      if (located.length === 0) return FALSE;
      return overLocated(located, (spec, s) => {
        if (typeof spec !== 'object' || !('reference' in spec) || spec.reference !== target) return null;
        const prefix = spec.idPrefix ?? '';
        const ids = criterion.ids.filter((id) => id.startsWith(prefix)).map((id) => id.slice(prefix.length));
        return ids.length === 0 ? FALSE : inValues(s, s.col(spec.column), ids, pctx.idTypes[target], p);
      });
    }
    case 'code':
      return tokensOver(elements.code, criterion.tokens);
    case 'category':
      return tokensOver(elements.category, criterion.tokens);
    case 'status':
      return tokensOver(elements.status, criterion.tokens);
    case 'gender':
      return tokensOver('gender', criterion.tokens);
    case 'identifier':
      return tokensOver('identifier', criterion.tokens, identifierToken);
    case 'date':
    case 'birthdate': {
      const paths = criterion.param === 'birthdate' ? ['birthDate'] : (elements.date ?? []);
      const located = paths.flatMap((path) => locate(part.elements, path));
      if (located.length === 0) return FALSE;
      if (located.some((l) => l.rows)) return null;
      // The first date present wins (src/model/evaluate.ts dateOf): earlier columns must be NULL.
      const branches: string[] = [];
      const earlier: string[] = [];
      for (const item of located) {
        const spec = asColumnSpec(item.spec);
        if (!spec) return null;
        const cond = dateColumnCond(spec, criterion.range, scope, p);
        if (cond === null) return null;
        branches.push(and([...earlier.map((c) => `${c} IS NULL`), cond]));
        earlier.push(scope.col(spec.column));
      }
      return or(branches);
    }
    case 'hasCondition':
      return type === 'Patient' && pctx.hasCondition ? pctx.hasCondition(part, scope, idExpr, criterion.tokens, p) : null;
    case 'name':
    case 'family':
    case 'given': {
      const found = nameColumns(part, criterion.param);
      if (found === null) return null;
      const pattern = prefixPattern(criterion.text);
      const conds = found.cols.map((c) => dialect.startsWith(scope.col(c), p.add(pattern)));
      for (const c of found.text) {
        conds.push(dialect.startsWith(scope.col(c), p.add(pattern)));
        conds.push(dialect.startsWith(scope.col(c), p.add(`% ${pattern}`)));
      }
      return or(conds);
    }
  }
}

/**
 * The column holding a type's reference to its patient or encounter, when that is exactly one plain
 * `reference` column of the table (not reached through child rows): what per-parent limits
 * partition by. Null otherwise.
 */
export function referenceColumn(type: ResourceType, part: PartSpec, param: 'patient' | 'encounter', scope: Scope): string | null {
  return referenceTarget(type, part, param, scope)?.column ?? null;
}

/** Like referenceColumn, with the id prefix the column's values lack (`Patient/<prefix><value>`). */
export function referenceTarget(type: ResourceType, part: PartSpec, param: 'patient' | 'encounter', scope: Scope): { column: string; idPrefix: string } | null {
  const target: ResourceType = param === 'patient' ? 'Patient' : 'Encounter';
  if (type === target || (part.search as Record<string, false | undefined>)[param] === false) return null;
  const located = (ELEMENTS[type][param] ?? []).flatMap((path) => locate(part.elements, path));
  if (located.length !== 1 || located[0]!.rows) return null;
  const spec = located[0]!.spec;
  if (typeof spec !== 'object' || !('reference' in spec) || spec.reference !== target) return null;
  return { column: scope.col(spec.column), idPrefix: spec.idPrefix ?? '' };
}

/** Sort expressions for a field over one table mapping: [] sorts by id only (no such element); null = cannot. */
export function sortExpressions(type: ResourceType, part: PartSpec, field: string, scope: Scope): string[] | null {
  const columnsAt = (paths: string[]): ColumnSpec[] | null => {
    const out: ColumnSpec[] = [];
    for (const path of paths) {
      for (const l of locate(part.elements, path)) {
        const spec = asColumnSpec(l.spec);
        if (!spec || l.rows) return null;
        out.push(spec);
      }
    }
    return out;
  };
  switch (field) {
    case 'id':
      return [];
    case 'lastUpdated':
      return part.lastUpdated ? [scope.col(part.lastUpdated)] : [];
    case 'date':
    case 'birthdate': {
      const cols = columnsAt(field === 'birthdate' ? ['birthDate'] : (ELEMENTS[type].date ?? []));
      if (cols === null) return null;
      if (cols.length === 0) return [];
      if (cols.some((c) => c.as !== 'date' && c.as !== 'dateTime') || cols.some((c) => c.format === 'yyyymmdd' && c.as === 'dateTime')) return null;
      const same = cols.filter((c) => c.as === cols[0]!.as && c.format === cols[0]!.format).map((c) => scope.col(c.column));
      return [same.length === 1 ? same[0]! : `COALESCE(${same.join(', ')})`];
    }
    case 'name': {
      const found = nameColumns(part, 'name');
      if (found === null) return null;
      const family = nameColumns(part, 'family')?.cols ?? [];
      const given = nameColumns(part, 'given')?.cols ?? [];
      return [...family, ...given].map((c) => `LOWER(${scope.col(c)})`);
    }
    default:
      return null;
  }
}
