/**
 * How the gateway authenticates to a FHIR server: the config shape for `sources[].auth` and the
 * providers that turn it into request headers. SMART Backend Services and AWS SigV4 live in
 * ./auth/ ; this file holds the contract, the schema and the trivial kinds.
 */
import { z } from 'zod';
import type { Logger } from '../../src/logger';
import { createAwsSigV4Auth } from './auth/aws-sigv4';
import { createSmartBackendAuth } from './auth/smart-backend';

export const noAuthSchema = z.object({ type: z.literal('none') }).strict();

export const bearerAuthSchema = z
  .object({
    type: z.literal('bearer'),
    token: z.string().min(1).describe('Static bearer token sent as `Authorization: Bearer …`. Use `${ENV}`.'),
  })
  .strict();

export const smartBackendAuthSchema = z
  .object({
    type: z.literal('smart-backend'),
    tokenUrl: z.string().url().describe('OAuth token endpoint of the FHIR server (SMART Backend Services).'),
    clientId: z.string().min(1).describe('Registered client id; used as iss and sub of the client assertion.'),
    privateKey: z
      .string()
      .min(1)
      .describe('Private key as PEM text, or a path to a PEM, JWK or JWKS file. Use `${ENV}` for inline keys.'),
    keyId: z.string().min(1).optional().describe('`kid` of the signing key as registered with the server.'),
    alg: z.enum(['RS384', 'ES384']).default('RS384').describe('Client assertion signing algorithm.'),
    scope: z.string().min(1).default('system/*.rs').describe('Scopes requested with each token.'),
  })
  .strict();

export const awsSigV4AuthSchema = z
  .object({
    type: z.literal('aws-sigv4'),
    region: z.string().min(1).describe('AWS region of the HealthLake data store, e.g. `us-east-1`.'),
    service: z.string().min(1).default('healthlake').describe('SigV4 signing service name.'),
    accessKeyId: z.string().min(1).optional().describe('Defaults to the AWS_ACCESS_KEY_ID environment variable.'),
    secretAccessKey: z
      .string()
      .min(1)
      .optional()
      .describe('Defaults to the AWS_SECRET_ACCESS_KEY environment variable.'),
    sessionToken: z.string().min(1).optional().describe('Defaults to the AWS_SESSION_TOKEN environment variable.'),
  })
  .strict();

/** `sources[].auth` for a FHIR source. */
export const fhirAuthSchema = z.discriminatedUnion('type', [
  noAuthSchema,
  bearerAuthSchema,
  smartBackendAuthSchema,
  awsSigV4AuthSchema,
]);

export type FhirAuthConfig = z.infer<typeof fhirAuthSchema>;
export type SmartBackendAuthConfig = z.infer<typeof smartBackendAuthSchema>;
export type AwsSigV4AuthConfig = z.infer<typeof awsSigV4AuthSchema>;

/** The request an auth provider decorates. `url` is absolute; `body` is exactly what will be sent. */
export interface AuthRequest {
  method: string;
  url: string;
  body?: string;
}

export interface AuthProvider {
  /** Headers to add to this request (lower-case names). May fetch or refresh a token. */
  headers(req: AuthRequest): Promise<Record<string, string>>;
  /**
   * The upstream rejected these headers (HTTP 401): drop cached credentials so the next
   * `headers()` call gets fresh ones. Only providers that can refresh implement it.
   */
  invalidate?(rejected: Record<string, string>): void;
  close?(): void;
}

export interface AuthDeps {
  /** Source id, for error messages and logs. */
  sourceId: string;
  logger: Logger;
  /** Environment for credential fallbacks; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Clock for token-cache expiry (ms since epoch; defaults to Date.now). Timestamps sent upstream always use real time. */
  now?: () => number;
  /** Timeout for token endpoint calls; defaults to 10 s. */
  timeoutMs?: number;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

export function createAuthProvider(config: FhirAuthConfig, deps: AuthDeps): AuthProvider {
  switch (config.type) {
    case 'none':
      return { headers: () => Promise.resolve(NO_HEADERS) };
    case 'bearer':
      return staticHeaders({ authorization: `Bearer ${config.token}` });
    case 'smart-backend':
      return createSmartBackendAuth(config, deps);
    case 'aws-sigv4':
      return createAwsSigV4Auth(config, deps);
  }
}

function staticHeaders(headers: Record<string, string>): AuthProvider {
  const frozen = Object.freeze(headers);
  const resolved = Promise.resolve(frozen);
  return { headers: () => resolved };
}
