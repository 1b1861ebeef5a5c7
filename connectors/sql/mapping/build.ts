/**
 * Compiling element specs into row → FHIR JSON builders. Compiling registers every column a
 * builder reads (and every look-up join) in the statement's Scope, so one statement fetches all
 * a page of resources needs; child rows (`rows:`) are fetched in one batched statement per page.
 */
import type { FhirCoding } from '../../types';
import type { Row } from '../dialects/types';
import type { ConceptSpec, RowsSpec, ValueSpec } from './schema';
import { MappingError, Scope } from './scope';
import { asNumber, asText, convert } from './values';

/** Child rows of one page, per rows spec, per parent id. */
export type ChildRows = Map<RowsSpec, Map<string, Row[]>>;
export type Builder = (row: Row, children: ChildRows) => unknown;

export interface ChildQuery {
  spec: RowsSpec;
  scope: Scope;
  /** Row key of the child's reference to its parent. */
  keyColumn: string;
  /** Row key, in the parent's rows, of the value children refer to. */
  parentKey: string;
  build: Builder;
}

const isConst = (spec: ValueSpec): boolean => typeof spec === 'object' && 'const' in spec;

export interface CompiledElements {
  /** The elements of one row, added to `into` (a new object when not given). */
  build: (row: Row, children: ChildRows, into?: Record<string, unknown>) => Record<string, unknown>;
  children: ChildQuery[];
}

function present(value: unknown): boolean {
  return value !== undefined && !(Array.isArray(value) && value.length === 0);
}

/** `system|code` or `code` from a value map. */
function codingOf(text: string): FhirCoding {
  const bar = text.indexOf('|');
  return bar < 0 ? { code: text } : { system: text.slice(0, bar), code: text.slice(bar + 1) };
}

/** The codings of a concept element; `texts` false: without their display names (nor the columns they come from). */
function conceptBuilder(spec: ConceptSpec, scope: Scope, texts: boolean): (row: Row) => FhirCoding[] {
  const keyExpr = scope.col(spec.column);
  const key = scope.select(keyExpr);
  const display = texts && spec.display ? scope.select(scope.col(spec.display)) : undefined;
  const raw = (row: Row): string | undefined => asText(row[key]);
  if (spec.lookup) {
    const lookup = scope.lookup(spec.lookup);
    const alias = scope.joinLookup(lookup, keyExpr);
    const q = scope.ctx.dialect.quote;
    const code = scope.select(`${q(alias)}.${q(lookup.code)}`);
    const system = scope.select(`${q(alias)}.${q(lookup.system)}`);
    const name = texts && lookup.display ? scope.select(`${q(alias)}.${q(lookup.display)}`) : undefined;
    const ignored = new Set(lookup.ignore.map(String));
    const systems = new Map(Object.entries(lookup.systems));
    const keep = lookup.keep?.system;
    return (row) => {
      const k = raw(row);
      if (k === undefined || ignored.has(k)) return [];
      const out: FhirCoding[] = [];
      const vocabulary = asText(row[system]);
      const uri = vocabulary === undefined ? undefined : systems.get(vocabulary);
      const text = name ? asText(row[name]) : undefined;
      const c = asText(row[code]);
      if (uri && c !== undefined) out.push(coding(uri, c, text));
      if (keep !== undefined) out.push(coding(keep, k, text));
      return out;
    };
  }
  const systemKey = spec.systemColumn ? scope.select(scope.col(spec.systemColumn)) : undefined;
  return (row) => {
    const k = raw(row);
    if (k === undefined) return [];
    const text = display ? asText(row[display]) : undefined;
    if (spec.map) {
      const mapped = spec.map[k];
      if (mapped === undefined) return [];
      const parsed = codingOf(mapped);
      return [coding(parsed.system, parsed.code!, text)];
    }
    if (systemKey) {
      const local = asText(row[systemKey]);
      return [coding(local === undefined ? undefined : spec.systems?.[local], k, text)];
    }
    return [coding(spec.system, k, text)];
  };
}

/** A Coding with only the members that have values (one allocation, no copies). */
function coding(system: string | undefined, code: string, display: string | undefined): FhirCoding {
  if (system === undefined) return display === undefined ? { code } : { code, display };
  return display === undefined ? { system, code } : { system, code, display };
}

function constOrColumn(value: string | { column: string } | undefined, scope: Scope): ((row: Row) => unknown) | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return () => value;
  const key = scope.select(scope.col(value.column));
  return (row) => asText(row[key]);
}

/** Texts: members that hold text about a code (Coding.display, CodeableConcept.text), left out of a value compiled with `texts` false. */
const TEXT_MEMBERS = new Set(['display', 'text']);

