/** The `kind: sql` source configuration. */
import { z } from 'zod';
import { sourceIdSchema } from '../config';

const URL_RE = /^(postgres|postgresql|mysql|mariadb|sqlite|mssql|sqlserver):/i;

export const sqlSourceSchema = z
  .object({
    id: sourceIdSchema,
    kind: z.literal('sql'),
    url: z
      .string()
      .regex(URL_RE, 'must start with postgres://, mysql://, mariadb://, sqlite: or mssql://')
      .describe('Database URL: postgres://user:pass@host:5432/db, mysql:// or mariadb://…, sqlite:///abs/path.db or sqlite:relative.db, mssql://… (SQL Server: untested)'),
    schema: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_$]{0,62}$/, 'must be a plain identifier')
      .optional()
      .describe('Database schema holding the tables (PostgreSQL, SQL Server); for MySQL/MariaDB the database; ignored by SQLite'),
    mapping: z
      .string()
      .min(1)
      .describe('A built-in preset (`omop`, `claims`) or the path of a YAML mapping file (docs/sources/sql.md)'),
    poolSize: z.number().int().min(1).max(200).default(10).describe('Most connections held open to the database (SQLite: worker threads reading side by side, at most one per core)'),
    statementTimeoutMs: z
      .number()
      .int()
      .min(100)
      .max(600_000)
      .default(5000)
      .describe('Longest one statement may run before the database cancels it; the request then fails with SOURCE_TIMEOUT'),
    maxIdsPerStatement: z.number().int().min(1).max(5000).default(500).describe('Most keys in one batched `IN (…)` / `= ANY(…)` look-up'),
    preparedStatements: z
      .boolean()
      .default(true)
      .describe('PostgreSQL: run statements the gateway repeats as named prepared statements (parsed and planned once per connection). Turn off behind a pooler that cannot keep them (PgBouncer in transaction mode before 1.21)'),
    explain: z.boolean().default(false).describe('With LOG_LEVEL=debug, also log each statement\'s query plan (EXPLAIN); costs one extra round trip per statement'),
  })
  .strict();

export type SqlSourceConfig = z.infer<typeof sqlSourceSchema>;
