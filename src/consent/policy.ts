/**
 * The AccessPolicy built from the request's principal (src/data/policy.ts is the enforcement
 * point; this is the decision). Per request, never shared.
 *
 * - Scopes: a type the token is not granted is never searched (`searchConstraints` → null) and
 *   never returned; granular `?category=` scopes become a `category` criterion and are re-checked.
 * - Compartment: a patient-context token's searches carry `patient` (or `_id` for Patient) criteria
 *   for that person's records in each source, pushed down; `filter` re-checks every record (reads
 *   by id and references included), so another patient's record is indistinguishable from a
 *   missing one.
 * - Consent and labels (when enabled): every patient record is decided (src/consent/decide.ts)
 *   before paging; records whose existence is sensitive are omitted; labelled secondary elements
 *   are redacted in `release` with the documented marker; break-the-glass lifts consent denials.
 * - `release` records every disclosure for the audit event.
 */
import type { CallContext, FhirResource, ResourceType, SourceRecord } from '../../connectors/types';
import type { ConsentConfig } from '../auth/config';
import type { Principal } from '../auth/principal';
import type { AuditRecorder } from '../audit/recorder';
import type { AccessPolicy } from '../data/policy';
import type { SourceRegistry } from '../data/registry';
import { HealthgraphError } from '../errors';
import { ELEMENTS, topElements } from '../model/elements';
import { dateOf, matchesCriterion, patientIdsOf } from '../model/evaluate';
import { isObject, readAll } from '../model/fhir-json';
import { parseReference } from '../model/references';
import type { Compartment } from './compartment';
import { decide, type Decision } from './decide';
import { consentApplies, normalizeReference, type Accessor, type DataItem } from './evaluate';
import { existenceSensitive, labelledElements, type LabelIndex } from './labels';
import type { ConsentStore, createSourceConsentLoader } from './store';

export interface ConsentContext {
  config: ConsentConfig;
  labels: LabelIndex;
  store: ConsentStore;
  sourceConsents: ReturnType<typeof createSourceConsentLoader>;
}

export interface PolicyDeps {
  principal: Principal;
  /** Set for patient-context tokens. */
  compartment?: Compartment;
  /** Undefined when consent evaluation is off (development mode without a `consent` section). */
  consent?: ConsentContext;
  audit: AuditRecorder;
  registry: SourceRegistry;
  call: CallContext;
  now?: number;
}

/** The data-absent-reason extension that marks a redacted element (docs/security.md). */
export const DATA_ABSENT_REASON = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
export const REDACTED_SECURITY = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'REDACTED', display: 'redacted' };

/** Labels claims inherit from the records they point at, and the claims whose targets could not be read. */
interface ReferencedLabels {
  labels: ReadonlyMap<string, string[]>;
  failures: ReadonlyMap<string, Error>;
}

const NOTHING_REDACTED: readonly string[] = Object.freeze([]);

const NO_REFERENCES: ReferencedLabels = { labels: new Map(), failures: new Map() };

/** Claim elements that point at the diagnoses and procedures whose codes label the claim. */
const CLAIM_REFERENCES = ['diagnosis.diagnosisReference', 'procedure.procedureReference'];

const keyOf = (r: { source: string; type: string; id: string }): string => `${r.source}\u0000${r.type}\u0000${r.id}`;

interface Vetted {
  redact: readonly string[];
  patients?: readonly string[];
}

/** Passed, nothing to redact, patients read at release: shared by every such record. */
const PASSED: Vetted = Object.freeze({ redact: NOTHING_REDACTED });

function hasPatient(type: ResourceType): boolean {
  return type === 'Patient' || ELEMENTS[type].patient !== undefined;
}

function codingsOf(values: unknown[]): { system?: string; code: string }[] {
  const out: { system?: string; code: string }[] = [];
  for (const v of values) {
    const list = isObject(v) && Array.isArray(v.coding) ? v.coding : [v];
    for (const c of list) if (isObject(c) && typeof c.code === 'string') out.push({ code: c.code, ...(typeof c.system === 'string' ? { system: c.system } : {}) });
  }
  return out;
}

const policyElementsByType = new Map<ResourceType, readonly string[]>();

/** The elements ConsentAwarePolicy reads of a record of the type (see `reads`), one array per type. */
export function policyElements(type: ResourceType): readonly string[] {
  let found = policyElementsByType.get(type);
  if (!found) {
    const e = ELEMENTS[type];
    found = Object.freeze(topElements([...labelledElements(type), ...(e.code ?? []), ...(e.date ?? [])]).sort());
    policyElementsByType.set(type, found);
  }
  return found;
}

