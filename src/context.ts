/** Per-request state (style.md §4): created for each request, never shared, gone when it ends. */
import type { GraphQLFormattedError } from 'graphql';
import type { Principal } from './auth/principal';
import type { AuditRecorder } from './audit/recorder';
import type { AuditQuery, StoredEvent } from './audit/store';
import type { DataAccess } from './data/access';
import type { IdentityService } from './identity/service';
import type { Logger } from './logger';

export interface UpstreamTally {
  /** Upstream requests this GraphQL request caused, per source. */
  bySource: Map<string, number>;
  total: number;
}

export interface GatewayContext {
  requestId: string;
  log: Logger;
  data: DataAccess;
  upstream: UpstreamTally;
  /** Errors of sources that failed while the rest of a list still answered; added to the response. */
  partialErrors: GraphQLFormattedError[];
  /** Who is asking (development mode: an unauthenticated principal that may read everything). */
  principal: Principal;
  /** What this request disclosed and decided, written to the audit trail when it ends. */
  audit: AuditRecorder;
  /** The audit trail, for admins (the check is in src/server/security.ts, not in resolvers). */
  readAudit(query: AuditQuery): StoredEvent[];
  /** The identity index (one person across sources), when the config has an `identity` section. */
  identity?: IdentityService;
  /** The identity index for manual link decisions, for admins (the check is in src/server/gateway.ts, not in resolvers). */
  manageIdentity(): IdentityService;
}
