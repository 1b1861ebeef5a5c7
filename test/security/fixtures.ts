/**
 * The security suite's world: a real FHIR peer (in process) holding three patients built to be
 * attacked — A (the token's patient, with substance-use, HIV and psychiatric data, and records that
 * point at B's), B (the victim), C (with Consents on file) — a real JWKS served over HTTP and from a
 * file, and token minting for every client of the registry.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type KeyLike } from 'jose';
import type { Bundle } from '@medplum/fhirtypes';
import { searchFhir } from '../support/services';

export const SYS = 'urn:healthgraph:test';
export const ISSUER = 'https://auth.example.test';
export const AUDIENCE = 'https://healthgraph.example.test';
const SNOMED = 'http://snomed.info/sct';
const ICD10 = 'http://hl7.org/fhir/sid/icd-10-cm';
const LOINC = 'http://loinc.org';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

type Json = Record<string, unknown>;

const ident = (value: string) => [{ system: SYS, value }];
const ref = (key: string) => ({ reference: `urn:uuid:${uuidOf(key)}` });
const cc = (system: string, code: string, display: string) => ({ coding: [{ system, code, display }], text: display });

const uuids = new Map<string, string>();
function uuidOf(key: string): string {
  let u = uuids.get(key);
  if (!u) {
    const n = (uuids.size + 1).toString(16).padStart(12, '0');
    u = `5ec0a11d-0000-4000-8000-${n}`;
    uuids.set(key, u);
  }
  return u;
}

function entry(key: string, resource: Json): Json {
  return { fullUrl: `urn:uuid:${uuidOf(key)}`, resource: { ...resource, identifier: ident(key) }, request: { method: 'POST', url: resource.resourceType } };
}

const encounter = (key: string, patient: string, extra: Json = {}) =>
  entry(key, {
    resourceType: 'Encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    type: [cc(SNOMED, '185349003', 'Encounter for check up')],
    subject: ref(patient),
    period: { start: '2020-03-01T10:00:00Z', end: '2020-03-01T10:30:00Z' },
    participant: [{ individual: ref('prac-allowed') }],
    serviceProvider: ref('org-clinic'),
    ...extra,
  });

const condition = (key: string, patient: string, code: Json, extra: Json = {}) =>
  entry(key, { resourceType: 'Condition', subject: ref(patient), code, onsetDateTime: '2019-05-01T00:00:00Z', ...extra });

const observation = (key: string, patient: string, code: Json, extra: Json = {}) =>
  entry(key, {
    resourceType: 'Observation',
    status: 'final',
    code,
    subject: ref(patient),
    effectiveDateTime: '2020-03-01T10:10:00Z',
    valueQuantity: { value: 5.4, unit: '%' },
    ...extra,
  });

const claim = (key: string, patient: string, extra: Json) =>
  entry(key, {
    resourceType: 'Claim',
    status: 'active',
    type: cc('http://terminology.hl7.org/CodeSystem/claim-type', 'professional', 'professional'),
    use: 'claim',
    patient: ref(patient),
    created: '2020-03-01T11:00:00Z',
    billablePeriod: { start: '2020-03-01T10:00:00Z', end: '2020-03-01T10:30:00Z' },
    provider: ref('org-clinic'),
    priority: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/processpriority', code: 'normal' }] },
    insurance: [{ sequence: 1, focal: true, coverage: { display: 'private' } }],
    total: { value: 125, currency: 'USD' },
    ...extra,
  });

const consent = (key: string, patient: string, provision: Json, extra: Json = {}) =>
  entry(key, {
    resourceType: 'Consent',
    status: 'active',
    scope: cc('http://terminology.hl7.org/CodeSystem/consentscope', 'patient-privacy', 'Privacy Consent'),
    category: [cc(LOINC, '59284-0', 'Patient Consent')],
    patient: ref(patient),
    dateTime: '2020-01-01T00:00:00Z',
    policyRule: cc('http://terminology.hl7.org/CodeSystem/v3-ActCode', 'OPTIN', 'opt-in'),
    provision,
    ...extra,
  });

/** The world, as one transaction bundle (Medplum turns urn:uuid references into Type/id). */
export function worldBundle(): Bundle {
  const entries: Json[] = [
    entry('org-clinic', { resourceType: 'Organization', name: 'Good Health Clinic' }),
    entry('org-other', { resourceType: 'Organization', name: 'Other Hospital' }),
    entry('prac-allowed', { resourceType: 'Practitioner', name: [{ family: 'Allowed', given: ['Ada'] }] }),
    entry('prac-denied', { resourceType: 'Practitioner', name: [{ family: 'Denied', given: ['Dan'] }] }),
    entry('pat-a', { resourceType: 'Patient', name: [{ family: 'Anders', given: ['Alice'] }], gender: 'female', birthDate: '1980-01-01' }),
    entry('pat-b', { resourceType: 'Patient', name: [{ family: 'Victimsson', given: ['Bob'] }], gender: 'male', birthDate: '1975-06-15' }),
    entry('pat-c', { resourceType: 'Patient', name: [{ family: 'Consenter', given: ['Cara'] }], gender: 'female', birthDate: '1990-02-02' }),
    // B: the victim.
    encounter('enc-b1', 'pat-b'),
    condition('cond-b1', 'pat-b', cc(SNOMED, '44054006', 'Diabetes mellitus type 2'), { encounter: ref('enc-b1') }),
    observation('obs-b1', 'pat-b', cc(LOINC, '4548-4', 'Hemoglobin A1c'), { encounter: ref('enc-b1') }),
    claim('claim-b1', 'pat-b', { item: [{ sequence: 1, productOrService: cc(SNOMED, '185349003', 'Encounter for check up'), encounter: [ref('enc-b1')] }] }),
    // A: the token's patient.
    encounter('enc-a1', 'pat-a', { reasonCode: [cc(SNOMED, '7200002', 'Alcoholism')] }),
    encounter('enc-a2', 'pat-a'),
    condition('cond-a-diabetes', 'pat-a', cc(SNOMED, '44054006', 'Diabetes mellitus type 2'), { encounter: ref('enc-a2') }),
    condition('cond-a-sud', 'pat-a', cc(ICD10, 'F10.20', 'Alcohol dependence, uncomplicated'), { encounter: ref('enc-a1') }),
    condition('cond-a-psy', 'pat-a', cc(SNOMED, '271737000', 'Anemia'), { meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' }] } }),
    observation('obs-a1', 'pat-a', cc(LOINC, '4548-4', 'Hemoglobin A1c'), {
      encounter: ref('enc-a2'),
      category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }],
    }),
    observation('obs-a-cross', 'pat-a', cc(LOINC, '2339-0', 'Glucose'), { encounter: ref('enc-b1') }),
    observation('obs-a-hiv', 'pat-a', cc(LOINC, '75622-1', 'HIV 1 and 2 tests'), { encounter: ref('enc-a2'), valueQuantity: undefined, valueCodeableConcept: cc(SNOMED, '260385009', 'Negative') }),
    entry('med-a-bup', {
      resourceType: 'MedicationRequest',
      status: 'active',
      intent: 'order',
      medicationCodeableConcept: cc(RXNORM, '1010600', 'buprenorphine 2 MG / naloxone 0.5 MG Sublingual Tablet'),
      subject: ref('pat-a'),
      encounter: ref('enc-a1'),
      authoredOn: '2020-03-01T10:20:00Z',
    }),
    claim('claim-a-plain', 'pat-a', {
      diagnosis: [{ sequence: 1, diagnosisReference: ref('cond-a-diabetes') }],
      item: [{ sequence: 1, productOrService: cc(SNOMED, '185349003', 'Encounter for check up'), encounter: [ref('enc-a2')] }],
    }),
    claim('claim-a-sud-line', 'pat-a', {
      item: [
        { sequence: 1, productOrService: cc(SNOMED, '185349003', 'Encounter for check up') },
        { sequence: 2, productOrService: cc(SNOMED, '7200002', 'Alcoholism') },
      ],
    }),
    claim('claim-a-sud-dx', 'pat-a', {
      diagnosis: [{ sequence: 1, diagnosisReference: ref('cond-a-sud') }],
      item: [{ sequence: 1, productOrService: cc(SNOMED, '185349003', 'Encounter for check up') }],
    }),
    claim('claim-a-sud-icd', 'pat-a', {
      diagnosis: [{ sequence: 1, diagnosisCodeableConcept: cc(ICD10, 'F11.20', 'Opioid dependence, uncomplicated') }],
      item: [{ sequence: 1, productOrService: cc(SNOMED, '185349003', 'Encounter for check up') }],
    }),
    claim('claim-a-cross', 'pat-a', {
      diagnosis: [{ sequence: 1, diagnosisReference: ref('cond-b1') }],
      item: [{ sequence: 1, productOrService: cc(SNOMED, '185349003', 'Encounter for check up'), encounter: [ref('enc-b1')] }],
    }),
    // C: Consents on file.
    encounter('enc-c1', 'pat-c'),
    condition('cond-c-sud', 'pat-c', cc(SNOMED, '7200002', 'Alcoholism'), { encounter: ref('enc-c1') }),
    condition('cond-c-diabetes', 'pat-c', cc(SNOMED, '44054006', 'Diabetes mellitus type 2'), { encounter: ref('enc-c1') }),
    // C permits Part 2 disclosure to the clinic, for treatment, by label: explicit, so it counts.
    consent('consent-c-part2', 'pat-c', {
      type: 'deny',
      provision: [
        {
          type: 'permit',
          actor: [{ role: cc('http://terminology.hl7.org/CodeSystem/v3-ParticipationType', 'IRCP', 'information recipient'), reference: ref('org-clinic') }],
          action: [cc('http://terminology.hl7.org/CodeSystem/consentaction', 'access', 'Access')],
          purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
        },
        {
          type: 'permit',
          actor: [{ role: cc('http://terminology.hl7.org/CodeSystem/v3-ParticipationType', 'IRCP', 'information recipient'), reference: ref('org-clinic') }],
          purpose: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }],
          securityLabel: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'SUD' }],
        },
      ],
    }),
    // C denies one practitioner everything.
    consent('consent-c-deny-prac', 'pat-c', {
      type: 'permit',
      provision: [{ type: 'deny', actor: [{ role: cc('http://terminology.hl7.org/CodeSystem/v3-ParticipationType', 'PRCP', 'primary information recipient'), reference: ref('prac-denied') }] }],
    }),
  ];
  return { resourceType: 'Bundle', type: 'transaction', entry: entries } as unknown as Bundle;
}

