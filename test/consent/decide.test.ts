/**
 * Consent decisions from realistic FHIR R4 Consent resources: opt-in, opt-out, expired, inactive,
 * deny-practitioner, deny-organization, deny-label, deny-code, research-only, purpose-specific,
 * nested exceptions, and the Part 2 rule.
 */
import type { FhirResource } from '../../connectors/types';
import type { ConsentConfig } from '../../src/auth/config';
import { decide } from '../../src/consent/decide';
import type { Accessor, DataItem } from '../../src/consent/evaluate';
import { LabelIndex } from '../../src/consent/labels';
import { instantRange } from '../../src/model/dates';

const NOW = Date.parse('2024-06-01T00:00:00Z');
const ACT = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const REASON = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';
const config = (overrides: Partial<ConsentConfig> = {}): ConsentConfig => ({
  default: 'opt-out',
  labels: {},
  restrictedLabels: ['HIV', 'PSY', 'SDV', 'SEX', 'STD'],
  redactedMarker: '[redacted]',
  ...overrides,
});

function consent(provision: Record<string, unknown>, extra: Record<string, unknown> = {}): FhirResource {
  return {
    resourceType: 'Consent',
    id: `c-${Math.random().toString(36).slice(2, 8)}`,
    status: 'active',
    scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
    category: [{ coding: [{ system: 'http://loinc.org', code: '59284-0' }] }],
    patient: { reference: 'Patient/p1' },
    provision,
    ...extra,
  };
}

const actor = (reference: string) => ({ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'IRCP' }] }, reference: { reference } });
const purpose = (code: string) => ({ system: REASON, code });
const label = (code: string) => ({ system: ACT, code });

const clinician: Accessor = { references: ['Practitioner/dr1', 'Organization/clinic', 'Device/ehr-app'], clientId: 'ehr-app', purpose: 'TREAT' };
const as = (overrides: Partial<Accessor>): Accessor => ({ ...clinician, ...overrides });

const labels = new LabelIndex();
function item(type: DataItem['type'], system: string, code: string, date = '2023-01-10'): DataItem {
  return { type, reference: `${type}/x1`, codings: [{ system, code }], labels: labels.labelsOfCoding(system, code), date: instantRange(date) };
}
const diabetes = item('Condition', 'http://snomed.info/sct', '44054006');
const alcohol = item('Condition', 'http://hl7.org/fhir/sid/icd-10-cm', 'F10.20');
const hiv = item('Observation', 'http://loinc.org', '75622-1');
const glucose = item('Observation', 'http://loinc.org', '2339-0');

describe('defaults with no Consent on file', () => {
  it('opt-out permits treatment and payment, not research', () => {
    expect(decide([], clinician, diabetes, config(), NOW).permit).toBe(true);
    expect(decide([], as({ purpose: 'HPAYMT' }), diabetes, config(), NOW).permit).toBe(true);
    expect(decide([], as({ purpose: 'HRESCH' }), diabetes, config(), NOW)).toMatchObject({ permit: false, reason: 'no consent on file for purpose HRESCH' });
  });

  it('opt-in permits nothing', () => {
    expect(decide([], clinician, diabetes, config({ default: 'opt-in' }), NOW)).toMatchObject({ permit: false, reason: 'no consent on file (opt-in)' });
  });

  it('withholds 42 CFR Part 2 data even for treatment', () => {
    expect(decide([], clinician, alcohol, config(), NOW)).toMatchObject({ permit: false, labels: expect.arrayContaining(['SUD']) });
  });

  it('releases restricted labels (HIV) for treatment, not for payment', () => {
    expect(decide([], clinician, hiv, config(), NOW).permit).toBe(true);
    expect(decide([], as({ purpose: 'HPAYMT' }), hiv, config(), NOW).permit).toBe(false);
  });
});

