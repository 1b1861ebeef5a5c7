/**
 * OpenTelemetry tracing: one server span per GraphQL request (continuing the caller's trace from
 * a W3C `traceparent` header) and one client span per call to a source (FHIR request, SQL
 * statement, MongoDB command), with the source id and the call's shape — never parameter values.
 *
 * healthgraph uses only the OpenTelemetry API: with no SDK registered every call here is a no-op.
 * To export traces, start the gateway with an SDK, e.g. the zero-code Node setup:
 * `NODE_OPTIONS="--require @opentelemetry/auto-instrumentations-node/register" OTEL_SERVICE_NAME=healthgraph
 * OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 bin/healthgraph serve …`
 */
import type { IncomingHttpHeaders } from 'node:http';
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { UpstreamRequestEvent } from '../../connectors/types';

const TRACER = 'healthgraph';

export interface RequestTrace {
  span: Span;
  /** The context whose active span is the request's: parent of the source calls. */
  context: Context;
}

/** The request's server span, a child of the caller's span when the request carries `traceparent`. */
export function startRequestSpan(headers: IncomingHttpHeaders, method: string, requestId: string): RequestTrace {
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  const span = trace.getTracer(TRACER).startSpan(
    `${method} /graphql`,
    { kind: SpanKind.SERVER, attributes: { 'http.request.method': method, 'http.route': '/graphql', 'healthgraph.request_id': requestId } },
    parent,
  );
  return { span, context: trace.setSpan(parent, span) };
}

/** `GET Patient/123` → `GET Patient/{id}`: record ids stay out of traces (search values are already elided). */
function shapeOf(operation: string): string {
  return operation.replace(/^([A-Z]+ [A-Za-z]+)\/[^?\s]+/, '$1/{id}');
}

/** A finished call to a source, as a client span under the request (its timing as measured by the connector). */
export function recordSourceCall(parent: RequestTrace, event: UpstreamRequestEvent): void {
  if (!parent.span.isRecording()) return;
  const end = Date.now();
  const operation = shapeOf(event.operation);
  const span = trace.getTracer(TRACER).startSpan(
    `${event.source} ${operation}`,
    {
      kind: SpanKind.CLIENT,
      startTime: end - event.durationMs,
      attributes: { 'healthgraph.source': event.source, 'healthgraph.operation': operation, 'healthgraph.outcome': event.outcome },
    },
    parent.context,
  );
  if (event.outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR });
  span.end(end);
}

/** Ends the request span with what the request did. */
export function endRequestSpan(
  request: RequestTrace,
  result: { status: number; outcome: 'ok' | 'partial' | 'error'; upstreamRequests: number; operation?: string },
): void {
  const { span } = request;
  if (span.isRecording()) {
    span.setAttributes({
      'http.response.status_code': result.status,
      'healthgraph.outcome': result.outcome,
      'healthgraph.upstream_requests': result.upstreamRequests,
    });
    if (result.operation) span.setAttribute('graphql.operation.name', result.operation);
    if (result.outcome === 'error') span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}
