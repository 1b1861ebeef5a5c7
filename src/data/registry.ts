/** The configured sources, started once per process and shared read-only by every request. */
import type { Connector, ResourceType, SourceStatus } from '../../connectors/types';
import { HealthgraphError } from '../errors';

export class SourceRegistry {
  private readonly byId = new Map<string, Connector>();

  constructor(readonly connectors: readonly Connector[]) {
    for (const connector of connectors) this.byId.set(connector.id, connector);
  }

  async start(): Promise<void> {
    await Promise.all(this.connectors.map((c) => c.start()));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.connectors.map((c) => c.close()));
  }

  get(id: string): Connector | undefined {
    return this.byId.get(id);
  }

  require(id: string): Connector {
    const connector = this.byId.get(id);
    if (!connector) throw new HealthgraphError('NOT_FOUND', `Unknown source "${id}"`, { source: id });
    return connector;
  }

  /** Sources that serve a resource type, in configuration order. */
  servingType(type: ResourceType): Connector[] {
    return this.connectors.filter((c) => c.capabilities().types[type] !== undefined);
  }

  async statuses(): Promise<SourceStatus[]> {
    return Promise.all(
      this.connectors.map((c) =>
        c.status().catch(
          (): SourceStatus => ({ id: c.id, kind: c.kind, state: 'down', message: 'status check failed', types: [] }),
        ),
      ),
    );
  }
}
