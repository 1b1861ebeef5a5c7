/**
 * One patient across sources, through the whole gateway over HTTP: the FHIR peer (60 Synthea
 * patients, ids assigned by the peer) and the claims warehouse in SQLite (the same 60 people as
 * members `A-1`…, claims under their Synthea claim numbers). Expectations come from the sources
 * directly: the warehouse's `member_xref` says which member is which FHIR patient, and the FHIR
 * EOBs' `clm_id` identifiers say which EHR claim is which warehouse claim.
 */
import { encodeId } from '../../src/ids';
import {
  dataOf,
  errorCodes,
  fhirUrl,
  searchAll,
  startGateway,
  type FhirResourceJson,
  type QueryResult,
  type TestGateway,
} from '../support/services';
import { describeSql, openSql, sqlSource, type SqlConnection } from '../support/sql';

type Json = Record<string, unknown>;
interface Ref {
  id: string;
  recordId: string;
}
interface Link {
  id: string;
  source: string;
  recordId: string;
  grade: string;
  basis: string;
}

const SOURCES = [
  { id: 'ehr', kind: 'fhir', url: fhirUrl() },
  { id: 'claims', kind: 'sql', mapping: 'claims', ...sqlSource('sqlite', 'claims') },
];
const CLM_ID = 'https://bluebutton.cms.gov/resources/variables/clm_id';

async function startUnified(): Promise<TestGateway> {
  return startGateway({ sources: SOURCES, identity: { store: { kind: 'memory' }, buildAtStart: true } });
}

