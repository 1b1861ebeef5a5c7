/**
 * Duplicate keys: when two sources hold the same fact about one person (an encounter in the EHR
 * and in the lake, a claim in the EHR's billing feed and in the claims warehouse), a unified
 * patient's lists and timeline show it once and list both sources. Two records are the same fact
 * when they share a key (transitively); records of one source are never duplicates of each other.
 *
 * Keys of a record (docs/identity.md, "Duplicate keys"):
 * - `identifier`: each `system|value` of its `identifier` elements (same type);
 * - `code + day`: each coding of the type's code element with the calendar day of its date (as the
 *   source wrote it, so `2019-05-04T23:30:00-05:00` and `2019-05-04` agree), plus a per-type
 *   discriminator that tells apart facts of one code on one day: the value of an Observation, the
 *   total of a Claim, the submitted total of an ExplanationOfBenefit, the payor of a Coverage.
 * When a source holds several records of one key, records are paired across sources by the line
 * codes they share (`duplicateAffinity`), then in list order.
 * A record without a date or code has only its identifier keys.
 */
import type { FhirResource, ResourceType, SourceRecord } from '../../connectors/types';
import { ELEMENTS } from '../model/elements';
import { isObject, readPath } from '../model/fhir-json';

type Json = Record<string, unknown>;

function codings(value: unknown): { system?: string; code: string }[] {
  const out: { system?: string; code: string }[] = [];
  for (const concept of Array.isArray(value) ? value : [value]) {
    if (!isObject(concept)) continue;
    const list = Array.isArray(concept.coding) ? concept.coding : [concept];
    for (const c of list)
      if (isObject(c) && typeof c.code === 'string')
        out.push({ code: c.code, ...(typeof c.system === 'string' ? { system: c.system } : {}) });
  }
  return out;
}

/** The type's date as the source wrote it (the first date element present). */
export function rawDateOf(resource: FhirResource, type: ResourceType): string | undefined {
  for (const path of ELEMENTS[type].date ?? []) {
    const value = readPath(resource, path);
    if (typeof value === 'string') return value;
  }
  return undefined;
}

/** The codings of the type's first code element present. */
export function codesOf(resource: FhirResource, type: ResourceType): { system?: string; code: string }[] {
  for (const path of ELEMENTS[type].code ?? []) {
    const found = codings(readPath(resource, path));
    if (found.length > 0) return found;
  }
  return [];
}

function amount(value: unknown): string {
  return isObject(value) && typeof value.value === 'number' ? value.value.toFixed(2) : '';
}

function observationValue(r: Json): string {
  if (isObject(r.valueQuantity) && typeof r.valueQuantity.value === 'number') return `q${Number(r.valueQuantity.value.toPrecision(8))}`;
  const concept = codings(r.valueCodeableConcept)[0];
  if (concept) return `c${concept.system ?? ''}|${concept.code}`;
  for (const k of ['valueString', 'valueBoolean', 'valueInteger', 'valueDateTime']) if (r[k] !== undefined) return `${k}${String(r[k])}`;
  return Array.isArray(r.component) ? `n${r.component.length}` : '';
}

function submittedTotal(r: Json): string {
  const totals = Array.isArray(r.total) ? r.total : [];
  const submitted = totals.find((t) => isObject(t) && codings(t.category).some((c) => c.code === 'submitted'));
  return isObject(submitted) ? amount(submitted.amount) : '';
}

/** The distinct codes billed on a claim's or EOB's lines, sorted. */
function itemCodes(r: Json): Set<string> {
  const items = Array.isArray(r.item) ? r.item : [];
  return new Set(items.flatMap((i) => (isObject(i) ? codings(i.productOrService).map((c) => c.code) : [])));
}

/**
 * How alike two records with a shared key are, to pair them when a source holds several facts of
 * one key (two claims of one type and total on one day): the line codes they share.
 */
export function duplicateAffinity(a: SourceRecord, b: SourceRecord): number {
  const codes = itemCodes(b.resource);
  return [...itemCodes(a.resource)].filter((c) => codes.has(c)).length;
}

/** What tells apart two facts of one code on one day, per type. */
const DISCRIMINATOR: Partial<Record<ResourceType, (r: Json) => string>> = {
  Observation: observationValue,
  Claim: (r) => amount(r.total),
  ExplanationOfBenefit: submittedTotal,
  Coverage: (r) => (Array.isArray(r.payor) && isObject(r.payor[0]) ? String(r.payor[0].display ?? '') : ''),
};

/** The duplicate keys of a record (see the module comment). */
export function duplicateKeys(record: SourceRecord): string[] {
  const { resource, type } = record;
  const keys: string[] = [];
  for (const id of Array.isArray(resource.identifier) ? resource.identifier : []) {
    if (isObject(id) && typeof id.system === 'string' && typeof id.value === 'string') keys.push(`${type}|id|${id.system}|${id.value}`);
  }
  const date = rawDateOf(resource, type);
  if (date && date.length >= 10) {
    const day = date.slice(0, 10);
    const extra = DISCRIMINATOR[type]?.(resource) ?? '';
    for (const c of codesOf(resource, type)) keys.push(`${type}|code|${c.system ?? ''}|${c.code}|${day}|${extra}`);
  }
  return keys;
}

/** The calendar day of a record's date, for the date window around a page. */
export function dayOf(record: SourceRecord): string | undefined {
  const date = rawDateOf(record.resource, record.type);
  return date && date.length >= 10 ? date.slice(0, 10) : undefined;
}