/** One value's builder. `texts` false: the value is built without its texts (see TEXT_MEMBERS) and selects no column for them. */
export function compileValue(spec: ValueSpec, scope: Scope, children: ChildQuery[], where: string, texts = true): Builder {
  if (typeof spec === 'string') {
    const key = scope.select(scope.col(spec));
    return (row) => convert(row[key], {});
  }
  if ('column' in spec && !('reference' in spec)) {
    const key = scope.select(scope.col(spec.column));
    return (row) => convert(row[key], spec);
  }
  if ('const' in spec) {
    const value = spec.const;
    return () => (value === null ? undefined : value);
  }
  if ('reference' in spec) {
    const key = scope.select(scope.col(spec.column));
    const prefix = `${spec.reference}/${spec.idPrefix ?? ''}`;
    return (row) => {
      const id = asText(row[key]);
      return id === undefined ? undefined : { reference: `${prefix}${id}` };
    };
  }
  if ('concept' in spec) {
    const codings = conceptBuilder(spec.concept, scope, texts);
    return (row) => {
      const coding = codings(row);
      if (coding.length === 0) return undefined;
      const text = coding.find((c) => c.display)?.display;
      return text === undefined ? { coding } : { coding, text };
    };
  }
  if ('coding' in spec) {
    const codings = conceptBuilder(spec.coding, scope, texts);
    return (row) => codings(row)[0];
  }
  if ('quantity' in spec) {
    const q = spec.quantity;
    const value = scope.select(scope.col(q.value));
    const unit = constOrColumn(q.unit, scope);
    const code = constOrColumn(q.code, scope);
    return (row) => {
      const n = asNumber(row[value]);
      if (n === undefined) return undefined;
      const out: Record<string, unknown> = { value: q.scale === undefined ? n : Number((n * q.scale).toPrecision(15)) };
      const u = unit?.(row);
      if (u !== undefined) out.unit = u;
      if (q.system !== undefined) out.system = q.system;
      const c = code?.(row);
      if (c !== undefined) out.code = c;
      return out;
    };
  }
  if ('object' in spec) {
    const entries = Object.entries(spec.object).filter(([name]) => texts || !TEXT_MEMBERS.has(name));
    const names = entries.map(([name]) => name);
    const builds = entries.map(([name, s]) => compileValue(s, scope, children, `${where}.${name}`, texts));
    const constant = entries.map(([, s]) => isConst(s));
    // An object with nothing but constants (e.g. an identifier's system without its value) is left out.
    return (row, kids) => {
      const out: Record<string, unknown> = {};
      let fromData = false;
      for (let i = 0; i < builds.length; i++) {
        const v = builds[i]!(row, kids);
        if (!present(v)) continue;
        out[names[i]!] = v;
        if (!constant[i]) fromData = true;
      }
      return fromData ? out : undefined;
    };
  }
  if ('list' in spec) {
    const items = spec.list.map((s, i) => compileValue(s, scope, children, `${where}[${i}]`, texts));
    return (row, kids) => {
      let out: unknown[] | undefined;
      for (let i = 0; i < items.length; i++) {
        const v = items[i]!(row, kids);
        if (Array.isArray(v)) {
          if (v.length > 0) (out ??= []).push(...(v as unknown[]));
        } else if (v !== undefined) (out ??= []).push(v);
      }
      return out;
    };
  }
  if ('rows' in spec) {
    if (scope.alias !== 't') throw new MappingError(`${where}: rows inside rows are not supported`);
    const rows = spec.rows;
    const child = new Scope(scope.ctx, rows.table, 'r', rows.joins ?? [], `${where}.rows`, 'c');
    const keyColumn = child.select(child.col(rows.key));
    const parentKey = scope.select(scope.col(rows.parent ?? scope.idColumn));
    const build = compileValue(rows.value, child, children, `${where}.rows.value`, texts);
    children.push({ spec: rows, scope: child, keyColumn, parentKey, build });
    return (row, kids) => {
      const list = kids.get(rows)?.get(asText(row[parentKey]) ?? '') ?? [];
      const out = list.map((r) => build(r, kids)).filter(present);
      return out.length === 0 ? undefined : out;
    };
  }
  throw new MappingError(`${where}: unrecognised element spec`);
}

/** The builder of a resource's elements; those in `textless` are built without their texts (see compileValue). */
export function compileElements(elements: Record<string, ValueSpec>, scope: Scope, where: string, textless: ReadonlySet<string> = new Set()): CompiledElements {
  const children: ChildQuery[] = [];
  const entries = Object.entries(elements);
  const names = entries.map(([name]) => name);
  const builds = entries.map(([name, spec]) => compileValue(spec, scope, children, `${where}.${name}`, !textless.has(name)));
  return {
    children,
    build: (row, kids, into = {}) => {
      for (let i = 0; i < builds.length; i++) {
        const v = builds[i]!(row, kids);
        if (present(v)) into[names[i]!] = v;
      }
      return into;
    },
  };
}