export class ConsentAwarePolicy implements AccessPolicy {
  /**
   * Records that passed `filter`, by their resource object (a record `release` gets holds the very
   * resource `filter` saw, even when wrapped anew, e.g. with its duplicates): the elements to
   * redact, and the patients they belong to. A plain Map: the policy lives for one request, and a
   * WeakMap with thousands of entries costs the garbage collector more than it saves.
   */
  private readonly vetted = new Map<FhirResource, Vetted>();
  /** The Consents in force about each patient record (source + patient id), gathered once per request. */
  private readonly consentsByPatient = new Map<string, FhirResource[]>();
  private lastConsents?: { source: string; patient: string; inForce: FhirResource[] };
  /** Decisions when no Consent applies: they depend on the labels only (purpose and config are the request's). */
  private readonly defaultDecisions = new Map<string, Decision>();
  private readonly accessor: Accessor;
  private readonly now: number;
  private readonly selfAccess: boolean;

  constructor(private readonly deps: PolicyDeps) {
    const p = deps.principal;
    this.now = deps.now ?? Date.now();
    this.accessor = {
      references: [p.fhirUser, p.organization, p.clientId ? `Device/${p.clientId}` : undefined].filter((r): r is string => r !== undefined).map(normalizeReference),
      clientId: p.clientId,
      purpose: p.purpose,
    };
    // The patient reading their own record (fhirUser is the patient of the token's context).
    this.selfAccess = p.patient !== undefined && p.fhirUser !== undefined && normalizeReference(p.fhirUser) === `Patient/${p.patient}`;
  }

  searchConstraints(source: string, type: ResourceType) {
    const grant = this.deps.principal.grants.get(type);
    if (!grant || type === 'Consent') return null;
    const criteria = [];
    const { compartment } = this.deps;
    if (compartment && hasPatient(type)) {
      const ids = compartment.idsIn(source);
      if (ids.length === 0) return null;
      criteria.push(type === 'Patient' ? { param: '_id' as const, ids } : { param: 'patient' as const, ids });
    }
    if (grant.categories) criteria.push({ param: 'category' as const, tokens: grant.categories });
    return criteria;
  }

  postFilters(_source: string, type: ResourceType): boolean {
    return this.deps.consent !== undefined && hasPatient(type);
  }

  /**
   * What `filter` and `release` read of a record besides its patient references and `meta` (and its
   * category, see `readsCategory`): the elements whose codes label it (labels.ts), the codes and
   * dates Consent provisions match (`item`); never the texts of codes.
   */
  reads(_source: string, type: ResourceType): readonly string[] {
    return policyElements(type);
  }

  /** The category is read only under a grant narrowed by category (`inScope`). */
  readsCategory(_source: string, type: ResourceType): boolean {
    return this.deps.principal.grants.get(type)?.categories !== undefined;
  }

  async filter(records: SourceRecord[]): Promise<SourceRecord[]> {
    const visible: { record: SourceRecord; patients?: readonly string[] }[] = [];
    for (const record of records) {
      if (!this.inScope(record)) continue;
      // Patient ids are read once here when the compartment or consent needs them; else in release.
      const patients = !this.deps.compartment && !this.deps.consent ? undefined : hasPatient(record.type) ? patientIdsOf(record.resource, record.type) : [];
      if (this.inCompartment(record, patients)) visible.push({ record, patients });
    }
    const { consent } = this.deps;
    if (!consent || this.selfAccess) {
      for (const { record, patients } of visible) this.vetted.set(record.resource, patients ? { redact: NOTHING_REDACTED, patients } : PASSED);
      return visible.map((v) => v.record);
    }
    // Each patient's Consents are looked up once per request (then kept in consentsByPatient).
    const wanted = new Map<string, { source: string; id: string }>();
    for (const { record, patients = [] } of visible) {
      for (const id of patients) {
        const key = `${record.source}\u0000${id}`;
        if (!this.consentsByPatient.has(key)) wanted.set(key, { source: record.source, id });
      }
    }
    // Nothing to wait for in the common case (Consents known, no claims): no promises then.
    const claims = visible.filter((v) => v.record.type === 'Claim' || v.record.type === 'ExplanationOfBenefit').map((v) => v.record);
    const [consents, referenced] =
      wanted.size === 0 && claims.length === 0
        ? [[], NO_REFERENCES]
        : await Promise.all([wanted.size > 0 ? consent.sourceConsents.loadMany([...wanted.values()]) : [], this.referencedCodes(claims)]);
    const byPatient = new Map<string, FhirResource[] | Error>();
    [...wanted.keys()].forEach((key, i) => byPatient.set(key, consents[i]!));
    const out: SourceRecord[] = [];
    for (const { record, patients = [] } of visible) {
      if (!hasPatient(record.type)) {
        this.vetted.set(record.resource, { redact: NOTHING_REDACTED, patients });
        out.push(record);
        continue;
      }
      const key = keyOf(record);
      const about = this.consentsAbout(record.source, patients, byPatient);
      if (about instanceof Error || referenced.failures.has(key)) {
        this.record(record, patients[0], 'withheld', { permit: false, reason: 'consent or labels could not be checked (fail safe)', consents: [], labels: [] });
        continue;
      }
      const extra = referenced.labels.get(key) ?? [];
      const own = consent.labels.recordLabels(record.resource, record.type);
      const labels = extra.length > 0 ? [...new Set([...own, ...extra])] : own;
      const decision = this.decideFor(about, record, labels);
      if (!decision.permit && !this.liftable(record, patients[0], decision)) continue;
      this.vetted.set(record.resource, { redact: this.redactions(record, about, patients[0]), patients });
      out.push(record);
    }
    return out;
  }

