/**
 * Puts the gateway's and the upstream's answers into one shape so the benchmark can check that
 * both sides answered the same question with the same data before it measures them.
 */
import { tryDecodeId } from '../src/ids';
import type { Question, Target } from './queries';

type Json = Record<string, unknown>;

/** The comparable content of an answer: FHIR ids and values, lists of ids sorted (ties may order differently). */
export interface Normalized {
  patient: { id: string; gender: string; birthDate: string; names: string[]; identifiers: string[] };
  encounters?: { id: string; status: string; conditions: string[]; observations: string[]; medications: string[] }[];
  claims?: string[];
}

const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? '' : JSON.stringify(v));
/** Gateway enums are FHIR codes upper-cased with `_` for `-`. */
const code = (v: unknown): string => str(v).toLowerCase().replace(/_/g, '-');

/** The FHIR logical id: gateway ids are decoded, upstream ids are already FHIR ids. */
function fhirId(target: Target, v: unknown): string {
  return target === 'gateway' ? (tryDecodeId(str(v))?.id ?? `?${str(v)}`) : str(v);
}

function ids(target: Target, list: unknown[]): string[] {
  return list.map((v) => fhirId(target, obj(v).id)).sort();
}

/** Gateway connection `{ edges { node } }` → nodes. */
const nodes = (connection: unknown): unknown[] => arr(obj(connection).edges).map((e) => obj(e).node);

const UPSTREAM_MEDICATIONS = ['MedicationRequestList', 'MedicationStatementList', 'MedicationDispenseList', 'MedicationAdministrationList'];

export function normalize(target: Target, question: Question, response: unknown): Normalized {
  const data = obj(obj(response).data);
  const p = obj(target === 'gateway' ? data.patient : data.Patient);
  const out: Normalized = {
    patient: {
      id: fhirId(target, p.id),
      gender: code(p.gender),
      birthDate: str(p.birthDate),
      names: arr(p.name).map((n) => `${arr(obj(n).given).map(str).join(' ')} ${str(obj(n).family)}`),
      identifiers: arr(p.identifier).map((i) => `${str(obj(i).system)}|${str(obj(i).value)}`),
    },
  };
  if (question === 'patient') return out;
  const encounters = target === 'gateway' ? nodes(p.encounters) : arr(p.EncounterList);
  out.encounters = encounters
    .map((raw) => {
      const e = obj(raw);
      const conditions = target === 'gateway' ? nodes(e.conditions) : arr(e.ConditionList);
      const observations = target === 'gateway' ? nodes(e.observations) : arr(e.ObservationList);
      const medications = target === 'gateway' ? nodes(e.medications) : UPSTREAM_MEDICATIONS.flatMap((k) => arr(e[k]));
      return {
        id: fhirId(target, e.id),
        status: code(e.status),
        conditions: ids(target, conditions),
        observations: ids(target, observations),
        medications: ids(target, medications),
      };
    })
    .sort((a, b) => a.id.localeCompare(b.id));
  out.claims = ids(target, target === 'gateway' ? nodes(p.claims) : arr(p.ClaimList));
  return out;
}

/** Record counts of a normalized answer, for the report. */
export function recordCount(n: Normalized): number {
  const nested = (n.encounters ?? []).reduce((sum, e) => sum + 1 + e.conditions.length + e.observations.length + e.medications.length, 0);
  return 1 + nested + (n.claims?.length ?? 0);
}

/** A short description of the first difference, or undefined when equal. */
export function difference(a: Normalized, b: Normalized, path = ''): string | undefined {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) {
    return a === b ? undefined : `${path || '(root)'}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) {
    const found = difference(
      (a as unknown as Json)[key] as Normalized,
      (b as unknown as Json)[key] as Normalized,
      path ? `${path}.${key}` : key,
    );
    if (found) return found;
  }
  return undefined;
}
