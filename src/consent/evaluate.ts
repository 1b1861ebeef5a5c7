/**
 * FHIR R4 Consent evaluation: does one Consent permit or deny one access to one piece of data?
 *
 * A Consent applies when it is `active`, its `scope` covers the purpose (patient-privacy: any
 * purpose; research: HRESCH/CLINTRCH; treatment: TREAT/ETREAT), and its root provision's period
 * covers now. The provision tree is then walked: a provision applies when every condition it states
 * matches (actor, action, purpose, class, code, securityLabel, dataPeriod, data, period); nested
 * provisions are exceptions to their parent, so the deepest applying provision decides; between
 * applying siblings, deny wins. Several Consents: any deny wins; otherwise any permit; otherwise
 * none applies and the configured default decides (src/consent/decide.ts).
 */
import type { FhirResource, ResourceType } from '../../connectors/types';
import { instantRange, overlaps, type InstantRange } from '../model/dates';
import { isObject, type FhirJson } from '../model/fhir-json';

/** The client's identifier system in Consent actor identifiers (`{ system, value: client_id }`). */
export const CLIENT_ID_SYSTEM = 'urn:healthgraph:client-id';

export interface Accessor {
  /** FHIR references naming the accessor: its fhirUser, its organization, `Device/<client_id>`. */
  references: string[];
  clientId?: string;
  purpose: string;
}

/** The data being accessed, as consent provisions see it. */
export interface DataItem {
  type: ResourceType;
  /** `Type/id` of the record. */
  reference: string;
  codings: { system?: string; code: string }[];
  labels: readonly string[];
  date?: InstantRange;
}

export type Effect = 'permit' | 'deny';

export interface ConsentResult {
  effect: Effect;
  consentId: string;
  /** A permit that names the accessor and the purpose, and the sensitive data (label or code) by name. */
  explicit: boolean;
}

interface Matched {
  effect: Effect;
  explicit: boolean;
}

/** Purposes a `purpose` coding covers: TREAT covers emergency treatment. */
const PURPOSE_PARENTS: Record<string, string[]> = { ETREAT: ['TREAT'], BTG: ['ETREAT', 'TREAT'], CLINTRCH: ['HRESCH'] };
const READ_ACTIONS = new Set(['access', 'use', 'disclose']);
const SCOPE_PURPOSES: Record<string, string[] | undefined> = {
  'patient-privacy': undefined,
  research: ['HRESCH', 'CLINTRCH'],
  treatment: ['TREAT', 'ETREAT', 'BTG'],
};

function codings(value: unknown): FhirJson[] {
  if (!isObject(value)) return [];
  if (Array.isArray(value.coding)) return value.coding.filter(isObject);
  return [value];
}

