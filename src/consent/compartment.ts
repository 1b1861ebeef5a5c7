/**
 * The patient compartment of a patient-context token: the set of (source, patient record id) pairs
 * that are that person. Resolved in exactly one place, `compartmentOf`, so that identity across
 * sources (issue 5: the identity link store) plugs in by changing this function only.
 *
 * A gateway patient id names one record; a plain record id is looked up in every source that serves
 * Patient, and every source holding a Patient with that id contributes it. With identity resolution
 * on, a unified patient id names a person, and every record found is widened to all the records
 * linked to the same person (in every source).
 */
import type { CallContext } from '../../connectors/types';
import type { SourceRegistry } from '../data/registry';
import { tryDecodeId, tryDecodePersonId } from '../ids';

export interface CompartmentMember {
  source: string;
  id: string;
}

export class Compartment {
  private readonly bySource = new Map<string, Set<string>>();

  constructor(readonly members: readonly CompartmentMember[]) {
    for (const m of members) {
      const set = this.bySource.get(m.source) ?? new Set<string>();
      set.add(m.id);
      this.bySource.set(m.source, set);
    }
  }

  has(source: string, id: string): boolean {
    return this.bySource.get(source)?.has(id) ?? false;
  }

  /** Patient record ids of this person in one source (empty: the source holds nothing of theirs). */
  idsIn(source: string): string[] {
    return [...(this.bySource.get(source) ?? [])];
  }
}

/** What the compartment needs of the identity index (src/identity/service.ts). */
export interface PersonDirectory {
  membersOf(source: string, recordId: string): { source: string; recordId: string }[];
  recordsOf(personId: string): { source: string; recordId: string }[];
}

export async function compartmentOf(patientClaim: string, registry: SourceRegistry, call: CallContext, identity?: PersonDirectory): Promise<Compartment> {
  const widen = (found: CompartmentMember[]): Compartment => {
    if (!identity) return new Compartment(found);
    const all = found.flatMap((m) => identity.membersOf(m.source, m.id).map((k) => ({ source: k.source, id: k.recordId })));
    return new Compartment(all.filter((m) => registry.get(m.source)));
  };
  const person = identity ? tryDecodePersonId(patientClaim) : undefined;
  if (person && identity) return new Compartment(identity.recordsOf(person).map((k) => ({ source: k.source, id: k.recordId })).filter((m) => registry.get(m.source)));
  const decoded = tryDecodeId(patientClaim);
  if (decoded) {
    return widen(decoded.type === 'Patient' && registry.get(decoded.source) ? [{ source: decoded.source, id: decoded.id }] : []);
  }
  const found = await Promise.all(
    registry.servingType('Patient').map(async (connector) => {
      const records = await connector.getByIds('Patient', [patientClaim], call);
      return records.filter((r) => r.id === patientClaim).map((r) => ({ source: connector.id, id: r.id }));
    }),
  );
  return widen(found.flat());
}
