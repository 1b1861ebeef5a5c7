/**
 * From an HTTP request to a Principal, before any GraphQL runs: the bearer token is verified, its
 * client looked up in the registry, its purpose and break-the-glass checked, and its scopes
 * intersected with what the client is registered for.
 *
 * 401 UNAUTHENTICATED (with `WWW-Authenticate`) for a missing, malformed or invalid token;
 * 403 FORBIDDEN for a valid token from an unknown client, or a purpose the client may not claim.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { JWTPayload } from 'jose';
import type { ErrorCode } from '../errors';
import type { AuthConfig, ClientConfig, JwtAuthConfig } from './config';
import { createVerifier, TokenError, type TokenVerifier } from './jwt';
import { developmentPrincipal, type Principal } from './principal';
import { grantsOf, intersectGrants, splitScopes } from './scopes';

export class AuthFailure extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly code: Extract<ErrorCode, 'UNAUTHENTICATED' | 'FORBIDDEN'>,
    message: string,
    readonly wwwAuthenticate?: string,
    /** What the audit trail records about the caller, when known. */
    readonly claims: { clientId?: string; subject?: string } = {},
  ) {
    super(message);
    this.name = 'AuthFailure';
  }
}

const BREAK_THE_GLASS = new Set(['BTG', 'ETREAT']);

function unauthenticated(message: string, error?: string): AuthFailure {
  const challenge = error ? `Bearer realm="healthgraph", error="${error}", error_description="${message}"` : 'Bearer realm="healthgraph"';
  return new AuthFailure(401, 'UNAUTHENTICATED', message, challenge);
}

function stringClaim(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** `purpose_of_use` as a code: a string, a Coding, or the first of a list of either. */
function purposeOf(payload: JWTPayload): string {
  let value: unknown = payload.purpose_of_use;
  if (Array.isArray(value)) value = value[0];
  if (typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'string') value = (value as { code: string }).code;
  return typeof value === 'string' && value.length > 0 ? value.toUpperCase() : 'TREAT';
}

export interface Authenticator {
  authenticate(headers: IncomingHttpHeaders): Promise<Principal>;
}

export function createAuthenticator(config: AuthConfig, now: () => number = Date.now): Authenticator {
  if (config.mode === 'none') return { authenticate: async () => developmentPrincipal() };
  return jwtAuthenticator(config, createVerifier(config, now), now);
}

function jwtAuthenticator(config: JwtAuthConfig, verifier: TokenVerifier, now: () => number): Authenticator {
  const clients = new Map<string, ClientConfig>(config.clients.map((c) => [c.id, c]));
  const clientGrants = new Map(config.clients.map((c) => [c.id, { patient: grantsOf(c.scopes, true), other: grantsOf(c.scopes, false) }]));
  return {
    async authenticate(headers) {
      const header = headers.authorization;
      if (!header) throw unauthenticated('A bearer token is required');
      const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
      if (!match) throw unauthenticated('The Authorization header must be "Bearer <token>"', 'invalid_request');
      let payload: JWTPayload;
      try {
        payload = await verifier.verify(match[1]!);
      } catch (error) {
        if (error instanceof TokenError) throw unauthenticated(error.reason, 'invalid_token');
        throw error;
      }
      const clientId = stringClaim(payload, 'client_id') ?? stringClaim(payload, 'azp');
      const subject = stringClaim(payload, 'sub');
      if (!clientId) throw unauthenticated('the token has no client_id', 'invalid_token');
      const client = clients.get(clientId);
      if (!client) throw new AuthFailure(403, 'FORBIDDEN', 'This client is not registered with the gateway', undefined, { clientId, subject });
      const purpose = purposeOf(payload);
      const forbidden = (message: string) => new AuthFailure(403, 'FORBIDDEN', message, undefined, { clientId, subject });
      if (!client.purposes.includes(purpose)) throw forbidden(`This client may not claim purpose of use ${purpose}`);
      let breakTheGlass = false;
      if (BREAK_THE_GLASS.has(purpose) && client.breakTheGlass) {
        const issuedAt = typeof payload.iat === 'number' ? payload.iat * 1000 : undefined;
        if (issuedAt === undefined || now() - issuedAt > config.breakTheGlassMinutes * 60_000) {
          throw forbidden('Break-the-glass tokens must be fresh: get a new token');
        }
        breakTheGlass = true;
      } else if (purpose === 'BTG') throw forbidden('This client may not break the glass');
      const patient = stringClaim(payload, 'patient');
      const scopes = splitScopes(payload.scope);
      const registered = clientGrants.get(clientId)!;
      const grants = intersectGrants(grantsOf(scopes, patient !== undefined), patient !== undefined ? registered.patient : registered.other);
      const admin = patient === undefined && scopes.some((s) => config.adminScopes.includes(s) && client.scopes.includes(s));
      const jti = stringClaim(payload, 'jti');
      return {
        authenticated: true,
        subject,
        clientId,
        client,
        fhirUser: stringClaim(payload, 'fhirUser'),
        patient,
        purpose,
        breakTheGlass,
        grants,
        scopes,
        admin,
        organization: client.organization,
        tokenId: jti ?? createHash('sha256').update(match[1]!).digest('hex').slice(0, 16),
      };
    },
  };
}