function codesOf(value: unknown): string[] {
  return codings(value).flatMap((c) => (typeof c.code === 'string' ? [c.code] : []));
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

/** `Practitioner/1` from `Practitioner/1`, `https://x/fhir/Practitioner/1`, `Practitioner/1/_history/2`. */
export function normalizeReference(reference: string): string {
  const m = /(?:^|\/)([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
  return m?.[1] ?? reference;
}

function periodCovers(period: unknown, instant: number): boolean {
  if (!isObject(period)) return true;
  const start = typeof period.start === 'string' ? instantRange(period.start)?.start : undefined;
  const end = typeof period.end === 'string' ? instantRange(period.end)?.end : undefined;
  return (start === undefined || instant >= start) && (end === undefined || instant <= end);
}

function purposeMatches(provisionPurposes: unknown[], purpose: string): boolean {
  const covered = new Set([purpose, ...(PURPOSE_PARENTS[purpose] ?? [])]);
  return provisionPurposes.some((p) => isObject(p) && typeof p.code === 'string' && covered.has(p.code));
}

function actorMatches(actors: unknown[], accessor: Accessor): boolean {
  const refs = new Set(accessor.references.map(normalizeReference));
  return actors.some((actor) => {
    if (!isObject(actor) || !isObject(actor.reference)) return false;
    const ref = actor.reference;
    if (typeof ref.reference === 'string' && refs.has(normalizeReference(ref.reference))) return true;
    const identifier = ref.identifier;
    if (isObject(identifier) && typeof identifier.value === 'string') {
      const system = typeof identifier.system === 'string' ? identifier.system : CLIENT_ID_SYSTEM;
      if (system === CLIENT_ID_SYSTEM && identifier.value === accessor.clientId) return true;
      // An organization or practitioner identifier written as `system|value` in the accessor's references.
      if (refs.has(`${system}|${identifier.value}`)) return true;
    }
    return false;
  });
}

function codeMatches(concepts: unknown[], item: DataItem): boolean {
  return concepts.some((concept) =>
    codings(concept).some((c) => typeof c.code === 'string' && item.codings.some((i) => i.code === c.code && (c.system === undefined || i.system === c.system))),
  );
}

interface Conditions {
  actor: boolean;
  purpose: boolean;
  sensitive: boolean;
}

/** Whether every condition the provision states holds, and which of them it states. */
function provisionMatches(p: FhirJson, accessor: Accessor, item: DataItem, now: number, effect: Effect): Conditions | undefined {
  if (!periodCovers(p.period, now)) return undefined;
  const actors = list(p.actor);
  if (actors.length > 0 && !actorMatches(actors, accessor)) return undefined;
  const actions = list(p.action);
  if (actions.length > 0 && !actions.some((a) => codesOf(a).some((c) => READ_ACTIONS.has(c)))) return undefined;
  const purposes = list(p.purpose);
  if (purposes.length > 0 && !purposeMatches(purposes, accessor.purpose)) return undefined;
  const classes = list(p.class);
  if (classes.length > 0 && !classes.some((c) => isObject(c) && c.code === item.type)) return undefined;
  const codes = list(p.code);
  if (codes.length > 0 && !codeMatches(codes, item)) return undefined;
  const labels = list(p.securityLabel);
  const labelHit = labels.some((l) => isObject(l) && typeof l.code === 'string' && item.labels.includes(l.code));
  if (labels.length > 0 && !labelHit) return undefined;
  if (isObject(p.dataPeriod)) {
    // Undated data: a deny still applies (fail safe), a permit does not.
    if (item.date === undefined) {
      if (effect === 'permit') return undefined;
    } else {
      const start = typeof p.dataPeriod.start === 'string' ? instantRange(p.dataPeriod.start)?.start : undefined;
      const end = typeof p.dataPeriod.end === 'string' ? instantRange(p.dataPeriod.end)?.end : undefined;
      if (!overlaps(item.date, { start: start ?? -Infinity, end: end ?? Infinity })) return undefined;
    }
  }
  const data = list(p.data);
  if (data.length > 0) {
    const hit = data.some((d) => isObject(d) && isObject(d.reference) && typeof d.reference.reference === 'string' && normalizeReference(d.reference.reference) === item.reference);
    if (!hit) return undefined;
  }
  return { actor: actors.length > 0, purpose: purposes.length > 0, sensitive: labelHit || (codes.length > 0 && item.labels.length > 0) };
}

function effectOf(p: FhirJson, inherited: Effect): Effect {
  return p.type === 'permit' || p.type === 'deny' ? p.type : inherited;
}

function walk(p: FhirJson, accessor: Accessor, item: DataItem, now: number, inherited: Effect, path: Conditions): Matched | undefined {
  const effect = effectOf(p, inherited);
  const conditions = provisionMatches(p, accessor, item, now, effect);
  if (!conditions) return undefined;
  const here: Conditions = { actor: path.actor || conditions.actor, purpose: path.purpose || conditions.purpose, sensitive: path.sensitive || conditions.sensitive };
  const children = list(p.provision)
    .filter(isObject)
    .map((child) => walk(child, accessor, item, now, effect === 'permit' ? 'deny' : 'permit', here))
    .filter((m): m is Matched => m !== undefined);
  const deny = children.find((c) => c.effect === 'deny');
  if (deny) return deny;
  const permit = children.find((c) => c.explicit) ?? children[0];
  if (permit) return permit;
  return { effect, explicit: effect === 'permit' && here.actor && here.purpose && here.sensitive };
}

function scopeCode(consent: FhirResource): string {
  return codesOf(consent.scope)[0] ?? 'patient-privacy';
}

/** Whether a Consent is in force for this purpose now (status, scope, root period). */
export function consentApplies(consent: FhirResource, purpose: string, now: number): boolean {
  if (consent.resourceType !== 'Consent' || consent.status !== 'active') return false;
  const scope = scopeCode(consent);
  if (!(scope in SCOPE_PURPOSES)) return false;
  const purposes = SCOPE_PURPOSES[scope];
  if (purposes && !purposes.includes(purpose) && !(PURPOSE_PARENTS[purpose] ?? []).some((p) => purposes.includes(p))) return false;
  return isObject(consent.provision) && periodCovers(consent.provision.period, now);
}

/** One Consent's answer for one item, or undefined when it does not apply. */
export function evaluateConsent(consent: FhirResource, accessor: Accessor, item: DataItem, now: number): ConsentResult | undefined {
  if (!consentApplies(consent, accessor.purpose, now) || !isObject(consent.provision)) return undefined;
  const result = walk(consent.provision, accessor, item, now, 'deny', { actor: false, purpose: false, sensitive: false });
  return result && { ...result, consentId: `Consent/${consent.id ?? 'unknown'}` };
}

export interface CombinedResult {
  effect: Effect | 'none';
  explicit: boolean;
  /** The Consents that decided. */
  consents: string[];
}

/** Every Consent of the patient together: any deny wins, then any permit, else none applies. */
export function evaluateConsents(consents: readonly FhirResource[], accessor: Accessor, item: DataItem, now: number): CombinedResult {
  const results = consents.map((c) => evaluateConsent(c, accessor, item, now)).filter((r): r is ConsentResult => r !== undefined);
  const denies = results.filter((r) => r.effect === 'deny');
  if (denies.length > 0) return { effect: 'deny', explicit: false, consents: denies.map((r) => r.consentId) };
  const permits = results.filter((r) => r.effect === 'permit');
  if (permits.length > 0) return { effect: 'permit', explicit: permits.some((r) => r.explicit), consents: permits.map((r) => r.consentId) };
  return { effect: 'none', explicit: false, consents: [] };
}
