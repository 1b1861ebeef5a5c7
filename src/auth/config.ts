/**
 * Settings for authentication, the partner-app client registry, consent and audit. Part of the one
 * config schema (src/config/schema.ts); every setting is described for docs/configuration.md.
 */
import { z } from 'zod';

export const ALGORITHMS = ['RS256', 'RS384', 'ES256', 'ES384'] as const;

export const clientSchema = z
  .object({
    id: z.string().min(1).describe('The `client_id` claim of this partner app'),
    scopes: z
      .array(z.string().min(1))
      .default([])
      .describe('SMART scopes the app may hold (v2 `patient/Observation.rs`, `user/*.rs`, `system/Claim.rs`, or v1 `.read`); a token gets only scopes covered here'),
    purposes: z
      .array(z.string().min(1))
      .default(['TREAT'])
      .describe('HL7 PurposeOfUse codes the app may claim in `purpose_of_use` (TREAT, ETREAT, HPAYMT, HOPERAT, HRESCH, PUBHLTH, PATRQT, BTG)'),
    breakTheGlass: z.boolean().default(false).describe('Whether the app may break the glass (`purpose_of_use` BTG or ETREAT lifts consent denials, always audited)'),
    organization: z
      .string()
      .optional()
      .describe('The organization this app acts for, as a FHIR reference (`Organization/123`); matched against Consent provision actors'),
    rateLimit: z
      .object({ perMinute: z.number().int().min(1).describe('Requests this app may make per minute, per gateway (or shared through Redis)') })
      .strict()
      .optional()
      .describe("This app's rate limit; default: `auth.defaultRateLimit`"),
    limits: z
      .object({
        maxCost: z.number().int().min(1).optional().describe('Largest query cost for this app (overrides `limits.maxCost` downward only)'),
        maxDepth: z.number().int().min(1).optional().describe('Deepest query for this app (overrides `limits.maxDepth` downward only)'),
      })
      .strict()
      .default({})
      .describe('Query limits for this app'),
    persistedQueriesOnly: z.boolean().default(false).describe('Accept only queries whose hash is in `auth.persistedQueries` (allow-list mode)'),
  })
  .strict();

const noneAuthSchema = z
  .object({ mode: z.literal('none').describe('No authentication: local development only; the server refuses to listen on a non-loopback address') })
  .strict();

const jwtAuthSchema = z
  .object({
    mode: z.literal('jwt').describe('Bearer JWTs verified against a JWKS'),
    issuer: z.string().min(1).describe('Expected `iss` claim'),
    audience: z.string().min(1).describe('Expected `aud` claim (usually the gateway URL)'),
    jwks: z.string().min(1).describe('JWKS location: an http(s) URL, or a path to a JSON file holding `{ "keys": [...] }`'),
    algorithms: z.array(z.enum(ALGORITHMS)).default([...ALGORITHMS]).describe('Accepted signature algorithms; `none` and HMAC are never accepted'),
    clockSkewSeconds: z.number().int().min(0).max(300).default(30).describe('Tolerance for `exp` and `nbf`, seconds'),
    clients: z.array(clientSchema).default([]).describe('The client registry: partner apps allowed to call; a token from any other `client_id` is refused (403)'),
    defaultRateLimit: z
      .object({ perMinute: z.number().int().min(1).default(600).describe('Requests per minute') })
      .strict()
      .default({})
      .describe('Rate limit for clients that do not set their own'),
    rateLimit: z
      .object({
        redisUrl: z
          .string()
          .optional()
          .describe('Share rate-limit counters between gateway instances through Redis (`redis://host:6379`); default: in memory, per instance'),
      })
      .strict()
      .default({})
      .describe('Where rate-limit counters live'),
    breakTheGlassMinutes: z
      .number()
      .int()
      .min(1)
      .max(1440)
      .default(60)
      .describe('How long after the token was issued (`iat`) a break-the-glass purpose is honoured'),
    adminScopes: z
      .array(z.string().min(1))
      .default(['system/AuditEvent.rs', 'system/AuditEvent.read', 'admin'])
      .describe('Scopes that may read the audit trail (`auditEvents`)'),
    persistedQueries: z
      .array(z.string().regex(/^[0-9a-f]{64}$/))
      .default([])
      .describe('SHA-256 hashes (hex) of the queries `persistedQueriesOnly` clients may run'),
  })
  .strict();

export const authSchema = z
  .discriminatedUnion('mode', [noneAuthSchema, jwtAuthSchema])
  .default({ mode: 'none' })
  .describe('How callers authenticate; `mode` selects none (development) or jwt');

export const consentSchema = z
  .object({
    enabled: z
      .boolean()
      .optional()
      .describe('Evaluate consent and sensitivity labels; default: on with `auth.mode: jwt` or when this section is present, off with `auth.mode: none` and no section'),
    default: z
      .enum(['opt-out', 'opt-in'])
      .default('opt-out')
      .describe('With no applicable Consent: opt-out permits treatment-type purposes (TREAT, ETREAT, HPAYMT, HOPERAT, PATRQT); opt-in permits nothing'),
    store: z.string().optional().describe('A Consent JSON file, a Bundle, or a folder of them, evaluated besides the Consents held by the sources'),
    sources: z
      .array(z.string())
      .optional()
      .describe('Source ids whose `Consent` resources are read (`Consent?patient=…`, batched per request); default: every source that serves Consent'),
    labels: z
      .record(z.string(), z.array(z.string()))
      .default({})
      .describe('Extra sensitivity code lists: label (SUD, ETH, HIV, PSY, SDV, SEX, STD, …) → codes as `system|code` or `system|prefix*`'),
    restrictedLabels: z
      .array(z.string())
      .default(['HIV', 'PSY', 'SDV', 'SEX', 'STD'])
      .describe('Labels released only for treatment purposes unless a consent permits them (SUD/ETH are always withheld without an explicit consent)'),
    redactedMarker: z.string().default('[redacted]').describe('Text put in place of redacted elements (with data-absent-reason `masked`)'),
  })
  .strict()
  .optional()
  .describe('Consent evaluation and sensitive-data handling');

export const auditSchema = z
  .object({
    file: z.string().optional().describe('The SQLite audit file; default: `audit.sqlite` next to the config file'),
    enabled: z.boolean().default(true).describe('Write an audit event for every GraphQL request; with jwt auth it cannot be turned off'),
  })
  .strict()
  .default({})
  .describe('The append-only, hash-chained audit trail');

export type AuthConfig = z.infer<typeof authSchema>;
export type JwtAuthConfig = Extract<AuthConfig, { mode: 'jwt' }>;
export type ClientConfig = z.infer<typeof clientSchema>;
export type ConsentConfig = NonNullable<z.infer<typeof consentSchema>>;
export type AuditConfig = z.infer<typeof auditSchema>;
