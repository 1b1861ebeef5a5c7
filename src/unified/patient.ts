/**
 * The unified patient: one person's Patient records from every source, merged into one Patient
 * with per-element provenance.
 *
 * Precedence (docs/identity.md): records are ranked by their source's place in
 * `identity.precedence` (default: the order of `sources`), then the most recently updated first,
 * then by record id. Each demographic element is taken whole from the first record that has it
 * (a name is never assembled from two records); `identifier` is the union of all records'
 * identifiers; reference elements (`managingOrganization`, `generalPractitioner`) come from the
 * first record only, so they resolve in the source that wrote them. The first record is the
 * patient's `source`.
 */
import type { FhirResource, SourceRecord } from '../../connectors/types';
import type { GatewayContext } from '../context';
import type { LinkedRecord } from '../identity';
import type { Grade } from '../identity/types';
import { isObject } from '../model/fhir-json';

export interface LinkModel {
  source: string;
  recordId: string;
  grade: Grade;
  score?: number;
  basis: LinkedRecord['basis'];
}

export interface ProvenanceModel {
  field: string;
  record: SourceRecord;
}

export interface PersonView {
  personId: string;
  /** The person's records the caller may see, in precedence order (the first is the patient's `source`). */
  members: SourceRecord[];
  links: LinkModel[];
  provenance: ProvenanceModel[];
}

/** A Patient as the graph shows it with identity on: the first record's place, the merged resource, the person. */
export interface UnifiedPatient extends SourceRecord {
  person: PersonView;
}

export function isUnified(record: SourceRecord): record is UnifiedPatient {
  return 'person' in record && isObject((record as UnifiedPatient).person);
}

/** Demographic elements, each taken whole from the first record that has one of its choices. */
const DEMOGRAPHICS: readonly (readonly string[])[] = [
  ['name'],
  ['gender'],
  ['birthDate'],
  ['deceasedBoolean', 'deceasedDateTime'],
  ['address'],
  ['telecom'],
  ['maritalStatus'],
  ['multipleBirthBoolean', 'multipleBirthInteger'],
  ['communication'],
  ['contact'],
  ['photo'],
  ['active'],
];
const PRIMARY_ONLY = ['managingOrganization', 'generalPractitioner', 'link'];

const present = (value: unknown): boolean => value !== undefined && value !== null && !(Array.isArray(value) && value.length === 0);

function updated(r: SourceRecord): string {
  const v = r.lastUpdated ?? r.resource.meta?.lastUpdated;
  return typeof v === 'string' ? v : '';
}

/** Records in precedence order (see the module comment). */
export function byPrecedence(records: readonly SourceRecord[], rankOf: (source: string) => number): SourceRecord[] {
  return [...records].sort(
    (a, b) =>
      rankOf(a.source) - rankOf(b.source) ||
      (updated(b) < updated(a) ? -1 : updated(b) > updated(a) ? 1 : 0) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/** Merges a person's records (already in precedence order; at least one) into one Patient. */
export function mergePatient(personId: string, members: readonly SourceRecord[], links: readonly LinkModel[]): UnifiedPatient {
  const primary = members[0]!;
  const resource: FhirResource = {
    resourceType: 'Patient',
    id: primary.id,
    ...(primary.resource.meta ? { meta: primary.resource.meta } : {}),
  };
  const provenance: ProvenanceModel[] = [];
  const identifiers = new Map<string, unknown>();
  for (const member of members) {
    for (const id of Array.isArray(member.resource.identifier) ? member.resource.identifier : []) {
      const key = isObject(id) ? `${String(id.system ?? '')}|${String(id.value ?? '')}` : JSON.stringify(id);
      if (identifiers.has(key)) continue;
      identifiers.set(key, id);
      if (!provenance.some((p) => p.field === 'identifier' && p.record === member))
        provenance.push({ field: 'identifier', record: member });
    }
  }
  if (identifiers.size > 0) resource.identifier = [...identifiers.values()];
  for (const choices of DEMOGRAPHICS) {
    const from = members.find((m) => choices.some((c) => present(m.resource[c])));
    if (!from) continue;
    for (const c of choices) {
      if (!present(from.resource[c])) continue;
      resource[c] = from.resource[c];
      provenance.push({ field: c, record: from });
    }
  }
  for (const element of PRIMARY_ONLY) {
    if (!present(primary.resource[element])) continue;
    resource[element] = primary.resource[element];
    provenance.push({ field: element, record: primary });
  }
  return { ...primary, resource, person: { personId, members: [...members], links: [...links], provenance } };
}

/**
 * The unified patient a visible Patient record belongs to (linking the record first when it is new
 * or changed). The person's other records are read through the data-access layer, so the policy
 * decides which of them take part.
 */
export async function unifyRecord(ctx: GatewayContext, record: SourceRecord): Promise<UnifiedPatient> {
  const identity = ctx.identity;
  if (!identity) throw new Error('unifyRecord needs identity resolution');
  await identity.observe([record]);
  const personId = identity.personOf(record.source, record.id);
  if (!personId)
    return mergePatient(
      `${record.source}/${record.id}`,
      [record],
      [{ source: record.source, recordId: record.id, grade: 'certain', basis: 'self' }],
    );
  const patient = await unifyPerson(ctx, personId, record);
  return patient ?? mergePatient(personId, [record], [{ source: record.source, recordId: record.id, grade: 'certain', basis: 'self' }]);
}

/** The unified patient of a person, or null when none of its records is visible to the caller. */
export async function unifyPerson(ctx: GatewayContext, personId: string, known?: SourceRecord): Promise<UnifiedPatient | null> {
  const identity = ctx.identity;
  if (!identity) return null;
  const linked = identity.recordsOf(personId);
  const records = await Promise.all(
    linked.map((l) =>
      known && known.source === l.source && known.id === l.recordId
        ? known
        : ctx.data.get(l.source, 'Patient', l.recordId).catch(() => null),
    ),
  );
  const visible = records.filter((r): r is SourceRecord => r !== null);
  if (visible.length === 0) return null;
  const shown = new Set(visible.map((r) => `${r.source}\u0000${r.id}`));
  const links = linked
    .filter((l) => shown.has(`${l.source}\u0000${l.recordId}`))
    .map((l) => ({
      source: l.source,
      recordId: l.recordId,
      grade: l.grade,
      basis: l.basis,
      ...(l.score !== undefined ? { score: l.score } : {}),
    }));
  return mergePatient(
    personId,
    byPrecedence(visible, (s) => identity.precedenceOf(s)),
    links,
  );
}
