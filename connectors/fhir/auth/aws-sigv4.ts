/**
 * AWS Signature Version 4 for AWS HealthLake (or any SigV4-protected FHIR endpoint). Each request
 * is signed over method, host, path, query, the x-amz-* headers and a hash of the body.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { ConfigError } from '../../../src/errors';
import type { AuthDeps, AuthProvider, AuthRequest, AwsSigV4AuthConfig } from '../auth';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export function createAwsSigV4Auth(config: AwsSigV4AuthConfig, deps: AuthDeps): AuthProvider {
  const signer = new SignatureV4({
    service: config.service,
    region: config.region,
    credentials: resolveAwsCredentials(config, deps.env ?? process.env),
    sha256: Sha256,
  });
  return { headers: (req) => signRequest(signer, req, new Date()) };
}

/** Explicit config first, then the standard AWS environment variables. Errors name the setting only. */
export function resolveAwsCredentials(config: AwsSigV4AuthConfig, env: NodeJS.ProcessEnv): AwsCredentials {
  const accessKeyId = config.accessKeyId ?? nonEmpty(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = config.secretAccessKey ?? nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  const sessionToken = config.sessionToken ?? nonEmpty(env.AWS_SESSION_TOKEN);
  if (accessKeyId === undefined) {
    throw new ConfigError('aws-sigv4 auth: no access key id; set auth.accessKeyId or AWS_ACCESS_KEY_ID');
  }
  if (secretAccessKey === undefined) {
    throw new ConfigError('aws-sigv4 auth: no secret access key; set auth.secretAccessKey or AWS_SECRET_ACCESS_KEY');
  }
  return sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken };
}

async function signRequest(signer: SignatureV4, req: AuthRequest, signingDate: Date): Promise<Record<string, string>> {
  const url = new URL(req.url);
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      path: url.pathname,
      query: parseQuery(url.search),
      // `host` is signed but not returned: the HTTP client sends it from the connection origin.
      headers: { host: url.host },
      body: req.body,
    },
    { signingDate },
  );
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(signed.headers)) {
    if (name !== 'host') headers[name] = value;
  }
  return headers;
}

/**
 * The query as SigV4 canonicalises it: names and values percent-decoded (a `+` stays a plus,
 * as AWS reads it), repeated names collected into arrays.
 */
export function parseQuery(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  if (search.length <= 1) return query;
  for (const pair of search.slice(1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq));
    const value = eq < 0 ? '' : decode(pair.slice(eq + 1));
    const existing = query[name];
    if (existing === undefined) query[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else query[name] = [existing, value];
  }
  return query;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
