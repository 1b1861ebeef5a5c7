/** Conditions, medications, procedures and immunizations recorded at an encounter. */
import type { FhirReference } from './bundle';
import type { Code, ConditionCode } from './codes';
import { CONDITIONS, CVX, MEDICATIONS, PROCEDURES, RXNORM, SNOMED, VACCINES } from './codes';
import type { ActiveMedication, PatientContext } from './context';
import { DAY, concept, date, dateTime } from './context';

export interface EncounterFacts {
  ref: FhirReference;
  start: number;
  end: number;
  practitioner: FhirReference;
  location: FhirReference;
  /** Everything billed for this encounter, in order (claims read it). */
  diagnoses: { ref: FhirReference; code: ConditionCode }[];
  procedures: Code[];
  medications: Code[];
  immunizations: Code[];
}

/** Diagnoses a condition the patient does not have yet, and prescribes its treatments. */
export function diagnose(ctx: PatientContext, facts: EncounterFacts, chronic: boolean): void {
  const { prng } = ctx;
  const held = new Set(ctx.conditions.filter((c) => c.abated === undefined).map((c) => c.code.code));
  const options = CONDITIONS.filter((c) => c.chronic === chronic && !held.has(c.code));
  if (options.length === 0) {
    return;
  }
  const code = prng.pick(options);
  const onset = chronic ? facts.start - prng.int(0, 120) * DAY : facts.start - prng.int(1, 5) * DAY;
  const abated = chronic ? undefined : facts.start + prng.int(7, 28) * DAY;
  const ref = ctx.bundle.add(prng.uuid(), {
    resourceType: 'Condition',
    clinicalStatus: concept('http://terminology.hl7.org/CodeSystem/condition-clinical', abated ? 'resolved' : 'active', abated ? 'Resolved' : 'Active'),
    verificationStatus: concept('http://terminology.hl7.org/CodeSystem/condition-ver-status', 'confirmed', 'Confirmed'),
    category: [concept('http://terminology.hl7.org/CodeSystem/condition-category', 'encounter-diagnosis', 'Encounter Diagnosis')],
    code: concept(SNOMED, code.code, code.display),
    subject: ctx.patient,
    encounter: facts.ref,
    onsetDateTime: dateTime(Math.max(ctx.birth, onset)),
    ...(abated ? { abatementDateTime: dateTime(abated) } : {}),
    recordedDate: date(facts.start),
    recorder: facts.practitioner,
  }, code.display);
  ctx.conditions.push({ code, ref, onset, abated });
  facts.diagnoses.push({ ref, code });
  for (const index of code.treatments) {
    prescribe(ctx, facts, index, ref, abated !== undefined);
  }
}

function prescribe(ctx: PatientContext, facts: EncounterFacts, index: number, reason: FhirReference, acute: boolean): void {
  const code = MEDICATIONS[index];
  if (!code || ctx.medications.some((m) => m.code.code === code.code && !acute)) {
    return;
  }
  const { prng } = ctx;
  const authored = facts.start + prng.int(5, 30) * 60_000;
  const ref = ctx.bundle.add(prng.uuid(), {
    resourceType: 'MedicationRequest',
    status: acute ? 'completed' : 'active',
    intent: 'order',
    medicationCodeableConcept: concept(RXNORM, code.code, code.display),
    subject: ctx.patient,
    encounter: facts.ref,
    authoredOn: dateTime(authored),
    requester: facts.practitioner,
    reasonReference: [reason],
    dosageInstruction: [{ sequence: 1, text: code.dosage, asNeededBoolean: code.dosage.includes('as needed') }],
    ...(acute ? {} : { dispenseRequest: { numberOfRepeatsAllowed: prng.int(1, 5), expectedSupplyDuration: { value: 30, unit: 'days', system: 'http://unitsofmeasure.org', code: 'd' } } }),
  }, code.display);
  const medication: ActiveMedication = { code, ref, authored };
  ctx.medications.push(medication);
  facts.medications.push(code);
}