describe('Consent resources', () => {
  const optIn = consent({ type: 'deny', provision: [{ type: 'permit', actor: [actor('Organization/clinic')], action: [{ coding: [{ code: 'access' }] }] }] });

  it('opt-in: permits the named organization, and nobody else', () => {
    expect(decide([optIn], clinician, diabetes, config({ default: 'opt-in' }), NOW)).toMatchObject({ permit: true, consents: [`Consent/${optIn.id}`] });
    expect(decide([optIn], as({ references: ['Organization/elsewhere'] }), diabetes, config({ default: 'opt-in' }), NOW).permit).toBe(false);
  });

  it('opt-out: a patient who opts out of all sharing is withheld from everyone', () => {
    const optOut = consent({ type: 'deny' });
    expect(decide([optOut], clinician, diabetes, config(), NOW)).toMatchObject({ permit: false, reason: 'denied by consent' });
  });

  it('an expired consent no longer applies', () => {
    const expired = consent({ type: 'deny', period: { start: '2020-01-01', end: '2021-12-31' } });
    expect(decide([expired], clinician, diabetes, config(), NOW).permit).toBe(true);
  });

  it('an inactive (or draft, rejected) consent does not apply', () => {
    for (const status of ['inactive', 'draft', 'rejected', 'entered-in-error', 'proposed']) {
      expect(decide([consent({ type: 'deny' }, { status })], clinician, diabetes, config(), NOW).permit).toBe(true);
    }
  });

  it('deny-practitioner: one practitioner is denied, colleagues are not', () => {
    const c = consent({ type: 'permit', provision: [{ type: 'deny', actor: [actor('https://ehr.example/fhir/Practitioner/dr1')] }] });
    expect(decide([c], clinician, diabetes, config(), NOW).permit).toBe(false);
    expect(decide([c], as({ references: ['Practitioner/dr2', 'Organization/clinic'] }), diabetes, config(), NOW).permit).toBe(true);
  });

  it('deny-organization: matched by reference or by the client identifier', () => {
    const byRef = consent({ type: 'permit', provision: [{ type: 'deny', actor: [actor('Organization/clinic')] }] });
    const byClient = consent({ type: 'permit', provision: [{ type: 'deny', actor: [{ reference: { identifier: { system: 'urn:healthgraph:client-id', value: 'ehr-app' } } }] }] });
    expect(decide([byRef], clinician, diabetes, config(), NOW).permit).toBe(false);
    expect(decide([byClient], clinician, diabetes, config(), NOW).permit).toBe(false);
    expect(decide([byClient], as({ clientId: 'other-app', references: [] }), diabetes, config(), NOW).permit).toBe(true);
  });

  it('deny-label: HIV data is withheld, the rest is not', () => {
    const c = consent({ type: 'permit', provision: [{ type: 'deny', securityLabel: [label('HIV')] }] });
    expect(decide([c], clinician, hiv, config(), NOW).permit).toBe(false);
    expect(decide([c], clinician, glucose, config(), NOW).permit).toBe(true);
  });

  it('deny-code: one diagnosis code is withheld', () => {
    const c = consent({ type: 'permit', provision: [{ type: 'deny', code: [{ coding: [{ system: 'http://snomed.info/sct', code: '44054006' }] }] }] });
    expect(decide([c], clinician, diabetes, config(), NOW).permit).toBe(false);
    expect(decide([c], clinician, glucose, config(), NOW).permit).toBe(true);
  });

  it('deny-class and data period: observations from before 2022 are withheld', () => {
    const c = consent({ type: 'permit', provision: [{ type: 'deny', class: [{ system: 'http://hl7.org/fhir/resource-types', code: 'Observation' }], dataPeriod: { end: '2021-12-31' } }] });
    expect(decide([c], clinician, item('Observation', 'http://loinc.org', '2339-0', '2020-05-05'), config(), NOW).permit).toBe(false);
    expect(decide([c], clinician, glucose, config(), NOW).permit).toBe(true);
    expect(decide([c], clinician, item('Condition', 'http://snomed.info/sct', '44054006', '2020-05-05'), config(), NOW).permit).toBe(true);
  });

  it('research-only: a research consent permits research and says nothing about treatment', () => {
    const research = consent(
      { type: 'permit', purpose: [purpose('HRESCH')] },
      { scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'research' }] } },
    );
    expect(decide([research], as({ purpose: 'HRESCH' }), diabetes, config(), NOW)).toMatchObject({ permit: true, reason: 'permitted by consent' });
    expect(decide([research], clinician, diabetes, config(), NOW)).toMatchObject({ permit: true, reason: 'default (opt-out)' });
    expect(decide([research], as({ purpose: 'HRESCH' }), diabetes, config({ default: 'opt-in' }), NOW).permit).toBe(true);
  });

  it('purpose-specific: permit for treatment only denies payment under opt-in', () => {
    const c = consent({ type: 'deny', provision: [{ type: 'permit', purpose: [purpose('TREAT')] }] });
    expect(decide([c], clinician, diabetes, config({ default: 'opt-in' }), NOW).permit).toBe(true);
    expect(decide([c], as({ purpose: 'ETREAT' }), diabetes, config({ default: 'opt-in' }), NOW).permit).toBe(true);
    expect(decide([c], as({ purpose: 'HPAYMT' }), diabetes, config({ default: 'opt-in' }), NOW).permit).toBe(false);
  });

  it('nested exceptions: permit all, deny the clinic, except its emergency department for treatment', () => {
    const c = consent({
      type: 'permit',
      provision: [{ type: 'deny', actor: [actor('Organization/clinic')], provision: [{ type: 'permit', actor: [actor('Practitioner/er-doc')], purpose: [purpose('ETREAT')] }] }],
    });
    expect(decide([c], clinician, diabetes, config(), NOW).permit).toBe(false);
    expect(decide([c], as({ references: ['Organization/clinic', 'Practitioner/er-doc'], purpose: 'ETREAT' }), diabetes, config(), NOW).permit).toBe(true);
    expect(decide([c], as({ references: ['Organization/other'] }), diabetes, config(), NOW).permit).toBe(true);
  });

  it('any deny among several consents wins', () => {
    const permit = consent({ type: 'permit' });
    const deny = consent({ type: 'permit', provision: [{ type: 'deny', actor: [actor('Organization/clinic')] }] });
    expect(decide([permit, deny], clinician, diabetes, config(), NOW)).toMatchObject({ permit: false, consents: [`Consent/${deny.id}`] });
  });
});

