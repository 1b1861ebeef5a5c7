/**
 * The security suite: every case tries to break healthgraph's authorization and counts as one
 * attack. A case "leaks" when the response holds anything the caller must not see. The suite
 * prints `security suite: N attack cases, L leaked` when it ends (goal: 0 leaked).
 *
 * Real things only: an in-process FHIR server holding the world of fixtures.ts, a JWKS served over
 * HTTP, tokens signed with freshly generated keys, the gateway over HTTP, the SQLite audit file.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { base64url, SignJWT } from 'jose';
import { AuditStore } from '../../src/audit/store';
import { encodeId } from '../../src/ids';
import { startFhirServer, type FhirServer } from '../peers/fhir-server';
import { startGateway, type GraphqlBody, type TestGateway } from '../support/services';
import { AUDIENCE, ISSUER, makeKeys, mint, serveJwks, worldBundle, worldIds, type Keys, type MintOptions, type TokenClaims } from './fixtures';

const SOURCE = 'ehr';
let peer: FhirServer;
let jwks: Awaited<ReturnType<typeof serveJwks>>;
let gw: TestGateway;
let ids: Record<string, string>;
let keys: Keys;
let auditFile: string;
const outcomes: { name: string; leaked: boolean }[] = [];

const gid = (type: Parameters<typeof encodeId>[1], key: string): string => encodeId(SOURCE, type, ids[key]!);

/** Everything of patient B a patient-A token must never see: record ids, gateway ids, names. */
function victimMarks(): string[] {
  const keysOfB = ['pat-b', 'enc-b1', 'cond-b1', 'obs-b1', 'claim-b1'];
  const types = { 'pat-b': 'Patient', 'enc-b1': 'Encounter', 'cond-b1': 'Condition', 'obs-b1': 'Observation', 'claim-b1': 'Claim' } as const;
  return [...keysOfB.map((k) => ids[k]!), ...keysOfB.map((k) => gid(types[k as keyof typeof types], k)), 'Victimsson'];
}

/** Part 2 data of A: must not appear without an explicit consent (or break-the-glass). */
function sudMarks(): string[] {
  return [ids['cond-a-sud']!, ids['claim-a-sud-line']!, ids['claim-a-sud-dx']!, ids['claim-a-sud-icd']!, ids['med-a-bup']!, 'Alcoholism', 'F10.20', 'F11.20', 'buprenorphine'];
}

function leaksIn(body: unknown, marks: string[]): string[] {
  const text = JSON.stringify(body);
  return marks.filter((m) => text.includes(m));
}

/** One attack case: a test, counted, failing when `run` reports leaks. */
function attack(name: string, run: () => Promise<string[]>): void {
  it(name, async () => {
    let leaks: string[];
    try {
      leaks = await run();
    } catch (error) {
      outcomes.push({ name, leaked: true });
      throw error;
    }
    outcomes.push({ name, leaked: leaks.length > 0 });
    expect(leaks).toEqual([]);
  });
}

async function token(claims: TokenClaims, options: MintOptions = {}): Promise<string> {
  return mint(keys, claims, options);
}

const patientA = (extra: TokenClaims = {}) => token({ client_id: 'patient-app', sub: 'alice', scope: 'patient/*.rs openid fhirUser', patient: gid('Patient', 'pat-a'), ...extra });
const clinic = (extra: TokenClaims = {}, options: MintOptions = {}) =>
  token({ client_id: 'clinic-app', sub: 'dr-ada', scope: 'system/*.rs', fhirUser: `Practitioner/${ids['prac-allowed']}`, ...extra }, options);

async function ask(tokenValue: string | undefined, query: string, variables?: Record<string, unknown>) {
  return gw.query(query, variables, tokenValue ? { authorization: `Bearer ${tokenValue}` } : {});
}

beforeAll(async () => {
  peer = await startFhirServer({ bundles: [worldBundle()], warmGraphql: false });
  ids = await worldIds(peer.url);
  keys = await makeKeys('k1', 'RS256');
  jwks = await serveJwks([keys.publicJwk]);
  auditFile = join(mkdtempSync(join(tmpdir(), 'hg-audit-')), 'audit.sqlite');
  gw = await startGateway({
    sources: [{ id: SOURCE, kind: 'fhir', url: peer.url }],
    limits: { maxCost: 1_000_000 },
    auth: {
      mode: 'jwt',
      issuer: ISSUER,
      audience: AUDIENCE,
      jwks: jwks.url,
      clients: [
        { id: 'patient-app', scopes: ['patient/*.rs', 'openid', 'fhirUser'], purposes: ['TREAT', 'PATRQT'] },
        {
          id: 'clinic-app',
          scopes: ['system/*.rs', 'user/*.rs'],
          purposes: ['TREAT', 'ETREAT', 'HPAYMT'],
          organization: `Organization/${ids['org-clinic']}`,
          breakTheGlass: true,
        },
        { id: 'research-app', scopes: ['system/*.rs'], purposes: ['HRESCH'] },
        { id: 'lab-app', scopes: ['system/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory', 'system/Patient.rs'] },
        { id: 'admin-app', scopes: ['system/AuditEvent.rs'] },
        { id: 'limited-app', scopes: ['system/Patient.rs'], rateLimit: { perMinute: 3 } },
      ],
    },
    audit: { file: auditFile },
  });
}, 60_000);

