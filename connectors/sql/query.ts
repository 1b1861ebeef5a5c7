/**
 * The statements the connector sends: a page of a search (one statement for every table mapping
 * of the type, UNION ALL when there are several), its COUNT, and the batched child rows of a page.
 * Conditions, sort and paging all happen in the database.
 */
import type { Criterion, Position, ResourceType, SearchRequest, SortSpec } from '../types';
import type { Row } from './dialects/types';
import { badInput } from '../../src/errors';
import { checkedInt } from './dialects/types';
import type { CompiledMapping, CompiledPart, CompiledType } from './mapping/compile';
import type { ChildQuery } from './mapping/build';
import { and, criterionCondition, FALSE, referenceColumn, sortExpressions } from './mapping/predicates';
import { Params } from './mapping/scope';
import { fixedFilter } from './mapping/cohort';

export interface Statement {
  text: string;
  values: unknown[];
}


/** The WHERE condition of one part, or FALSE when it cannot match. Throws when a criterion cannot be pushed (the planner never sends those). */
function whereOf(type: ResourceType, part: CompiledPart, criteria: readonly Criterion[], mapping: CompiledMapping, p: Params): string {
  const conds = fixedFilter(part.spec, part.scope, p);
  for (const criterion of criteria) {
    const cond = criterionCondition(type, part.spec, criterion, part.scope, part.idExpr, p, mapping.pctx);
    if (cond === null) throw new Error(`criterion "${criterion.param}" cannot be pushed down for ${type}`);
    conds.push(cond);
  }
  return and(conds);
}

function sortKeys(type: ResourceType, part: CompiledPart, sort: readonly SortSpec[]): string[][] {
  return sort.map((s) => sortExpressions(type, part.spec, s.field, part.scope) ?? []);
}

/** `ORDER BY` the `leading` columns ascending, then the keys (each behind its is-null flag), then the tie-breakers ascending. */
function orderBy(keys: { expr: string; dir: 'asc' | 'desc' }[], tieBreakers: string[], flag: (e: string) => string, leading: string[] = []): string {
  const terms = keys.flatMap(({ expr, dir }) => [`${flag(expr)} ASC`, `${expr} ${dir === 'asc' ? 'ASC' : 'DESC'}`]);
  return `ORDER BY ${[...leading.map((t) => `${t} ASC`), ...terms, ...tieBreakers.map((t) => `${t} ASC`)].join(', ')}`;
}

export interface PageQuery {
  type: CompiledType;
  criteria: readonly Criterion[];
  sort: readonly SortSpec[];
  limit: number;
  offset: number;
  /** At most this many rows per parent (ranked with ROW_NUMBER() in the database). */
  perRef?: SearchRequest['perRef'];
  /** Select each row's sort values (`_s0`…) for its position (`positionOf`). */
  positions?: boolean;
  /** Only rows after this position (keyset paging); checked by `checkPosition` first. */
  after?: Position;
}

/** A term of a page's order: an expression and its direction. */
interface Term {
  expr: string;
  dir: 'asc' | 'desc';
}

/**
 * Rows after a position in the order of `sortTerms` (each behind its is-null flag, as `orderBy`
 * writes them) then `ties`: `t0 > v0 OR (t0 = v0 AND t1 > v1) OR …`, with `<` for descending
 * terms. A null sort value is stated by its flag alone (flag 1: null; nothing sorts after it).
 */
function keysetCondition(sortTerms: readonly Term[], ties: readonly Term[], position: Position, flag: (e: string) => string, add: (v: unknown) => string): string {
  const steps: { expr: string; dir: 'asc' | 'desc'; value: string; last?: boolean }[] = [];
  sortTerms.forEach((term, i) => {
    const value = position[i];
    if (value === null) steps.push({ expr: flag(term.expr), dir: 'asc', value: '1', last: true });
    else steps.push({ expr: flag(term.expr), dir: 'asc', value: '0' }, { expr: term.expr, dir: term.dir, value: add(value) });
  });
  ties.forEach((term, i) => steps.push({ expr: term.expr, dir: term.dir, value: add(position[sortTerms.length + i]) }));
  const disjuncts: string[] = [];
  steps.forEach((step, j) => {
    if (step.last) return;
    const equal = steps.slice(0, j).map((s) => `${s.expr} = ${s.value}`);
    disjuncts.push(`(${[...equal, `${step.expr} ${step.dir === 'asc' ? '>' : '<'} ${step.value}`].join(' AND ')})`);
  });
  return `(${disjuncts.join(' OR ')})`;
}

