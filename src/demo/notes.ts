/**
 * Clinical notes (DocumentReference with a base64 text/plain attachment) written from the
 * patient's coded conditions and medications, so the coded resources are an answer key for the note.
 */
import type { EncounterFacts } from './care';
import { LOINC } from './codes';
import type { PatientContext } from './context';
import { ageAt, concept, instant } from './context';
import type { FhirReference } from './bundle';

const NOTE_CATEGORY = 'http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category';

export function noteText(ctx: PatientContext, facts: EncounterFacts, reason: string): string {
  const age = ageAt(ctx, facts.start);
  const active = ctx.conditions.filter((c) => c.abated === undefined || c.abated > facts.start);
  const meds = ctx.medications.filter((m) => m.authored <= facts.end);
  const denials = ['chest pain', 'shortness of breath', 'fever', 'weight loss'].filter((_, i) => (age + i) % 3 !== 0);
  const lines = [
    `${ctx.name.given} ${ctx.name.family} is a ${age} year-old ${ctx.gender === 'female' ? 'woman' : 'man'} seen for ${reason.toLowerCase()}.`,
    '',
    active.length
      ? `History: the patient has a history of ${active.map((c) => c.code.phrase).join(', ')}.`
      : 'History: no significant past medical history.',
    `Review of systems: the patient denies ${denials.join(', ')}.`,
    '',
    facts.diagnoses.length
      ? `Assessment: ${facts.diagnoses.map((d) => d.code.phrase).join('; ')}.`
      : 'Assessment: stable; no new problems identified.',
    meds.length
      ? `Plan: continue ${meds.map((m) => m.code.display.toLowerCase()).join(', ')}.`
      : 'Plan: no medications at this time.',
    facts.procedures.length ? `Procedures: ${facts.procedures.map((p) => p.display.toLowerCase()).join(', ')}.` : '',
  ];
  return lines.filter((line, i, all) => line !== '' || all[i - 1] !== '').join('\n').trim() + '\n';
}

export function addNote(ctx: PatientContext, facts: EncounterFacts, provider: FhirReference, reason: string): void {
  const text = noteText(ctx, facts, reason);
  const progress = reason.toLowerCase().includes('follow');
  const type = progress ? { code: '11506-3', display: 'Progress note' } : { code: '34117-2', display: 'History and physical note' };
  ctx.bundle.add(ctx.prng.uuid(), {
    resourceType: 'DocumentReference',
    status: 'current',
    docStatus: 'final',
    type: concept(LOINC, type.code, type.display),
    category: [concept(NOTE_CATEGORY, 'clinical-note', 'Clinical Note')],
    subject: ctx.patient,
    date: instant(facts.end),
    author: [facts.practitioner],
    custodian: provider,
    content: [
      {
        attachment: {
          contentType: 'text/plain',
          language: 'en-US',
          data: Buffer.from(text, 'utf8').toString('base64'),
          title: type.display,
          creation: instant(facts.end),
        },
        format: { system: 'http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode', code: 'urn:ihe:iti:xds:2017:mimeTypeSufficient', display: 'mimeType Sufficient' },
      },
    ],
    context: { encounter: [facts.ref], period: { start: instant(facts.start), end: instant(facts.end) } },
  });
}
