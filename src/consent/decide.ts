/**
 * The access decision for one piece of patient data, from its labels, the patient's Consents and
 * the caller (docs/security.md, "Consent evaluation"):
 *
 * 1. A Consent that denies wins (any consent, any applicable provision).
 * 2. 42 CFR Part 2 data (labels SUD / ETH / 42CFRPart2) is withheld unless a Consent permits it
 *    *explicitly*: a permit provision naming the accessor (actor) and the purpose, and the sensitive
 *    data itself (its security label or its code). Fail safe: anything short of that withholds.
 * 3. Restricted labels (HIV, PSY, SDV, SEX, STD and confidentiality V by default) are released for
 *    treatment purposes; for any other purpose only when a Consent permits.
 * 4. A permitting Consent permits.
 * 5. Otherwise the default: opt-out permits treatment-type purposes; opt-in permits nothing.
 *
 * Break-the-glass lifts any denial here (never a scope or compartment denial); the caller records it.
 */
import type { ConsentConfig } from '../auth/config';
import { evaluateConsents, type Accessor, type DataItem } from './evaluate';
import { PART2_LABELS } from './labels';
import type { FhirResource } from '../../connectors/types';

/** Purposes the opt-out default permits without a Consent. Research and public health need one. */
export const OPT_OUT_PURPOSES: ReadonlySet<string> = new Set(['TREAT', 'ETREAT', 'BTG', 'HPAYMT', 'HOPERAT', 'PATRQT']);
const TREATMENT_PURPOSES: ReadonlySet<string> = new Set(['TREAT', 'ETREAT', 'BTG', 'PATRQT']);

export interface Decision {
  permit: boolean;
  reason: string;
  consents: string[];
  /** Labels that made the difference (for the audit trail). */
  labels: string[];
}

export function decide(consents: readonly FhirResource[], accessor: Accessor, item: DataItem, config: ConsentConfig, now: number): Decision {
  const combined = evaluateConsents(consents, accessor, item, now);
  const part2 = item.labels.filter((l) => PART2_LABELS.has(l));
  const restricted = item.labels.filter((l) => config.restrictedLabels.includes(l) || l === 'V');
  if (combined.effect === 'deny') return { permit: false, reason: 'denied by consent', consents: combined.consents, labels: [...item.labels] };
  if (part2.length > 0 && !(combined.effect === 'permit' && combined.explicit)) {
    return { permit: false, reason: '42 CFR Part 2: no consent explicitly permits this disclosure', consents: combined.consents, labels: part2 };
  }
  if (restricted.length > 0 && combined.effect !== 'permit' && !TREATMENT_PURPOSES.has(accessor.purpose)) {
    return { permit: false, reason: `sensitive data (${restricted.join(', ')}) is released for treatment only`, consents: [], labels: restricted };
  }
  if (combined.effect === 'permit') return { permit: true, reason: 'permitted by consent', consents: combined.consents, labels: [] };
  if (config.default === 'opt-out' && OPT_OUT_PURPOSES.has(accessor.purpose)) return { permit: true, reason: 'default (opt-out)', consents: [], labels: [] };
  return { permit: false, reason: config.default === 'opt-in' ? 'no consent on file (opt-in)' : `no consent on file for purpose ${accessor.purpose}`, consents: [], labels: [] };
}
