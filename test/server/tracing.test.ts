/**
 * OpenTelemetry: with an SDK registered, each GraphQL request is a server span that continues the
 * caller's trace (W3C traceparent), and each call to a source is a client span under it, named by
 * source and call shape with no record ids or search values.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { fhirSource, fhirUrl, gatewayId, searchFhir, startGateway, type TestGateway } from '../support/services';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
let gw: TestGateway;
let patientId: string;
let recordId: string;

beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  gw = await startGateway([fhirSource('ehr', fhirUrl())]);
  const { resources } = await searchFhir('Patient', { _count: '1', _sort: '_id' });
  recordId = String(resources[0]!.id);
  patientId = gatewayId('ehr', 'Patient', recordId);
});

afterAll(async () => {
  await gw?.close();
  await provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
});

beforeEach(() => exporter.reset());

describe('tracing', () => {
  it('a request continues the caller’s trace and has one client span per source call', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const parentSpanId = 'b7ad6b7169203331';
    const result = await gw.query(
      'query Q($id: ID!) { patient(id: $id) { id encounters(first: 3) { edges { node { id } } } } }',
      { id: patientId },
      { traceparent: `00-${traceId}-${parentSpanId}-01` },
    );
    expect(result.body.errors).toBeUndefined();
    const spans = exporter.getFinishedSpans();
    const server = spans.filter((s) => s.name === 'POST /graphql');
    expect(server).toHaveLength(1);
    expect(server[0]!.spanContext().traceId).toBe(traceId);
    expect(server[0]!.parentSpanContext?.spanId).toBe(parentSpanId);
    expect(server[0]!.attributes['healthgraph.upstream_requests']).toBe(result.upstream);
    expect(server[0]!.attributes['graphql.operation.name']).toContain('Q');
    const calls = spans.filter((s) => s.attributes['healthgraph.source'] === 'ehr');
    expect(calls).toHaveLength(result.upstream);
    for (const call of calls) {
      expect(call.spanContext().traceId).toBe(traceId);
      expect(call.parentSpanContext?.spanId).toBe(server[0]!.spanContext().spanId);
      expect(call.name).toMatch(/^ehr (GET|POST) /);
      expect(call.name).not.toContain(recordId);
    }
    expect(calls.map((c) => c.name)).toContain('ehr GET Patient/{id}');
  });

  it('without a traceparent the request starts a trace of its own', async () => {
    await gw.query('{ sources { id } }');
    const server = exporter.getFinishedSpans().filter((s) => s.name === 'POST /graphql');
    expect(server).toHaveLength(1);
    expect(server[0]!.parentSpanContext).toBeUndefined();
  });
});
