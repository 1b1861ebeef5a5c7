/** Vital-sign and laboratory Observations (LOINC codes, UCUM quantities, some coded values). */
import type { FhirResource } from '../../connectors/types';
import type { FhirReference } from './bundle';
import type { QuantityCode } from './codes';
import { BLOOD_PRESSURE, CODED_OBSERVATIONS, LABS, LOINC, SNOMED, UCUM, VITALS } from './codes';
import type { PatientContext } from './context';
import { concept, dateTime, instant } from './context';

const CATEGORY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/observation-category';
const CATEGORY_DISPLAY: Record<string, string> = { 'vital-signs': 'Vital Signs', laboratory: 'Laboratory', 'social-history': 'Social History' };

function observation(ctx: PatientContext, encounter: FhirReference, time: number, category: string, code: { code: string; display: string }): FhirResource {
  return {
    resourceType: 'Observation',
    status: 'final',
    category: [concept(CATEGORY_SYSTEM, category, CATEGORY_DISPLAY[category] ?? category)],
    code: concept(LOINC, code.code, code.display),
    subject: ctx.patient,
    encounter,
    effectiveDateTime: dateTime(time),
    issued: instant(time + 3_600_000),
  };
}

function quantity(value: number, code: QuantityCode | { unit: string; ucum: string }): Record<string, unknown> {
  return { value, unit: code.unit, system: UCUM, code: code.ucum };
}

/** Height, weight, BMI, heart rate and blood pressure; temperature, respiration and SpO2 when `acute`. */
export function addVitals(ctx: PatientContext, encounter: FhirReference, time: number, acute: boolean): void {
  const { prng } = ctx;
  const wanted = acute ? VITALS : VITALS.filter((v) => !['8310-5', '9279-1', '2708-6'].includes(v.code));
  for (const vital of wanted) {
    const resource = observation(ctx, encounter, time, 'vital-signs', vital);
    resource.valueQuantity = quantity(prng.decimal(vital.low, vital.high, vital.decimals), vital);
    ctx.bundle.add(prng.uuid(), resource);
  }
  const bp = observation(ctx, encounter, time, 'vital-signs', BLOOD_PRESSURE.panel);
  const mmHg = { unit: 'mm[Hg]', ucum: 'mm[Hg]' };
  bp.component = [
    { code: concept(LOINC, BLOOD_PRESSURE.systolic.code, BLOOD_PRESSURE.systolic.display), valueQuantity: quantity(prng.int(BLOOD_PRESSURE.systolic.low, BLOOD_PRESSURE.systolic.high), mmHg) },
    { code: concept(LOINC, BLOOD_PRESSURE.diastolic.code, BLOOD_PRESSURE.diastolic.display), valueQuantity: quantity(prng.int(BLOOD_PRESSURE.diastolic.low, BLOOD_PRESSURE.diastolic.high), mmHg) },
  ];
  ctx.bundle.add(prng.uuid(), bp);
}

/** The labs that follow up the patient's active chronic conditions. */
export function addLabs(ctx: PatientContext, encounter: FhirReference, time: number): void {
  const { prng } = ctx;
  const codes = new Set(ctx.conditions.filter((c) => c.abated === undefined).flatMap((c) => c.code.labs));
  for (const lab of LABS.filter((l) => codes.has(l.code))) {
    const resource = observation(ctx, encounter, time, 'laboratory', lab);
    resource.valueQuantity = quantity(prng.decimal(lab.low, lab.high, lab.decimals), lab);
    ctx.bundle.add(prng.uuid(), resource);
  }
  if (ctx.conditions.some((c) => c.code.code === '44054006') && prng.chance(0.5)) {
    const { code, category, values } = CODED_OBSERVATIONS.urineGlucose;
    const resource = observation(ctx, encounter, time, category, code);
    const value = prng.pick(values);
    resource.valueCodeableConcept = concept(SNOMED, value.code, value.display);
    ctx.bundle.add(prng.uuid(), resource);
  }
}

/** Tobacco smoking status, a coded social-history observation. */
export function addSmokingStatus(ctx: PatientContext, encounter: FhirReference, time: number): void {
  const { code, category, values } = CODED_OBSERVATIONS.smoking;
  const resource = observation(ctx, encounter, time, category, code);
  const value = values[ctx.name.family.length % values.length] ?? values[0];
  resource.valueCodeableConcept = concept(SNOMED, value.code, value.display);
  ctx.bundle.add(ctx.prng.uuid(), resource);
}
