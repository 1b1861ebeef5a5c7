/**
 * Query execution. Apollo parses, validates and runs the plugins (limits, cost, persisted
 * queries); the execution itself is done by graphql-jit, which compiles each distinct operation
 * once into a JavaScript function and runs that function for every later request with the same
 * document. The resolvers and their results are the same as under graphql-js; what changes is the
 * per-field bookkeeping, which is most of the gateway's own CPU on wide answers (a patient summary
 * returns a few thousand fields).
 *
 * Plugged in through Apollo Server's gateway interface, the documented way to give Apollo an
 * executor of one's own. Introspection and any document graphql-jit cannot compile run on
 * graphql-js, so the answer never depends on which engine ran it.
 */
import type { GatewayExecutor, GatewayInterface } from '@apollo/server-gateway-interface';
import { execute, getOperationAST, Kind, type DocumentNode, type ExecutionResult, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';

/** Compiled operations kept per process; a compiled query is a few KB of closures. */
const MAX_COMPILED = 500;

export type Engine = 'jit' | 'graphql-js';

type Compiled = CompiledQuery | 'fallback';

/** Introspection (`__schema`, `__type`) at the root: rare, and left to the reference engine. */
function introspects(operation: OperationDefinitionNode): boolean {
  return operation.selectionSet.selections.some((s) => s.kind === Kind.FIELD && (s.name.value === '__schema' || s.name.value === '__type'));
}

export class QueryExecutor {
  private readonly compiled = new Map<string, Compiled>();

  constructor(
    private readonly schema: GraphQLSchema,
    readonly engine: Engine = 'jit',
  ) {}

  /** Compiled operations held (for tests and metrics). */
  get size(): number {
    return this.compiled.size;
  }

  async run(args: {
    document: DocumentNode;
    operationName?: string | null;
    queryHash?: string;
    variables?: Record<string, unknown>;
    context: unknown;
  }): Promise<ExecutionResult> {
    const plan = this.engine === 'jit' ? this.plan(args.document, args.operationName, args.queryHash) : 'fallback';
    if (plan === 'fallback') {
      return execute({
        schema: this.schema,
        document: args.document,
        operationName: args.operationName,
        variableValues: args.variables,
        contextValue: args.context,
      });
    }
    return plan.query(undefined, args.context, args.variables ?? {});
  }

  private plan(document: DocumentNode, operationName: string | null | undefined, queryHash: string | undefined): Compiled {
    const key = `${queryHash ?? ''}\u0000${operationName ?? ''}`;
    const known = queryHash === undefined ? undefined : this.compiled.get(key);
    if (known !== undefined) {
      // Most recently used last, so the oldest entry is the first to go.
      this.compiled.delete(key);
      this.compiled.set(key, known);
      return known;
    }
    const operation = getOperationAST(document, operationName);
    let plan: Compiled = 'fallback';
    if (operation && operation.operation !== 'subscription' && !introspects(operation)) {
      const compiled = compileQuery(this.schema, document, operationName ?? undefined, { disablingCapturingStackErrors: true });
      if (isCompiledQuery(compiled)) plan = compiled;
    }
    if (queryHash !== undefined) {
      this.compiled.set(key, plan);
      if (this.compiled.size > MAX_COMPILED) {
        const oldest = this.compiled.keys().next().value;
        if (oldest !== undefined) this.compiled.delete(oldest);
      }
    }
    return plan;
  }
}

/** Apollo Server's gateway interface around a fixed schema and the executor above. */
export function executingGateway(schema: GraphQLSchema, executor: QueryExecutor): GatewayInterface {
  const run: GatewayExecutor = async (requestContext) =>
    executor.run({
      document: requestContext.document,
      operationName: requestContext.operationName ?? requestContext.request.operationName,
      queryHash: requestContext.queryHash,
      variables: requestContext.request.variables,
      context: requestContext.context,
    });
  let listener: ((schemaContext: { apiSchema: GraphQLSchema; coreSupergraphSdl: string }) => void) | undefined;
  return {
    onSchemaLoadOrUpdate(callback) {
      listener = callback;
      return () => {
        listener = undefined;
      };
    },
    async load() {
      listener?.({ apiSchema: schema, coreSupergraphSdl: '' });
      return { executor: run };
    },
    async stop() {},
  };
}
