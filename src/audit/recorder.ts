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

function idsOf(bySource: Map<string, Set<string>>, source: string): Set<string> {
  let ids = bySource.get(source);
  if (!ids) bySource.set(source, (ids = new Set()));
  return ids;
}

/** `source<infix>id` for every id, sources in the order they were first seen, ids in the order they were added. */
function qualified(bySource: Map<string, Set<string>>, infix: string): string[] {
  const out: string[] = [];
  for (const [source, ids] of bySource) for (const id of ids) out.push(`${source}${infix}${id}`);
  return out;
}

export class AuditRecorder {
  /**
   * Disclosed record ids per type and source, and patient ids per source: the `source/…` texts are
   * written once per distinct id when the event is built, not once per disclosure (a wide answer
   * discloses thousands of records, most of them of a few patients).
   */
  private readonly disclosed = new Map<ResourceType, Map<string, Set<string>>>();
  private readonly patients = new Map<string, Set<string>>();
  private readonly decisions: AuditDecision[] = [];
  private readonly consents = new Set<string>();
  private omitted = 0;
  operation?: string;

  constructor(
    readonly requestId: string,
    readonly principal: Principal | undefined,
  ) {}

  disclose(record: SourceRecord, patients: readonly string[]): void {
    let bySource = this.disclosed.get(record.type);
    if (!bySource) this.disclosed.set(record.type, (bySource = new Map()));
    idsOf(bySource, record.source).add(record.id);
    if (patients.length > 0) {
      const ids = idsOf(this.patients, record.source);
      for (const p of patients) ids.add(p);
    }
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
    // Types in name order; a type's ids per source, in the order they were disclosed (sorting thousands of ids cost more than the rest of the event).
    for (const [type, bySource] of [...this.disclosed].sort(([a], [b]) => a.localeCompare(b))) disclosed[type] = qualified(bySource, '/');
    const patients = qualified(this.patients, '/Patient/').sort();
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
      patients,
      disclosed,
      decisions: this.decisions,
      decisionsOmitted: this.omitted,
      consents: [...this.consents].sort(),
      error,
    };
  }
}
