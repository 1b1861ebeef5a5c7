/**
 * The lake layout (`mapping: fhir`, docs/sources/lake.md): one collection per FHIR resource type,
 * each document the resource's FHIR JSON with `_id` = the resource id, plus the `_hg` block that
 * healthgraph maintains. `_hg` is computed here from the same element table (src/model/elements.ts)
 * and the same reference, date and name rules the gateway evaluates in memory, so a query on `_hg`
 * answers exactly what in-memory evaluation would.
 */
import { isResourceType, type FhirResource, type ResourceType } from '../types';
import { instantRange, precisionOf } from '../../src/model/dates';
import { ELEMENTS } from '../../src/model/elements';
import { encounterIdsOf, patientIdsOf } from '../../src/model/evaluate';
import { isObject, readAll, readPath } from '../../src/model/fhir-json';

/** Bumped when the meaning of `_hg` changes; documents of an older layout are re-normalized on import. */
export const LAYOUT_VERSION = 1;

export interface DateSpan {
  /** First instant covered (UTC). */
  s: Date;
  /** Last instant covered (UTC). */
  e: Date;
  /** The precision the source wrote: year | month | day | minute | second | millisecond. */
  p: string;
}

export interface DatedElement extends DateSpan {
  /** The element path, e.g. `period.start`. */
  path: string;
}

/** Where a resource came from. */
export interface Provenance {
  /** Input file (or archive member `archive!member`), or the FHIR server URL of a Bulk Data export. */
  file?: string;
  /** 1-based line in an NDJSON file. */
  line?: number;
  /** 0-based entry index in a Bundle. */
  entry?: number;
}

/** The block healthgraph maintains on every lake document. */
export interface HgBlock {
  v: number;
  /** `meta.lastUpdated` as an instant; absent when the resource has none. */
  lu?: Date;
  /** Hash of the resource JSON: an unversioned resource is replaced only when its content changed. */
  h: string;
  /** The type's clinically relevant date (first present of ELEMENTS[type].date). */
  date?: DateSpan;
  /** Patient.birthDate. */
  birthdate?: DateSpan;
  /** Every relevant date element present, normalized. Lists below are left out when empty. */
  dates: DatedElement[];
  /** Patient record ids this resource belongs to (its own id for a Patient). */
  patient: string[];
  /** Encounter record ids this resource belongs to. */
  encounter: string[];
  /** Token keys (see tokenKeys) per searchable token element. */
  code: string[];
  category: string[];
  status: string[];
  gender: string[];
  identifier: string[];
  /** Folded name parts: `name` = family + given + text words, `family`, `given`. */
  name: string[];
  family: string[];
  given: string[];
  /** Sort keys; `miss.<field>` is 1 when the key is absent, so missing values sort last both ways. */
  sort: { name?: string };
  miss: { date: 0 | 1; birthdate: 0 | 1; lastUpdated: 0 | 1; name: 0 | 1 };
  src: Provenance;
}

export interface LakeDocument {
  _id: string;
  resourceType: string;
  _hg: HgBlock;
  [element: string]: unknown;
}

const LIST_FIELDS = ['dates', 'patient', 'encounter', 'code', 'category', 'status', 'gender', 'identifier', 'name', 'family', 'given'] as const;

/** Collection name for a resource type: the type itself. */
export function collectionOf(type: string): string {
  return type;
}

/** The key a query token becomes: `system|code`, with `*` for "any system" and '' for "any code". */
export function tokenKey(system: string | undefined, code: string): string {
  return `${system ?? '*'}|${code}`;
}

function codingsOf(value: unknown): Record<string, unknown>[] {
  if (typeof value === 'string') return [{ code: value }];
  if (!isObject(value)) return [];
  if (Array.isArray(value.coding)) return value.coding.filter(isObject);
  return [value];
}

/**
 * Every key under which one coding matches a token: `S|C` (exact), `S|` (any code of S),
 * `*|C` (C in any system), `*|` (any coding at all).
 */
function keysOfCoding(system: unknown, code: unknown, out: Set<string>): void {
  out.add('*|');
  if (typeof system === 'string') out.add(`${system}|`);
  if (typeof code === 'string') {
    out.add(`*|${code}`);
    if (typeof system === 'string') out.add(`${system}|${code}`);
  }
}

function tokensOf(values: unknown[]): string[] {
  const out = new Set<string>();
  for (const value of values) for (const coding of codingsOf(value)) keysOfCoding(coding.system, coding.code, out);
  return [...out];
}

