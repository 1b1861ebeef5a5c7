/** A Claim and its ExplanationOfBenefit for every encounter. */
import type { EncounterFacts } from './care';
import type { Code } from './codes';
import { CVX, RXNORM, SNOMED } from './codes';
import type { PatientContext } from './context';
import { concept, dateTime } from './context';
import type { FhirReference } from './bundle';

const CLAIM_TYPE = 'http://terminology.hl7.org/CodeSystem/claim-type';
const ADJUDICATION = 'http://terminology.hl7.org/CodeSystem/adjudication';

interface LineItem {
  system: string;
  code: Code;
  amount: number;
}

function money(value: number): { value: number; currency: string } {
  return { value: Math.round(value * 100) / 100, currency: 'USD' };
}

function lineItems(ctx: PatientContext, facts: EncounterFacts, encounterType: Code, inpatient: boolean): LineItem[] {
  const { prng } = ctx;
  return [
    { system: SNOMED, code: encounterType, amount: inpatient ? prng.decimal(4000, 18000, 2) : prng.decimal(75, 350, 2) },
    ...facts.procedures.map((code) => ({ system: SNOMED, code, amount: prng.decimal(120, 2400, 2) })),
    ...facts.medications.map((code) => ({ system: RXNORM, code, amount: prng.decimal(4, 260, 2) })),
    ...facts.immunizations.map((code) => ({ system: CVX, code, amount: prng.decimal(20, 140, 2) })),
  ];
}

export function addClaims(ctx: PatientContext, facts: EncounterFacts, provider: FhirReference, encounterType: Code, inpatient: boolean): void {
  const { prng } = ctx;
  const items = lineItems(ctx, facts, encounterType, inpatient);
  const total = items.reduce((sum, item) => sum + item.amount, 0);
  const type = concept(CLAIM_TYPE, inpatient ? 'institutional' : 'professional', inpatient ? 'Institutional' : 'Professional');
  const billablePeriod = { start: dateTime(facts.start), end: dateTime(facts.end) };
  const diagnosis = facts.diagnoses.map((d, i) => ({ sequence: i + 1, diagnosisReference: d.ref }));
  const insurance = [{ sequence: 1, focal: true, coverage: ctx.coverage }];
  const claimItems = items.map((item, i) => ({
    sequence: i + 1,
    ...(diagnosis.length ? { diagnosisSequence: [1] } : {}),
    productOrService: concept(item.system, item.code.code, item.code.display),
    servicedPeriod: billablePeriod,
    encounter: [facts.ref],
    net: money(item.amount),
  }));
  const claim = ctx.bundle.add(prng.uuid(), {
    resourceType: 'Claim',
    status: 'active',
    type,
    use: 'claim',
    patient: ctx.patient,
    billablePeriod,
    created: dateTime(facts.end),
    provider,
    priority: concept('http://terminology.hl7.org/CodeSystem/processpriority', 'normal', 'Normal'),
    facility: facts.location,
    careTeam: [{ sequence: 1, provider: facts.practitioner }],
    ...(diagnosis.length ? { diagnosis } : {}),
    insurance,
    item: claimItems,
    total: money(total),
  });
  const coveredShare = prng.decimal(0.6, 0.95, 2);
  ctx.bundle.add(prng.uuid(), {
    resourceType: 'ExplanationOfBenefit',
    status: 'active',
    type,
    use: 'claim',
    patient: ctx.patient,
    billablePeriod,
    created: dateTime(facts.end + 86_400_000 * prng.int(3, 30)),
    insurer: ctx.payer,
    provider,
    facility: facts.location,
    claim,
    outcome: 'complete',
    careTeam: [{ sequence: 1, provider: facts.practitioner, role: concept('http://terminology.hl7.org/CodeSystem/claimcareteamrole', 'primary', 'Primary provider') }],
    ...(diagnosis.length ? { diagnosis } : {}),
    insurance,
    item: claimItems.map((item) => ({
      ...item,
      adjudication: [
        { category: concept(ADJUDICATION, 'submitted', 'Submitted Amount'), amount: item.net },
        { category: concept(ADJUDICATION, 'benefit', 'Benefit Amount'), amount: money(item.net.value * coveredShare) },
      ],
    })),
    total: [
      { category: concept(ADJUDICATION, 'submitted', 'Submitted Amount'), amount: money(total) },
      { category: concept(ADJUDICATION, 'benefit', 'Benefit Amount'), amount: money(total * coveredShare) },
    ],
    payment: { amount: money(total * coveredShare) },
  });
}