afterAll(async () => {
  const leaked = outcomes.filter((o) => o.leaked);
  process.stdout.write(`\nsecurity suite: ${outcomes.length} attack cases, ${leaked.length} leaked${leaked.length ? `: ${leaked.map((o) => o.name).join('; ')}` : ''}\n`);
  await gw?.close();
  await jwks?.close();
  await peer?.close();
});

describe('a patient-scoped token cannot reach another patient', () => {
  attack('patient(id) of another patient answers exactly like an unknown id', async () => {
    const q = 'query($id: ID!) { patient(id: $id) { id name { family } } }';
    const t = await patientA();
    const other = await ask(t, q, { id: gid('Patient', 'pat-b') });
    const unknown = await ask(t, q, { id: encodeId(SOURCE, 'Patient', 'does-not-exist') });
    expect(other.body).toEqual({ data: { patient: null } });
    expect(other.body).toEqual(unknown.body);
    return leaksIn(other.body, victimMarks());
  });

  attack('node(id) of every kind of record of another patient is null', async () => {
    const t = await patientA();
    const all: unknown[] = [];
    for (const [type, key] of [['Patient', 'pat-b'], ['Encounter', 'enc-b1'], ['Condition', 'cond-b1'], ['Observation', 'obs-b1'], ['Claim', 'claim-b1']] as const) {
      const res = await ask(t, 'query($id: ID!) { node(id: $id) { id ... on Resource { fhir } } }', { id: gid(type, key) });
      expect(res.body).toEqual({ data: { node: null } });
      all.push(res.body);
    }
    return leaksIn(all, victimMarks());
  });

  attack('nodes(ids) mixing own and other records returns null for the other patient', async () => {
    const res = await ask(await patientA(), 'query($ids: [ID!]!) { nodes(ids: $ids) { id } }', {
      ids: [gid('Patient', 'pat-a'), gid('Patient', 'pat-b'), gid('Encounter', 'enc-b1'), gid('Observation', 'obs-b1'), gid('Claim', 'claim-b1')],
    });
    const nodes = (res.body.data as { nodes: unknown[] }).nodes;
    expect(nodes[0]).toEqual({ id: gid('Patient', 'pat-a') });
    expect(nodes.slice(1)).toEqual([null, null, null, null]);
    return leaksIn(res.body, victimMarks());
  });

  attack('encounter(id) of another patient is null', async () => {
    const res = await ask(await patientA(), 'query($id: ID!) { encounter(id: $id) { id status } }', { id: gid('Encounter', 'enc-b1') });
    expect(res.body).toEqual({ data: { encounter: null } });
    return leaksIn(res.body, victimMarks());
  });

  attack('aliases cannot smuggle a second patient into one query', async () => {
    const res = await ask(await patientA(), `query($a: ID!, $b: ID!) { mine: patient(id: $a) { id } theirs: patient(id: $b) { id name { family } conditions { totalCount } } again: node(id: $b) { id } }`, {
      a: gid('Patient', 'pat-a'),
      b: gid('Patient', 'pat-b'),
    });
    expect(res.body.data).toEqual({ mine: { id: gid('Patient', 'pat-a') }, theirs: null, again: null });
    return leaksIn(res.body, victimMarks());
  });

  attack('fragments (named and inline) on node(id) of another patient resolve to null', async () => {
    const res = await ask(
      await patientA(),
      `fragment P on Patient { id name { family } encounters { totalCount edges { node { id } } } }
       query($b: ID!, $e: ID!) { a: node(id: $b) { ...P } b: node(id: $e) { ... on Encounter { id subject { ...P } } } }`,
      { b: gid('Patient', 'pat-b'), e: gid('Encounter', 'enc-b1') },
    );
    expect(res.body.data).toEqual({ a: null, b: null });
    return leaksIn(res.body, victimMarks());
  });

  attack('a batched HTTP request cannot read another patient in its second operation', async () => {
    const t = await patientA();
    const res = await fetch(gw.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t}` },
      body: JSON.stringify([
        { query: 'query($id: ID!) { patient(id: $id) { id } }', variables: { id: gid('Patient', 'pat-a') } },
        { query: 'query($id: ID!) { patient(id: $id) { id name { family } } }', variables: { id: gid('Patient', 'pat-b') } },
        { query: '{ patients(first: 50) { totalCount edges { node { id name { family } } } } }' },
      ]),
    });
    const body = (await res.json()) as GraphqlBody[];
    expect(body[0]!.data).toEqual({ patient: { id: gid('Patient', 'pat-a') } });
    expect(body[1]!.data).toEqual({ patient: null });
    expect((body[2]!.data as { patients: { totalCount: number } }).patients.totalCount).toBe(1);
    return leaksIn(body, victimMarks());
  });

  attack('patients() lists only the token patient, and totalCount counts only them', async () => {
    const res = await ask(await patientA(), '{ patients(first: 100) { totalCount edges { node { id name { family } } } } }');
    const patients = (res.body.data as { patients: { totalCount: number; edges: { node: { id: string } }[] } }).patients;
    expect(patients.totalCount).toBe(1);
    expect(patients.edges.map((e) => e.node.id)).toEqual([gid('Patient', 'pat-a')]);
    return leaksIn(res.body, victimMarks());
  });

  attack('a cohort filter (hasCondition) finds only the token patient, though another patient has the condition too', async () => {
    const res = await ask(await patientA(), '{ patients(filter: { hasCondition: ["http://snomed.info/sct|44054006"] }) { totalCount edges { node { id } } } }');
    expect(res.body.data).toEqual({ patients: { totalCount: 1, edges: [{ node: { id: gid('Patient', 'pat-a') } }] } });
    return leaksIn(res.body, victimMarks());
  });

  attack('a cohort filter without a Condition scope finds nobody (conditions cannot be probed through patients)', async () => {
    const t = await token({ client_id: 'patient-app', scope: 'patient/Patient.rs', patient: gid('Patient', 'pat-a') });
    const res = await ask(t, '{ patients(filter: { hasCondition: ["http://snomed.info/sct|44054006"] }) { totalCount edges { node { id } } } }');
    expect(res.body.data).toEqual({ patients: { totalCount: 0, edges: [] } });
    return leaksIn(res.body, victimMarks());
  });

  attack("a name search for another patient finds nothing and counts nothing", async () => {
    const res = await ask(await patientA(), '{ patients(filter: { family: "Victimsson" }) { totalCount edges { node { id } } } }');
    expect(res.body.data).toEqual({ patients: { totalCount: 0, edges: [] } });
    return leaksIn(res.body, victimMarks());
  });

  attack("an observation's encounter pointing at another patient's encounter resolves to null", async () => {
    const res = await ask(
      await patientA(),
      'query($id: ID!) { node(id: $id) { ... on Observation { id encounter { id subject { id name { family } } conditions { totalCount edges { node { id } } } } } } }',
      { id: gid('Observation', 'obs-a-cross') },
    );
    expect(res.body.data).toEqual({ node: { id: gid('Observation', 'obs-a-cross'), encounter: null } });
    return leaksIn(res.body, victimMarks());
  });

  attack("a claim's diagnosis and item encounter pointing at another patient resolve to null", async () => {
    const res = await ask(
      await patientA(),
      'query($id: ID!) { node(id: $id) { ... on Claim { id diagnosis { diagnosisCondition { id code { text } } } item { encounter { id } } provider { ... on Organization { name } } } } }',
      { id: gid('Claim', 'claim-a-cross') },
    );
    const claim = (res.body.data as { node: { diagnosis: { diagnosisCondition: unknown }[]; item: { encounter: unknown[] }[]; provider: unknown } }).node;
    expect(claim.diagnosis[0]!.diagnosisCondition).toBeNull();
    expect(claim.item[0]!.encounter).toEqual([]);
    // The provider is an Organization: not patient data, readable with the scope.
    expect(claim.provider).toEqual({ name: 'Good Health Clinic' });
    return leaksIn(res.body, victimMarks());
  });

  attack("the patient's own lists and totals count only their records", async () => {
    const res = await ask(await patientA(), 'query($id: ID!) { patient(id: $id) { encounters { totalCount edges { node { id participant { individual { name { family } } } } } } observations { totalCount } } }', {
      id: gid('Patient', 'pat-a'),
    });
    const p = (res.body.data as { patient: { encounters: { totalCount: number; edges: { node: { participant: { individual: unknown }[] } }[] }; observations: { totalCount: number } } }).patient;
    expect(p.encounters.totalCount).toBe(2);
    expect(p.encounters.edges[0]!.node.participant[0]!.individual).toEqual({ name: [{ family: 'Allowed' }] });
    return leaksIn(res.body, victimMarks());
  });

  attack('type confusion: a gateway id claiming the wrong type for another patient record is null', async () => {
    const t = await patientA();
    const res = await ask(t, 'query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: patient(id: $b) { id } }', {
      a: encodeId(SOURCE, 'Encounter', ids['pat-b']!),
      b: encodeId(SOURCE, 'Patient', ids['enc-b1']!),
    });
    expect(res.body.data).toEqual({ a: null, b: null });
    return leaksIn(res.body, victimMarks());
  });

  attack('a plain record id as the patient claim selects only that patient', async () => {
    const t = await token({ client_id: 'patient-app', scope: 'patient/*.rs', patient: ids['pat-a'] });
    const res = await ask(t, '{ patients(first: 50) { totalCount edges { node { id } } } }');
    expect((res.body.data as { patients: { totalCount: number } }).patients.totalCount).toBe(1);
    return leaksIn(res.body, victimMarks());
  });

  attack('error responses name nothing of the other patient (bad ids, bad arguments)', async () => {
    const t = await patientA();
    const res = await ask(t, 'query($id: ID!) { patient(id: $id) { id conditions(first: 5000) { totalCount } } }', { id: gid('Patient', 'pat-b') });
    const res2 = await ask(t, 'query($id: ID!) { node(id: $id) { id } }', { id: `${gid('Patient', 'pat-b')}!!` });
    return leaksIn([res.body, res2.body], victimMarks());
  });
});

describe('scopes cannot be escalated', () => {
  attack('a token claiming system/*.rs for a client registered for patient/*.rs gets nothing', async () => {
    const t = await token({ client_id: 'patient-app', scope: 'system/*.rs user/*.rs' });
    const res = await ask(t, 'query($id: ID!) { patients(first: 50) { totalCount } b: patient(id: $id) { id } }', { id: gid('Patient', 'pat-b') });
    expect(res.body.data).toEqual({ patients: { totalCount: 0 }, b: null });
    return leaksIn(res.body, victimMarks());
  });

  attack('patient/Observation.rs reads no claims, conditions or demographics', async () => {
    const t = await token({ client_id: 'patient-app', scope: 'patient/Observation.rs', patient: gid('Patient', 'pat-a') });
    const res = await ask(t, 'query($id: ID!, $c: ID!) { patient(id: $id) { id } node(id: $c) { id } }', { id: gid('Patient', 'pat-a'), c: gid('Claim', 'claim-a-plain') });
    expect(res.body.data).toEqual({ patient: null, node: null });
    const obs = await ask(t, 'query($id: ID!) { node(id: $id) { id } }', { id: gid('Observation', 'obs-a1') });
    expect(obs.body.data).toEqual({ node: { id: gid('Observation', 'obs-a1') } });
    return leaksIn(res.body, [ids['claim-a-plain']!, 'Anders']);
  });

  attack('a granular ?category= scope reads only that category', async () => {
    const t = await token({ client_id: 'lab-app', scope: 'system/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory system/Patient.rs' });
    const res = await ask(t, 'query($id: ID!) { patient(id: $id) { observations { totalCount edges { node { id } } } conditions { totalCount } } }', { id: gid('Patient', 'pat-a') });
    const p = (res.body.data as { patient: { observations: { totalCount: number; edges: { node: { id: string } }[] }; conditions: { totalCount: number } } }).patient;
    expect(p.observations.edges.map((e) => e.node.id)).toEqual([gid('Observation', 'obs-a1')]);
    expect(p.observations.totalCount).toBe(1);
    expect(p.conditions.totalCount).toBe(0);
    return leaksIn(res.body, [ids['obs-a-cross']!, ids['cond-a-diabetes']!]);
  });

  attack('a token from an unregistered client is refused (403)', async () => {
    const res = await ask(await token({ client_id: 'rogue-app', scope: 'system/*.rs' }), '{ patients { totalCount } }');
    expect(res.status).toBe(403);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(res.body.data).toBeUndefined();
    return leaksIn(res.body, victimMarks());
  });

  attack('a purpose of use the client is not registered for is refused (403)', async () => {
    const res = await ask(await patientA({ purpose_of_use: 'HRESCH' }), '{ patients { totalCount } }');
    expect(res.status).toBe(403);
    return leaksIn(res.body, victimMarks());
  });

  attack('break-the-glass from a client not allowed to is refused (403)', async () => {
    const res = await ask(await patientA({ purpose_of_use: 'BTG' }), '{ patients { totalCount } }');
    expect(res.status).toBe(403);
    return leaksIn(res.body, victimMarks());
  });

  attack('the audit trail is not readable without an admin scope', async () => {
    const res = await ask(await clinic(), '{ auditEvents(first: 5) { seq patients disclosed } }');
    expect(res.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(res.body.data).toBeNull();
    return leaksIn(res.body, victimMarks());
  });
});

describe('forged, stale and misdirected tokens are refused with 401', () => {
  const expect401 = async (tokenValue: string | undefined, header?: string): Promise<string[]> => {
    const res = await fetch(gw.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(header ? { authorization: header } : tokenValue ? { authorization: `Bearer ${tokenValue}` } : {}) },
      body: JSON.stringify({ query: 'query($id: ID!) { patient(id: $id) { id name { family } } }', variables: { id: gid('Patient', 'pat-b') } }),
    });
    const body = (await res.json()) as GraphqlBody;
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="healthgraph"/);
    expect(body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(body.data).toBeUndefined();
    return leaksIn(body, victimMarks());
  };
  const claims = (): TokenClaims => ({ client_id: 'clinic-app', scope: 'system/*.rs' });

  attack('no token', () => expect401(undefined));
  attack('not a bearer header', () => expect401(undefined, 'Basic YWRtaW46YWRtaW4='));
  attack('garbage token', () => expect401('not.a.jwt'));
  attack('expired token', async () => expect401(await token(claims(), { exp: -120 })));
  attack('not-yet-valid token (nbf in the future)', async () => expect401(await token(claims(), { nbf: 600 })));
  attack('wrong issuer', async () => expect401(await token(claims(), { iss: 'https://evil.example' })));
  attack('wrong audience', async () => expect401(await token(claims(), { aud: 'https://some-other-api.example' })));
  attack('token without exp', async () => expect401(await token(claims(), { exp: null })));
  attack('unknown kid', async () => expect401(await mint(await makeKeys('k-unknown', 'RS256'), claims())));
  attack('right kid, wrong key', async () => expect401(await mint(await makeKeys('k1', 'RS256'), claims())));
  attack('alg: none', async () => {
    const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT', kid: 'k1' }));
    const now = Math.floor(Date.now() / 1000);
    const payload = base64url.encode(JSON.stringify({ ...claims(), iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300 }));
    return expect401(`${header}.${payload}.`);
  });
  attack('HMAC signed with the public key (algorithm confusion)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(keys.publicJwk));
    const forged = await new SignJWT({ ...claims() })
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(secret);
    return expect401(forged);
  });
  attack('tampered payload (patient claim switched to another patient)', async () => {
    const [h, , s] = (await patientA()).split('.');
    const now = Math.floor(Date.now() / 1000);
    const payload = base64url.encode(JSON.stringify({ client_id: 'patient-app', scope: 'patient/*.rs', patient: gid('Patient', 'pat-b'), iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 300 }));
    return expect401(`${h}.${payload}.${s}`);
  });
});

describe('consent and sensitivity labels hold on every path', () => {
  attack('Part 2 (SUD) conditions are withheld by default and not counted', async () => {
    const res = await ask(await clinic(), 'query($id: ID!) { patient(id: $id) { conditions { totalCount edges { node { id code { text } } } } } }', { id: gid('Patient', 'pat-a') });
    const c = (res.body.data as { patient: { conditions: { totalCount: number; edges: { node: { id: string } }[] } } }).patient.conditions;
    expect(c.edges.map((e) => e.node.id).sort()).toEqual([gid('Condition', 'cond-a-diabetes'), gid('Condition', 'cond-a-psy')].sort());
    expect(c.totalCount).toBe(2);
    return leaksIn(res.body, sudMarks());
  });

  attack('a cohort filter on a withheld Part 2 code does not reveal who has it', async () => {
    const res = await ask(await clinic(), '{ patients(filter: { hasCondition: ["http://hl7.org/fhir/sid/icd-10-cm|F10.20"] }) { totalCount edges { node { id name { family } } } } }');
    expect(res.body.data).toEqual({ patients: { totalCount: 0, edges: [] } });
    // The same caller finds the patient by a condition that is not withheld.
    const seen = await ask(await clinic(), '{ patients(filter: { hasCondition: ["http://snomed.info/sct|44054006"] }) { edges { node { id } } } }');
    expect((seen.body.data as { patients: { edges: { node: { id: string } }[] } }).patients.edges.map((e) => e.node.id)).toContain(gid('Patient', 'pat-a'));
    return leaksIn(res.body, [gid('Patient', 'pat-a'), 'Anders']);
  });

  attack('a Part 2 record by id answers like a missing one', async () => {
    const t = await clinic();
    const res = await ask(t, 'query($a: ID!, $b: ID!) { a: node(id: $a) { id } b: nodes(ids: [$a, $b]) { id } }', { a: gid('Condition', 'cond-a-sud'), b: gid('MedicationRequest', 'med-a-bup') });
    expect(res.body.data).toEqual({ a: null, b: [null, null] });
    return leaksIn(res.body, sudMarks());
  });

  attack('claims carrying SUD codes in a line, a coded diagnosis or a referenced diagnosis are withheld, and totals agree', async () => {
    const res = await ask(await clinic(), 'query($id: ID!) { patient(id: $id) { claims { totalCount edges { node { id item { productOrService { text } } } } } } }', { id: gid('Patient', 'pat-a') });
    const c = (res.body.data as { patient: { claims: { totalCount: number; edges: { node: { id: string } }[] } } }).patient.claims;
    expect(c.edges.map((e) => e.node.id).sort()).toEqual([gid('Claim', 'claim-a-plain'), gid('Claim', 'claim-a-cross')].sort());
    expect(c.totalCount).toBe(2);
    return leaksIn(res.body, sudMarks());
  });

  attack('SUD medication (buprenorphine) is withheld from the medications list, and from the encounter it belongs to', async () => {
    const res = await ask(await clinic(), 'query($id: ID!, $e: ID!) { patient(id: $id) { medications { totalCount edges { node { id } } } } encounter(id: $e) { medications { totalCount } conditions { totalCount } } }', {
      id: gid('Patient', 'pat-a'),
      e: gid('Encounter', 'enc-a1'),
    });
    expect(res.body.data).toEqual({ patient: { medications: { totalCount: 0, edges: [] } }, encounter: { medications: { totalCount: 0 }, conditions: { totalCount: 0 } } });
    return leaksIn(res.body, sudMarks());
  });

  attack("an encounter's SUD reason is redacted with the documented marker", async () => {
    const res = await ask(await clinic(), 'query($e: ID!) { encounter(id: $e) { id reasonCode { text coding { code } } fhir } }', { e: gid('Encounter', 'enc-a1') });
    const enc = (res.body.data as { encounter: { reasonCode: { text: string }[]; fhir: { meta: { security: { code: string }[] } } } }).encounter;
    expect(enc.reasonCode).toEqual([{ text: '[redacted]', coding: [] }]);
    expect(enc.fhir.meta.security.map((s) => s.code)).toContain('REDACTED');
    return leaksIn(res.body, sudMarks());
  });

  attack('research without a research consent sees nothing of the patient (opt-out covers treatment only)', async () => {
    const t = await token({ client_id: 'research-app', scope: 'system/*.rs', purpose_of_use: 'HRESCH' });
    const res = await ask(t, 'query($id: ID!) { patient(id: $id) { id } patients(first: 50) { totalCount } }', { id: gid('Patient', 'pat-a') });
    expect(res.body.data).toEqual({ patient: null, patients: { totalCount: 0 } });
    return leaksIn(res.body, ['Anders', ...sudMarks()]);
  });

  attack('restricted labels (PSY from meta.security, HIV from the code) are released for treatment only', async () => {
    const q = 'query($id: ID!) { patient(id: $id) { conditions { edges { node { id } } } observations { edges { node { id } } } } }';
    const treat = await ask(await clinic(), q, { id: gid('Patient', 'pat-a') });
    expect(JSON.stringify(treat.body)).toContain(gid('Condition', 'cond-a-psy'));
    expect(JSON.stringify(treat.body)).toContain(gid('Observation', 'obs-a-hiv'));
    const payment = await ask(await clinic({ purpose_of_use: 'HPAYMT' }), q, { id: gid('Patient', 'pat-a') });
    return leaksIn(payment.body, [ids['cond-a-psy']!, gid('Condition', 'cond-a-psy'), ids['obs-a-hiv']!, gid('Observation', 'obs-a-hiv'), ...sudMarks()]);
  });

  attack("a consent explicitly permitting Part 2 to one organization opens it to that organization only", async () => {
    const q = 'query($id: ID!) { patient(id: $id) { conditions { totalCount edges { node { id } } } } }';
    const allowed = await ask(await clinic(), q, { id: gid('Patient', 'pat-c') });
    expect(JSON.stringify(allowed.body)).toContain(gid('Condition', 'cond-c-sud'));
    const other = await ask(await token({ client_id: 'lab-app', scope: 'system/Patient.rs' }), q, { id: gid('Patient', 'pat-c') });
    const research = await ask(await token({ client_id: 'research-app', scope: 'system/*.rs', purpose_of_use: 'HRESCH' }), q, { id: gid('Patient', 'pat-c') });
    return leaksIn([other.body, research.body], [ids['cond-c-sud']!, gid('Condition', 'cond-c-sud')]);
  });

  attack('a practitioner denied by consent sees nothing of that patient, not even that they exist', async () => {
    const t = await clinic({ fhirUser: `Practitioner/${ids['prac-denied']}` });
    const res = await ask(t, 'query($id: ID!, $c: ID!) { patient(id: $id) { id } node(id: $c) { id } patients(filter: { family: "Consenter" }) { totalCount } }', {
      id: gid('Patient', 'pat-c'),
      c: gid('Condition', 'cond-c-diabetes'),
    });
    expect(res.body.data).toEqual({ patient: null, node: null, patients: { totalCount: 0 } });
    return leaksIn(res.body, ['Consenter', ids['cond-c-diabetes']!]);
  });

  attack('the consent check cannot be skipped by counting only (totalCount without edges)', async () => {
    const res = await ask(await clinic(), 'query($id: ID!) { patient(id: $id) { conditions { totalCount } claims { totalCount } medications { totalCount } } }', { id: gid('Patient', 'pat-a') });
    expect(res.body.data).toEqual({ patient: { conditions: { totalCount: 2 }, claims: { totalCount: 2 }, medications: { totalCount: 0 } } });
    return [];
  });
});

describe('break-the-glass', () => {
  it('lifts consent denials for an allowed client, and the audit trail says so', async () => {
    const t = await clinic({ purpose_of_use: 'ETREAT', sub: 'dr-btg' });
    const res = await ask(t, 'query($id: ID!) { patient(id: $id) { conditions { totalCount edges { node { id } } } } }', { id: gid('Patient', 'pat-a') });
    expect(JSON.stringify(res.body)).toContain(gid('Condition', 'cond-a-sud'));
    const admin = await token({ client_id: 'admin-app', scope: 'system/AuditEvent.rs' });
    const audit = await ask(admin, '{ auditEvents(first: 5, filter: { breakTheGlass: true }) { subject purpose breakTheGlass decisions disclosed } }');
    const events = (audit.body.data as { auditEvents: { subject: string; breakTheGlass: boolean; decisions: { decision: string; id: string }[]; disclosed: Record<string, string[]> }[] }).auditEvents;
    const event = events.find((e) => e.subject === 'dr-btg');
    expect(event?.breakTheGlass).toBe(true);
    expect(event?.decisions.some((d) => d.decision === 'lifted' && d.id === ids['cond-a-sud'])).toBe(true);
    expect(event?.disclosed.Condition).toContain(`${SOURCE}/${ids['cond-a-sud']}`);
  });

  attack('never lifts scopes or the patient compartment', async () => {
    const t = await token({ client_id: 'clinic-app', scope: 'system/Patient.rs', purpose_of_use: 'ETREAT' });
    const res = await ask(t, 'query($id: ID!) { node(id: $id) { id } }', { id: gid('Condition', 'cond-a-sud') });
    expect(res.body.data).toEqual({ node: null });
    return leaksIn(res.body, sudMarks());
  });

  attack('is refused when the token is older than breakTheGlassMinutes', async () => {
    const t = await clinic({ purpose_of_use: 'ETREAT' }, { iat: Math.floor(Date.now() / 1000) - 2 * 3600, exp: 300 });
    const res = await ask(t, 'query($id: ID!) { node(id: $id) { id } }', { id: gid('Condition', 'cond-a-sud') });
    expect(res.status).toBe(403);
    return leaksIn(res.body, sudMarks());
  });
});

describe('nothing a request learns decides the next one', () => {
  attack("a Consent recorded after a token's first request governs that token's next request, and so does its revocation", async () => {
    const t = await clinic();
    const q = 'query($id: ID!) { patient(id: $id) { id name { family } conditions { totalCount edges { node { id } } } } }';
    const before = await ask(t, q, { id: gid('Patient', 'pat-c') });
    expect(JSON.stringify(before.body)).toContain('Consenter');
    const deny = {
      resourceType: 'Consent',
      status: 'active',
      scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
      category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
      patient: { reference: `Patient/${ids['pat-c']}` },
      provision: { type: 'permit', provision: [{ type: 'deny', actor: [{ reference: { reference: `Organization/${ids['org-clinic']}` } }] }] },
    };
    const created = await fetch(`${peer.url}/Consent`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(deny) });
    expect(created.status).toBe(201);
    const consentId = ((await created.json()) as { id: string }).id;
    let during;
    try {
      during = await ask(t, q, { id: gid('Patient', 'pat-c') });
      expect(during.body.data).toEqual({ patient: null });
    } finally {
      await fetch(`${peer.url}/Consent/${consentId}`, { method: 'DELETE' });
    }
    const after = await ask(t, q, { id: gid('Patient', 'pat-c') });
    expect(JSON.stringify(after.body)).toContain('Consenter');
    return leaksIn(during.body, ['Consenter', ids['cond-c-diabetes']!, gid('Condition', 'cond-c-diabetes')]);
  });

  attack('a tampered copy of a token the gateway has just accepted is refused', async () => {
    const t = await patientA();
    expect((await ask(t, 'query($id: ID!) { patient(id: $id) { id } }', { id: gid('Patient', 'pat-a') })).status).toBe(200);
    const [h, p, s] = t.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, patient: gid('Patient', 'pat-b') })).toString('base64url')}.${s}`;
    const res = await ask(forged, 'query($id: ID!) { patient(id: $id) { id name { family } } }', { id: gid('Patient', 'pat-b') });
    expect(res.status).toBe(401);
    return leaksIn(res.body, victimMarks());
  });

  attack('paging a filtered list one record at a time neither skips nor repeats records, and never shows withheld ones', async () => {
    const t = await clinic();
    const seen: string[] = [];
    let after: string | null = null;
    const bodies: unknown[] = [];
    for (let page = 0; page < 10; page++) {
      const res = await ask(t, 'query($id: ID!, $after: String) { patient(id: $id) { conditions(first: 1, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }', {
        id: gid('Patient', 'pat-a'),
        after,
      });
      bodies.push(res.body);
      const c = (res.body.data as { patient: { conditions: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } } }).patient.conditions;
      seen.push(...c.edges.map((e) => e.node.id));
      if (!c.pageInfo.hasNextPage) break;
      after = c.pageInfo.endCursor;
    }
    expect(seen.sort()).toEqual([gid('Condition', 'cond-a-diabetes'), gid('Condition', 'cond-a-psy')].sort());
    return leaksIn(bodies, sudMarks());
  });

  it("a patient-context token's Consents are asked for together with its first read", async () => {
    const res = await ask(await patientA(), 'query($id: ID!) { patient(id: $id) { id } }', { id: gid('Patient', 'pat-a') });
    expect(res.body.data).toEqual({ patient: { id: gid('Patient', 'pat-a') } });
    expect(res.upstream).toBe(1);
  });

  it("claims' diagnoses are looked up in the same upstream request as the level below the claims: one request per level", async () => {
    const q = `query($id: ID!) { patient(id: $id) { id
      encounters { edges { node { id conditions { edges { node { id } } } observations { edges { node { id } } } } } }
      claims { edges { node { id } } } } }`;
    const res = await ask(await patientA(), q, { id: gid('Patient', 'pat-a') });
    expect(JSON.stringify(res.body)).toContain(gid('Claim', 'claim-a-plain'));
    expect(res.upstream).toBe(3);
  });
});