/** Folding for name search and sort: NFKD, accents dropped, lower case (as src/model/evaluate.ts). */
export function foldName(text: string): string {
  return text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

function nameParts(resource: FhirResource): { family: string[]; given: string[]; text: string[] } {
  const family: string[] = [];
  const given: string[] = [];
  const text: string[] = [];
  for (const name of readAll(resource, 'name').filter(isObject)) {
    if (typeof name.family === 'string') family.push(name.family);
    if (Array.isArray(name.given)) given.push(...name.given.filter((g): g is string => typeof g === 'string'));
    if (typeof name.text === 'string') text.push(...name.text.split(/\s+/));
  }
  return { family, given, text };
}

function span(value: string): DateSpan | undefined {
  const range = instantRange(value);
  const p = precisionOf(value);
  return range && p ? { s: new Date(range.start), e: new Date(range.end), p } : undefined;
}

function datesOf(resource: FhirResource, type: string): { date?: DateSpan; dates: DatedElement[] } {
  const paths = isResourceType(type) ? (ELEMENTS[type].date ?? []) : [];
  const dates: DatedElement[] = [];
  let date: DateSpan | undefined;
  for (const path of paths) {
    const value = readPath(resource, path);
    if (typeof value !== 'string') continue;
    const s = span(value);
    if (!s) continue;
    date ??= s;
    dates.push({ path, ...s });
  }
  return { date, dates };
}

/** A small, stable content hash (FNV-1a 64 over the JSON text, as 16 hex digits). */
export function contentHash(json: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

/**
 * The lake document for a resource. `json` is the resource's JSON text when the caller has it
 * (saves a stringify for the content hash).
 */
export function toLakeDocument(resource: FhirResource & { id: string }, src: Provenance, json?: string): LakeDocument {
  const type = resource.resourceType;
  const known: ResourceType | undefined = isResourceType(type) ? type : undefined;
  const elements = known ? ELEMENTS[known] : {};
  const { date, dates } = datesOf(resource, type);
  const birth = typeof resource.birthDate === 'string' ? span(resource.birthDate) : undefined;
  if (birth) dates.push({ path: 'birthDate', ...birth });
  const luText = resource.meta?.lastUpdated;
  const lu = typeof luText === 'string' ? instantRange(luText) : undefined;
  const names = nameParts(resource);
  const sortName = names.family.concat(names.given);
  const fold = (parts: string[]): string[] => [...new Set(parts.map(foldName))];
  const read = (paths: string[] | undefined): unknown[] => (paths ?? []).flatMap((p) => readAll(resource, p));
  const identifiers = new Set<string>();
  for (const identifier of readAll(resource, 'identifier').filter(isObject)) keysOfCoding(identifier.system, identifier.value, identifiers);

  const hg: HgBlock = {
    v: LAYOUT_VERSION,
    h: contentHash(json ?? JSON.stringify(resource)),
    dates,
    patient: known ? [...new Set(patientIdsOf(resource, known))] : [],
    encounter: known ? [...new Set(encounterIdsOf(resource, known))] : [],
    code: tokensOf(read(elements.code)),
    category: tokensOf(read(elements.category)),
    status: elements.status ? tokensOf(readAll(resource, elements.status)) : [],
    gender: tokensOf(readAll(resource, 'gender')),
    identifier: [...identifiers],
    name: fold([...names.family, ...names.given, ...names.text]),
    family: fold(names.family),
    given: fold(names.given),
    sort: sortName.length > 0 ? { name: foldName(sortName.join(' ')) } : {},
    miss: { date: date ? 0 : 1, birthdate: birth ? 0 : 1, lastUpdated: lu ? 0 : 1, name: sortName.length > 0 ? 0 : 1 },
    src,
  };
  // Empty lists are left out: FerretDB's write cost grows with every field, and a missing list
  // matches no token or id, exactly like an empty one.
  for (const key of LIST_FIELDS) if (hg[key].length === 0) delete (hg as Partial<HgBlock>)[key];
  if (lu) hg.lu = new Date(lu.start);
  if (date) hg.date = date;
  if (birth) hg.birthdate = birth;

  const { id, ...rest } = resource;
  const doc: LakeDocument = { _id: id, ...rest, id, resourceType: type, _hg: hg };
  // A FHIR primitive extension on `id` would be spelled `_id`: keep it apart from the document key.
  if ('_id' in rest) doc._hg_idExtension = (rest as Record<string, unknown>)._id;
  doc._id = id;
  return doc;
}

/** The FHIR resource inside a lake document: everything but `_id` and `_hg`. */
export function fromLakeDocument(doc: Record<string, unknown>): FhirResource {
  const { _id, _hg, _hg_idExtension, ...resource } = doc;
  void _hg;
  const out = resource as FhirResource;
  if (out.id === undefined && typeof _id === 'string') out.id = _id;
  if (_hg_idExtension !== undefined) out._id = _hg_idExtension;
  return out;
}

/** The indexes the gateway's filters and sorts use, per collection (created by the importer). */
export function indexesFor(type: string): { name: string; key: Record<string, 1 | -1> }[] {
  const indexes: { name: string; key: Record<string, 1 | -1> }[] = [
    { name: 'hg_patient', key: { '_hg.patient': 1 } },
    { name: 'hg_encounter', key: { '_hg.encounter': 1 } },
    { name: 'hg_code', key: { '_hg.code': 1 } },
    { name: 'hg_date', key: { '_hg.date.s': 1 } },
    { name: 'hg_identifier', key: { '_hg.identifier': 1 } },
  ];
  if (type === 'Patient' || type === 'Practitioner') {
    indexes.push({ name: 'hg_name', key: { '_hg.name': 1 } }, { name: 'hg_birthdate', key: { '_hg.birthdate.s': 1 } });
  }
  return indexes;
}