describe('42 CFR Part 2 needs an explicit consent', () => {
  const explicit = consent({ type: 'deny', provision: [{ type: 'permit', actor: [actor('Organization/clinic')], purpose: [purpose('TREAT')], securityLabel: [label('SUD')] }] });

  it('a consent naming the recipient, the purpose and the SUD label permits it', () => {
    expect(decide([explicit], clinician, alcohol, config(), NOW).permit).toBe(true);
  });

  it('not for another recipient, nor another purpose', () => {
    expect(decide([explicit], as({ references: ['Organization/other'] }), alcohol, config(), NOW).permit).toBe(false);
    expect(decide([explicit], as({ purpose: 'HPAYMT' }), alcohol, config(), NOW).permit).toBe(false);
  });

  it('a general permit (no recipient, no purpose, no label) is not enough', () => {
    expect(decide([consent({ type: 'permit' })], clinician, alcohol, config(), NOW).permit).toBe(false);
    const noLabel = consent({ type: 'permit', actor: [actor('Organization/clinic')], purpose: [purpose('TREAT')] });
    expect(decide([noLabel], clinician, alcohol, config(), NOW).permit).toBe(false);
  });

  it('an explicit permit naming the SUD code also counts', () => {
    const byCode = consent({ type: 'deny', provision: [{ type: 'permit', actor: [actor('Organization/clinic')], purpose: [purpose('TREAT')], code: [{ coding: [{ code: 'F10.20' }] }] }] });
    expect(decide([byCode], clinician, alcohol, config(), NOW).permit).toBe(true);
  });
});

