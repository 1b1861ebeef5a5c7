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
import { ELEMENTS } from '../model/elements';
import { dateOf, matchesCriterion, patientIdsOf } from '../model/evaluate';
import { isObject, readAll } from '../model/fhir-json';
import { parseReference } from '../model/references';
import type { Compartment } from './compartment';
import { decide, type Decision } from './decide';
import { normalizeReference, type Accessor, type DataItem } from './evaluate';
import { existenceSensitive, type LabelIndex } from './labels';
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

/** Claim elements that point at the diagnoses and procedures whose codes label the claim. */
const CLAIM_REFERENCES = ['diagnosis.diagnosisReference', 'procedure.procedureReference'];

const keyOf = (r: { source: string; type: string; id: string }): string => `${r.source}\u0000${r.type}\u0000${r.id}`;

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

export class ConsentAwarePolicy implements AccessPolicy {
  private readonly vetted = new Map<string, string[]>();
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

  async filter(records: SourceRecord[]): Promise<SourceRecord[]> {
    const visible = records.filter((r) => this.inScope(r) && this.inCompartment(r));
    const { consent } = this.deps;
    if (!consent || this.selfAccess) {
      for (const r of visible) this.vetted.set(keyOf(r), []);
      return visible;
    }
    const patientKeys = visible.filter((r) => hasPatient(r.type)).flatMap((r) => patientIdsOf(r.resource, r.type).map((id) => ({ source: r.source, id })));
    const [consents, referenced] = await Promise.all([consent.sourceConsents.loadMany(patientKeys), this.referencedCodes(visible)]);
    const byPatient = new Map<string, FhirResource[] | Error>();
    patientKeys.forEach((k, i) => byPatient.set(`${k.source}\u0000${k.id}`, consents[i]!));
    const out: SourceRecord[] = [];
    for (const record of visible) {
      if (!hasPatient(record.type)) {
        this.vetted.set(keyOf(record), []);
        out.push(record);
        continue;
      }
      const patients = patientIdsOf(record.resource, record.type);
      const found = patients.map((p) => byPatient.get(`${record.source}\u0000${p}`) ?? []);
      const failure = found.find((f): f is Error => f instanceof Error) ?? referenced.failures.get(keyOf(record));
      if (failure) {
        this.record(record, patients[0], 'withheld', { permit: false, reason: 'consent or labels could not be checked (fail safe)', consents: [], labels: [] });
        continue;
      }
      const all = [...(found as FhirResource[][]).flat(), ...patients.flatMap((p) => consent.store.about(record.source, p))];
      const extra = referenced.labels.get(keyOf(record)) ?? [];
      const labels = [...new Set([...consent.labels.recordLabels(record.resource, record.type), ...extra])];
      const decision = decide(all, this.accessor, this.item(record, labels), consent.config, this.now);
      if (!decision.permit && !this.liftable(record, patients[0], decision)) continue;
      this.vetted.set(keyOf(record), this.redactions(record, all, patients[0]));
      out.push(record);
    }
    return out;
  }

  release(record: SourceRecord): SourceRecord {
    const redact = this.vetted.get(keyOf(record));
    if (redact === undefined) throw new HealthgraphError('INTERNAL_SERVER_ERROR', 'A record reached release without passing the policy');
    this.deps.audit.disclose(record, record.type === 'Patient' ? [record.id] : patientIdsOf(record.resource, record.type));
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

  private inCompartment(record: SourceRecord): boolean {
    const { compartment } = this.deps;
    if (!compartment || !hasPatient(record.type)) return true;
    const ids = record.type === 'Patient' ? [record.id] : patientIdsOf(record.resource, record.type);
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

  private item(record: SourceRecord, labels: string[]): DataItem {
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
  private redactions(record: SourceRecord, consents: FhirResource[], patient: string | undefined): string[] {
    const { consent } = this.deps;
    if (!consent || existenceSensitive(record.type)) return [];
    const out: string[] = [];
    for (const [element, labels] of consent.labels.elementLabels(record.resource, record.type)) {
      const decision = decide(consents, this.accessor, this.item(record, labels), consent.config, this.now);
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

  /** Labels a claim inherits from the Conditions and Procedures its diagnoses and procedures point at. */
  private async referencedCodes(records: SourceRecord[]): Promise<{ labels: Map<string, string[]>; failures: Map<string, Error> }> {
    const labels = new Map<string, string[]>();
    const failures = new Map<string, Error>();
    const { consent } = this.deps;
    const claims = records.filter((r) => r.type === 'Claim' || r.type === 'ExplanationOfBenefit');
    if (!consent || claims.length === 0) return { labels, failures };
    const wanted = new Map<string, { source: string; type: ResourceType; ids: Set<string> }>();
    const refsOf = (r: SourceRecord) => CLAIM_REFERENCES.flatMap((p) => readAll(r.resource, p)).map(parseReference).filter((x) => x !== undefined);
    for (const claim of claims) {
      for (const ref of refsOf(claim)) {
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
    for (const claim of claims) {
      const found = new Set<string>();
      for (const ref of refsOf(claim)) {
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