/** Record ids of the world's resources in the peer, by fixture key. */
export async function worldIds(fhirUrl: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const types = ['Organization', 'Practitioner', 'Patient', 'Encounter', 'Condition', 'Observation', 'MedicationRequest', 'Claim', 'Consent'];
  for (const type of types) {
    const { resources } = await searchFhir(type, { identifier: `${SYS}|`, _count: '200' }, fhirUrl).catch(() => ({ resources: [] }));
    for (const r of resources) {
      const key = (r.identifier as { system?: string; value?: string }[] | undefined)?.find((i) => i.system === SYS)?.value;
      if (key) out[key] = r.id;
    }
  }
  return out;
}

export interface Keys {
  kid: string;
  privateKey: KeyLike;
  publicJwk: JWK;
  alg: 'RS256' | 'ES384';
}

export async function makeKeys(kid: string, alg: 'RS256' | 'ES384'): Promise<Keys> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A real JWKS endpoint on a local port. */
export async function serveJwks(keys: JWK[]): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const body = JSON.stringify({ keys });
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return { url, server, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

export function jwksFile(keys: JWK[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'hg-jwks-'));
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys }));
  return file;
}

export interface TokenClaims {
  client_id?: string;
  sub?: string;
  scope?: string;
  patient?: string;
  fhirUser?: string;
  purpose_of_use?: string;
  [claim: string]: unknown;
}

export interface MintOptions {
  iss?: string;
  aud?: string;
  /** Seconds from now. */
  exp?: number | null;
  nbf?: number;
  iat?: number;
}

export async function mint(keys: Keys, claims: TokenClaims, options: MintOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...claims })
    .setProtectedHeader({ alg: keys.alg, kid: keys.kid, typ: 'JWT' })
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt(options.iat ?? now)
    .setJti(`${now}-${Math.random().toString(36).slice(2)}`);
  if (options.exp !== null) jwt.setExpirationTime(now + (options.exp ?? 300));
  if (options.nbf !== undefined) jwt.setNotBefore(now + options.nbf);
  return jwt.sign(keys.privateKey);
}