/**
 * Per sort field, how many `_s…` columns a multi-table page aligns its tables on: the most
 * expressions any table of the type needs (all tables, so a position's length does not depend on
 * which tables a filter leaves).
 */
function sortWidths(type: CompiledType, sort: readonly SortSpec[]): number[] {
  return sort.map((_, i) => Math.max(0, ...type.parts.map((part) => sortKeys(type.type, part, sort)[i]!.length)));
}

/** How many sort values a row of this order carries (`_s0`…). */
export function sortWidth(type: CompiledType, sort: readonly SortSpec[]): number {
  return sortWidths(type, sort).reduce((a, b) => a + b, 0);
}

/** How many values a position of this order holds: its sort values, the table (several tables), the id. */
export function positionLength(type: CompiledType, sort: readonly SortSpec[]): number {
  return sortWidth(type, sort) + (type.parts.length > 1 ? 2 : 1);
}

/** A row's position: its sort values, its table (several tables), its id. */
export function positionOf(row: Row, width: number, manyParts: boolean): Position {
  const out: (string | number | null)[] = [];
  for (let i = 0; i < width; i++) out.push(jsonValue(row[`_s${i}`]));
  if (manyParts) out.push(Number(row._part));
  out.push(jsonValue(row._id));
  return out;
}

/**
 * Throws BAD_USER_INPUT unless `value` is a position of this order (it comes back from a client's
 * cursor): the right number of JSON scalars, a known table, an id. Its values only ever become
 * statement parameters.
 */
export function checkPosition(value: Position, length: number, type: CompiledType): void {
  const parts = type.parts.length;
  const ok =
    Array.isArray(value) &&
    value.length === length &&
    value.every((v) => v === null || (typeof v === 'string' && v.length <= 512) || (typeof v === 'number' && Number.isFinite(v))) &&
    value[length - 1] !== null &&
    (parts === 1 || (Number.isInteger(value[length - 2]) && (value[length - 2] as number) >= 0 && (value[length - 2] as number) < parts));
  // An integer id column compared with text would be the database's error, not the client's.
  const part = ok ? type.parts.find((p) => p.index === (parts === 1 ? p.index : value[length - 2])) : undefined;
  const id = value[length - 1];
  const idOk = part?.spec.idType !== 'integer' || (typeof id === 'number' ? Number.isInteger(id) : /^-?\d{1,19}$/.test(String(id)));
  if (!ok || !idOk) throw badInput('"after" is not a valid cursor', { argument: 'after' });
}

