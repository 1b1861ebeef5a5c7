import { register as globalRegistry } from 'prom-client';
import { createMetrics } from '../../src/server/metrics';

describe('gateway metrics', () => {
  it('renders the Prometheus text format with every series after observations', async () => {
    const metrics = createMetrics();
    metrics.observeHttp({ route: '/graphql', method: 'POST', status: 200, durationMs: 42 });
    metrics.observeHttp({ route: '/graphql', method: 'POST', status: 200, durationMs: 7 });
    metrics.observeGraphql({ operationType: 'query', outcome: 'partial' });
    metrics.observeUpstream({ source: 'fhir-main', durationMs: 120, outcome: 'ok' });
    metrics.observeUpstream({ source: 'claims-sql', durationMs: 3000, outcome: 'error' });
    metrics.setSourceUp('fhir-main', true);
    metrics.setSourceUp('claims-sql', false);

    const { contentType, body } = await metrics.render();

    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('# TYPE http_requests_total counter');
    expect(body).toContain('http_requests_total{route="/graphql",method="POST",status="200"} 2');
    expect(body).toContain('# TYPE http_request_duration_seconds histogram');
    expect(body).toContain('http_request_duration_seconds_bucket{le="0.01",route="/graphql",method="POST"} 1');
    expect(body).toContain('http_request_duration_seconds_bucket{le="0.05",route="/graphql",method="POST"} 2');
    expect(body).toContain('http_request_duration_seconds_sum{route="/graphql",method="POST"} 0.049');
    expect(body).toContain('graphql_operations_total{operation_type="query",outcome="partial"} 1');
    expect(body).toContain('upstream_requests_total{source="fhir-main",outcome="ok"} 1');
    expect(body).toContain('upstream_requests_total{source="claims-sql",outcome="error"} 1');
    expect(body).toContain('upstream_request_duration_seconds_count{source="claims-sql"} 1');
    expect(body).toContain('upstream_request_duration_seconds_bucket{le="2.5",source="claims-sql"} 0');
    expect(body).toContain('source_up{source="fhir-main"} 1');
    expect(body).toContain('source_up{source="claims-sql"} 0');
  });

  it('includes Node process metrics by default and can leave them out', async () => {
    const withDefaults = (await createMetrics().render()).body;
    expect(withDefaults).toContain('process_cpu_user_seconds_total');
    expect(withDefaults).toContain('nodejs_heap_size_used_bytes');

    const bare = (await createMetrics({ defaultMetrics: false }).render()).body;
    expect(bare).not.toContain('process_cpu_user_seconds_total');
    expect(bare).toContain('# TYPE source_up gauge');
  });

  it('keeps each instance separate and never touches the global registry', async () => {
    const before = (await globalRegistry.metrics()).length;
    const a = createMetrics();
    const b = createMetrics();
    a.observeUpstream({ source: 'only-in-a', durationMs: 1, outcome: 'ok' });

    expect((await a.render()).body).toContain('only-in-a');
    expect((await b.render()).body).not.toContain('only-in-a');
    expect((await globalRegistry.metrics()).length).toBe(before);
  });

  it('flips source_up when a source goes down and comes back', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.setSourceUp('mongo-lake', true);
    metrics.setSourceUp('mongo-lake', false);
    expect((await metrics.render()).body).toContain('source_up{source="mongo-lake"} 0');
    metrics.setSourceUp('mongo-lake', true);
    expect((await metrics.render()).body).toContain('source_up{source="mongo-lake"} 1');
  });

  it('keeps counting correctly through the cached label children', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    for (let i = 0; i < 1000; i++) {
      metrics.observeHttp({ route: '/graphql', method: 'POST', status: i % 10 === 0 ? 500 : 200, durationMs: 1 });
    }
    const { body } = await metrics.render();
    expect(body).toContain('http_requests_total{route="/graphql",method="POST",status="200"} 900');
    expect(body).toContain('http_requests_total{route="/graphql",method="POST",status="500"} 100');
    expect(body).toContain('http_request_duration_seconds_count{route="/graphql",method="POST"} 1000');
  });
});
