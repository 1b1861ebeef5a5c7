/**
 * Sensitivity labels computed at read time (docs/security.md, "Labels and code lists").
 *
 * A record gets a label when one of its coded elements holds a code from that label's list, or
 * when `meta.security` carries the label. The lists below are deliberately small and readable;
 * deployments extend them in config (`consent.labels`). A code ending in `*` matches by prefix
 * (ICD-10-CM categories: `F10*` matches F10, F10.20, F1020).
 *
 * Elements are of two kinds: those that tell what the record *is* (a condition's code, a claim's
 * lines and diagnoses) — a label there makes the record's existence sensitive, so the record is
 * omitted — and secondary ones (an encounter's reason) that are redacted in place.
 */
import type { FhirResource, ResourceType } from '../../connectors/types';
import { topElements } from '../model/elements';
import { isObject, readAll } from '../model/fhir-json';

export const SNOMED = 'http://snomed.info/sct';
export const ICD10CM = 'http://hl7.org/fhir/sid/icd-10-cm';
export const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const LOINC = 'http://loinc.org';

/** The labels whose data falls under 42 CFR Part 2: withheld unless a consent explicitly permits it. */
export const PART2_LABELS: ReadonlySet<string> = new Set(['SUD', 'ETH', '42CFRPart2']);

const icd = (codes: string[]): string[] => codes.flatMap((c) => [`${ICD10CM}|${c}`, `${ICD10}|${c}`]);

/**
 * Built-in code lists. SUD: substance-use disorders (42 CFR Part 2) — ICD-10-CM F10–F16, F18, F19
 * (F17 nicotine is not covered by Part 2), SNOMED CT disorders, and RxNorm ingredients used almost
 * only in SUD treatment (buprenorphine, methadone, naltrexone, disulfiram, acamprosate).
 */
export const BUILTIN_LABELS: Record<string, string[]> = {
  SUD: [
    ...icd(['F10*', 'F11*', 'F12*', 'F13*', 'F14*', 'F15*', 'F16*', 'F18*', 'F19*']),
    ...[
      '7200002', // Alcoholism
      '66590003', // Alcohol dependence
      '15167005', // Alcohol abuse
      '5602001', // Opioid abuse
      '75544000', // Opioid dependence
      '6525002', // Dependent drug abuse
      '26416006', // Drug abuse
      '191816009', // Drug dependence
      '361055000', // Misuses drugs
      '714829008', // Recurrent drug abuse?  (kept: SUD finding)
      '10939881000119105', // Unhealthy alcohol drinking behavior
      '428211000124100', // Assessment of substance use
    ].map((c) => `${SNOMED}|${c}`),
    ...[
      '1819', // buprenorphine
      '1010600', // buprenorphine 2 MG / naloxone 0.5 MG Sublingual Tablet
      '1010606', // buprenorphine 8 MG / naloxone 2 MG Sublingual Tablet
      '351264', // buprenorphine 8 MG Sublingual Tablet
      '6813', // methadone
      '864706', // methadone hydrochloride 10 MG Oral Tablet
      '7243', // naltrexone
      '1483744', // naltrexone 380 MG Injection
      '3554', // disulfiram
      '39993', // acamprosate
    ].map((c) => `${RXNORM}|${c}`),
  ],
  HIV: [
    ...icd(['B20*', 'Z21*', 'R75*', 'O98.7*']),
    ...['86406008', '62479008', '165816005', '91947003', '40780007'].map((c) => `${SNOMED}|${c}`),
    ...['7917-8', '5221-7', '75622-1', '56888-1', '25836-8', '20447-9'].map((c) => `${LOINC}|${c}`),
  ],
  PSY: [
    ...icd(['F20*', 'F21*', 'F22*', 'F23*', 'F24*', 'F25*', 'F28*', 'F29*', 'F30*', 'F31*', 'F32*', 'F33*', 'F34*', 'F39*', 'F43.1*']),
    ...['35489007', '370143000', '36923009', '58214004', '13746004', '47505003', '191736004', '192080009'].map((c) => `${SNOMED}|${c}`),
  ],
  SDV: [...icd(['T74*', 'T76*', 'Y07*', 'Z69*']), ...['706893006', '225833008', '95930005'].map((c) => `${SNOMED}|${c}`)],
  STD: [...icd(['A50*', 'A51*', 'A52*', 'A53*', 'A54*', 'A55*', 'A56*', 'A57*', 'A58*', 'A59*', 'A60*', 'A63*', 'A64*']), ...['105629000', '15628003', '76272004', '240589008'].map((c) => `${SNOMED}|${c}`)],
  SEX: [...icd(['Z30*', 'O04*', 'Z31*']), ...['169553002', '386639001'].map((c) => `${SNOMED}|${c}`)],
};

