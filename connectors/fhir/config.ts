/** The `kind: fhir` source configuration. */
import { z } from 'zod';
import { sourceIdSchema } from '../config';
import { fhirAuthSchema } from './auth';

export const fhirSourceSchema = z
  .object({
    id: sourceIdSchema,
    kind: z.literal('fhir'),
    url: z.string().url().describe('FHIR R4 base URL, e.g. http://127.0.0.1:8081/fhir'),
    auth: fhirAuthSchema.default({ type: 'none' }).describe('How to authenticate to the server: none | bearer | smart-backend | aws-sigv4'),
    timeoutMs: z.number().int().min(100).max(120_000).default(5000).describe('Limit for one upstream request attempt, in ms'),
    pageSize: z.number().int().min(10).max(5000).default(1000).describe('Largest `_count` sent when fetching many records'),
    batch: z
      .enum(['auto', 'on', 'off'])
      .default('auto')
      .describe(
        'Send the reads and searches of one request level to this source as one FHIR `batch` Bundle; `auto`: when the CapabilityStatement lists `batch` (needs `paging: offset`)',
      ),
    include: z
      .enum(['auto', 'off'])
      .default('auto')
      .describe(
        'Ask for the targets of references a query follows with the list that holds them (`_include`); `auto`: for the includes the CapabilityStatement lists (`searchInclude`)',
      ),
    paging: z.enum(['offset', 'links']).default('offset').describe('`offset`: the server supports `_offset`; `links`: page only by following `next` links'),
    maxConnections: z.number().int().min(1).max(1024).default(64).describe('Keep-alive connections to the server'),
    retry: z
      .object({
        maxAttempts: z.number().int().min(1).max(10).default(3).describe('Attempts per upstream request, the first included'),
        baseDelayMs: z.number().int().min(0).max(60_000).default(100).describe('First backoff delay; doubles per retry, with jitter'),
        maxDelayMs: z.number().int().min(0).max(120_000).default(2000).describe('Longest wait between attempts; a longer Retry-After fails the request'),
      })
      .strict()
      .default({})
      .describe('Retries on 429/502/503/504 and connection errors, with exponential backoff honouring Retry-After'),
    breaker: z
      .object({
        failureThreshold: z.number().int().min(1).max(1000).default(5).describe('Consecutive failed attempts that open the circuit'),
        resetAfterMs: z.number().int().min(100).max(600_000).default(10_000).describe('How long the circuit stays open before one trial request'),
      })
      .strict()
      .default({})
      .describe('Circuit breaker: opens after this many consecutive failures, half-opens after resetAfterMs'),
  })
  .strict();

export type FhirSourceConfig = z.infer<typeof fhirSourceSchema>;
