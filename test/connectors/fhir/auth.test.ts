import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import {
  createAuthProvider,
  fhirAuthSchema,
  type AuthDeps,
  type AuthProvider,
  type FhirAuthConfig,
} from '../../../connectors/fhir/auth';
import { FhirHttpClient, FhirHttpError } from '../../../connectors/fhir/http';
import type { CallContext } from '../../../connectors/types';
import { ConfigError } from '../../../src/errors';
import {
  startBearerFhirServer,
  startSigV4FhirServer,
  startTokenServer,
  type HttpPeer,
  type SigV4Expectation,
  type TokenServer,
  type TokenServerOptions,
} from '../../support/http-peers';

const logger = pino({ level: 'silent' });
const ctx: CallContext = { requestId: 'r1' };
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const rsaPem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function track<T extends HttpPeer>(peer: T): T {
  cleanups.push(() => peer.close());
  return peer;
}

function provider(config: unknown, deps: Partial<AuthDeps> = {}): AuthProvider {
  const auth = createAuthProvider(fhirAuthSchema.parse(config), { sourceId: 'ehr', logger, ...deps });
  cleanups.push(() => auth.close?.());
  return auth;
}

function client(baseUrl: string, auth: AuthProvider): FhirHttpClient {
  const c = new FhirHttpClient(
    {
      sourceId: 'ehr',
      baseUrl,
      timeoutMs: 2000,
      auth,
      retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 100 },
      breaker: { failureThreshold: 5, resetAfterMs: 1000 },
      maxConnections: 4,
    },
    logger,
  );
  cleanups.push(() => c.close());
  return c;
}

async function tokenServer(opts: Partial<TokenServerOptions> = {}): Promise<TokenServer> {
  return track(await startTokenServer({ clientId: 'gateway', publicKey: rsa.publicKey, alg: 'RS384', ...opts }));
}

function smartConfig(tokens: TokenServer, extra: Record<string, unknown> = {}): unknown {
  return { type: 'smart-backend', tokenUrl: tokens.tokenUrl, clientId: 'gateway', privateKey: rsaPem, ...extra };
}

describe('auth config', () => {
  it('fills in the documented defaults', () => {
    const smart = fhirAuthSchema.parse({
      type: 'smart-backend',
      tokenUrl: 'https://t/x',
      clientId: 'c',
      privateKey: 'k',
    });
    expect(smart).toMatchObject({ alg: 'RS384', scope: 'system/*.rs' });
    expect(fhirAuthSchema.parse({ type: 'aws-sigv4', region: 'us-east-1' })).toMatchObject({ service: 'healthlake' });
  });

  it('rejects an unknown auth type and names missing keys', () => {
    expect(fhirAuthSchema.safeParse({ type: 'basic' }).success).toBe(false);
    const missing = fhirAuthSchema.safeParse({ type: 'smart-backend', clientId: 'c', privateKey: 'k' });
    expect(missing.success ? [] : missing.error.issues.map((i) => i.path.join('.'))).toEqual(['tokenUrl']);
  });
});

describe('bearer and none', () => {
  it('sends a static bearer token the FHIR server accepts', async () => {
    const fhir = track(await startBearerFhirServer(() => new Set(['static-token'])));
    const auth = provider({ type: 'bearer', token: 'static-token' });
    await expect(client(fhir.origin, auth).getJson('Patient/p1', ctx)).resolves.toMatchObject({ id: 'p1' });
  });

  it('sends no Authorization header for type none', async () => {
    const fhir = track(await startBearerFhirServer(() => new Set()));
    await expect(client(fhir.origin, provider({ type: 'none' })).getJson('Patient/p1', ctx)).rejects.toMatchObject({
      status: 401,
    });
    expect(fhir.requests[0]?.headers.authorization).toBeUndefined();
  });
});

