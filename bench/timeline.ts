/**
 * Timeline latency for a patient with 5,000 events (issue 5: p95 ≤ 100 ms warm).
 *
 *   node dist/bench/timeline.js        # BENCH_TIMELINE_EVENTS=5000, BENCH_TIMELINE_RUNS=60
 *
 * Two FHIR peers, each its own process (test/peers/fhir-server.ts: Medplum's FhirRouter over the
 * in-memory repository, as in the test services): `ehr` holds one synthetic patient with encounters and, per encounter, conditions,
 * observations, medication requests, procedures, immunizations and a claim; `billing` holds the same
 * person under another id, misspelt, with a copy of every claim. The gateway links the two at start
 * and the timeline spans both, showing each claim once. Measured over HTTP, warm (after 5 runs):
 * the first page, a page deep in the list (through its cursor), a one-year window, and two kinds.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { parseConfig } from '../src/config/load';
import { createLogger } from '../src/logger';
import { createGateway } from '../src/server/gateway';
import { encodeId } from '../src/ids';
import { timeRuns } from './stats';

const EVENTS = Number(process.env.BENCH_TIMELINE_EVENTS ?? 5000);
const RUNS = Number(process.env.BENCH_TIMELINE_RUNS ?? 60);
const PER_ENCOUNTER = 8; // encounter, condition, 3 observations, medication, procedure or immunization, claim

type Json = Record<string, unknown>;
const SNOMED = 'http://snomed.info/sct';
const LOINC = 'http://loinc.org';

function entry(resource: Json): NonNullable<Bundle['entry']>[number] {
  const id = randomUUID();
  return { fullUrl: `urn:uuid:${id}`, resource: resource as never, request: { method: 'POST', url: String(resource.resourceType) } };
}

function day(start: Date, days: number, hour: number): string {
  const d = new Date(start.getTime() + days * 86_400_000 + hour * 3_600_000);
  return d.toISOString().replace('.000Z', '+00:00');
}

/** The ehr bundle (patient + events) and the billing bundle (same person, copies of the claims). */
function bundles(): { ehr: Bundle; billing: Bundle } {
  const patient = {
    resourceType: 'Patient',
    name: [{ family: 'Bergstrom', given: ['Marguerite', 'Ann'] }],
    gender: 'female',
    birthDate: '1941-03-07',
    address: [{ line: ['12 Elm Street'], city: 'Boston', state: 'MA', postalCode: '02118' }],
    telecom: [{ system: 'phone', value: '555-201-7733' }],
    identifier: [{ system: 'http://hl7.org/fhir/sid/us-ssn', value: '999-41-7733' }],
  };
  const p = entry(patient);
  const ehr: NonNullable<Bundle['entry']> = [p];
  const billingPatient = entry({ ...patient, name: [{ family: 'BERGSTROM', given: ['Margie'] }], address: [] });
  const billing: NonNullable<Bundle['entry']> = [billingPatient];
  const start = new Date(Date.UTC(1970, 0, 1));
  const encounters = Math.ceil(EVENTS / PER_ENCOUNTER);
  for (let i = 0; i < encounters && ehr.length - 1 < EVENTS; i++) {
    const when = (n: number) => day(start, i * 7, 9 + n);
    const enc = entry({
      resourceType: 'Encounter',
      status: 'finished',
      class: { code: 'AMB' },
      type: [{ coding: [{ system: SNOMED, code: '185349003', display: 'Encounter for check up' }] }],
      subject: { reference: p.fullUrl },
      period: { start: when(0), end: when(1) },
    });
    const ref = { reference: enc.fullUrl };
    const subject = { reference: p.fullUrl };
    const events: Json[] = [
      {
        resourceType: 'Condition',
        subject,
        encounter: ref,
        code: { coding: [{ system: SNOMED, code: String(40000 + (i % 50)), display: `Finding ${i % 50}` }] },
        onsetDateTime: when(0),
      },
      ...[0, 1, 2].map((k) => ({
        resourceType: 'Observation',
        status: 'final',
        subject,
        encounter: ref,
        code: {
          coding: [{ system: LOINC, code: ['8302-2', '29463-7', '8867-4'][k], display: ['Body Height', 'Body Weight', 'Heart rate'][k] }],
        },
        effectiveDateTime: when(0),
        valueQuantity: { value: 60 + ((i * 7 + k) % 40), unit: ['cm', 'kg', '/min'][k] },
      })),
      {
        resourceType: 'MedicationRequest',
        status: 'active',
        intent: 'order',
        subject,
        encounter: ref,
        medicationCodeableConcept: {
          coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: String(310000 + (i % 30)), display: `Drug ${i % 30}` }],
        },
        authoredOn: when(0),
      },
      i % 2 === 0
        ? {
            resourceType: 'Procedure',
            status: 'completed',
            subject,
            encounter: ref,
            code: { coding: [{ system: SNOMED, code: '430193006', display: 'Medication reconciliation' }] },
            performedDateTime: when(0),
          }
        : {
            resourceType: 'Immunization',
            status: 'completed',
            patient: subject,
            encounter: ref,
            vaccineCode: { coding: [{ system: 'http://hl7.org/fhir/sid/cvx', code: '140', display: 'Influenza' }] },
            occurrenceDateTime: when(0),
          },
    ];
    ehr.push(enc, ...events.map(entry));
    const claim = {
      resourceType: 'Claim',
      status: 'active',
      use: 'claim',
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'institutional' }] },
      created: when(1),
      billablePeriod: { start: when(0), end: when(1) },
      total: { value: 100 + (i % 90), currency: 'USD' },
      item: [{ sequence: 1, productOrService: { coding: [{ system: SNOMED, code: '185349003' }] } }],
    };
    ehr.push(
      entry({
        ...claim,
        patient: subject,
        provider: { display: 'Clinic' },
        priority: { coding: [{ code: 'normal' }] },
        insurance: [{ sequence: 1, focal: true, coverage: { display: 'private' } }],
      }),
    );
    billing.push(
      entry({
        ...claim,
        created: when(1).slice(0, 10),
        patient: { reference: billingPatient.fullUrl },
        provider: { display: 'Clinic' },
        priority: { coding: [{ code: 'normal' }] },
        insurance: [{ sequence: 1, focal: true, coverage: { display: 'private' } }],
      }),
    );
  }
  return {
    ehr: { resourceType: 'Bundle', type: 'transaction', entry: ehr.slice(0, EVENTS + 1) },
    billing: { resourceType: 'Bundle', type: 'transaction', entry: billing },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))] ?? NaN;
}

