/**
 * Bearer JWT verification with jose: only asymmetric algorithms (RS256/RS384/ES256/ES384), so
 * `alg: none` and HMAC-signed-with-the-public-key confusion are rejected before any key is used;
 * `iss`, `aud`, `exp` (required) and `nbf` are checked with a small clock skew.
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ConfigError } from '../errors';
import type { JwtAuthConfig } from './config';

export class TokenError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'TokenError';
  }
}

function keySetOf(jwks: string): JWTVerifyGetKey {
  if (/^https?:\/\//.test(jwks)) return createRemoteJWKSet(new URL(jwks), { cooldownDuration: 30_000, cacheMaxAge: 600_000, timeoutDuration: 5000 });
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(jwks, 'utf8'));
  } catch {
    throw new ConfigError(`auth.jwks: cannot read a JSON Web Key Set from ${jwks}`);
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { keys?: unknown }).keys)) {
    throw new ConfigError(`auth.jwks: ${jwks} does not hold a JSON Web Key Set ({ "keys": [...] })`);
  }
  return createLocalJWKSet(parsed as { keys: [] });
}

/** A client-safe reason for a rejected token (goes into WWW-Authenticate and the audit trail). */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token has expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'the token is not valid yet';
    if (error.claim === 'iss') return 'the token has the wrong issuer';
    if (error.claim === 'aud') return 'the token has the wrong audience';
    if (error.claim === 'exp') return 'the token has no expiry';
    return `the token's "${error.claim}" claim is not acceptable`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm that is not accepted';
  if (error instanceof errors.JWKSNoMatchingKey) return 'the token is signed with an unknown key';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JOSEError) return 'the token cannot be verified';
  return 'the token is malformed';
}

export interface TokenVerifier {
  verify(token: string): Promise<JWTPayload>;
}

/** How long a verified token is taken on trust without checking its signature again. */
export const VERIFIED_TOKEN_TTL_MS = 60_000;
/** Most verified tokens remembered at once (the oldest are forgotten first). */
export const VERIFIED_TOKEN_CAPACITY = 10_000;

interface Verified {
  payload: JWTPayload;
  /** Until when (ms) the payload stands without a new verification. */
  until: number;
}

/**
 * Tokens that verified, by their exact compact serialization (header, claims and signature), so a
 * token that differs in any byte is verified afresh. An entry stands until the earlier of the
 * token's `exp` (plus the clock skew — the same instant jose would start refusing it) and
 * VERIFIED_TOKEN_TTL_MS after it was verified, so a key removed from the JWKS stops working within
 * a minute (the remote key set itself is cached for up to ten). Failures are never remembered.
 */
export class VerifiedTokens {
  private readonly entries = new Map<string, Verified>();

  constructor(
    private readonly skewMs: number,
    private readonly now: () => number,
  ) {}

  get(token: string): JWTPayload | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (this.now() < entry.until) return entry.payload;
    this.entries.delete(token);
    return undefined;
  }

  set(token: string, payload: JWTPayload): void {
    const now = this.now();
    const expires = typeof payload.exp === 'number' ? payload.exp * 1000 + this.skewMs : now;
    const until = Math.min(expires, now + VERIFIED_TOKEN_TTL_MS);
    if (until <= now) return;
    if (this.entries.size >= VERIFIED_TOKEN_CAPACITY) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { payload: Object.freeze(payload), until });
  }
}

export function createVerifier(config: JwtAuthConfig, now: () => number = Date.now): TokenVerifier {
  const keys = keySetOf(config.jwks);
  const options = {
    issuer: config.issuer,
    audience: config.audience,
    algorithms: [...config.algorithms],
    clockTolerance: config.clockSkewSeconds,
    requiredClaims: ['exp'],
  };
  const verified = new VerifiedTokens(config.clockSkewSeconds * 1000, now);
  return {
    async verify(token) {
      const known = verified.get(token);
      if (known) return known;
      try {
        const { payload } = await jwtVerify(token, keys, { ...options, currentDate: new Date(now()) });
        verified.set(token, payload);
        return payload;
      } catch (error) {
        throw new TokenError(reasonOf(error));
      }
    },
  };
}
