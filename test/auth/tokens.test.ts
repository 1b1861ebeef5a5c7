/**
 * Verified tokens are remembered (jose's signature check is the costly part of a request), but
 * never beyond what a fresh verification would accept: not past `exp`, not for more than a minute,
 * and only for the exact token string.
 */
import type { JWTPayload } from 'jose';
import { createAuthenticator, AuthFailure } from '../../src/auth/authenticate';
import { VERIFIED_TOKEN_CAPACITY, VERIFIED_TOKEN_TTL_MS, VerifiedTokens } from '../../src/auth/jwt';
import { parseConfig } from '../../src/config/load';
import { AUDIENCE, ISSUER, jwksFile, makeKeys, mint, type Keys } from '../security/fixtures';

let keys: Keys;
let clock: number;
const now = (): number => clock;

function authenticator(skew = 30) {
  const config = parseConfig({
    sources: [{ id: 'ehr', kind: 'fhir', url: 'http://127.0.0.1:1/fhir' }],
    auth: { mode: 'jwt', issuer: ISSUER, audience: AUDIENCE, jwks: jwksFile([keys.publicJwk]), clockSkewSeconds: skew, clients: [{ id: 'app', scopes: ['system/*.rs'], purposes: ['TREAT'] }] },
  });
  return createAuthenticator(config.auth, now);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AuthFailure) return `${error.status} ${error.message}`;
    throw error;
  }
  return 'accepted';
}

beforeAll(async () => {
  keys = await makeKeys('k1', 'ES384');
});

beforeEach(() => {
  clock = Date.now();
});

describe('verified tokens', () => {
  it('a token accepted a moment ago is refused once it has expired, clock skew included', async () => {
    const auth = authenticator(5);
    const token = await mint(keys, { client_id: 'app', scope: 'system/*.rs' }, { exp: 20 });
    await expect(auth.authenticate(bearer(token))).resolves.toMatchObject({ clientId: 'app' });
    clock += 20_000 + 4_000;
    await expect(auth.authenticate(bearer(token))).resolves.toMatchObject({ clientId: 'app' });
    clock += 2_000;
    expect(await refusal(auth.authenticate(bearer(token)))).toBe('401 the token has expired');
  });

  it('a copy of an accepted token that differs in one byte is verified afresh and refused', async () => {
    const auth = authenticator();
    const token = await mint(keys, { client_id: 'app', scope: 'system/*.rs' });
    await auth.authenticate(bearer(token));
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = signature.slice(0, 10) + (signature[10] === 'A' ? 'B' : 'A') + signature.slice(11);
    expect(await refusal(auth.authenticate(bearer(`${header}.${payload}.${flipped}`)))).toBe('401 the token signature is invalid');
    const claims = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), scope: 'system/*.rs admin' })).toString('base64url');
    expect(await refusal(auth.authenticate(bearer(`${header}.${claims}.${signature}`)))).toBe('401 the token signature is invalid');
  });

  it('a token from an unregistered client stays refused however often it is presented', async () => {
    const auth = authenticator();
    const token = await mint(keys, { client_id: 'stranger', scope: 'system/*.rs' });
    expect(await refusal(auth.authenticate(bearer(token)))).toMatch(/^403 /);
    expect(await refusal(auth.authenticate(bearer(token)))).toMatch(/^403 /);
  });

  it('are remembered until the earlier of exp + skew and one minute after verification', () => {
    const memory = new VerifiedTokens(30_000, now);
    const payload = (expSeconds: number): JWTPayload => ({ exp: Math.floor(clock / 1000) + expSeconds });
    memory.set('long', payload(3600));
    memory.set('short', payload(10));
    const start = clock;
    clock = start + 39_000;
    expect(memory.get('short')).toBeDefined();
    clock = Math.floor(start / 1000) * 1000 + 40_000;
    expect(memory.get('short')).toBeUndefined();
    clock = start + VERIFIED_TOKEN_TTL_MS - 1;
    expect(memory.get('long')).toBeDefined();
    clock = start + VERIFIED_TOKEN_TTL_MS;
    expect(memory.get('long')).toBeUndefined();
  });

  it('hold at most VERIFIED_TOKEN_CAPACITY tokens, forgetting the oldest first', () => {
    const memory = new VerifiedTokens(0, now);
    const exp = Math.floor(clock / 1000) + 3600;
    for (let i = 0; i <= VERIFIED_TOKEN_CAPACITY; i++) memory.set(`t${i}`, { exp });
    expect(memory.get('t0')).toBeUndefined();
    expect(memory.get('t1')).toBeDefined();
    expect(memory.get(`t${VERIFIED_TOKEN_CAPACITY}`)).toBeDefined();
  });
});
