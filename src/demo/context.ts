/**
 * What the builders of one patient's bundle share: the random stream, the bundle, the shared
 * providers, and the clinical history accumulated so far (notes and claims read it back).
 */
import type { FhirReference } from './bundle';
import { BundleBuilder } from './bundle';
import type { ConditionCode, MedicationCode } from './codes';
import type { Prng } from './prng';
import { SharedResources } from './shared';

/** Last instant of the demo timeline; everything happens before it (no wall clock). */
export const TIMELINE_END = Date.UTC(2025, 5, 30, 12, 0, 0);
const DAY = 86_400_000;
const YEAR = 365.25 * DAY;
export { DAY, YEAR };

export interface ActiveCondition {
  code: ConditionCode;
  ref: FhirReference;
  onset: number;
  /** Undefined while the condition is active. */
  abated?: number;
}

export interface ActiveMedication {
  code: MedicationCode;
  ref: FhirReference;
  authored: number;
}

export interface PatientContext {
  prng: Prng;
  bundle: BundleBuilder;
  shared: SharedResources;
  patient: FhirReference;
  name: { given: string; family: string };
  gender: 'female' | 'male';
  birth: number;
  /** Index into PROVIDERS of the patient's usual clinic. */
  homeProvider: number;
  coverage: FhirReference;
  payer: FhirReference;
  conditions: ActiveCondition[];
  medications: ActiveMedication[];
}

export function createContext(prng: Prng): Pick<PatientContext, 'prng' | 'bundle' | 'shared'> {
  const bundle = new BundleBuilder();
  return { prng, bundle, shared: new SharedResources(bundle) };
}

export function ageAt(ctx: PatientContext, time: number): number {
  return Math.floor((time - ctx.birth) / YEAR);
}

const OFFSETS = [
  { suffix: 'Z', minutes: 0 },
  { suffix: '-05:00', minutes: -300 },
  { suffix: '-04:00', minutes: -240 },
  { suffix: '+00:00', minutes: 0 },
];

/** A full FHIR dateTime with seconds and a time zone; the zone varies with the instant. */
export function dateTime(time: number): string {
  const offset = OFFSETS[Math.floor(time / 3_600_000) % OFFSETS.length] ?? { suffix: 'Z', minutes: 0 };
  return new Date(time + offset.minutes * 60_000).toISOString().slice(0, 19) + offset.suffix;
}

/** An instant (always UTC, with milliseconds), as FHIR `instant` elements require. */
export function instant(time: number): string {
  return new Date(time).toISOString();
}

/** A date without time (`YYYY-MM-DD`). */
export function date(time: number): string {
  return new Date(time).toISOString().slice(0, 10);
}

export function coding(system: string, code: string, display?: string): Record<string, unknown> {
  return display ? { system, code, display } : { system, code };
}

export function concept(system: string, code: string, display: string): Record<string, unknown> {
  return { coding: [coding(system, code, display)], text: display };
}
