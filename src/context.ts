/** Per-request state (style.md §4): created for each request, never shared, gone when it ends. */
import type { DataAccess } from './data/access';
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
}