describe('SMART Backend Services', () => {
  it('gets a token with a valid private_key_jwt assertion and calls the FHIR server with it', async () => {
    const tokens = await tokenServer();
    const fhir = track(await startBearerFhirServer(() => tokens.validTokens));
    const auth = provider(smartConfig(tokens, { keyId: 'key-1', scope: 'system/Patient.rs' }));
    await expect(client(fhir.origin, auth).getJson('Patient/p1', ctx)).resolves.toMatchObject({ id: 'p1' });

    const [assertion] = tokens.assertions;
    expect(assertion?.header).toEqual({ alg: 'RS384', typ: 'JWT', kid: 'key-1' });
    expect(assertion?.claims).toMatchObject({ iss: 'gateway', sub: 'gateway', aud: tokens.tokenUrl });
    const { exp, iat } = assertion?.claims as { exp: number; iat: number };
    expect(exp - iat).toBeLessThanOrEqual(300);
    expect(assertion?.scope).toBe('system/Patient.rs');
  });

  it('signs with ES384 using a key from a JWK file, taking kid from the file', async () => {
    const tokens = await tokenServer({ publicKey: ec.publicKey, alg: 'ES384' });
    const fhir = track(await startBearerFhirServer(() => tokens.validTokens));
    const path = writeTemp('key.jwk.json', JSON.stringify({ ...ec.privateKey.export({ format: 'jwk' }), kid: 'ec-1' }));
    const auth = provider(smartConfig(tokens, { privateKey: path, alg: 'ES384' }));
    await expect(client(fhir.origin, auth).getJson('Patient/p1', ctx)).resolves.toMatchObject({ id: 'p1' });
    expect(tokens.assertions[0]?.header).toMatchObject({ alg: 'ES384', kid: 'ec-1' });
  });

  it('reads a PEM key from a file path', async () => {
    const tokens = await tokenServer();
    const auth = provider(smartConfig(tokens, { privateKey: writeTemp('key.pem', rsaPem) }));
    await expect(auth.headers({ method: 'GET', url: 'http://x/' })).resolves.toEqual({
      authorization: 'Bearer token-1',
    });
  });

  it('lets concurrent callers share one token request', async () => {
    const tokens = await tokenServer({ delayMs: 100 });
    const fhir = track(await startBearerFhirServer(() => tokens.validTokens));
    const c = client(fhir.origin, provider(smartConfig(tokens)));
    await Promise.all(Array.from({ length: 20 }, () => c.getJson('Patient/p1', ctx)));
    expect(tokens.requests).toHaveLength(1);
    expect(fhir.requests).toHaveLength(20);
  });

  it('reuses the token until shortly before expires_in, then fetches a new one', async () => {
    const tokens = await tokenServer({ expiresIn: 300 });
    let now = Date.now();
    const auth = provider(smartConfig(tokens), { now: () => now });
    const req = { method: 'GET', url: 'http://x/' };
    await expect(auth.headers(req)).resolves.toEqual({ authorization: 'Bearer token-1' });
    now += 200_000;
    await expect(auth.headers(req)).resolves.toEqual({ authorization: 'Bearer token-1' });
    now += 50_000; // 250 s: inside the refresh margin before 300 s
    await expect(auth.headers(req)).resolves.toEqual({ authorization: 'Bearer token-2' });
    expect(tokens.requests).toHaveLength(2);
  });

  it('refreshes the token once when the FHIR server answers 401, then succeeds', async () => {
    const tokens = await tokenServer();
    const fhir = track(await startBearerFhirServer(() => tokens.validTokens));
    const c = client(fhir.origin, provider(smartConfig(tokens)));
    await c.getJson('Patient/p1', ctx);
    tokens.validTokens.clear(); // the server revokes the token early
    await expect(c.getJson('Patient/p1', ctx)).resolves.toMatchObject({ id: 'p1' });
    expect(tokens.requests).toHaveLength(2);
    expect(fhir.requests.map((r) => r.headers.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-1',
      'Bearer token-2',
    ]);
  });

  it('gives up with FhirHttpError 401 when the fresh token is rejected too', async () => {
    const tokens = await tokenServer();
    const fhir = track(await startBearerFhirServer(() => new Set()));
    const error: unknown = await client(fhir.origin, provider(smartConfig(tokens)))
      .getJson('Patient/p1', ctx)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FhirHttpError);
    expect(error).toMatchObject({ status: 401 });
    expect(tokens.requests).toHaveLength(2);
    expect(fhir.requests).toHaveLength(2);
  });

  it('reports a rejected client assertion with the OAuth error code and no key material', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const tokens = await tokenServer({ publicKey: other.publicKey });
    const error: unknown = await provider(smartConfig(tokens))
      .headers({ method: 'GET', url: 'http://x/' })
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe(
      'Source "ehr" is unavailable: token endpoint answered HTTP 401 (invalid_client)',
    );
    expect((error as Error).message).not.toContain('PRIVATE KEY');
  });

  it('reports an unreachable token endpoint without waiting forever', async () => {
    const tokens = await tokenServer();
    await tokens.close();
    const call = provider(smartConfig(tokens)).headers({ method: 'GET', url: 'http://x/' });
    await expect(call).rejects.toThrow('Source "ehr" is unavailable: token endpoint unreachable');
  });

  it('refuses a key that does not fit alg at startup', () => {
    const ecPem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const config = { type: 'smart-backend', tokenUrl: 'http://t/token', clientId: 'c', privateKey: ecPem };
    expect(() => provider(config)).toThrow(
      new ConfigError('smart-backend auth: alg RS384 needs an RSA key, but privateKey is not one'),
    );
  });

  it('names an unreadable key file but never echoes a mangled inline key', () => {
    const base = { type: 'smart-backend', tokenUrl: 'http://t/token', clientId: 'c' };
    expect(() => provider({ ...base, privateKey: '/no/such/key.pem' })).toThrow(
      'smart-backend auth: cannot read privateKey file "/no/such/key.pem"',
    );
    const mangled = rsaPem.replace('-----BEGIN PRIVATE KEY-----', 'BEGIN PRIVATE KEY');
    const error = catchSync(() => provider({ ...base, privateKey: mangled }));
    expect(error?.message).toBe('smart-backend auth: privateKey is neither PEM/JWK text nor a readable file path');
    const broken = '-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----';
    expect(catchSync(() => provider({ ...base, privateKey: broken }))?.message).not.toContain('not-a-key');
  });
});

