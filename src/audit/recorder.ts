/**
 * What one request did, gathered while it runs (per request, style.md §4) and written as one audit
 * event when it ends: who asked, for what purpose, which patients and records were disclosed
 * (recorded by the policy's `release`, so only what reached a resolver counts), and every decision
 * that withheld, redacted or — under break-the-glass — lifted something, with the Consents behind it.
 */
import type { ResourceType, SourceRecord } from '../../connectors/types';
import type { Principal } from '../auth/principal';

export type DecisionKind = 'withheld' | 'redacted' | 'lifted' | 'out-of-compartment' | 'out-of-scope';

export interface AuditDecision {
  decision: DecisionKind;
  source: string;
  type: ResourceType;
  id: string;
  patient?: string;
  reason: string;
  consents: string[];
  labels: string[];
}

export interface AuditEventInput {
  time: string;
  requestId: string;
  outcome: 'ok' | 'partial' | 'error' | 'denied';
  status: number;
  subject?: string;
  clientId?: string;
  purpose?: string;
  breakTheGlass: boolean;
  scopes: string[];
  patientContext?: string;
  operation?: string;
  /** `source/Patient/id` of every patient whose data was disclosed. */
  patients: string[];
  /** Disclosed records, by type: `source/id`. */
  disclosed: Partial<Record<ResourceType, string[]>>;
  decisions: AuditDecision[];
  /** Decisions beyond the per-event cap, counted only. */
  decisionsOmitted: number;
  consents: string[];
  error?: string;
}

const MAX_DECISIONS = 2000;

export class AuditRecorder {
  private readonly disclosed = new Map<ResourceType, Set<string>>();
  private readonly patients = new Set<string>();
  private readonly decisions: AuditDecision[] = [];
  private readonly consents = new Set<string>();
  private omitted = 0;
  operation?: string;

  constructor(
    readonly requestId: string,
    readonly principal: Principal | undefined,
  ) {}

  disclose(record: SourceRecord, patients: readonly string[]): void {
    let set = this.disclosed.get(record.type);
    if (!set) this.disclosed.set(record.type, (set = new Set<string>()));
    set.add(`${record.source}/${record.id}`);
    for (const p of patients) this.patients.add(`${record.source}/Patient/${p}`);
  }

  decide(decision: AuditDecision): void {
    for (const c of decision.consents) this.consents.add(c);
    if (this.decisions.length >= MAX_DECISIONS) this.omitted++;
    else this.decisions.push(decision);
  }

  get breakTheGlassUsed(): boolean {
    return this.decisions.some((d) => d.decision === 'lifted');
  }

  event(outcome: AuditEventInput['outcome'], status: number, error?: string, claims: { clientId?: string; subject?: string } = {}): AuditEventInput {
    const p = this.principal;
    const disclosed: Partial<Record<ResourceType, string[]>> = {};
    // Types in name order; a type's ids in the order they were disclosed (sorting thousands of ids cost more than the rest of the event).
    for (const [type, ids] of [...this.disclosed].sort(([a], [b]) => a.localeCompare(b))) disclosed[type] = [...ids];
    return {
      time: new Date().toISOString(),
      requestId: this.requestId,
      outcome,
      status,
      subject: p?.subject ?? claims.subject,
      clientId: p?.clientId ?? claims.clientId,
      purpose: p?.purpose,
      breakTheGlass: p?.breakTheGlass ?? false,
      scopes: p?.scopes ?? [],
      patientContext: p?.patient,
      operation: this.operation,
      patients: [...this.patients].sort(),
      disclosed,
      decisions: this.decisions,
      decisionsOmitted: this.omitted,
      consents: [...this.consents].sort(),
      error,
    };
  }
}
