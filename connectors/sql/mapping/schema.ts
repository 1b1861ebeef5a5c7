/**
 * The declarative mapping language (docs/sources/sql.md): how tables and columns become FHIR R4
 * resources. Validated with zod; every identifier is checked here, so SQL text is only ever built
 * from validated names — never from request input.
 */
import { z } from 'zod';
import { RESOURCE_TYPES, type ResourceType } from '../../types';

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
export const identifier = z.string().regex(IDENT, 'must be a plain SQL identifier (letters, digits, "_")');
/** `column` of the base table, or `alias.column` of a join. */
export const columnRef = z
  .string()
  .regex(/^([A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be "column" or "joinAlias.column"');

export const COLUMN_TYPES = ['string', 'integer', 'decimal', 'boolean', 'date', 'dateTime', 'code'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];
export const DATE_FORMATS = ['iso', 'yyyymmdd'] as const;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
const json: z.ZodType<Json> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(json)]));

export const columnSpec = z
  .object({
    column: columnRef,
    as: z.enum(COLUMN_TYPES).optional(),
    format: z.enum(DATE_FORMATS).optional(),
    map: z.record(json).optional(),
    scale: z.number().optional(),
  })
  .strict();
export type ColumnSpec = z.infer<typeof columnSpec>;

export const conceptSpec = z
  .object({
    column: columnRef,
    lookup: identifier.optional(),
    system: z.string().min(1).optional(),
    systemColumn: columnRef.optional(),
    systems: z.record(z.string()).optional(),
    map: z.record(z.string()).optional(),
    display: columnRef.optional(),
    as: z.enum(['string', 'integer']).optional(),
  })
  .strict()
  .refine((c) => [c.lookup, c.system, c.systemColumn, c.map].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of lookup, system, systemColumn (with systems) or map',
  });
export type ConceptSpec = z.infer<typeof conceptSpec>;

export const quantitySpec = z
  .object({
    value: columnRef,
    unit: z.union([z.string(), z.object({ column: columnRef }).strict()]).optional(),
    system: z.string().optional(),
    code: z.union([z.string(), z.object({ column: columnRef }).strict()]).optional(),
    scale: z.number().optional(),
  })
  .strict();

export const joinSpec = z
  .object({
    as: identifier,
    table: identifier,
    /** `{ joinedColumn: baseColumn }` pairs, all equal. */
    on: z.record(identifier, columnRef).refine((o) => Object.keys(o).length > 0, 'name at least one column pair'),
  })
  .strict();
export type JoinSpec = z.infer<typeof joinSpec>;

export type ValueSpec =
  | string
  | ColumnSpec
  | { const: Json }
  | { reference: ResourceType; column: string; idPrefix?: string }
  | { concept: ConceptSpec }
  | { coding: ConceptSpec }
  | { quantity: z.infer<typeof quantitySpec> }
  | { object: Record<string, ValueSpec> }
  | { list: ValueSpec[] }
  | { rows: RowsSpec };

export interface RowsSpec {
  table: string;
  key: string;
  parent?: string;
  order?: string[];
  joins?: JoinSpec[];
  value: ValueSpec;
}

export const valueSpec: z.ZodType<ValueSpec> = z.lazy(() =>
  z.union([
    columnRef,
    columnSpec,
    z.object({ const: json }).strict(),
    z.object({ reference: z.enum(RESOURCE_TYPES), column: columnRef, idPrefix: z.string().regex(/^[A-Za-z0-9.-]*$/).optional() }).strict(),
    z.object({ concept: conceptSpec }).strict(),
    z.object({ coding: conceptSpec }).strict(),
    z.object({ quantity: quantitySpec }).strict(),
    z.object({ object: z.record(valueSpec) }).strict(),
    z.object({ list: z.array(valueSpec) }).strict(),
    z.object({ rows: rowsSpec }).strict(),
  ]),
);

const rowsSpec: z.ZodType<RowsSpec> = z.lazy(() =>
  z
    .object({
      table: identifier,
      key: identifier,
      /** The parent column the child `key` refers to; default the parent's id column. */
      parent: columnRef.optional(),
      order: z.array(identifier).optional(),
      joins: z.array(joinSpec).optional(),
      value: valueSpec,
    })
    .strict(),
);

export const SEARCH_TOGGLES = ['patient', 'encounter', 'code', 'identifier', 'category', 'status', 'gender', 'date', 'birthdate', 'name', 'family', 'given'] as const;

export const partSpec = z
  .object({
    table: identifier,
    id: identifier,
    idType: z.enum(['string', 'integer']).default('string'),
    /** Prepended to the column value to form the record id; needed when several tables serve one type. */
    idPrefix: z.string().regex(/^[A-Za-z0-9.-]*$/, 'letters, digits, "-" and "." only').default(''),
    joins: z.array(joinSpec).default([]),
    /** Fixed conditions on the base table: `{ column: value }` or `{ column: [values] }`. */
    filter: z.record(identifier, z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))])).default({}),
    /** Rows to leave out: `{ column: value }` or `{ column: [values] }`. */
    exclude: z.record(identifier, z.union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))])).default({}),
    lastUpdated: columnRef.optional(),
    elements: z.record(valueSpec),
    /** Search parameters to leave to the gateway (evaluated in memory) even though the mapping could push them down. */
    search: z.record(z.enum(SEARCH_TOGGLES), z.literal(false)).default({}),
  })
  .strict();
export type PartSpec = z.infer<typeof partSpec>;

export const lookupSpec = z
  .object({
    table: identifier,
    key: identifier,
    keyType: z.enum(['string', 'integer']).default('integer'),
    code: identifier,
    display: identifier.optional(),
    /** Column naming the vocabulary of each row. */
    system: identifier,
    /** Vocabulary values → FHIR system URIs; rows of other vocabularies give no standard coding. */
    systems: z.record(z.string().min(1)),
    /** Also emit the local key as a coding in this system (e.g. the OMOP concept id). */
    keep: z.object({ system: z.string().min(1) }).strict().optional(),
    /** Key values that mean "no concept" (e.g. OMOP 0). */
    ignore: z.array(z.union([z.string(), z.number()])).default([]),
  })
  .strict();
export type LookupSpec = z.infer<typeof lookupSpec>;

export const mappingSchema = z
  .object({
    description: z.string().optional(),
    lookups: z.record(identifier, lookupSpec).default({}),
    resources: z
      .record(z.enum(RESOURCE_TYPES), z.union([partSpec, z.array(partSpec).min(1)]))
      .refine((r) => Object.keys(r).length > 0, 'map at least one resource type'),
  })
  .strict()
  .superRefine((mapping, ctx) => {
    for (const [type, spec] of Object.entries(mapping.resources)) {
      const parts = Array.isArray(spec) ? spec : [spec];
      if (parts.length > 1) {
        const prefixes = parts.map((p) => p.idPrefix);
        if (prefixes.some((p) => p === '') || new Set(prefixes).size !== prefixes.length) {
          ctx.addIssue({ code: 'custom', path: ['resources', type], message: 'several tables for one type need distinct, non-empty idPrefix values' });
        }
      }
    }
  });
export type MappingSpec = z.infer<typeof mappingSchema>;
