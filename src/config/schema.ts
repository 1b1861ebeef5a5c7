/**
 * The one typed, validated configuration (style.md §7). Every setting has a default and a
 * description; docs/configuration.md is checked against this schema by a test.
 */
import { z } from 'zod';
import { fhirSourceSchema } from '../../connectors/fhir/config';
import { auditSchema, authSchema, consentSchema } from '../auth/config';
import { mongoSourceSchema } from '../../connectors/mongo/config';
import { sqlSourceSchema } from '../../connectors/sql/config';
import { identitySchema } from '../identity/config';

/** Source kinds: each connector folder contributes its own schema. */
export const sourceSchema = z.discriminatedUnion('kind', [fhirSourceSchema, mongoSourceSchema, sqlSourceSchema]).describe('A source; `kind` selects the connector: fhir, mongo, sql');

export const limitsSchema = z
  .object({
    maxDepth: z.number().int().min(1).max(100).default(12).describe('Deepest field nesting a query may have'),
    maxAliases: z.number().int().min(1).max(10_000).default(30).describe('Most aliases in one operation'),
    maxCost: z
      .number()
      .int()
      .min(1)
      .default(50_000)
      .describe('Largest estimated cost: every object field costs 1, multiplied by the `first` of each list above it'),
    maxRequestBytes: z.number().int().min(1024).max(10_485_760).default(102_400).describe('Largest request body, in bytes'),
    maxBatchOperations: z.number().int().min(1).max(100).default(10).describe('Most operations in one batched HTTP request'),
    maxBatchRecords: z
      .number()
      .int()
      .min(100)
      .max(1_000_000)
      .default(5000)
      .describe('Most records fetched for one batched look-up or one list the gateway filters itself'),
  })
  .strict();

export const serverSchema = z
  .object({
    host: z.string().default('127.0.0.1').describe('Address to listen on'),
    port: z.number().int().min(0).max(65_535).default(4000).describe('Port to listen on (`--port` overrides)'),
    introspection: z
      .boolean()
      .optional()
      .describe('Allow schema introspection; default: on, except when NODE_ENV=production'),
    playground: z.boolean().optional().describe('Serve the GraphQL playground at GET /graphql; default: same as introspection'),
    persistedQueries: z.boolean().default(true).describe('Automatic persisted queries (APQ)'),
    csrfPrevention: z.boolean().default(true).describe('Reject GET and simple POST requests that browsers could send cross-site'),
    examplesDir: z.string().optional().describe('Folder of example `.graphql` queries shown in the playground; default: the bundled docs/examples'),
    executor: z
      .enum(['jit', 'graphql-js'])
      .default('jit')
      .describe('Query execution engine: `jit` compiles each distinct operation once (graphql-jit); `graphql-js` is the reference engine'),
  })
  .strict();

export const configSchema = z
  .object({
    sources: z.array(sourceSchema).min(1, 'configure at least one source').describe('The data sources, one entry per source'),
    server: serverSchema.default({}).describe('The HTTP server'),
    limits: limitsSchema.default({}).describe('Protection against expensive or abusive requests'),
    auth: authSchema,
    consent: consentSchema,
    audit: auditSchema,
    identity: identitySchema,
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.sources.forEach((source, index) => {
      if (seen.has(source.id)) ctx.addIssue({ code: 'custom', path: ['sources', index, 'id'], message: `duplicate source id "${source.id}"` });
      seen.add(source.id);
    });
    if (config.auth.mode === 'jwt') {
      const clients = new Set<string>();
      config.auth.clients.forEach((client, index) => {
        if (clients.has(client.id)) ctx.addIssue({ code: 'custom', path: ['auth', 'clients', index, 'id'], message: `duplicate client id "${client.id}"` });
        clients.add(client.id);
      });
    }
    for (const [index, id] of (config.consent?.sources ?? []).entries()) {
      if (!seen.has(id)) ctx.addIssue({ code: 'custom', path: ['consent', 'sources', index], message: `no source has id "${id}"` });
    }
    for (const [index, id] of (config.identity?.precedence ?? []).entries()) {
      if (!seen.has(id)) ctx.addIssue({ code: 'custom', path: ['identity', 'precedence', index], message: `no source has id "${id}"` });
    }
  });

export type GatewayConfig = z.infer<typeof configSchema>;
export type SourceConfig = z.infer<typeof sourceSchema>;
export type LimitsConfig = z.infer<typeof limitsSchema>;
