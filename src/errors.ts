/**
 * The one error model (style.md §6). Every error a client sees carries one of these codes in
 * `extensions.code`; nothing else (stack traces, upstream text) leaves the gateway.
 */
import { GraphQLError } from 'graphql';

export const ERROR_CODES = [
  'BAD_USER_INPUT',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'SOURCE_UNAVAILABLE',
  'SOURCE_TIMEOUT',
  'QUERY_TOO_COMPLEX',
  'RATE_LIMITED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'SHUTTING_DOWN',
  'INTERNAL_SERVER_ERROR',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** An error raised on purpose, with a client-safe message. */
export class HealthgraphError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HealthgraphError';
  }

  toGraphQLError(): GraphQLError {
    return new GraphQLError(this.message, { extensions: { ...this.extensions, code: this.code } });
  }
}

/** A source could not answer (down, refused, 5xx after retries, circuit open, bad response). */
export class SourceUnavailableError extends HealthgraphError {
  constructor(
    readonly sourceId: string,
    reason: string,
  ) {
    super('SOURCE_UNAVAILABLE', `Source "${sourceId}" is unavailable: ${reason}`, { source: sourceId });
    this.name = 'SourceUnavailableError';
  }
}

/** A source did not answer within its configured timeout. */
export class SourceTimeoutError extends HealthgraphError {
  constructor(
    readonly sourceId: string,
    timeoutMs: number,
  ) {
    super('SOURCE_TIMEOUT', `Source "${sourceId}" did not answer within ${timeoutMs} ms`, { source: sourceId });
    this.name = 'SourceTimeoutError';
  }
}

export function badInput(message: string, extensions: Record<string, unknown> = {}): HealthgraphError {
  return new HealthgraphError('BAD_USER_INPUT', message, extensions);
}

/** A config file problem: printed as a plain message by the CLI, never a stack trace. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