function jsonValue(value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** One statement for a page (undefined when no part can match). */
export function pageStatement(mapping: CompiledMapping, query: PageQuery): { statement: Statement; parts: CompiledPart[] } | undefined {
  const { dialect } = mapping.ctx;
  const q = dialect.quote;
  const p = new Params(dialect);
  const typeName = query.type.type;
  const live = query.type.parts
    .map((part) => ({ part, where: whereOf(typeName, part, query.criteria, mapping, p) }))
    .filter((x) => x.where !== FALSE);
  if (live.length === 0) return undefined;
  if (query.type.parts.length === 1 && !query.perRef) {
    const { part, where } = live[0]!;
    const keys = sortKeys(typeName, part, query.sort).flatMap((exprs, i) => exprs.map((expr) => ({ expr, dir: query.sort[i]!.direction })));
    const sortValues = query.positions ? keys.map((k, i) => `${k.expr} AS ${q(`_s${i}`)}`) : [];
    const after = query.after ? ` AND ${keysetCondition(keys, [{ expr: part.idExpr, dir: 'asc' }], query.after, dialect.isNullFlag, p.add)}` : '';
    const sql = [
      `SELECT ${[`${part.idExpr} AS ${q('_id')}`, ...sortValues, ...part.scope.selectList()].join(', ')}`,
      part.scope.from(),
      `WHERE ${where}${after}`,
      orderBy(keys, [part.idExpr], dialect.isNullFlag),
      dialect.page(query.limit, query.offset),
    ].join(' ');
    return { statement: p.render(sql), parts: [part] };
  }
  // Several tables serve the type (or rows are ranked per parent): align the select lists and sort
  // keys of the tables, UNION ALL, rank and sort outside.
  const perRef = query.perRef;
  const refs = live.map(({ part }) => (perRef ? referenceColumn(typeName, part.spec, perRef.param, part.scope) : null));
  if (perRef && refs.some((r) => r === null)) throw new Error(`${typeName} cannot be limited per ${perRef.param} in SQL`);
  const perPartKeys = live.map(({ part }) => sortKeys(typeName, part, query.sort));
  const width = sortWidths(query.type, query.sort);
  const allColumns = query.type.parts.flatMap((part) => part.scope.selectedKeys().map((key) => ({ part: part.index, key })));
  const branches = live.map(({ part, where }, n) => {
    const keys = width.flatMap((w, i) => Array.from({ length: w }, (_, j) => perPartKeys[n]![i]![j] ?? 'NULL'));
    const own = new Map(part.scope.selectList().map((s, i) => [part.scope.selectedKeys()[i]!, s]));
    const cols = allColumns.map((c) => (c.part === part.index ? own.get(c.key)! : `NULL AS ${q(c.key)}`));
    const ref = refs[n] ? [`${refs[n]} AS ${q('_ref')}`] : [];
    const select = [`${part.index} AS ${q('_part')}`, `${part.idExpr} AS ${q('_id')}`, ...ref, ...keys.map((k, i) => `${k} AS ${q(`_s${i}`)}`), ...cols];
    return `SELECT ${select.join(', ')} ${part.scope.from()} WHERE ${where}`;
  });
  let k = 0;
  const keys = width.flatMap((w, i) => Array.from({ length: w }, () => ({ expr: q(`_s${k++}`), dir: query.sort[i]!.direction })));
  // Ties are broken by table, then id (by id alone when one table serves the type).
  const manyParts = query.type.parts.length > 1;
  const tieColumns = manyParts ? [q('_part'), q('_id')] : [q('_id')];
  const order = orderBy(keys, tieColumns, dialect.isNullFlag);
  const union = `(${branches.join(' UNION ALL ')}) ${q('u')}`;
  if (perRef && query.after) throw new Error('a page ranked per parent starts at the first record');
  const ties: Term[] = tieColumns.map((expr) => ({ expr, dir: 'asc' }));
  const from = perRef
    ? `(SELECT ${q('u')}.*, ROW_NUMBER() OVER (PARTITION BY ${q('_ref')} ${order}) AS ${q('_rn')} FROM ${union}) ${q('r')} WHERE ${q('_rn')} <= ${checkedInt(perRef.limit, 'limit')}`
    : query.after
      ? `${union} WHERE ${keysetCondition(keys, ties, query.after, dialect.isNullFlag, p.add)}`
      : union;
  // Rows ranked per parent are split per parent by the caller: they come parent by parent, each
  // parent's in the page's order, which is the order the ranking sorted them in (cheaper for the
  // database to sort again than the page's order across parents).
  const outerOrder = perRef ? orderBy(keys, tieColumns, dialect.isNullFlag, [q('_ref')]) : order;
  // Only what rows are built from leaves the database: not the rank and parent columns, nor the
  // sort values unless positions are asked for; ORDER BY still reads them inside.
  const out = [q('_id'), ...(manyParts ? [q('_part')] : []), ...(query.positions ? keys.map((key) => key.expr) : []), ...allColumns.map((c) => q(c.key))];
  const sql = `SELECT ${out.join(', ')} FROM ${from} ${outerOrder} ${dialect.page(query.limit, query.offset)}`;
  return { statement: p.render(sql), parts: live.map((l) => l.part) };
}

/** `COUNT(*)` of the matches (summed over the type's tables). */
export function countStatement(mapping: CompiledMapping, type: CompiledType, criteria: readonly Criterion[]): Statement | undefined {
  const { dialect } = mapping.ctx;
  const p = new Params(dialect);
  const counts = type.parts
    .map((part) => ({ part, where: whereOf(type.type, part, criteria, mapping, p) }))
    .filter((x) => x.where !== FALSE)
    .map(({ part, where }) => `(SELECT COUNT(*) ${part.scope.fromWithoutLookups()} WHERE ${where})`);
  if (counts.length === 0) return undefined;
  return p.render(`SELECT ${counts.join(' + ')} AS ${dialect.quote('n')}`);
}

/** The child rows (`rows:` elements) of a page's parents, in one statement per child table mapping. */
export function childStatement(mapping: CompiledMapping, child: ChildQuery, parentIds: readonly unknown[]): Statement {
  const { dialect } = mapping.ctx;
  const p = new Params(dialect);
  const key = child.scope.col(child.spec.key);
  const order = [key, ...(child.spec.order ?? []).map((c) => child.scope.col(c))];
  const sql = `SELECT ${child.scope.selectList().join(', ')} ${child.scope.from()} WHERE ${dialect.inList(key, parentIds, p.add)} ORDER BY ${order.join(', ')}`;
  return p.render(sql);
}
