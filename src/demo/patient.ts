/** The Patient, Coverage and AllergyIntolerance resources of one demo patient. */
import type { FhirResource } from '../../connectors/types';
import type { FhirReference } from './bundle';
import { ALLERGIES, SNOMED } from './codes';
import type { PatientContext } from './context';
import { DAY, TIMELINE_END, YEAR, concept, coding, date, dateTime } from './context';
import type { createContext } from './context';
import { PAYERS, PROVIDERS } from './shared';

export const MRN_SYSTEM = 'urn:healthgraph:demo:mrn';
export const SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

const GIVEN = {
  female: ['Maria', 'Aisha', 'Emily', 'Sofia', 'Grace', 'Hannah', 'Olivia', 'Mei', 'Fatima', 'Ingrid', 'Rosa', 'Chloe', 'Naomi', 'Yuki', 'Amara'],
  male: ['James', 'Mateo', 'Omar', 'Liam', 'Noah', 'Daniel', 'Kenji', 'Ivan', 'Samuel', 'Diego', 'Tariq', 'Lucas', 'Elijah', 'Arjun', 'Felix'],
};
const FAMILY = ['Smith', 'Garcia', 'Nguyen', 'Johnson', 'Okonkwo', 'Rossi', 'Kim', 'Murphy', 'Silva', 'Cohen', 'Petrov', 'Hughes', 'Santos', 'Larsen', 'Dubois', 'Yamamoto', 'Walker', 'Haddad', 'Fischer', 'OBrien'];
const STREETS = ['Elm Street', 'Oak Avenue', 'Pine Road', 'Cedar Lane', 'Washington Street', 'Summer Street', 'Highland Avenue', 'Park Drive'];
const CITIES = [
  { city: 'Boston', postalCode: '02118', provider: 1 },
  { city: 'Worcester', postalCode: '01602', provider: 0 },
  { city: 'Lowell', postalCode: '01852', provider: 2 },
  { city: 'Springfield', postalCode: '01103', provider: 3 },
  { city: 'Cambridge', postalCode: '02139', provider: 4 },
  { city: 'Quincy', postalCode: '02169', provider: 1 },
];

const MARITAL = [
  { code: 'M', display: 'Married' },
  { code: 'S', display: 'Never Married' },
  { code: 'D', display: 'Divorced' },
  { code: 'W', display: 'Widowed' },
];

function maritalStatus(status: { code: string; display: string }): Record<string, unknown> {
  return concept('http://terminology.hl7.org/CodeSystem/v3-MaritalStatus', status.code, status.display);
}

export type PatientSeedContext = ReturnType<typeof createContext>;

/** Adds the Patient and its Coverage; returns the context every other builder uses. */
export function addPatient(base: PatientSeedContext, seed: number, index: number): PatientContext {
  const { prng, bundle, shared } = base;
  const gender = prng.chance(0.5) ? 'female' : 'male';
  const given = prng.pick(GIVEN[gender]);
  const middle = prng.chance(0.6) ? prng.pick(GIVEN[gender]) : undefined;
  const family = prng.pick(FAMILY);
  const birth = TIMELINE_END - prng.int(2, 88) * YEAR - prng.int(0, 364) * DAY;
  const home = prng.pick(CITIES);
  const mrn = `HG${seed}-${String(index + 1).padStart(5, '0')}`;
  const patientResource: FhirResource = {
    resourceType: 'Patient',
    identifier: [
      { use: 'usual', type: { coding: [coding(V2_0203, 'MR', 'Medical Record Number')], text: 'Medical Record Number' }, system: MRN_SYSTEM, value: mrn },
      { type: { coding: [coding(V2_0203, 'SS', 'Social Security Number')], text: 'Social Security Number' }, system: SSN_SYSTEM, value: `999-${prng.int(10, 99)}-${prng.int(1000, 9999)}` },
    ],
    active: true,
    name: [{ use: 'official', family, given: middle ? [given, middle] : [given], ...(prng.chance(0.3) ? { prefix: [gender === 'female' ? 'Ms.' : 'Mr.'] } : {}) }],
    telecom: [
      { system: 'phone', value: `555-${prng.int(100, 999)}-${prng.int(1000, 9999)}`, use: prng.pick(['home', 'mobile']) },
      ...(prng.chance(0.6) ? [{ system: 'email', value: `${given}.${family}${prng.int(1, 99)}@example.com`.toLowerCase(), use: 'home' }] : []),
    ],
    gender,
    birthDate: date(birth),
    address: [{ use: 'home', line: [`${prng.int(1, 999)} ${prng.pick(STREETS)}`], city: home.city, state: 'MA', postalCode: home.postalCode, country: 'US' }],
    maritalStatus: maritalStatus(prng.pick(MARITAL)),
    communication: [{ language: concept('urn:ietf:bcp:47', 'en-US', 'English (United States)') }],
  };
  const patient = bundle.add(prng.uuid(), patientResource, `${given} ${family}`);
  const homeProvider = home.provider % PROVIDERS.length;
  patientResource.managingOrganization = shared.organization(homeProvider);
  patientResource.generalPractitioner = [shared.practitioner(homeProvider * 2)];

  const payerIndex = birth < TIMELINE_END - 65 * YEAR ? 1 : prng.pick([0, 2]);
  const payer = shared.payer(payerIndex);
  const coverageStart = Math.max(birth, TIMELINE_END - 15 * YEAR);
  const coverage = bundle.add(prng.uuid(), {
    resourceType: 'Coverage',
    status: 'active',
    type: concept('http://terminology.hl7.org/CodeSystem/v3-ActCode', 'HIP', 'health insurance plan policy'),
    subscriberId: `${(PAYERS[payerIndex]?.key ?? 'PAYER').slice(6, 9)}${prng.int(100000, 999999)}`,
    beneficiary: patient,
    relationship: concept('http://terminology.hl7.org/CodeSystem/subscriber-relationship', 'self', 'Self'),
    period: { start: date(coverageStart) },
    payor: [payer],
    class: [{ type: concept('http://terminology.hl7.org/CodeSystem/coverage-class', 'plan', 'Plan'), value: PAYERS[payerIndex]?.key ?? 'PLAN', name: PAYERS[payerIndex]?.plan }],
  });
  return { ...base, patient, name: { given, family }, gender, birth, homeProvider, coverage, payer, conditions: [], medications: [] };
}

/** Zero to two allergies, recorded (date only) at the given encounter. */
export function addAllergies(ctx: PatientContext, encounter: FhirReference, time: number): void {
  const { prng } = ctx;
  for (const allergy of prng.sample(ALLERGIES, prng.pick([0, 0, 1, 1, 2]))) {
    ctx.bundle.add(prng.uuid(), {
      resourceType: 'AllergyIntolerance',
      clinicalStatus: concept('http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', 'active', 'Active'),
      verificationStatus: concept('http://terminology.hl7.org/CodeSystem/allergyintolerance-verification', 'confirmed', 'Confirmed'),
      type: 'allergy',
      category: [allergy.category],
      criticality: allergy.reaction.code === '39579001' ? 'high' : 'low',
      code: concept(SNOMED, allergy.code, allergy.display),
      patient: ctx.patient,
      encounter,
      onsetDateTime: dateTime(Math.max(ctx.birth, time - prng.int(30, 3000) * DAY)),
      recordedDate: date(time),
      reaction: [{ manifestation: [concept(SNOMED, allergy.reaction.code, allergy.reaction.display)], severity: prng.pick(['mild', 'moderate', 'severe']) }],
    });
  }
}
