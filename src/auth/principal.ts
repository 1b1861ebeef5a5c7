/** Who is calling, as the policy, the rate limiter and the audit trail see it. */
import type { ResourceType } from '../../connectors/types';
import type { ClientConfig } from './config';
import { allGrants, type TypeGrant } from './scopes';

export interface Principal {
  /** False only in development mode (`auth.mode: none`). */
  authenticated: boolean;
  subject?: string;
  clientId?: string;
  client?: ClientConfig;
  /** The user as a FHIR reference (`Practitioner/123`), from the `fhirUser` claim. */
  fhirUser?: string;
  /** The `patient` claim: a gateway patient id or a source record id. Set for patient-context tokens. */
  patient?: string;
  /** HL7 PurposeOfUse code (TREAT by default). */
  purpose: string;
  /** Break-the-glass in force: consent denials are lifted (never scopes) and every lift is audited. */
  breakTheGlass: boolean;
  /** Effective read grants: the token's scopes intersected with its client's. */
  grants: ReadonlyMap<ResourceType, TypeGrant>;
  /** The scopes the token carried, for the audit trail. */
  scopes: string[];
  /** May read the audit trail. */
  admin: boolean;
  /** The token's `jti` or a hash of it, for the audit trail. */
  tokenId?: string;
  /** The organization the client acts for (`Organization/123`), from the client registry. */
  organization?: string;
}

/** The caller in development mode: no authentication, everything readable, purpose TREAT. */
export function developmentPrincipal(): Principal {
  return { authenticated: false, purpose: 'TREAT', breakTheGlass: false, grants: allGrants(), scopes: [], admin: true };
}
