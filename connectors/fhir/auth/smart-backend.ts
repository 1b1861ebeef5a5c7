/**
 * SMART Backend Services (https://hl7.org/fhir/smart-app-launch/backend-services.html): the
 * client_credentials grant authenticated with a `private_key_jwt` client assertion. Tokens are
 * cached until shortly before they expire and concurrent callers share one token request.
 */
import { createPrivateKey, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT } from 'jose';
import { Agent, request } from 'undici';
import { ConfigError, SourceUnavailableError } from '../../../src/errors';
import type { AuthDeps, AuthProvider, SmartBackendAuthConfig } from '../auth';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Client assertions live 4 minutes (the spec allows at most 5). */
const ASSERTION_LIFETIME_S = 240;
/** When the server omits expires_in, assume the spec's recommended 5 minutes. */
const DEFAULT_EXPIRES_IN_S = 300;
const MAX_TOKEN_RESPONSE_LOG = 500;

interface SigningKey {
  key: KeyObject;
  kid?: string;
}

interface CachedToken {
  headers: Readonly<Record<string, string>>;
  refreshAt: number;
}

export function createSmartBackendAuth(config: SmartBackendAuthConfig, deps: AuthDeps): AuthProvider {
  return new SmartBackendAuth(config, deps, loadSigningKey(config));
}

class SmartBackendAuth implements AuthProvider {
  private cached: CachedToken | undefined;
  private inFlight: Promise<Readonly<Record<string, string>>> | undefined;
  private readonly agent = new Agent({ connections: 2, keepAliveTimeout: 10_000 });
  private readonly now: () => number;
  private readonly log: AuthDeps['logger'];

  constructor(
    private readonly config: SmartBackendAuthConfig,
    private readonly deps: AuthDeps,
    private readonly signingKey: SigningKey,
  ) {
    this.now = deps.now ?? Date.now;
    this.log = deps.logger.child({ source: deps.sourceId, component: 'smart-backend-auth' });
  }

  headers(): Promise<Record<string, string>> {
    const cached = this.cached;
    if (cached && this.now() < cached.refreshAt) return Promise.resolve(cached.headers);
    this.inFlight ??= this.fetchToken().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  invalidate(rejected: Record<string, string>): void {
    // Only drop the token that was rejected: concurrent 401s must not cause a token storm.
    if (this.cached && this.cached.headers.authorization === rejected.authorization) this.cached = undefined;
  }

  close(): void {
    void this.agent.close();
  }

  private async fetchToken(): Promise<Readonly<Record<string, string>>> {
    const startedAt = this.now();
    const res = await this.postTokenRequest(await this.clientAssertion(Date.now()));
    const token = this.parseTokenResponse(res.status, res.text);
    const lifetimeMs = token.expiresIn * 1000;
    const headers = Object.freeze({ authorization: `Bearer ${token.accessToken}` });
    this.cached = { headers, refreshAt: startedAt + lifetimeMs - Math.min(60_000, lifetimeMs / 5) };
    this.log.debug({ expiresIn: token.expiresIn }, 'obtained access token');
    return headers;
  }

  private clientAssertion(nowMs: number): Promise<string> {
    const { clientId, tokenUrl, alg } = this.config;
    const iat = Math.floor(nowMs / 1000);
    const kid = this.config.keyId ?? this.signingKey.kid;
    return new SignJWT({})
      .setProtectedHeader(kid === undefined ? { alg, typ: 'JWT' } : { alg, typ: 'JWT', kid })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(tokenUrl)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setExpirationTime(iat + ASSERTION_LIFETIME_S)
      .sign(this.signingKey.key);
  }

  private async postTokenRequest(assertion: string): Promise<{ status: number; text: string }> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: this.config.scope,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
    });
    try {
      const res = await request(this.config.tokenUrl, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        signal: AbortSignal.timeout(this.deps.timeoutMs ?? 10_000),
      });
      return { status: res.statusCode, text: await res.body.text() };
    } catch (err) {
      this.log.debug({ err: errorCode(err) }, 'token endpoint unreachable');
      throw this.unavailable('token endpoint unreachable');
    }
  }

  private parseTokenResponse(status: number, text: string): { accessToken: string; expiresIn: number } {
    const body = parseJsonObject(text);
    if (status !== 200) {
      this.log.debug({ status, body: text.slice(0, MAX_TOKEN_RESPONSE_LOG) }, 'token request rejected');
      // OAuth `error` is a registered code (invalid_client, invalid_scope, …): safe and useful to show.
      const code = typeof body?.error === 'string' && /^[a-z_]{1,40}$/.test(body.error) ? ` (${body.error})` : '';
      throw this.unavailable(`token endpoint answered HTTP ${status}${code}`);
    }
    const accessToken = body?.access_token;
    const tokenType = body?.token_type;
    if (typeof accessToken !== 'string' || accessToken.length === 0) {
      throw this.unavailable('token endpoint returned no access_token');
    }
    if (typeof tokenType === 'string' && tokenType.toLowerCase() !== 'bearer') {
      throw this.unavailable('token endpoint returned an unsupported token_type');
    }
    const expiresIn =
      typeof body?.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_EXPIRES_IN_S;
    return { accessToken, expiresIn };
  }

  private unavailable(reason: string): SourceUnavailableError {
    return new SourceUnavailableError(this.deps.sourceId, reason);
  }
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function errorCode(err: unknown): string {
  const { code, name } = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; name?: unknown };
  return typeof code === 'string' ? code : typeof name === 'string' ? name : 'unknown';
}