describe('sensitivity labels', () => {
  it.each([
    ['http://hl7.org/fhir/sid/icd-10-cm', 'F10.20', 'SUD'],
    ['http://hl7.org/fhir/sid/icd-10-cm', 'F1120', 'SUD'],
    ['http://snomed.info/sct', '7200002', 'SUD'],
    ['http://www.nlm.nih.gov/research/umls/rxnorm', '1010600', 'SUD'],
    ['http://hl7.org/fhir/sid/icd-10-cm', 'B20', 'HIV'],
    ['http://loinc.org', '75622-1', 'HIV'],
    ['http://snomed.info/sct', '370143000', 'PSY'],
    ['http://snomed.info/sct', '706893006', 'SDV'],
    ['http://snomed.info/sct', '105629000', 'STD'],
  ])('%s|%s is %s', (system, code, expected) => {
    expect(labels.labelsOfCoding(system, code)).toContain(expected);
  });

  it('nicotine dependence (F17) is not Part 2', () => {
    expect(labels.labelsOfCoding('http://hl7.org/fhir/sid/icd-10-cm', 'F17.210')).toEqual([]);
  });

  it('lists extend from config', () => {
    const extended = new LabelIndex({ SUD: ['http://example.org/codes|LOCAL-SUD-1'], GDIS: ['http://snomed.info/sct|93461009'] });
    expect(extended.labelsOfCoding('http://example.org/codes', 'LOCAL-SUD-1')).toEqual(expect.arrayContaining(['SUD', 'ETH']));
    expect(extended.labelsOfCoding('http://snomed.info/sct', '93461009')).toEqual(['GDIS']);
  });

  it('a claim is labelled by its lines and coded diagnoses, and meta.security counts', () => {
    const claim: FhirResource = {
      resourceType: 'Claim',
      item: [{ productOrService: { coding: [{ system: 'http://snomed.info/sct', code: '185349003' }] } }, { productOrService: { coding: [{ system: 'http://snomed.info/sct', code: '5602001' }] } }],
    };
    expect(labels.recordLabels(claim, 'Claim')).toEqual(expect.arrayContaining(['SUD', 'ETH']));
    expect(labels.recordLabels({ resourceType: 'Condition', meta: { security: [{ code: 'PSY' }] } }, 'Condition')).toEqual(['PSY']);
  });

  it('a record with several labelled codings in one element gets all their labels', () => {
    const condition: FhirResource = {
      resourceType: 'Condition',
      code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'B20' }, { system: 'http://snomed.info/sct', code: '7200002' }, { system: 'http://snomed.info/sct', code: '44054006' }] },
    };
    expect([...labels.recordLabels(condition, 'Condition')].sort()).toEqual(['ETH', 'HIV', 'SUD']);
    expect(labels.recordLabels({ resourceType: 'Condition', code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006' }] } }, 'Condition')).toEqual([]);
  });

  it('labels stay the same when a code is asked for again, and after the remembered codes start over', () => {
    const index = new LabelIndex();
    expect(index.labelsOfCoding('http://hl7.org/fhir/sid/icd-10-cm', 'F10.20')).toEqual(expect.arrayContaining(['SUD', 'ETH']));
    for (let i = 0; i < 60_000; i++) index.labelsOfCoding('http://example.org/filler', String(i));
    expect(index.labelsOfCoding('http://hl7.org/fhir/sid/icd-10-cm', 'F10.20')).toEqual(expect.arrayContaining(['SUD', 'ETH']));
    expect(index.labelsOfCoding('http://hl7.org/fhir/sid/icd-10-cm', 'f1020')).toEqual(expect.arrayContaining(['SUD', 'ETH']));
    expect(index.labelsOfCoding(undefined, 'F10.20')).toEqual([]);
  });
});
