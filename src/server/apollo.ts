/** The Apollo Server instance: schema, limits, error model, persisted queries, CSRF, metrics. */
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { createHash } from 'node:crypto';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { GatewayConfig } from '../config/schema';
import type { GatewayContext } from '../context';
import type { Logger } from '../logger';
import { createErrorFormatter } from './errors';
import { HealthgraphError } from '../errors';
import { checkCost, operationDepth, staticLimitRules } from './limits';
import type { Security } from './security';
import type { Metrics } from './metrics';
import { executingGateway, QueryExecutor } from './executor';

/**
 * Cost for every request; per-client limits (a client's `maxCost` / `maxDepth` can only lower the
 * gateway's) and the persisted-query allow-list for clients registered as `persistedQueriesOnly`.
 */
function limitsPlugin(schema: GraphQLSchema, config: GatewayConfig, security: Security): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operationName, operation, contextValue, source }) {
          const client = security.limitsFor(contextValue.principal);
          const name = operationName ?? undefined;
          contextValue.audit.operation = [contextValue.audit.operation, `${operation?.operation ?? 'query'} ${name ?? '(anonymous)'}`].filter(Boolean).join('; ');
          if (client.persistedOnly && !client.allowedHashes.has(createHash('sha256').update(source).digest('hex'))) {
            throw new HealthgraphError('FORBIDDEN', 'This client may only run registered queries').toGraphQLError();
          }
          if (client.maxDepth !== undefined && client.maxDepth < config.limits.maxDepth) {
            const depth = operationDepth(document, name);
            if (depth > client.maxDepth) {
              throw new GraphQLError(`Query depth ${depth} exceeds the limit of ${client.maxDepth}`, { extensions: { code: 'QUERY_TOO_COMPLEX', depth, maxDepth: client.maxDepth, http: { status: 400 } } });
            }
          }
          checkCost(schema, document, name, request.variables ?? {}, Math.min(config.limits.maxCost, client.maxCost ?? Infinity));
        },
      };
    },
  };
}

function metricsPlugin(metrics: Metrics): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operation, contextValue }) {
          const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
          if (body && contextValue.partialErrors.length > 0) {
            body.errors = [...(body.errors ?? []), ...contextValue.partialErrors];
            contextValue.partialErrors.length = 0;
          }
          const hasErrors = (body?.errors?.length ?? 0) > 0;
          const hasData = body?.data !== undefined && body.data !== null;
          metrics.observeGraphql({
            operationType: operation?.operation ?? 'unknown',
            outcome: hasErrors ? (hasData ? 'partial' : 'error') : 'ok',
          });
        },
      };
    },
  };
}

export function introspectionEnabled(config: GatewayConfig): boolean {
  return config.server.introspection ?? process.env.NODE_ENV !== 'production';
}

export function createApollo(schema: GraphQLSchema, config: GatewayConfig, log: Logger, metrics: Metrics, security: Security): ApolloServer<GatewayContext> {
  // Apollo parses, validates and runs the plugins; the executor runs the operation (see executor.ts).
  return new ApolloServer<GatewayContext>({
    gateway: executingGateway(schema, new QueryExecutor(schema, config.server.executor)),
    introspection: introspectionEnabled(config),
    validationRules: staticLimitRules(config.limits),
    formatError: createErrorFormatter(log),
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: !introspectionEnabled(config),
    persistedQueries: config.server.persistedQueries ? {} : false,
    csrfPrevention: config.server.csrfPrevention,
    allowBatchedHttpRequests: true,
    stopOnTerminationSignals: false,
    // No HTTP response caching of patient data: cache-control hints would only cost time per field.
    plugins: [ApolloServerPluginLandingPageDisabled(), ApolloServerPluginCacheControlDisabled(), limitsPlugin(schema, config, security), metricsPlugin(metrics)],
  });
}
