/** Where columns come from in one statement: the base table, its joins, and what it selects. */
import type { Dialect } from '../dialects/types';
import type { JoinSpec, LookupSpec } from './schema';

export interface SqlContext {
  dialect: Dialect;
  /** Database schema (PostgreSQL/SQL Server) or database (MySQL) the tables live in. */
  schema?: string;
  lookups: Record<string, LookupSpec>;
}

export class MappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MappingError';
  }
}

export function qualify(ctx: SqlContext, table: string): string {
  const q = ctx.dialect.quote;
  return ctx.schema && ctx.dialect.name !== 'sqlite' ? `${q(ctx.schema)}.${q(table)}` : q(table);
}

/** One table (with its declared joins) under an alias, plus the look-up joins and columns a statement needs. */
export class Scope {
  private readonly joinAliases: Map<string, JoinSpec>;
  readonly lookupJoins: string[] = [];
  private readonly selected = new Map<string, string>();
  private lookupCount = 0;
  /** The id column of the table (what child rows refer to by default). */
  idColumn = '';

  constructor(
    readonly ctx: SqlContext,
    readonly table: string,
    readonly alias: string,
    readonly joins: readonly JoinSpec[],
    /** Where in the mapping this scope is, for error messages. */
    readonly where: string,
    private readonly columnPrefix = 'c',
  ) {
    this.joinAliases = new Map(joins.map((j) => [j.as, j]));
  }

  /** The SQL expression for a mapping column reference (`column` or `joinAlias.column`). */
  col(ref: string): string {
    const q = this.ctx.dialect.quote;
    const dot = ref.indexOf('.');
    if (dot < 0) return `${q(this.alias)}.${q(ref)}`;
    const alias = ref.slice(0, dot);
    if (!this.joinAliases.has(alias)) throw new MappingError(`${this.where}: "${ref}" names join "${alias}", which is not declared in joins`);
    return `${q(`${this.alias}_${alias}`)}.${q(ref.slice(dot + 1))}`;
  }

  /** Adds an expression to the select list; returns the row key it will arrive under. */
  select(expr: string): string {
    let key = this.selected.get(expr);
    if (!key) {
      key = `${this.columnPrefix}${this.selected.size}`;
      this.selected.set(expr, key);
    }
    return key;
  }

  selectList(): string[] {
    return [...this.selected].map(([expr, key]) => `${expr} AS ${this.ctx.dialect.quote(key)}`);
  }

  selectedKeys(): string[] {
    return [...this.selected.values()];
  }

  /** A LEFT JOIN to a look-up table on `keyExpr`; returns the look-up alias. */
  joinLookup(lookup: LookupSpec, keyExpr: string): string {
    const alias = `${this.alias}_l${this.lookupCount++}`;
    const q = this.ctx.dialect.quote;
    this.lookupJoins.push(`LEFT JOIN ${qualify(this.ctx, lookup.table)} ${q(alias)} ON ${q(alias)}.${q(lookup.key)} = ${keyExpr}`);
    return alias;
  }

  /** `FROM table alias LEFT JOIN …` with the declared joins and the look-up joins. */
  from(): string {
    const q = this.ctx.dialect.quote;
    const parts = [`FROM ${qualify(this.ctx, this.table)} ${q(this.alias)}`];
    for (const join of this.joins) {
      const alias = q(`${this.alias}_${join.as}`);
      const on = Object.entries(join.on).map(([joined, base]) => `${alias}.${q(joined)} = ${this.col(base)}`);
      parts.push(`LEFT JOIN ${qualify(this.ctx, join.table)} ${alias} ON ${on.join(' AND ')}`);
    }
    parts.push(...this.lookupJoins);
    return parts.join(' ');
  }

  /** FROM clause without look-up joins (for COUNT and EXISTS, where look-ups are not selected). */
  fromWithoutLookups(): string {
    const q = this.ctx.dialect.quote;
    const parts = [`FROM ${qualify(this.ctx, this.table)} ${q(this.alias)}`];
    for (const join of this.joins) {
      const alias = q(`${this.alias}_${join.as}`);
      const on = Object.entries(join.on).map(([joined, base]) => `${alias}.${q(joined)} = ${this.col(base)}`);
      parts.push(`LEFT JOIN ${qualify(this.ctx, join.table)} ${alias} ON ${on.join(' AND ')}`);
    }
    return parts.join(' ');
  }

  lookup(name: string): LookupSpec {
    const found = this.ctx.lookups[name];
    if (!found) throw new MappingError(`${this.where}: lookup "${name}" is not declared under lookups`);
    return found;
  }
}

/**
 * Statement parameters. `add` registers a value and returns a marker; `render` turns the markers
 * that survived into the engine's placeholders, numbered in text order, with their values — so a
 * condition dropped while simplifying never leaves a stray parameter behind.
 */
export class Params {
  private readonly pending: unknown[] = [];
  constructor(private readonly dialect: Dialect) {}
  add = (value: unknown): string => {
    this.pending.push(value);
    return `\u0000${this.pending.length - 1}\u0000`;
  };
  render(sql: string): { text: string; values: unknown[] } {
    const values: unknown[] = [];
    const text = sql.replace(/\u0000(\d+)\u0000/g, (_, index: string) => {
      values.push(this.pending[Number(index)]);
      return this.dialect.placeholder(values.length);
    });
    return { text, values };
  }
}