interface Peer {
  url: string;
  close(): Promise<void>;
}

/** A FHIR peer process serving one transaction bundle. */
function startPeer(bundle: Bundle): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), 'hg-timeline-'));
  writeFileSync(join(dir, 'bundle.json'), JSON.stringify(bundle));
  const child = spawn(process.execPath, [join(__dirname, '..', 'test', 'peers', 'fhir-server.js'), '--port', '0', '--bundles', dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`FHIR peer exited with ${code}`)));
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /ready .*url=(\S+)/.exec(out)?.[1];
      if (!url) return;
      child.removeAllListeners('exit');
      resolve({
        url,
        close: () =>
          new Promise<void>((done) => {
            child.once('exit', () => done());
            child.kill();
            rmSync(dir, { recursive: true, force: true });
          }),
      });
    });
  });
}

async function main(): Promise<void> {
  const { ehr, billing } = bundles();
  const [ehrPeer, billingPeer] = await Promise.all([startPeer(ehr), startPeer(billing)]);
  const config = parseConfig(
    {
      sources: [
        { id: 'ehr', kind: 'fhir', url: ehrPeer.url },
        { id: 'billing', kind: 'fhir', url: billingPeer.url },
      ],
      identity: { store: { kind: 'memory' }, buildAtStart: true },
      limits: { maxCost: 10_000_000 },
    },
    process.env,
    'bench',
  );
  const gateway = await createGateway(config, { log: createLogger('silent') });
  const url = `${await gateway.listen(0, '127.0.0.1')}/graphql`;
  try {
    const patients = await fetch(`${ehrPeer.url}/Patient?_count=1`).then(
      (r) => r.json() as Promise<{ entry: { resource: { id: string } }[] }>,
    );
    const id = encodeId('ehr', 'Patient', patients.entry[0]!.resource.id);
    const ask = async (
      args: string,
      after?: string | null,
      total = true,
    ): Promise<{
      ms: number;
      data: { totalCount: number; edges: unknown[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } };
    }> => {
      const started = performance.now();
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          query: `query ($id: ID!, $after: String) { patient(id: $id) { timeline(${args}, after: $after) { ${total ? 'totalCount' : ''} edges { node { instant kind summary sources { id } } } pageInfo { hasNextPage endCursor } } } }`,
          variables: { id, after: after ?? null },
        }),
      });
      if (process.env.BENCH_TIMELINE_DEBUG)
        process.stderr.write(`upstream ${res.headers.get('x-upstream-requests')} ${(performance.now() - started).toFixed(0)} ms ${args}\n`);
      const body = (await res.json()) as { data?: { patient: { timeline: never } }; errors?: unknown[] };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return { ms: performance.now() - started, data: body.data!.patient.timeline };
    };
    const first = await ask('first: 50');
    const total = first.data.totalCount;
    // A cursor deep in the list: walk to the middle once.
    let cursor: string | null = null;
    for (let walked = 0; walked < total / 2; walked += 200) cursor = (await ask('first: 200', cursor)).data.pageInfo.endCursor;
    const cases: [string, () => Promise<unknown>][] = [
      ['first page (first: 50, with totalCount)', () => ask('first: 50')],
      ['first page (first: 50, no totalCount)', () => ask('first: 50', null, false)],
      ['a page in the middle (first: 50, after: cursor, no totalCount)', () => ask('first: 50', cursor, false)],
      ['one year (from/to, first: 50)', () => ask('first: 50, from: "1985-01-01", to: "1985-12-31"')],
      ['two kinds (CONDITION, CLAIM; first: 50)', () => ask('first: 50, kinds: [CONDITION, CLAIM]')],
    ];
    process.stdout.write(
      `timeline bench: ${EVENTS} events in ehr + ${billing.entry!.length - 1} claim copies in billing; one person, ${total} timeline events; ${RUNS} runs per case after 5 warm-up runs\n`,
    );
    for (const [name, run] of cases) {
      const times = await timeRuns(RUNS, 5, run);
      process.stdout.write(
        `  ${name.padEnd(64)} p50 ${percentile(times, 0.5).toFixed(1)} ms   p95 ${percentile(times, 0.95).toFixed(1)} ms   max ${times[times.length - 1]!.toFixed(1)} ms\n`,
      );
    }
  } finally {
    await gateway.close();
    await ehrPeer.close();
    await billingPeer.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