/**
 * Loads the private key from inline PEM/JWK text or from a file, and checks it fits `alg`.
 * Messages name the setting and, for paths, the path — never key material.
 */
export function loadSigningKey(config: Pick<SmartBackendAuthConfig, 'privateKey' | 'alg' | 'keyId'>): SigningKey {
  const text = isInlineKey(config.privateKey) ? config.privateKey : readKeyFile(config.privateKey);
  const parsed = parseKey(text, config.keyId);
  checkKeyFitsAlg(parsed.key, config.alg);
  return parsed;
}

function isInlineKey(value: string): boolean {
  const head = value.trimStart();
  return head.startsWith('-----BEGIN') || head.startsWith('{');
}

function readKeyFile(path: string): string {
  // A value that cannot be a path is most likely a mangled inline key: don't echo it.
  const printable = path.length <= 512 && !/\s/.test(path);
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new ConfigError(
      printable
        ? `smart-backend auth: cannot read privateKey file "${path}"`
        : 'smart-backend auth: privateKey is neither PEM/JWK text nor a readable file path',
    );
  }
}

function parseKey(text: string, keyId: string | undefined): SigningKey {
  const invalid = new ConfigError('smart-backend auth: privateKey is not a valid PEM or JWK private key');
  try {
    if (!text.trimStart().startsWith('{')) return { key: createPrivateKey({ key: text, format: 'pem' }) };
    const jwk = pickJwk(JSON.parse(text) as unknown, keyId);
    if (!jwk) throw invalid;
    return {
      key: createPrivateKey({ key: jwk, format: 'jwk' }),
      kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
    };
  } catch {
    throw invalid;
  }
}

/** A JWK, or from a JWKS the private key with `kid === keyId` (the first private key when no keyId is set). */
function pickJwk(value: unknown, keyId: string | undefined): JsonWebKey | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const keys = (value as { keys?: unknown }).keys;
  const candidates: unknown[] = Array.isArray(keys) ? keys : [value];
  const privateKeys = candidates.filter(
    (k): k is JsonWebKey => typeof k === 'object' && k !== null && typeof (k as JsonWebKey).d === 'string',
  );
  return Array.isArray(keys) && keyId !== undefined ? privateKeys.find((k) => k.kid === keyId) : privateKeys[0];
}

function checkKeyFitsAlg(key: KeyObject, alg: SmartBackendAuthConfig['alg']): void {
  const fits =
    alg === 'RS384'
      ? key.asymmetricKeyType === 'rsa'
      : key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'secp384r1';
  if (!fits) {
    const want = alg === 'RS384' ? 'an RSA key' : 'an EC P-384 key';
    throw new ConfigError(`smart-backend auth: alg ${alg} needs ${want}, but privateKey is not one`);
  }
}
