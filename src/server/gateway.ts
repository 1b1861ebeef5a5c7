/** Assembling the gateway from a config: sources, schema, Apollo, HTTP. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Connector } from '../../connectors/types';
import type { GatewayConfig } from '../config/schema';
import type { GatewayContext } from '../context';
import { DataAccess } from '../data/access';
import { ALLOW_ALL } from '../data/policy';
import { SourceRegistry } from '../data/registry';
import { buildGatewaySchema } from '../graphql/schema';
import { createLogger, type Logger } from '../logger';
import { projectRoot } from '../paths';
import { createConnector } from '../sources';
import { createApollo, introspectionEnabled } from './apollo';
import { createRequestHandler } from './http';
import { createMetrics, type Metrics } from './metrics';
import { createPlayground, loadExamples, type Playground } from './playground';

export interface Gateway {
  readonly registry: SourceRegistry;
  readonly metrics: Metrics;
  /** Starts listening; resolves with the base URL (e.g. `http://127.0.0.1:4000`). */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  log?: Logger;
  /** Use these connectors instead of creating them from `config.sources` (tests). */
  connectors?: Connector[];
}

function createPlaygroundFor(config: GatewayConfig): Playground | undefined {
  if (!(config.server.playground ?? introspectionEnabled(config))) return undefined;
  const examples = loadExamples(config.server.examplesDir ?? join(projectRoot(), 'docs', 'examples'));
  return createPlayground({ endpoint: '/graphql', title: 'healthgraph', examples });
}

export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const log = options.log ?? createLogger();
  const registry = new SourceRegistry(options.connectors ?? config.sources.map((s) => createConnector(s, log)));
  await registry.start();
  const metrics = createMetrics();
  const schema = buildGatewaySchema();
  const apollo = createApollo(schema, config, log, metrics);
  await apollo.start();

  const createContext = (requestId: string): GatewayContext => {
    const upstream = { bySource: new Map<string, number>(), total: 0 };
    const data = new DataAccess({
      registry,
      policy: ALLOW_ALL,
      maxBatchRecords: config.limits.maxBatchRecords,
      call: {
        requestId,
        onUpstreamRequest: (event) => {
          upstream.total++;
          upstream.bySource.set(event.source, (upstream.bySource.get(event.source) ?? 0) + 1);
          metrics.observeUpstream(event);
        },
      },
    });
    return { requestId, log, data, upstream };
  };

  const handler = createRequestHandler({
    apollo,
    registry,
    metrics,
    log,
    playground: createPlaygroundFor(config),
    maxRequestBytes: config.limits.maxRequestBytes,
    maxBatchOperations: config.limits.maxBatchOperations,
    createContext,
  });
  let server: Server | undefined;

  return {
    registry,
    metrics,
    listen(port = config.server.port, host = config.server.host) {
      return new Promise((resolve, reject) => {
        server = createServer({ keepAliveTimeout: 65_000 }, handler);
        server.once('error', reject);
        server.listen(port, host, () => {
          const address = server!.address() as AddressInfo;
          const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          resolve(`http://${shownHost}:${address.port}`);
        });
      });
    },
    async close() {
      if (server) {
        server.closeIdleConnections();
        await new Promise<void>((resolve) => server!.close(() => resolve()));
      }
      await apollo.stop();
      await registry.close();
    },
  };
}