describe('the audit trail', () => {
  it('records who asked, for what, and exactly which records were disclosed', async () => {
    const t = await patientA({ sub: 'alice-audit' });
    await ask(t, 'query($id: ID!) { patient(id: $id) { id observations { edges { node { id } } } } }', { id: gid('Patient', 'pat-a') });
    const admin = await token({ client_id: 'admin-app', scope: 'system/AuditEvent.rs' });
    const res = await ask(admin, '{ auditEvents(first: 20, filter: { subject: "alice-audit" }) { clientId purpose outcome patients disclosed operation hash } }');
    const [event] = (res.body.data as { auditEvents: { clientId: string; purpose: string; outcome: string; patients: string[]; disclosed: Record<string, string[]> }[] }).auditEvents;
    expect(event).toMatchObject({ clientId: 'patient-app', purpose: 'TREAT', outcome: 'ok', patients: [`${SOURCE}/Patient/${ids['pat-a']}`] });
    expect(event!.disclosed.Patient).toEqual([`${SOURCE}/${ids['pat-a']}`]);
    expect(JSON.stringify(event)).not.toContain(ids['pat-b']!);
  });

  it('records refused requests too', async () => {
    await ask(await token({ client_id: 'rogue-app', sub: 'mallory' }), '{ patients { totalCount } }');
    const admin = await token({ client_id: 'admin-app', scope: 'system/AuditEvent.rs' });
    const res = await ask(admin, '{ auditEvents(first: 5, filter: { subject: "mallory" }) { outcome status clientId } }');
    expect((res.body.data as { auditEvents: unknown[] }).auditEvents[0]).toEqual({ outcome: 'denied', status: 403, clientId: 'rogue-app' });
  });

  it('verifies, and names the first entry after tampering', async () => {
    const store = new AuditStore(auditFile);
    const before = store.verify();
    store.close();
    expect(before.ok).toBe(true);
    expect(before.events).toBeGreaterThan(10);
    const db = new Database(auditFile);
    expect(() => db.prepare('UPDATE audit_events SET outcome = ? WHERE seq = 3').run('ok')).toThrow(/append-only/);
    db.exec('DROP TRIGGER audit_events_no_update');
    const row = db.prepare('SELECT event FROM audit_events WHERE seq = 3').get() as { event: string };
    db.prepare('UPDATE audit_events SET event = ? WHERE seq = 3').run(row.event.replace('"requestId":"', '"requestId":"forged-'));
    db.close();
    const after = new AuditStore(auditFile);
    const result = after.verify();
    after.close();
    expect(result.ok).toBe(false);
    expect(result.firstBad?.seq).toBe(3);
  });
});

describe('rate limits', () => {
  it('refuses a client over its per-minute budget with 429 and Retry-After', async () => {
    const t = await token({ client_id: 'limited-app', scope: 'system/Patient.rs' });
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await ask(t, '{ patients(first: 1) { totalCount } }');
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses.slice(3)).toEqual([429, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });
});