/** Labels that imply others: SUD data is also ETH (v3 "substance abuse information sensitivity"). */
const IMPLIED: Record<string, string[]> = { SUD: ['ETH'], ETH: ['SUD'], '42CFRPart2': ['SUD', 'ETH'], STD: ['SEX'] };

/** Elements whose codes say what the record is: a label here omits the whole record. */
const IDENTITY_ELEMENTS: Partial<Record<ResourceType, string[]>> = {
  Condition: ['code'],
  Observation: ['code', 'valueCodeableConcept'],
  Procedure: ['code', 'reasonCode'],
  MedicationRequest: ['medicationCodeableConcept', 'reasonCode'],
  MedicationStatement: ['medicationCodeableConcept', 'reasonCode'],
  MedicationDispense: ['medicationCodeableConcept'],
  MedicationAdministration: ['medicationCodeableConcept', 'reasonCode'],
  Medication: ['code'],
  Claim: ['item.productOrService', 'diagnosis.diagnosisCodeableConcept', 'procedure.procedureCodeableConcept', 'item.modifier'],
  ExplanationOfBenefit: ['item.productOrService', 'diagnosis.diagnosisCodeableConcept', 'procedure.procedureCodeableConcept', 'item.modifier'],
  Immunization: ['vaccineCode'],
  AllergyIntolerance: ['code'],
  DocumentReference: ['type', 'context.event'],
};

/** Secondary elements: a label here redacts the element, the record stays. */
export const REDACTABLE_ELEMENTS: Partial<Record<ResourceType, string[]>> = {
  Encounter: ['reasonCode', 'type'],
  Patient: [],
};

/** The top-level elements whose codes give a record of the type its labels (identity and redactable elements). */
export function labelledElements(type: ResourceType): readonly string[] {
  return topElements([...(IDENTITY_ELEMENTS[type] ?? []), ...(REDACTABLE_ELEMENTS[type] ?? [])]);
}

/** Types whose records are omitted (not redacted) when labelled: their existence is sensitive. */
export function existenceSensitive(type: ResourceType): boolean {
  return IDENTITY_ELEMENTS[type] !== undefined;
}

/** Codes whose labels `LabelIndex` remembers (a code system's worth; the memo starts over when full). */
const MEMO_SIZE = 50_000;

interface Matcher {
  prefix: string;
  labels: string[];
}

export class LabelIndex {
  private readonly exact = new Map<string, string[]>();
  private readonly prefixes: Matcher[] = [];
  /** system → code → labels. */
  private readonly memo = new Map<string, Map<string, readonly string[]>>();
  private memoSize = 0;

  constructor(extra: Record<string, string[]> = {}) {
    const all: Record<string, string[]> = {};
    for (const [label, codes] of Object.entries(BUILTIN_LABELS)) all[label] = [...codes];
    for (const [label, codes] of Object.entries(extra)) all[label] = [...(all[label] ?? []), ...codes];
    for (const [label, codes] of Object.entries(all)) {
      for (const code of codes) {
        const key = normalize(code.endsWith('*') ? code.slice(0, -1) : code);
        if (code.endsWith('*')) this.prefixes.push({ prefix: key, labels: [label] });
        else this.exact.set(key, [...(this.exact.get(key) ?? []), label]);
      }
    }
  }

  /**
   * Labels of one coding (`system|code`), with implied labels. Remembered per code: the answer
   * depends only on the code and the configured lists (no patient data, nothing about a caller),
   * and the prefix scan is the costly part of labelling. At most MEMO_SIZE codes are kept.
   */
  labelsOfCoding(system: string | undefined, code: string): readonly string[] {
    const codes = this.memo.get(system ?? '');
    const known = codes?.get(code);
    if (known) return known;
    const normalized = normalize(`${system ?? ''}|${code}`);
    const found = new Set<string>(this.exact.get(normalized) ?? []);
    for (const m of this.prefixes) if (normalized.startsWith(m.prefix)) for (const l of m.labels) found.add(l);
    const labels = found.size === 0 ? NO_LABELS : Object.freeze(withImplied(found));
    if (this.memoSize >= MEMO_SIZE) {
      this.memo.clear();
      this.memoSize = 0;
    }
    const into = this.memo.get(system ?? '') ?? new Map<string, readonly string[]>();
    if (into.size === 0) this.memo.set(system ?? '', into);
    into.set(code, labels);
    this.memoSize++;
    return labels;
  }

