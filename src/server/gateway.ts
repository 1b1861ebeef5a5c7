/** Assembling the gateway from a config: sources, schema, Apollo, HTTP. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Connector, UpstreamRequestEvent } from '../../connectors/types';
import type { GatewayConfig } from '../config/schema';
import type { Principal } from '../auth/principal';
import { AuditRecorder } from '../audit/recorder';
import type { GatewayContext } from '../context';
import { DataAccess } from '../data/access';
import { SourceRegistry } from '../data/registry';
import { buildGatewaySchema } from '../graphql/schema';
import { ConfigError, HealthgraphError } from '../errors';
import { IdentityService } from '../identity/service';
import { createLogger, type Logger } from '../logger';
import { projectRoot } from '../paths';
import { createConnector } from '../sources';
import { createApollo, introspectionEnabled } from './apollo';
import { partialError } from './errors';
import type { GraphQLFormattedError } from 'graphql';
import { createRequestHandler } from './http';
import { createMetrics, type Metrics } from './metrics';
import { createSecurity, type Security } from './security';
import { createPlayground, loadExamples, type Playground } from './playground';
import { recordSourceCall, type RequestTrace } from './tracing';

export interface Gateway {
  readonly registry: SourceRegistry;
  readonly metrics: Metrics;
  readonly security: Security;
  /** The identity index, when the config has an `identity` section. */
  readonly identity?: IdentityService;
  /** Starts listening; resolves with the base URL (e.g. `http://127.0.0.1:4000`). */
  listen(port?: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  log?: Logger;
  /** Use these connectors instead of creating them from `config.sources` (tests). */
  connectors?: Connector[];
  /** The config file, if any: the audit trail lives next to it by default. */
  configPath?: string;
}

/** How long shutdown waits for requests in progress before closing the sources. */
const SHUTDOWN_GRACE_MS = 10_000;

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

/** Development mode (`auth.mode: none`) only ever listens on a loopback address. */
export function assertListenAllowed(config: GatewayConfig, host: string): void {
  if (config.auth.mode === 'none' && !LOOPBACK.has(host) && !host.startsWith('127.')) {
    throw new ConfigError(`Refusing to listen on ${host} without authentication: configure auth (mode: jwt) or listen on 127.0.0.1`);
  }
}

function createPlaygroundFor(config: GatewayConfig): Playground | undefined {
  if (!(config.server.playground ?? introspectionEnabled(config))) return undefined;
  const examples = loadExamples(config.server.examplesDir ?? join(projectRoot(), 'docs', 'examples'));
  return createPlayground({ endpoint: '/graphql', title: 'healthgraph', examples });
}

/** Opens the identity index the config names; links every source's patients first when asked to and the store is empty. */
async function openIdentity(config: GatewayConfig, registry: SourceRegistry, options: GatewayOptions, log: Logger): Promise<IdentityService | undefined> {
  if (!config.identity?.enabled) return undefined;
  const identity = await IdentityService.open(config.identity, { configPath: options.configPath, sourceOrder: registry.connectors.map((c) => c.id) });
  if (config.identity.buildAtStart && identity.empty) {
    const report = await identity.build(registry, { requestId: 'identity-build' });
    log.info({ records: report.records, persons: report.persons, seconds: report.seconds }, 'identity index built');
  }
  return identity;
}

export async function createGateway(config: GatewayConfig, options: GatewayOptions = {}): Promise<Gateway> {
  const log = options.log ?? createLogger();
  const registry = new SourceRegistry(options.connectors ?? config.sources.map((s) => createConnector(s, log)));
  await registry.start();
  const metrics = createMetrics();
  const schema = buildGatewaySchema();
  const identity = await openIdentity(config, registry, options, log);
  const security = createSecurity(config, { configPath: options.configPath, log, identity });
  const apollo = createApollo(schema, config, log, metrics, security);
  await apollo.start();

  const createContext = async (requestId: string, principal: Principal, traced?: RequestTrace): Promise<GatewayContext> => {
    const upstream = { bySource: new Map<string, number>(), total: 0 };
    const call = {
      requestId,
      onUpstreamRequest: (event: UpstreamRequestEvent) => {
        upstream.total++;
        upstream.bySource.set(event.source, (upstream.bySource.get(event.source) ?? 0) + 1);
        metrics.observeUpstream(event);
        if (traced) recordSourceCall(traced, event);
      },
    };
    const audit = new AuditRecorder(requestId, principal);
    const policy = await security.policyFor(principal, audit, registry, call);
    const partialErrors: GraphQLFormattedError[] = [];
    const onPartialFailure = (error: Error, path: readonly (string | number)[]): void => {
      partialErrors.push(partialError(error, path, log));
    };
    const data = new DataAccess({ registry, policy, maxBatchRecords: config.limits.maxBatchRecords, call, onPartialFailure });
    const manageIdentity = (): IdentityService => {
      if (!principal.admin) throw new HealthgraphError('FORBIDDEN', 'Linking and unlinking patients needs an admin scope');
      if (!identity) throw new HealthgraphError('BAD_USER_INPUT', 'Identity resolution is not configured (no `identity` section)');
      return identity;
    };
    return { requestId, log, data, upstream, partialErrors, principal, audit, readAudit: (query) => security.readAudit(principal, query), identity, manageIdentity };
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
    security,
  });
  let server: Server | undefined;

  return {
    registry,
    metrics,
    security,
    identity,
    listen(port = config.server.port, host = config.server.host) {
      assertListenAllowed(config, host);
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
        const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
        server.closeIdleConnections();
        // Requests still being answered finish before their sources close (at most 10 s); then the
        // connections they kept alive are closed, or closing would wait for their clients.
        if (!(await handler.drain(SHUTDOWN_GRACE_MS))) log.warn({ graceMs: SHUTDOWN_GRACE_MS }, 'requests still running at shutdown');
        server.closeIdleConnections(); // keep-alive connections whose last answer has just gone out
        await closed;
      }
      await apollo.stop();
      await registry.close();
      await security.close();
      await identity?.close();
    },
  };
}
