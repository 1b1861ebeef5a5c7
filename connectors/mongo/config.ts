/** The `kind: mongo` source configuration. */
import { z } from 'zod';
import { sourceIdSchema } from '../config';

export const mongoSourceSchema = z
  .object({
    id: sourceIdSchema,
    kind: z.literal('mongo'),
    url: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\/.+/, 'a MongoDB connection string: mongodb://host:port/database')
      .describe('MongoDB connection string; the path names the database (default `lake`), e.g. mongodb://127.0.0.1:27017/lake'),
    database: z.string().min(1).optional().describe('Database name; overrides the one in `url`'),
    mapping: z
      .literal('fhir')
      .default('fhir')
      .describe('How documents map to FHIR: `fhir` = the healthgraph lake layout (docs/sources/lake.md), filled by `healthgraph lake import`'),
    readPreference: z
      .enum(['primary', 'primaryPreferred', 'secondary', 'secondaryPreferred', 'nearest'])
      .default('primaryPreferred')
      .describe('Which replica-set members serve reads'),
    maxTimeMs: z.number().int().min(100).max(120_000).default(5000).describe('Server-side time limit for one query (`maxTimeMS`); also the client-side wait limit'),
    connectTimeoutMs: z.number().int().min(100).max(120_000).default(5000).describe('How long to wait for a reachable server before a query fails as unavailable'),
    maxPoolSize: z.number().int().min(1).max(1000).default(20).describe('Most connections to the server from one gateway instance'),
  })
  .strict();

export type MongoSourceConfig = z.infer<typeof mongoSourceSchema>;