  /** Labels of every coding in the values (CodeableConcepts, Codings). */
  labelsOfValues(values: unknown[]): string[] {
    const out = new Set<string>();
    for (const value of values) this.addLabelsOf(value, out);
    return [...out];
  }

  /** Labels that make the record itself sensitive: identity elements and `meta.security`. */
  recordLabels(resource: FhirResource, type: ResourceType): readonly string[] {
    let out: Set<string> | undefined;
    const security = securityLabels(resource);
    if (security.length > 0) out = new Set(security);
    for (const steps of IDENTITY_STEPS[type] ?? []) {
      forEachAt(resource, steps, 0, (value) => {
        const labels = this.labelsIn(value);
        if (labels === undefined) return;
        out ??= new Set<string>();
        for (const l of labels) out.add(l);
      });
    }
    return out ? withImplied(out) : NO_LABELS;
  }

  /** Secondary elements that carry labels: element name → labels. */
  elementLabels(resource: FhirResource, type: ResourceType): ReadonlyMap<string, readonly string[]> {
    let out: Map<string, readonly string[]> | undefined;
    for (const path of REDACTABLE_ELEMENTS[type] ?? []) {
      let found: Set<string> | undefined;
      for (const value of readAll(resource, path)) {
        const labels = this.labelsIn(value);
        if (labels) for (const l of labels) (found ??= new Set<string>()).add(l);
      }
      if (found) (out ??= new Map()).set(path, [...found]);
    }
    return out ?? NO_ELEMENT_LABELS;
  }

  private addLabelsOf(value: unknown, out: Set<string>): void {
    const labels = this.labelsIn(value);
    if (labels) for (const l of labels) out.add(l);
  }

  /** Labels of a CodeableConcept's codings or of one Coding; undefined when there are none. */
  private labelsIn(value: unknown): readonly string[] | undefined {
    if (!isObject(value)) return undefined;
    if (!Array.isArray(value.coding)) return typeof value.code === 'string' ? nonEmpty(this.labelsOfCoding(typeof value.system === 'string' ? value.system : undefined, value.code)) : undefined;
    let found: readonly string[] | undefined;
    let merged: Set<string> | undefined;
    for (const coding of value.coding) {
      if (!isObject(coding) || typeof coding.code !== 'string') continue;
      const labels = this.labelsOfCoding(typeof coding.system === 'string' ? coding.system : undefined, coding.code);
      if (labels.length === 0) continue;
      if (!found) {
        found = labels;
        continue;
      }
      merged ??= new Set(found);
      for (const l of labels) merged.add(l);
    }
    return merged ? [...merged] : found;
  }
}

const NO_LABELS: readonly string[] = Object.freeze([]);
const NO_ELEMENT_LABELS: ReadonlyMap<string, readonly string[]> = new Map();

const nonEmpty = (labels: readonly string[]): readonly string[] | undefined => (labels.length > 0 ? labels : undefined);

/** IDENTITY_ELEMENTS with their paths split into steps once. */
const IDENTITY_STEPS: Partial<Record<ResourceType, string[][]>> = Object.fromEntries(Object.entries(IDENTITY_ELEMENTS).map(([type, paths]) => [type, paths.map((p) => p.split('.'))]));

/** Calls `fn` with every value at `steps` under `value` (arrays flattened), without building arrays on the way. */
function forEachAt(value: unknown, steps: readonly string[], index: number, fn: (value: unknown) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) forEachAt(item, steps, index, fn);
    return;
  }
  if (value === undefined || value === null) return;
  if (index === steps.length) fn(value);
  else if (isObject(value)) forEachAt(value[steps[index]!], steps, index + 1, fn);
}

/** Normalizes `system|code` for matching: ICD-10 codes are compared without dots, case-insensitively. */
function normalize(key: string): string {
  const bar = key.indexOf('|');
  const system = key.slice(0, bar);
  const code = key.slice(bar + 1);
  return system === ICD10CM || system === ICD10 ? `${system}|${code.replace(/\./g, '').toUpperCase()}` : key;
}

function withImplied(labels: Set<string>): string[] {
  for (const label of [...labels]) for (const implied of IMPLIED[label] ?? []) labels.add(implied);
  return [...labels];
}

/** Labels from `meta.security` (any system: v3 ActCode sensitivity, confidentiality R/V, `42CFRPart2`). */
export function securityLabels(resource: FhirResource): string[] {
  const security = resource.meta?.security;
  if (!Array.isArray(security)) return [];
  return security.filter(isObject).flatMap((c) => (typeof c.code === 'string' ? [c.code] : []));
}