describe('AWS SigV4', () => {
  const credentials: SigV4Expectation = {
    region: 'us-east-1',
    service: 'healthlake',
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
    sessionToken: 'session-token-example',
  };
  const config = { type: 'aws-sigv4', ...credentials };

  it('signs GET requests so the server can recompute the signature', async () => {
    const fhir = track(await startSigV4FhirServer(credentials));
    const c = client(`${fhir.origin}/datastore/abc/r4`, provider(config));
    await expect(
      c.getJson('Observation?code=http%3A%2F%2Floinc.org%7C1234&patient=p1&patient=p2', ctx),
    ).resolves.toMatchObject({
      resourceType: 'Bundle',
    });
    expect(fhir.requests[0]?.headers).toMatchObject({ 'x-amz-security-token': 'session-token-example' });
  });

  it('signs POST bodies', async () => {
    const fhir = track(await startSigV4FhirServer(credentials));
    const c = client(`${fhir.origin}/datastore/abc/r4`, provider(config));
    await expect(
      c.postJson('Patient/_search', { resourceType: 'Parameters', parameter: [] }, ctx),
    ).resolves.toMatchObject({
      resourceType: 'Bundle',
    });
  });

  it('is rejected when signed with a different secret (the peer really verifies)', async () => {
    const fhir = track(await startSigV4FhirServer(credentials));
    const c = client(fhir.origin, provider({ ...config, secretAccessKey: 'wrong-secret' }));
    await expect(c.getJson('Patient/p1', ctx)).rejects.toMatchObject({ status: 403 });
  });

  it('takes credentials from the AWS_* environment variables when the config has none', async () => {
    const fhir = track(await startSigV4FhirServer(credentials));
    const env = {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
    };
    const auth = provider({ type: 'aws-sigv4', region: 'us-east-1' }, { env });
    await expect(client(fhir.origin, auth).getJson('Patient/p1', ctx)).resolves.toMatchObject({
      resourceType: 'Bundle',
    });
  });

  it('names the missing setting when no credentials are configured', () => {
    const base: FhirAuthConfig = { type: 'aws-sigv4', region: 'us-east-1', service: 'healthlake' };
    expect(() => createAuthProvider(base, { sourceId: 'ehr', logger, env: {} })).toThrow(/AWS_ACCESS_KEY_ID/);
    const noSecret = { ...base, accessKeyId: 'AKID' };
    expect(() => createAuthProvider(noSecret, { sourceId: 'ehr', logger, env: {} })).toThrow(
      'aws-sigv4 auth: no secret access key; set auth.secretAccessKey or AWS_SECRET_ACCESS_KEY',
    );
  });
});

function writeTemp(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'healthgraph-auth-')), name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
}

function catchSync(fn: () => unknown): Error | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err as Error;
  }
}
