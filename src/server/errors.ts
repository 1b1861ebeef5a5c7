/**
 * The one error formatter (style.md §6): every error leaves with a code from the closed list and a
 * client-safe message. Unknown errors are logged with their details and reach clients as
 * INTERNAL_SERVER_ERROR with a generic message — never a stack trace or a source's raw text.
 */
import { unwrapResolverError } from '@apollo/server/errors';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { ERROR_CODES, HealthgraphError, type ErrorCode } from '../errors';
import type { Logger } from '../logger';

const KNOWN = new Set<string>(ERROR_CODES);
const RENAMED: Record<string, ErrorCode> = { OPERATION_RESOLUTION_FAILURE: 'BAD_REQUEST' };
/** Extensions a client may see; anything else (exception details, http) is dropped. */
const PUBLIC_EXTENSIONS = ['source', 'argument', 'depth', 'maxDepth', 'cost', 'maxCost', 'maxAliases'];

function publicExtensions(extensions: Record<string, unknown> | undefined, code: ErrorCode): Record<string, unknown> {
  const out: Record<string, unknown> = { code };
  for (const key of PUBLIC_EXTENSIONS) if (extensions && extensions[key] !== undefined) out[key] = extensions[key];
  return out;
}

/** Apollo re-codes validation-rule errors as GRAPHQL_VALIDATION_FAILED; a limit rule keeps its own code. */
function limitCode(error: unknown): string | undefined {
  const rule = error instanceof GraphQLError ? error.originalError : undefined;
  return rule instanceof GraphQLError && rule.extensions.code === 'QUERY_TOO_COMPLEX' ? 'QUERY_TOO_COMPLEX' : undefined;
}

/** Apollo raises some request errors (e.g. an APQ hash mismatch) with only an HTTP 4xx status and no code. */
function clientErrorCode(error: unknown): string | undefined {
  if (!(error instanceof GraphQLError) || error.extensions.code !== undefined) return undefined;
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? 'BAD_REQUEST' : undefined;
}

export function createErrorFormatter(log: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (original instanceof HealthgraphError) {
      return { message: original.message, locations: formatted.locations, path: formatted.path, extensions: publicExtensions(original.extensions, original.code) };
    }
    const raw = limitCode(original) ?? clientErrorCode(original) ?? formatted.extensions?.code;
    const code = typeof raw === 'string' ? (RENAMED[raw] ?? (KNOWN.has(raw) ? (raw as ErrorCode) : undefined)) : undefined;
    if (code && code !== 'INTERNAL_SERVER_ERROR') {
      return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: publicExtensions(formatted.extensions, code) };
    }
    const detail = original instanceof Error ? original : error instanceof GraphQLError ? error : undefined;
    log.error({ err: detail, path: formatted.path }, 'internal error');
    return { message: 'Internal server error', locations: formatted.locations, path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
  };
}

/** The formatted error for a source that failed inside a list that still answered with the other sources. */
export function partialError(error: Error, path: readonly (string | number)[], log: Logger): GraphQLFormattedError {
  if (error instanceof HealthgraphError) {
    return { message: error.message, path: [...path], extensions: publicExtensions(error.extensions, error.code) };
  }
  log.error({ err: error, path }, 'internal error in a list part');
  return { message: 'Internal server error', path: [...path], extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
