/**
 * The `graphql-http` package's GraphQL-over-HTTP conformance audits, run against a gateway over the
 * FHIR peer. Every MUST passes. SHOULD and MAY results are printed; the ones that do not pass are
 * listed below with the reason, and the test fails if a new one appears.
 *
 * Known SHOULD/MAY audits that do not pass (Apollo Server's and the gateway's deliberate choices):
 * - 5A70, D6D5, 6A70 (MAY accept GET requests ...): CSRF prevention is on by default. The audits send
 *   GETs with no `apollo-require-preflight` (or other non-simple) header, which a browser could send
 *   cross-site, so the gateway refuses them with 400 before parsing. With the header, GET works (see
 *   limits.test.ts).
 * - 572B, FDE2, 7B9B (SHOULD use 200 on parse / validation / variable coercion failure when accepting
 *   application/json): Apollo Server answers these request errors with 400 whatever the media type,
 *   which the spec allows (SHOULD, not MUST) and which tells clients and proxies the request was bad.
 */
import { serverAudits, type AuditResult } from 'graphql-http';
import { fhirSource, fhirUrl, startGateway, type TestGateway } from '../support/services';

let gw: TestGateway;
let results: AuditResult[];

/** Audits other than MUST that fail against the gateway, with the reason (see the comment above). */
const KNOWN_NOT_PASSING: Record<string, string> = {
  '5A70': 'CSRF prevention refuses a GET without a preflight header',
  D6D5: 'CSRF prevention refuses a GET without a preflight header',
  '6A70': 'CSRF prevention refuses a GET without a preflight header',
  '572B': 'Apollo answers 400 for a document that does not parse',
  FDE2: 'Apollo answers 400 for a document that does not validate',
  '7B9B': 'Apollo answers 400 when variables cannot be coerced',
};

beforeAll(async () => {
  gw = await startGateway([fhirSource('ehr', fhirUrl())]);
  const audits = serverAudits({ url: gw.endpoint, fetchFn: fetch });
  results = await Promise.all(audits.map((audit) => audit.fn()));
});

afterAll(async () => {
  await gw?.close();
});

const level = (r: AuditResult): string => r.name.split(' ')[0]!;

describe('graphql-http server audits', () => {
  it('pass every MUST', () => {
    const counts: Record<string, { ok: number; notOk: number }> = {};
    for (const r of results) {
      const c = (counts[level(r)] ??= { ok: 0, notOk: 0 });
      if (r.status === 'ok') c.ok++;
      else c.notOk++;
    }
    const lines = Object.entries(counts).map(([l, c]) => `${l}: ${c.ok} passed, ${c.notOk} not passed`);
    const notPassing = results
      .filter((r) => r.status !== 'ok')
      .map((r) => `  [${r.status}] ${r.id} ${r.name}${'reason' in r ? ` — ${r.reason}` : ''}`);
    console.log(
      `graphql-http audits (${results.length}):\n${lines.join('\n')}${notPassing.length ? `\nnot passing:\n${notPassing.join('\n')}` : ''}`,
    );
    const mustFailures = results.filter((r) => level(r) === 'MUST' && r.status !== 'ok');
    expect(mustFailures.map((r) => `${r.id} ${r.name}: ${'reason' in r ? r.reason : ''}`)).toEqual([]);
    expect(counts.MUST!.ok).toBeGreaterThan(10);
  });

  it('fail no SHOULD or MAY beyond the known, documented ones', () => {
    const unexpected = results.filter((r) => level(r) !== 'MUST' && r.status !== 'ok' && !(r.id in KNOWN_NOT_PASSING));
    expect(unexpected.map((r) => `${r.id} ${r.name}`)).toEqual([]);
    // and a known one that starts passing should be taken off the list
    const nowPassing = results.filter((r) => r.id in KNOWN_NOT_PASSING && r.status === 'ok');
    expect(nowPassing.map((r) => r.id)).toEqual([]);
  });
});
