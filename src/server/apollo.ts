/** The Apollo Server instance: schema, limits, error model, persisted queries, CSRF, metrics. */
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { GatewayConfig } from '../config/schema';
import type { GatewayContext } from '../context';
import type { Logger } from '../logger';
import { createErrorFormatter } from './errors';
import { checkCost, staticLimitRules } from './limits';
import type { Metrics } from './metrics';

function limitsPlugin(schema: GraphQLSchema, maxCost: number): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operationName }) {
          checkCost(schema, document, operationName ?? undefined, request.variables ?? {}, maxCost);
        },
      };
    },
  };
}

function metricsPlugin(metrics: Metrics): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ response, operation }) {
          const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
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

export function createApollo(schema: GraphQLSchema, config: GatewayConfig, log: Logger, metrics: Metrics): ApolloServer<GatewayContext> {
  return new ApolloServer<GatewayContext>({
    schema,
    introspection: introspectionEnabled(config),
    validationRules: staticLimitRules(config.limits),
    formatError: createErrorFormatter(log),
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: !introspectionEnabled(config),
    persistedQueries: config.server.persistedQueries ? {} : false,
    csrfPrevention: config.server.csrfPrevention,
    allowBatchedHttpRequests: true,
    stopOnTerminationSignals: false,
    plugins: [ApolloServerPluginLandingPageDisabled(), limitsPlugin(schema, config.limits.maxCost), metricsPlugin(metrics)],
  });
}
