/** One patient's encounters, in time order, with what happens at each. */
import type { EncounterFacts } from './care';
import { administer, diagnose, immunize, perform, pickProcedure, statement } from './care';
import { addClaims } from './claims';
import type { EncounterKind } from './codes';
import { ACT_CODE, ENCOUNTER_KINDS, SNOMED } from './codes';
import type { PatientContext } from './context';
import { DAY, TIMELINE_END, YEAR, ageAt, concept, coding, dateTime } from './context';
import { addNote } from './notes';
import { addLabs, addSmokingStatus, addVitals } from './observations';
import { addAllergies } from './patient';
import { PROVIDERS } from './shared';

const MIN_ENCOUNTERS = 3;
const MAX_ENCOUNTERS = 30;

export function addEncounters(ctx: PatientContext): void {
  const { prng } = ctx;
  const count = prng.int(MIN_ENCOUNTERS, MAX_ENCOUNTERS);
  const first = Math.max(ctx.birth + 30 * DAY, TIMELINE_END - 12 * YEAR);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    times.push(first + Math.floor(prng.next() * (TIMELINE_END - 30 * DAY - first)));
  }
  times.sort((a, b) => a - b);
  times.forEach((time, i) => {
    const kind = i === 0 ? (ENCOUNTER_KINDS[0] as EncounterKind) : weightedKind(ctx);
    addEncounter(ctx, roundToQuarterHour(time), kind, i === 0);
  });
}

function weightedKind(ctx: PatientContext): EncounterKind {
  const total = ENCOUNTER_KINDS.reduce((sum, kind) => sum + kind.weight, 0);
  let draw = ctx.prng.next() * total;
  for (const kind of ENCOUNTER_KINDS) {
    draw -= kind.weight;
    if (draw < 0) {
      return kind;
    }
  }
  return ENCOUNTER_KINDS[0] as EncounterKind;
}

function roundToQuarterHour(time: number): number {
  const quarter = 15 * 60_000;
  const day = Math.floor(time / DAY) * DAY;
  const hour = 8 + Math.floor(((time - day) / DAY) * 10);
  return day + hour * 3_600_000 + Math.floor(((time % 3_600_000) / quarter)) * quarter;
}

function addEncounter(ctx: PatientContext, start: number, kind: EncounterKind, first: boolean): void {
  const { prng, shared } = ctx;
  const acute = kind.classCode === 'EMER' || kind.classCode === 'IMP';
  const providerIndex = acute ? prng.pick(PROVIDERS.map((p, i) => (p.hospital ? i : -1)).filter((i) => i >= 0)) : ctx.homeProvider;
  const provider = shared.organization(providerIndex);
  const practitioner = shared.practitioner(clinicianIndex(providerIndex, prng.int(0, 1)));
  const location = shared.location(providerIndex);
  const end = start + prng.int(kind.minutes[0], kind.minutes[1]) * 60_000;
  const ref = ctx.bundle.add(prng.uuid(), {
    resourceType: 'Encounter',
    status: 'finished',
    class: coding(ACT_CODE, kind.classCode, kind.classDisplay),
    type: [concept(SNOMED, kind.code, kind.display)],
    subject: ctx.patient,
    participant: [
      {
        type: [concept('http://terminology.hl7.org/CodeSystem/v3-ParticipationType', 'PPRF', 'primary performer')],
        period: { start: dateTime(start), end: dateTime(end) },
        individual: practitioner,
      },
    ],
    period: { start: dateTime(start), end: dateTime(end) },
    ...(kind.classCode === 'IMP' ? { hospitalization: { dischargeDisposition: concept('http://terminology.hl7.org/CodeSystem/discharge-disposition', 'home', 'Home') } } : {}),
    location: [{ location, status: 'completed' }],
    serviceProvider: provider,
  }, kind.display);
  const facts: EncounterFacts = { ref, start, end, practitioner, location, diagnoses: [], procedures: [], medications: [], immunizations: [] };

  if (first) {
    addAllergies(ctx, ref, start);
  }
  const checkup = kind.code === '185349003';
  if (kind.classCode !== 'VR') {
    addVitals(ctx, ref, start + 10 * 60_000, kind.code === '185345009' || acute);
  }
  if (checkup || kind.code === '390906007') {
    if (prng.chance(first ? 0.45 : 0.15) && ageAt(ctx, start) >= 18) {
      diagnose(ctx, facts, true);
    }
    addLabs(ctx, ref, start + 20 * 60_000);
  } else if (prng.chance(0.8)) {
    diagnose(ctx, facts, false);
  }
  if (checkup) {
    addSmokingStatus(ctx, ref, start + 5 * 60_000);
    if (prng.chance(0.6)) {
      immunize(ctx, facts, ageAt(ctx, start));
    }
    if (prng.chance(0.3)) {
      statement(ctx, facts);
    }
  }
  if (acute) {
    administer(ctx, facts);
  }
  if (acute || checkup || prng.chance(0.3)) {
    perform(ctx, facts, pickProcedure(ctx, kind.classCode));
  }
  addClaims(ctx, facts, provider, kind, kind.classCode === 'IMP');
  if (first || checkup || acute || kind.code === '390906007') {
    addNote(ctx, facts, provider, kind.display.replace(/ \(procedure\)$/, ''));
  }
}

function clinicianIndex(provider: number, pick: number): number {
  return provider * 2 + pick;
}