  release(record: SourceRecord): SourceRecord {
    const vetted = this.vetted.get(record.resource);
    if (vetted === undefined) throw new HealthgraphError('INTERNAL_SERVER_ERROR', 'A record reached release without passing the policy');
    this.deps.audit.disclose(record, record.type === 'Patient' ? [record.id] : (vetted.patients ?? patientIdsOf(record.resource, record.type)));
    const { redact } = vetted;
    if (redact.length === 0) return record;
    const marker = this.deps.consent?.config.redactedMarker ?? '[redacted]';
    const resource: FhirResource = { ...record.resource, meta: { ...record.resource.meta, security: [...(record.resource.meta?.security ?? []), REDACTED_SECURITY] } };
    for (const element of redact) {
      const masked = { text: marker, extension: [{ url: DATA_ABSENT_REASON, valueCode: 'masked' }] };
      resource[element] = Array.isArray(record.resource[element]) ? [masked] : masked;
    }
    return { ...record, resource };
  }

  private inScope(record: SourceRecord): boolean {
    const grant = this.deps.principal.grants.get(record.type);
    const ok = grant !== undefined && record.type !== 'Consent' && (!grant.categories || matchesCriterion(record.resource, record.type, { param: 'category', tokens: grant.categories }));
    if (!ok) this.record(record, undefined, 'out-of-scope', { permit: false, reason: 'not granted by the token scopes', consents: [], labels: [] });
    return ok;
  }

  private inCompartment(record: SourceRecord, patients: readonly string[] | undefined): boolean {
    const { compartment } = this.deps;
    if (!compartment || !hasPatient(record.type)) return true;
    const ids = record.type === 'Patient' ? [record.id] : (patients ?? []);
    const ok = ids.some((id) => compartment.has(record.source, id));
    if (!ok) this.record(record, ids[0], 'out-of-compartment', { permit: false, reason: 'outside the token patient compartment', consents: [], labels: [] });
    return ok;
  }

  /** Break-the-glass lifts a consent or label denial, and says so in the audit trail. */
  private liftable(record: SourceRecord, patient: string | undefined, decision: Decision): boolean {
    if (this.deps.principal.breakTheGlass) {
      this.record(record, patient, 'lifted', { ...decision, reason: `break-the-glass lifted: ${decision.reason}` });
      return true;
    }
    this.record(record, patient, 'withheld', decision);
    return false;
  }

  /**
   * The Consents about a record's patients (from the sources and the store) that are in force for
   * this request's purpose now — the only ones `decide` can apply — sorted out once per patient per
   * request. An Error when a source's Consents could not be read (the caller withholds: fail safe).
   */
  private consentsAbout(source: string, patients: readonly string[], found: Map<string, FhirResource[] | Error>): FhirResource[] | Error {
    if (patients.length === 1) return this.consentsOf(source, patients[0]!, found);
    const out: FhirResource[] = [];
    for (const patient of patients) {
      const known = this.consentsOf(source, patient, found);
      if (known instanceof Error) return known;
      out.push(...known);
    }
    return out;
  }

  private consentsOf(source: string, patient: string, found: Map<string, FhirResource[] | Error>): FhirResource[] | Error {
    // Records mostly come in runs of one patient: the last answer needs no key.
    const last = this.lastConsents;
    if (last && last.source === source && last.patient === patient) return last.inForce;
    const key = `${source}\u0000${patient}`;
    const known = this.consentsByPatient.get(key);
    if (known) {
      this.lastConsents = { source, patient, inForce: known };
      return known;
    }
    const fromSource = found.get(key) ?? [];
    if (fromSource instanceof Error) return fromSource;
    const inForce = [...fromSource, ...(this.deps.consent?.store.about(source, patient) ?? [])].filter((c) => consentApplies(c, this.accessor.purpose, this.now));
    this.consentsByPatient.set(key, inForce);
    this.lastConsents = { source, patient, inForce };
    return inForce;
  }

