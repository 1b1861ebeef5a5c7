/**
 * Gateway criteria and sorts as MongoDB filters and sort documents over the lake's `_hg` block.
 * Only operators FerretDB 1.24 supports are used: `$in`, `$all`-free equality on arrays, `$lte`,
 * `$gte`, `$exists`, `$regex` (anchored prefix), `$and`.
 */
import type { Criterion, SortSpec, Token } from '../types';
import { filterRange } from '../../src/model/dates';
import { foldName, tokenKey } from './layout';

export type MongoFilter = Record<string, unknown>;
export type MongoSort = [string, 1 | -1][];

const TOKEN_FIELDS = { code: '_hg.code', category: '_hg.category', status: '_hg.status', gender: '_hg.gender', identifier: '_hg.identifier' } as const;
const NAME_FIELDS = { name: '_hg.name', family: '_hg.family', given: '_hg.given' } as const;

const NOTHING: MongoFilter = { _id: { $in: [] } };

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function tokenFilter(field: string, tokens: Token[]): MongoFilter {
  const keys = [...new Set(tokens.map((t) => tokenKey(t.system, t.code)))];
  return keys.length === 1 ? { [field]: keys[0] } : { [field]: { $in: keys } };
}

function dateFilter(field: '_hg.date' | '_hg.birthdate', from: string | undefined, to: string | undefined): MongoFilter {
  const wanted = filterRange(from, to);
  if (!wanted) return NOTHING;
  const clauses: MongoFilter = {};
  // The record's span overlaps the wanted span: record.start <= wanted.end and record.end >= wanted.start.
  if (Number.isFinite(wanted.end)) clauses[`${field}.s`] = { $lte: new Date(wanted.end) };
  if (Number.isFinite(wanted.start)) clauses[`${field}.e`] = { $gte: new Date(wanted.start) };
  if (Object.keys(clauses).length === 0) clauses[`${field}.s`] = { $exists: true };
  return clauses;
}

function idsFilter(field: string, ids: string[]): MongoFilter {
  const unique = [...new Set(ids)];
  return unique.length === 1 ? { [field]: unique[0] } : { [field]: { $in: unique } };
}

/** One criterion as a filter. */
export function criterionFilter(criterion: Criterion): MongoFilter {
  switch (criterion.param) {
    case '_id':
      return idsFilter('_id', criterion.ids);
    case 'patient':
      return idsFilter('_hg.patient', criterion.ids);
    case 'encounter':
      return idsFilter('_hg.encounter', criterion.ids);
    case 'code':
    case 'category':
    case 'status':
    case 'gender':
    case 'identifier':
      return tokenFilter(TOKEN_FIELDS[criterion.param], criterion.tokens);
    case 'date':
      return dateFilter('_hg.date', criterion.range.from, criterion.range.to);
    case 'birthdate':
      return dateFilter('_hg.birthdate', criterion.range.from, criterion.range.to);
    case 'hasCondition':
      throw new Error('hasCondition is not pushed down to the lake (the data layer resolves it)');
    case 'name':
    case 'family':
    case 'given':
      return { [NAME_FIELDS[criterion.param]]: { $regex: `^${escapeRegex(foldName(criterion.text))}` } };
  }
}

/**
 * All criteria ANDed, as one plain document when no two criteria use the same field (the same
 * meaning as `$and` on every MongoDB). FerretDB 1.24 passes a filter to its PostgreSQL backend key
 * by key and only for plain top-level keys: an equality inside `$and` is evaluated in FerretDB's
 * own process after reading the whole collection (Observation, 85k documents: 30 s), the same
 * equality as a plain key becomes a SQL condition (0.6 s). `$and` remains for repeated fields.
 */
export function buildFilter(criteria: readonly Criterion[]): MongoFilter {
  const filters = criteria.map(criterionFilter);
  if (filters.length === 0) return {};
  if (filters.length === 1) return filters[0]!;
  const merged: MongoFilter = {};
  for (const filter of filters) {
    for (const [key, value] of Object.entries(filter)) {
      if (key in merged || key.startsWith('$')) return { $and: filters };
      merged[key] = value;
    }
  }
  return merged;
}

const SORT_KEYS: Record<SortSpec['field'], { miss?: string; key: string }> = {
  date: { miss: '_hg.miss.date', key: '_hg.date.s' },
  birthdate: { miss: '_hg.miss.birthdate', key: '_hg.birthdate.s' },
  lastUpdated: { miss: '_hg.miss.lastUpdated', key: '_hg.lu' },
  name: { miss: '_hg.miss.name', key: '_hg.sort.name' },
  id: { key: '_id' },
};

/**
 * The sort document: per field, first "missing" (so absent values come last in both directions),
 * then the key; `_id` ascending breaks ties, as the gateway's in-memory comparator does.
 */
export function buildSort(sort: readonly SortSpec[]): MongoSort {
  const out: MongoSort = [];
  const seen = new Set<string>();
  for (const spec of sort) {
    const { miss, key } = SORT_KEYS[spec.field];
    if (seen.has(key)) continue;
    seen.add(key);
    if (miss) out.push([miss, 1]);
    out.push([key, spec.direction === 'asc' ? 1 : -1]);
  }
  if (!seen.has('_id')) out.push(['_id', 1]);
  return out;
}