/** A medication given during an emergency or inpatient stay. */
export function administer(ctx: PatientContext, facts: EncounterFacts): void {
  const { prng } = ctx;
  const code = prng.pick([MEDICATIONS[5], MEDICATIONS[12], MEDICATIONS[4]].filter((m) => m !== undefined));
  const time = facts.start + prng.int(20, 90) * 60_000;
  ctx.bundle.add(prng.uuid(), {
    resourceType: 'MedicationAdministration',
    status: 'completed',
    medicationCodeableConcept: concept(RXNORM, code.code, code.display),
    subject: ctx.patient,
    context: facts.ref,
    effectiveDateTime: dateTime(Math.min(time, facts.end)),
    performer: [{ actor: facts.practitioner }],
    dosage: { text: '1 tablet by mouth', route: concept(SNOMED, '26643006', 'Oral route (qualifier value)') },
  });
  facts.medications.push(code);
}

/** The patient reports taking one of their long-term medications. */
export function statement(ctx: PatientContext, facts: EncounterFacts): void {
  const longTerm = ctx.medications.filter((m) => m.authored < facts.start);
  if (longTerm.length === 0) {
    return;
  }
  const { prng } = ctx;
  const medication = prng.pick(longTerm);
  ctx.bundle.add(prng.uuid(), {
    resourceType: 'MedicationStatement',
    status: 'active',
    medicationCodeableConcept: concept(RXNORM, medication.code.code, medication.code.display),
    subject: ctx.patient,
    context: facts.ref,
    effectivePeriod: { start: date(medication.authored) },
    dateAsserted: dateTime(facts.start),
    informationSource: ctx.patient,
    derivedFrom: [medication.ref],
  });
}

export function perform(ctx: PatientContext, facts: EncounterFacts, code: Code): void {
  const { prng } = ctx;
  const start = facts.start + prng.int(5, 20) * 60_000;
  ctx.bundle.add(prng.uuid(), {
    resourceType: 'Procedure',
    status: 'completed',
    code: concept(SNOMED, code.code, code.display),
    subject: ctx.patient,
    encounter: facts.ref,
    performedPeriod: { start: dateTime(start), end: dateTime(start + prng.int(5, 40) * 60_000) },
    performer: [{ actor: facts.practitioner }],
    location: facts.location,
    ...(facts.diagnoses[0] ? { reasonReference: [facts.diagnoses[0].ref] } : {}),
  }, code.display);
  facts.procedures.push(code);
}

export function pickProcedure(ctx: PatientContext, classCode: string): Code {
  const { prng } = ctx;
  if (classCode === 'EMER') {
    return prng.pick(PROCEDURES.filter((p) => ['29303009', '399208008'].includes(p.code)));
  }
  if (ctx.medications.length > 0 && prng.chance(0.5)) {
    return PROCEDURES[0] as Code;
  }
  return prng.pick(PROCEDURES.slice(1, 4));
}

export function immunize(ctx: PatientContext, facts: EncounterFacts, age: number): void {
  const { prng } = ctx;
  const code = prng.chance(0.7) ? (VACCINES[0] as Code) : prng.pick(age < 18 ? VACCINES.slice(4, 6) : VACCINES.slice(1, 4).concat(VACCINES.slice(6)));
  ctx.bundle.add(prng.uuid(), {
    resourceType: 'Immunization',
    status: 'completed',
    vaccineCode: concept(CVX, code.code, code.display),
    patient: ctx.patient,
    encounter: facts.ref,
    occurrenceDateTime: dateTime(facts.start + prng.int(10, 30) * 60_000),
    recorded: dateTime(facts.start + 45 * 60_000),
    primarySource: true,
    location: facts.location,
    lotNumber: `LOT${prng.int(10000, 99999)}`,
    performer: [{ actor: facts.practitioner }],
  });
  facts.immunizations.push(code);
}