  /**
   * The decision for one record (or one element) with these labels. When no Consent of the patient
   * is in force for this purpose, the provisions never look at the record, so the decision depends
   * on its labels alone and is computed once per label set per request.
   */
  private decideFor(consents: FhirResource[], record: SourceRecord, labels: readonly string[]): Decision {
    const config = this.deps.consent!.config;
    if (consents.length > 0) return decide(consents, this.accessor, this.item(record, labels), config, this.now);
    const key = labels.length === 0 ? '' : [...labels].sort().join('|');
    let decision = this.defaultDecisions.get(key);
    if (!decision) {
      decision = decide([], this.accessor, { type: record.type, reference: `${record.type}/${record.id}`, codings: [], labels }, config, this.now);
      this.defaultDecisions.set(key, decision);
    }
    return decision;
  }

  private item(record: SourceRecord, labels: readonly string[]): DataItem {
    const codePaths = ELEMENTS[record.type].code ?? [];
    return {
      type: record.type,
      reference: `${record.type}/${record.id}`,
      codings: codingsOf(codePaths.flatMap((p) => readAll(record.resource, p))),
      labels,
      date: dateOf(record.resource, record.type),
    };
  }

  /** Secondary elements to redact: those whose labels the patient's Consents (or the defaults) deny. */
  private redactions(record: SourceRecord, consents: FhirResource[], patient: string | undefined): readonly string[] {
    const { consent } = this.deps;
    if (!consent || existenceSensitive(record.type)) return NOTHING_REDACTED;
    const elements = consent.labels.elementLabels(record.resource, record.type);
    if (elements.size === 0) return NOTHING_REDACTED;
    const out: string[] = [];
    for (const [element, labels] of elements) {
      const decision = this.decideFor(consents, record, labels);
      if (decision.permit) continue;
      if (this.deps.principal.breakTheGlass) {
        this.record(record, patient, 'lifted', { ...decision, reason: `break-the-glass lifted redaction of ${element}: ${decision.reason}` });
        continue;
      }
      this.record(record, patient, 'redacted', { ...decision, reason: `${element}: ${decision.reason}` });
      out.push(element);
    }
    return out;
  }

  /** Labels claims (and EOBs) inherit from the Conditions and Procedures their diagnoses and procedures point at. */
  private async referencedCodes(claims: SourceRecord[]): Promise<ReferencedLabels> {
    const labels = new Map<string, string[]>();
    const failures = new Map<string, Error>();
    const { consent } = this.deps;
    if (!consent || claims.length === 0) return { labels, failures };
    const wanted = new Map<string, { source: string; type: ResourceType; ids: Set<string> }>();
    const refs = claims.map((claim) => CLAIM_REFERENCES.flatMap((p) => readAll(claim.resource, p)).map(parseReference).filter((x) => x !== undefined));
    for (const [i, claim] of claims.entries()) {
      for (const ref of refs[i]!) {
        const group = wanted.get(`${claim.source}\u0000${ref.type}`) ?? { source: claim.source, type: ref.type, ids: new Set<string>() };
        group.ids.add(ref.id);
        wanted.set(`${claim.source}\u0000${ref.type}`, group);
      }
    }
    const fetched = new Map<string, SourceRecord>();
    const failedGroups = new Map<string, Error>();
    await Promise.all(
      [...wanted].map(async ([group, { source, type, ids }]) => {
        try {
          const connector = this.deps.registry.require(source);
          if (!connector.capabilities().types[type]) return;
          for (const r of await connector.getByIds(type, [...ids], this.deps.call)) fetched.set(keyOf(r), r);
        } catch (error) {
          failedGroups.set(group, error as Error);
        }
      }),
    );
    for (const [i, claim] of claims.entries()) {
      const found = new Set<string>();
      for (const ref of refs[i]!) {
        const failure = failedGroups.get(`${claim.source}\u0000${ref.type}`);
        if (failure) failures.set(keyOf(claim), failure);
        const target = fetched.get(keyOf({ source: claim.source, type: ref.type, id: ref.id }));
        if (target) for (const l of consent.labels.recordLabels(target.resource, target.type)) found.add(l);
      }
      if (found.size > 0) labels.set(keyOf(claim), [...found]);
    }
    return { labels, failures };
  }

  private record(record: SourceRecord, patient: string | undefined, kind: Parameters<AuditRecorder['decide']>[0]['decision'], decision: Decision): void {
    this.deps.audit.decide({ decision: kind, source: record.source, type: record.type, id: record.id, patient, reason: decision.reason, consents: decision.consents, labels: decision.labels });
  }
}
