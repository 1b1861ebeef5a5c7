/**
 * The lake through the graph: a `kind: mongo` source over bulk-10-patients loaded by the importer.
 * Every served resource comes back equal to its source JSON; typed fields and per-patient lists
 * match what the files say; filters, sorts, pages and counts are MongoDB commands (asserted on the
 * commands the driver sends); pushdown answers exactly what the gateway's in-memory evaluation
 * answers; a dead lake fails alone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandStartedEvent } from 'mongodb';
import { MongoConnector } from '../../../connectors/mongo/connector';
import { mongoSourceSchema } from '../../../connectors/mongo/config';
import { isResourceType, type Criterion, type FhirResource, type ResourceType, type SortSpec } from '../../../connectors/types';
import { parseConfig } from '../../../src/config/load';
import { importLake } from '../../../src/lake/import';
import { createLogger } from '../../../src/logger';
import { comparator, matchesAll } from '../../../src/model/evaluate';
import { createGateway, type Gateway } from '../../../src/server/gateway';
import { encodeId } from '../../../src/ids';
import { describeWithMongo, dropDatabase, sharedData, testDatabaseUrl } from '../../support/mongo';

jest.setTimeout(120_000);

type Json = Record<string, unknown>;
interface Body {
  data?: Json | null;
  errors?: { message: string; extensions?: Json; path?: unknown[] }[];
}

describeWithMongo('the MongoDB lake through the graph', ['bulk-10-patients'], () => {
  const url = testDatabaseUrl('lake_gateway');
  const dir = sharedData('bulk-10-patients')!;
  const resources = new Map<ResourceType, FhirResource[]>();
  const commands: CommandStartedEvent[] = [];
  let connector: MongoConnector;
  let gateway: Gateway;
  let endpoint: string;

  const query = async (text: string, variables?: Json): Promise<Body> => {
    const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: text, variables }) });
    return (await res.json()) as Body;
  };
  const data = async <T = Json>(text: string, variables?: Json): Promise<T> => {
    const body = await query(text, variables);
    if (body.errors?.length) throw new Error(JSON.stringify(body.errors));
    return body.data as T;
  };
  const reads = (): CommandStartedEvent[] => commands.filter((c) => c.commandName === 'find' || c.commandName === 'aggregate' || c.commandName === 'count');

  beforeAll(async () => {
    for (const file of readdirSync(dir).filter((f) => /^[A-Z]\w+\.\d+\.ndjson$/.test(f))) {
      const type = file.split('.')[0]!;
      // PractitionerRole is a connector type without a GraphQL type: node(id) answers null for it, so it is not compared here.
      if (!isResourceType(type) || type === 'PractitionerRole') continue;
      resources.set(type, readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as FhirResource));
    }
    await dropDatabase(url);
    await importLake({ url, paths: [dir] });
    // FerretDB on SQLite scans collections for most filters; on a busy 2-core machine that takes seconds.
    const source = mongoSourceSchema.parse({ id: 'lake', kind: 'mongo', url, maxTimeMs: 60_000 });
    connector = new MongoConnector(source, createLogger('silent'), { onCommand: (e) => commands.push(e) });
    const dead = new MongoConnector(mongoSourceSchema.parse({ id: 'gone', kind: 'mongo', url: 'mongodb://127.0.0.1:9/x', connectTimeoutMs: 300, maxTimeMs: 1000 }), createLogger('silent'));
    const config = parseConfig({ sources: [{ id: 'lake', kind: 'mongo', url }, { id: 'gone', kind: 'mongo', url: 'mongodb://127.0.0.1:9/x' }] }, {}, 'test');
    gateway = await createGateway(config, { log: createLogger(process.env.HG_TEST_LOG_LEVEL ?? 'silent'), connectors: [connector, dead] });
    endpoint = `${await gateway.listen(0, '127.0.0.1')}/graphql`;
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await dropDatabase(url);
  });

  it('every resource of every served type comes back as its source JSON, with its source and record id', async () => {
    for (const [type, list] of resources) {
      for (let i = 0; i < list.length; i += 100) {
        const chunk = list.slice(i, i + 100);
        const got = await data<{ nodes: Json[] }>(`query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Resource { source { id kind recordId lastUpdated } fhir } } }`, {
          ids: chunk.map((r) => encodeId('lake', type, r.id!)),
        });
        expect(got.nodes).toEqual(chunk.map((r) => ({ id: encodeId('lake', type, r.id!), source: { id: 'lake', kind: 'mongo', recordId: r.id, lastUpdated: r.meta?.lastUpdated ?? null }, fhir: r })));
      }
    }
  });

  it("a patient's typed fields and every per-patient list match the files", async () => {
    const patient = resources.get('Patient')![0]!;
    const ofPatient = (type: ResourceType, element: string): FhirResource[] =>
      (resources.get(type) ?? []).filter((r) => (r[element] as { reference?: string } | undefined)?.reference === `Patient/${patient.id}`);
    const got = await data<{ patient: Json }>(
      `query($id: ID!) { patient(id: $id) { name { family given } gender birthDate
        encounters(first: 1000) { totalCount edges { node { id status period { start end } class { code } subject { id } } } }
        conditions(first: 1000) { totalCount } procedures(first: 1000) { totalCount } immunizations(first: 1000) { totalCount }
        allergies(first: 1000) { totalCount } documents(first: 1000) { totalCount } medications(first: 1000) { totalCount } } }`,
      { id: encodeId('lake', 'Patient', patient.id!) },
    );
    const p = got.patient;
    const name = (patient.name as Json[])[0]!;
    expect((p.name as Json[])[0]).toEqual({ family: name.family, given: name.given });
    expect(p.gender).toBe(String(patient.gender).toUpperCase());
    expect(p.birthDate).toBe(patient.birthDate);
    const encounters = ofPatient('Encounter', 'subject');
    const connection = p.encounters as { totalCount: number; edges: { node: Json }[] };
    expect(connection.totalCount).toBe(encounters.length);
    const byId = new Map(encounters.map((e) => [encodeId('lake', 'Encounter', e.id!), e]));
    for (const { node } of connection.edges) {
      const e = byId.get(node.id as string)!;
      expect(node).toEqual({
        id: node.id,
        status: String(e.status).toUpperCase().replace(/-/g, '_'),
        period: { start: (e.period as Json).start ?? null, end: (e.period as Json).end ?? null },
        class: { code: (e.class as Json).code },
        subject: { id: encodeId('lake', 'Patient', patient.id!) },
      });
    }
    expect((p.conditions as Json).totalCount).toBe(ofPatient('Condition', 'subject').length);
    expect((p.procedures as Json).totalCount).toBe(ofPatient('Procedure', 'subject').length);
    expect((p.immunizations as Json).totalCount).toBe(ofPatient('Immunization', 'patient').length);
    expect((p.allergies as Json).totalCount).toBe(ofPatient('AllergyIntolerance', 'patient').length);
    expect((p.documents as Json).totalCount).toBe(ofPatient('DocumentReference', 'subject').length);
    expect((p.medications as Json).totalCount).toBe(ofPatient('MedicationRequest', 'subject').length);
  });

  it('a filtered, sorted page is one find with the filter, sort, limit and maxTimeMS pushed down, and the total one count', async () => {
    const condition = resources.get('Condition')![0]!;
    const coding = (condition.code as { coding: { system: string; code: string }[] }).coding[0]!;
    const patientId = (condition.subject as { reference: string }).reference.split('/')[1]!;
    commands.length = 0;
    const got = await data<{ patient: { conditions: { totalCount: number; edges: unknown[] } } }>(
      `query($id: ID!, $code: [String!]) { patient(id: $id) { conditions(first: 3, filter: { code: $code, date: { from: "1900" } }, orderBy: { field: DATE, direction: DESC }) { totalCount edges { node { id } } } } }`,
      { id: encodeId('lake', 'Patient', patientId), code: [`${coding.system}|${coding.code}`] },
    );
    const expected = resources.get('Condition')!.filter((c) => (c.subject as Json).reference === `Patient/${patientId}` && (c.code as { coding: Json[] }).coding.some((x) => x.system === coding.system && x.code === coding.code));
    expect(got.patient.conditions.totalCount).toBe(expected.length);
    const finds = reads().filter((c) => c.command.find === 'Condition' || c.command.aggregate === 'Condition');
    const find = finds.find((c) => c.commandName === 'find')!;
    // One plain document (not `$and`): FerretDB pushes plain equality keys down to PostgreSQL.
    expect(find.command.filter).toEqual({ '_hg.patient': patientId, '_hg.code': `${coding.system}|${coding.code}`, '_hg.date.e': { $gte: new Date(Date.UTC(1900, 0, 1)) } });
    expect([...(find.command.sort as Map<string, number>)]).toEqual([
      ['_hg.miss.date', 1],
      ['_hg.date.s', -1],
      ['_id', 1],
    ]);
    // The page asks first + 1 (3 + 1) records, the connector one more to know whether more follow.
    expect(find.command.limit).toBe(5);
    expect(find.command.maxTimeMS).toBe(60_000);
    expect(find.command.projection).toEqual({ _hg: 0 });
    expect(finds.filter((c) => c.commandName === 'aggregate')).toHaveLength(1);
  });

  it('a cohort filter (hasCondition) finds the patients the files give: one find on Condition, then Patients by _id', async () => {
    const conditions = resources.get('Condition')!;
    const tokenOf = (c: FhirResource): string => {
      const coding = (c.code as { coding: { system: string; code: string }[] }).coding[0]!;
      return `${coding.system}|${coding.code}`;
    };
    // The code most patients have, so the cohort is neither empty nor everyone.
    const patientsByCode = new Map<string, Set<string>>();
    for (const c of conditions) {
      const set = patientsByCode.get(tokenOf(c)) ?? new Set<string>();
      set.add((c.subject as { reference: string }).reference.split('/')[1]!);
      patientsByCode.set(tokenOf(c), set);
    }
    const [code, expected] = [...patientsByCode].sort((a, b) => b[1].size - a[1].size || a[0].localeCompare(b[0]))[0]!;
    commands.length = 0;
    const body = await query(`query($codes: [String!]) { patients(first: 1000, filter: { hasCondition: $codes }) { edges { node { source { id recordId } } } } }`, { codes: [code] });
    const edges = (body.data as { patients: { edges: { node: { source: { id: string; recordId: string } } }[] } }).patients.edges;
    expect(edges.filter((e) => e.node.source.id === 'lake').map((e) => e.node.source.recordId).sort()).toEqual([...expected].sort());
    // Only the unreachable source reports an error.
    expect((body.errors ?? []).map((e) => e.extensions?.source)).toEqual(['gone']);
    const finds = reads().filter((c) => c.commandName === 'find');
    expect(finds.map((c) => c.command.find)).toEqual(['Condition', 'Patient']);
    expect(finds[0]!.command.filter).toEqual({ '_hg.code': code });
    expect(finds[1]!.command.filter).toEqual({ _id: { $in: [...expected].sort() } });
  });

  it('lists for many parents are one $in query per collection per level', async () => {
    commands.length = 0;
    // The dead source `gone` adds its SOURCE_UNAVAILABLE error; the lake's patients arrive.
    const body = await query(
      `{ patients(first: 10) { edges { node { id encounters(first: 5) { edges { node { id conditions { totalCount } } } } immunizations(first: 3) { totalCount } } } } }`,
    );
    expect(body.errors?.map((e) => e.extensions?.source)).toEqual(['gone']);
    expect(((body.data?.patients as Json).edges as unknown[]).length).toBe(10);
    const perCollection = new Map<string, CommandStartedEvent[]>();
    for (const c of reads()) {
      const name = String(c.command.find ?? c.command.aggregate ?? c.command.count);
      perCollection.set(name, [...(perCollection.get(name) ?? []), c]);
    }
    expect(perCollection.get('Encounter')).toHaveLength(1);
    expect(perCollection.get('Encounter')![0]!.command.filter).toEqual({ '_hg.patient': { $in: expect.any(Array) } });
    expect((perCollection.get('Encounter')![0]!.command.filter as { '_hg.patient': { $in: string[] } })['_hg.patient'].$in).toHaveLength(10);
    expect(perCollection.get('Immunization')).toHaveLength(1);
    expect(perCollection.get('Condition')).toHaveLength(1);
    expect(perCollection.get('Condition')![0]!.command.filter).toMatchObject({ '_hg.encounter': { $in: expect.any(Array) } });
  });

  it('pushed-down filters and sorts answer exactly what the gateway evaluates in memory', async () => {
    const cases: { type: ResourceType; criteria: Criterion[]; sort: SortSpec[] }[] = [];
    const patients = resources.get('Patient')!;
    const conditions = resources.get('Condition')!;
    const encounters = resources.get('Encounter')!;
    const c0 = (conditions[0]!.code as { coding: { system: string; code: string }[] }).coding[0]!;
    const e0 = encounters[0]!;
    const ids = patients.slice(0, 3).map((p) => p.id!);
    cases.push(
      { type: 'Condition', criteria: [{ param: 'code', tokens: [{ system: c0.system, code: c0.code }] }], sort: [{ field: 'date', direction: 'asc' }] },
      { type: 'Condition', criteria: [{ param: 'code', tokens: [{ code: c0.code }, { system: 'http://snomed.info/sct', code: '' }] }], sort: [{ field: 'date', direction: 'desc' }] },
      { type: 'Condition', criteria: [{ param: 'date', range: { from: '2015', to: '2016-06' } }, { param: 'patient', ids }], sort: [{ field: 'date', direction: 'asc' }] },
      { type: 'Condition', criteria: [{ param: 'status', tokens: [{ code: 'resolved' }] }, { param: 'category', tokens: [{ code: '' }] }], sort: [{ field: 'id', direction: 'desc' }] },
      { type: 'Encounter', criteria: [{ param: 'date', range: { from: '2019-03-04' } }, { param: 'status', tokens: [{ code: 'finished' }] }], sort: [{ field: 'date', direction: 'desc' }] },
      { type: 'Encounter', criteria: [{ param: 'code', tokens: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }] }], sort: [{ field: 'lastUpdated', direction: 'asc' }] },
      { type: 'Procedure', criteria: [{ param: 'encounter', ids: [e0.id!] }], sort: [] },
      { type: 'Patient', criteria: [{ param: 'name', text: String((patients[0]!.name as { family: string }[])[0]!.family).slice(0, 3).toUpperCase() }], sort: [{ field: 'name', direction: 'asc' }] },
      { type: 'Patient', criteria: [{ param: 'gender', tokens: [{ code: 'female' }] }, { param: 'birthdate', range: { to: '1980' } }], sort: [{ field: 'birthdate', direction: 'desc' }] },
      { type: 'Patient', criteria: [{ param: 'identifier', tokens: [{ system: 'http://hl7.org/fhir/sid/us-ssn', code: '' }] }], sort: [{ field: 'name', direction: 'desc' }] },
      { type: 'DocumentReference', criteria: [{ param: 'date', range: { from: '2010', to: '2012' } }], sort: [{ field: 'date', direction: 'asc' }] },
    );
    for (const c of cases) {
      const result = await connector.search({ ...c, limit: 100_000, offset: 0, wantTotal: true }, { requestId: 'test' });
      const expected = (resources.get(c.type) ?? [])
        .filter((r) => matchesAll(r, c.type, c.criteria))
        .map((resource) => ({ resource, type: c.type }))
        .sort(comparator(c.sort))
        .map((x) => x.resource.id);
      expect({ case: c, ids: result.records.map((r) => r.id) }).toEqual({ case: c, ids: expected });
      expect(result.total).toBe(expected.length);
    }
  });

  it('a lake that is down fails alone, with SOURCE_UNAVAILABLE and its source id', async () => {
    const body = await query(`{ patients(first: 2) { edges { node { id } } } }`);
    expect(body.errors?.map((e) => e.extensions)).toEqual([expect.objectContaining({ code: 'SOURCE_UNAVAILABLE', source: 'gone' })]);
    expect(((body.data?.patients as Json).edges as unknown[]).length).toBe(2);
  });
});