/** Every node of a connection under `patient(id)`, paging with `first`. */
async function pageAll(
  gateway: TestGateway,
  id: string,
  field: string,
  selection: string,
  first: number,
  args = '',
): Promise<{ nodes: Json[]; totals: number[] }> {
  const nodes: Json[] = [];
  const totals: number[] = [];
  let after: string | null = null;
  for (let guard = 0; guard < 1000; guard++) {
    const result: QueryResult = await gateway.query(
      `query ($id: ID!, $after: String) { patient(id: $id) { ${field}(first: ${first}, after: $after${args}) { totalCount edges { node { ${selection} } } pageInfo { hasNextPage endCursor } } } }`,
      { id, after },
    );
    const connection = dataOf<{ patient: Json }>(result).patient[field] as {
      totalCount: number;
      edges: { node: Json }[];
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
    nodes.push(...connection.edges.map((e) => e.node));
    totals.push(connection.totalCount);
    if (!connection.pageInfo.hasNextPage) break;
    after = connection.pageInfo.endCursor;
  }
  return { nodes, totals };
}

describeSql('sqlite', 'claims', 'one patient across the EHR and the claims warehouse', () => {
  let gateway: TestGateway;
  let raw: SqlConnection;
  /** FHIR patient id → member id, from the warehouse's crosswalk and the FHIR Synthea identifier. */
  const memberOf = new Map<string, string>();
  let fhirPatients: FhirResourceJson[];

  beforeAll(async () => {
    raw = await openSql('sqlite', 'claims');
    const xref = await raw.query<{ member: string; synthea: string }>(
      "SELECT member_id AS member, source_id AS synthea FROM member_xref WHERE source_system = 'https://github.com/synthetichealth/synthea'",
    );
    const bySynthea = new Map(xref.map((x) => [x.synthea, x.member]));
    fhirPatients = await searchAll('Patient');
    for (const p of fhirPatients) {
      const synthea = ((p.identifier as { system?: string; value?: string }[] | undefined) ?? []).find(
        (i) => i.system === 'https://github.com/synthetichealth/synthea',
      )?.value;
      const member = synthea ? bySynthea.get(synthea) : undefined;
      if (member) memberOf.set(p.id, member);
    }
    gateway = await startUnified();
  });
  afterAll(async () => {
    await gateway?.close();
    await raw?.close();
  });

  /** The FHIR patient with the most claims, and its member. */
  async function busiest(): Promise<{ fhirId: string; member: string }> {
    const counts = await raw.query<{ member: string; n: number }>(
      'SELECT member_id AS member, COUNT(*) AS n FROM claim_header GROUP BY member_id ORDER BY COUNT(*) DESC, member_id LIMIT 1',
    );
    const member = counts[0]!.member;
    const fhirId = [...memberOf].find(([, m]) => m === member)![0];
    return { fhirId, member };
  }

  test('patients lists each person once, linking the FHIR patient with the warehouse member of the same Synthea person; pages visit each once', async () => {
    expect(memberOf.size).toBe(fhirPatients.length);
    const seen: { id: string; links: Link[] }[] = [];
    let after: string | null = null;
    let total = -1;
    for (let guard = 0; guard < 100; guard++) {
      const result: QueryResult = await gateway.query(
        'query ($after: String) { patients(first: 7, after: $after) { totalCount edges { node { id links { id source recordId grade basis } } } pageInfo { hasNextPage endCursor } } }',
        { after },
      );
      type Page = {
        totalCount: number;
        edges: { node: { id: string; links: Link[] } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string };
      };
      const page: Page = dataOf<{ patients: Page }>(result).patients;
      total = page.totalCount;
      seen.push(...page.edges.map((e) => e.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(new Set(seen.map((s) => s.id)).size).toBe(seen.length);
    expect(seen).toHaveLength(fhirPatients.length);
    expect(total).toBe(fhirPatients.length);
    const pairs = seen
      .map((s) =>
        s.links
          .map((l) => `${l.source}/${l.recordId}`)
          .sort()
          .join(' + '),
      )
      .sort();
    const expected = [...memberOf].map(([fhir, member]) => [`claims/${member}`, `ehr/${fhir}`].join(' + ')).sort();
    expect(pairs).toEqual(expected);
    expect(seen.every((s) => s.links.every((l) => l.grade === 'CERTAIN'))).toBe(true);
  });

  test("patient(id) with the FHIR record's id, the member's id or the unified id gives the same person, with demographics from the EHR first", async () => {
    const [fhirId, member] = [...memberOf][0]!;
    const ask = (id: string) =>
      gateway.query(
        'query ($id: ID!) { patient(id: $id) { id name { family given } birthDate source { id recordId } sources { id recordId } provenance { field source { id } } } }',
        { id },
      );
    const byFhir = dataOf<{ patient: Json }>(await ask(encodeId('ehr', 'Patient', fhirId))).patient;
    const byMember = dataOf<{ patient: Json }>(await ask(encodeId('claims', 'Patient', member))).patient;
    const byUnified = dataOf<{ patient: Json }>(await ask(byFhir.id as string)).patient;
    expect(byMember).toEqual(byFhir);
    expect(byUnified).toEqual(byFhir);
    expect(byFhir.id).not.toBe(encodeId('ehr', 'Patient', fhirId));
    expect(byFhir.source).toEqual({ id: 'ehr', recordId: fhirId });
    expect((byFhir.sources as Ref[]).map((s) => `${s.id}/${s.recordId}`).sort()).toEqual([`claims/${member}`, `ehr/${fhirId}`]);
    const provenance = byFhir.provenance as { field: string; source: { id: string } }[];
    expect(provenance.find((p) => p.field === 'name')?.source.id).toBe('ehr');
    expect(
      provenance
        .filter((p) => p.field === 'identifier')
        .map((p) => p.source.id)
        .sort(),
    ).toEqual(['claims', 'ehr']);
  });

  test("a unified patient's claims are the EHR's and the warehouse's claims, each claim held by both shown once with both sources", async () => {
    // The warehouse was loaded from the same Synthea claims: each EHR claim is one warehouse claim.
    // Where the EHR has an EOB, its `clm_id` names the warehouse claim, so those pairs are known exactly.
    const { fhirId, member } = await busiest();
    const ehrClaims = await searchAll('Claim', { patient: fhirId });
    const eobs = await searchAll('ExplanationOfBenefit', { patient: fhirId });
    const sqlClaims = (await raw.query<{ id: string }>('SELECT claim_id AS id FROM claim_header WHERE member_id = ?', [member])).map(
      (r) => r.id,
    );
    // The same claim: the EHR's EOB names the EHR claim and carries the warehouse's claim number.
    const same = new Map<string, string>();
    for (const eob of eobs) {
      const ehrClaim = String((eob.claim as { reference: string }).reference).split('/')[1]!;
      const number = ((eob.identifier as { system: string; value: string }[]) ?? []).find((i) => i.system === CLM_ID)?.value;
      if (number && sqlClaims.includes(number)) same.set(ehrClaim, number);
    }
    expect(same.size).toBeGreaterThan(0);
    const { nodes, totals } = await pageAll(gateway, encodeId('ehr', 'Patient', fhirId), 'claims', 'id sources { id recordId }', 9);
    const shown = nodes.map((n) => (n.sources as Ref[]).map((s) => `${s.id}/${s.recordId}`).sort());
    // Each record of either source is shown exactly once (alone or as a duplicate).
    const everyRecord = shown.flat().sort();
    expect(everyRecord).toEqual([...ehrClaims.map((c) => `ehr/${c.id}`), ...sqlClaims.map((c) => `claims/${c}`)].sort());
    expect(sqlClaims).toHaveLength(ehrClaims.length);
    expect(nodes).toHaveLength(ehrClaims.length);
    expect(new Set(totals)).toEqual(new Set([nodes.length]));
    expect(shown.every((s) => s.length === 2 && s[0]!.startsWith('claims/') && s[1]!.startsWith('ehr/'))).toBe(true);
    const pairs = new Set(shown.map((s) => s.join(' ')));
    const known = [...same].map(([ehr, number]) => [`claims/${number}`, `ehr/${ehr}`].join(' '));
    expect(known.filter((p) => !pairs.has(p))).toEqual([]);
  });

  test("a unified patient's encounters, conditions and coverage are those of the source that holds them", async () => {
    const { fhirId, member } = await busiest();
    const id = encodeId('claims', 'Patient', member);
    const encounters = await searchAll('Encounter', { patient: fhirId });
    const conditions = await searchAll('Condition', { patient: fhirId });
    const coverage = (await raw.query<{ id: number }>('SELECT eligibility_id AS id FROM eligibility WHERE member_id = ?', [member])).map(
      (r) => `claims/${r.id}`,
    );
    for (const [field, want] of [
      ['encounters', encounters.map((e) => `ehr/${e.id}`)],
      ['conditions', conditions.map((e) => `ehr/${e.id}`)],
      ['coverage', coverage],
    ] as const) {
      const { nodes, totals } = await pageAll(gateway, id, field, 'source { id recordId }', 25);
      expect({ field, ids: nodes.map((n) => `${(n.source as Ref).id}/${(n.source as Ref).recordId}`).sort() }).toEqual({
        field,
        ids: [...want].sort(),
      });
      expect(totals[0]).toBe(want.length);
    }
  });

  test('the timeline holds every event of every kind from both sources once, in time order, and pages visit each once', async () => {
    const { fhirId, member } = await busiest();
    const kinds: [string, string][] = [
      ['Encounter', 'ENCOUNTER'],
      ['Condition', 'CONDITION'],
      ['MedicationRequest', 'MEDICATION'],
      ['Procedure', 'PROCEDURE'],
      ['Observation', 'OBSERVATION'],
      ['Immunization', 'IMMUNIZATION'],
      ['AllergyIntolerance', 'ALLERGY'],
      ['Claim', 'CLAIM'],
      ['DocumentReference', 'DOCUMENT'],
    ];
    const expected = new Map<string, number>();
    for (const [type, kind] of kinds) {
      const param = type === 'Immunization' || type === 'AllergyIntolerance' || type === 'Claim' ? 'patient' : 'subject';
      const records = await searchAll(type, { [param]: `Patient/${fhirId}` });
      expected.set(kind, records.filter((r) => hasDate(r)).length);
    }
    // The warehouse holds the same claims as the EHR (previous test): each is one event with two sources.
    const sqlClaims = Number(await raw.scalar('SELECT COUNT(*) FROM claim_header WHERE member_id = ?', [member]));
    const duplicates = sqlClaims;
    const total = [...expected.values()].reduce((a, b) => a + b, 0);

    const { nodes, totals } = await pageAll(
      gateway,
      encodeId('ehr', 'Patient', fhirId),
      'timeline',
      'id instant kind date summary sources { id }',
      100,
    );
    expect(nodes).toHaveLength(total);
    expect(totals[0]).toBe(total);
    expect(new Set(nodes.map((n) => n.id)).size).toBe(total);
    const byKind = new Map<string, number>();
    for (const n of nodes) byKind.set(n.kind as string, (byKind.get(n.kind as string) ?? 0) + 1);
    expect(Object.fromEntries([...byKind].sort())).toEqual(Object.fromEntries([...expected].filter(([, n]) => n > 0).sort()));
    const instants = nodes.map((n) => n.instant as string);
    expect(instants).toEqual([...instants].sort());
    expect(nodes.filter((n) => n.kind === 'CLAIM' && (n.sources as Ref[]).length === 2)).toHaveLength(duplicates);
    expect(nodes.every((n) => typeof n.summary === 'string' && (n.summary as string).length > 0)).toBe(true);

    // Kinds and a date range are filters: the same events as filtering the whole timeline.
    const from = instants[Math.floor(instants.length / 4)]!.slice(0, 10);
    const to = instants[Math.floor((instants.length * 3) / 4)]!.slice(0, 10);
    const filtered = await pageAll(
      gateway,
      encodeId('ehr', 'Patient', fhirId),
      'timeline',
      'id instant kind',
      50,
      `, kinds: [CONDITION, IMMUNIZATION, CLAIM], from: "${from}", to: "${to}"`,
    );
    const want = nodes.filter(
      (n) =>
        ['CONDITION', 'IMMUNIZATION', 'CLAIM'].includes(n.kind as string) &&
        (n.instant as string).slice(0, 10) >= from &&
        (n.instant as string).slice(0, 10) <= to,
    );
    expect(filtered.nodes.map((n) => n.id)).toEqual(want.map((n) => n.id));
  });

  test('matchPatient finds both records of a person from misspelt demographics, graded, with the explanation', async () => {
    const [fhirId, member] = [...memberOf][3]!;
    const patient = fhirPatients.find((p) => p.id === fhirId)!;
    const name = (patient.name as { family: string; given: string[] }[])[0]!;
    const family = name.family.replace(/\d+/g, '');
    const misspelt = family.slice(0, -1) + (family.endsWith('e') ? 'a' : 'e');
    const result = await gateway.query(
      'query ($input: PatientMatchInput!) { matchPatient(input: $input, count: 5) { grade score link { source recordId } patient { id } explanation { fields { field level weight } notes } } }',
      {
        input: {
          family: misspelt,
          given: [name.given[0]!.replace(/\d+/g, '')],
          birthDate: patient.birthDate,
          gender: String(patient.gender).toUpperCase(),
        },
      },
    );
    const candidates = dataOf<{
      matchPatient: {
        grade: string;
        score: number;
        link: { source: string; recordId: string };
        patient: { id: string };
        explanation: { fields: { field: string; level: string }[] };
      }[];
    }>(result).matchPatient;
    const top = candidates
      .slice(0, 2)
      .map((c) => `${c.link.source}/${c.link.recordId}`)
      .sort();
    expect(top).toEqual([`claims/${member}`, `ehr/${fhirId}`]);
    expect(candidates[0]!.patient.id).toBe(candidates[1]!.patient.id);
    expect(candidates[0]!.explanation.fields.find((f) => f.field === 'family')?.level).toMatch(/fuzzy|phonetic/);
    expect(['CERTAIN', 'PROBABLE']).toContain(candidates[0]!.grade);
  });
});

describeSql('sqlite', 'claims', 'manual link decisions', () => {
  let gateway: TestGateway;
  beforeAll(async () => {
    gateway = await startUnified();
  });
  afterAll(async () => {
    await gateway?.close();
  });

  test('unlinkPatients separates two records into two patients with their own lists; linkPatients joins them again', async () => {
    const patients = await searchAll('Patient', { _count: '1' });
    const fhirId = patients[0]!.id;
    const ehr = encodeId('ehr', 'Patient', fhirId);
    const linksOf = async (id: string): Promise<Link[]> =>
      dataOf<{ patient: { links: Link[] } }>(
        await gateway.query('query ($id: ID!) { patient(id: $id) { links { id source recordId grade basis } } }', { id }),
      ).patient.links;
    const before = await linksOf(ehr);
    expect(before).toHaveLength(2);
    const member = before.find((l) => l.source === 'claims')!;
    const totalOf = async (): Promise<number> =>
      dataOf<{ patients: { totalCount: number } }>(await gateway.query('{ patients(first: 1) { totalCount } }')).patients.totalCount;
    const persons = await totalOf();

    const unlinked = await gateway.query(
      'mutation ($a: ID!, $b: ID!) { unlinkPatients(a: $a, b: $b, reason: "not the same person") { id links { source } } }',
      { a: ehr, b: member.id },
    );
    const two = dataOf<{ unlinkPatients: { id: string; links: { source: string }[] }[] }>(unlinked).unlinkPatients;
    expect(two.map((p) => p.links.map((l) => l.source))).toEqual([['ehr'], ['claims']]);
    expect(await linksOf(ehr)).toEqual([expect.objectContaining({ source: 'ehr', basis: 'SELF' })]);
    expect(await totalOf()).toBe(persons + 1);
    const claimsOfEhr = dataOf<{ patient: { claims: { edges: { node: { sources: Ref[] } }[] } } }>(
      await gateway.query('query ($id: ID!) { patient(id: $id) { claims(first: 1000) { edges { node { sources { id } } } } } }', {
        id: ehr,
      }),
    ).patient.claims.edges;
    expect(claimsOfEhr.every((e) => e.node.sources.every((s) => s.id === 'ehr'))).toBe(true);

    const linked = await gateway.query(
      'mutation ($a: ID!, $b: ID!) { linkPatients(a: $a, b: $b, reason: "paper chart") { links { source basis } } }',
      { a: ehr, b: member.id },
    );
    expect(
      dataOf<{ linkPatients: { links: { source: string; basis: string }[] } }>(linked)
        .linkPatients.links.map((l) => `${l.source}:${l.basis}`)
        .sort(),
    ).toEqual(['claims:MANUAL', 'ehr:MANUAL']);
    expect(await totalOf()).toBe(persons);
    expect(gateway.gateway.identity!.index.decisionLog().map((d) => [d.action, d.by, d.reason])).toEqual([
      ['unlink', 'development', 'not the same person'],
      ['link', 'development', 'paper chart'],
    ]);
  });

  test('a link decision naming an unknown patient is refused as bad input', async () => {
    const result = await gateway.query('mutation { linkPatients(a: "nope", b: "nope2") { id } }');
    expect(errorCodes(result.body)).toContain('BAD_USER_INPUT');
  });
});

function hasDate(r: FhirResourceJson): boolean {
  return [
    'period',
    'onsetDateTime',
    'recordedDate',
    'effectiveDateTime',
    'effectivePeriod',
    'issued',
    'authoredOn',
    'performedDateTime',
    'performedPeriod',
    'occurrenceDateTime',
    'recorded',
    'created',
    'billablePeriod',
    'date',
    'context',
  ].some((k) => r[k] !== undefined);
}
