/**
 * Builds the claims warehouse (docs/sources/claims-layout.md) from Synthea transaction bundles: one
 * member per Patient, a header per Claim, lines per Claim item with the EOB's adjudication, pharmacy
 * detail from the prescription, eligibility spans inferred from the payer on each claim. Pure and
 * deterministic: the same bundles in the same order give the same rows.
 *
 * It also reads bundles shaped like healthgraph's own demo population (src/demo): resources without
 * `id` (keyed by their `urn:uuid` fullUrl), claims whose insurance points at a Coverage resource (the
 * payer, plan and eligibility span come from it and its `payor` Organization), and adjudications
 * coded in the standard `adjudication` system (`submitted`, `eligible`, `benefit`) rather than Blue
 * Button's. Synthea bundles give exactly the rows they gave before.
 */
import type {
  Bundle,
  Claim,
  Coding,
  Condition,
  Coverage,
  ExplanationOfBenefit,
  MedicationRequest,
  Organization,
  Patient,
  Practitioner,
  Resource,
} from '@medplum/fhirtypes';
import type { TableRows } from '../dataset';
import type { Value } from '../targets';
import { CLAIMS_TABLES } from './tables';

type Row = Record<string, Value>;

const SYNTHEA = 'https://github.com/synthetichealth/synthea';
const MRN_SYSTEM = 'http://hospital.smarthealthit.org';
const SSN_SYSTEM = 'http://hl7.org/fhir/sid/us-ssn';
const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
const BB = 'https://bluebutton.cms.gov/resources/variables/';
const ADJUDICATION = 'http://terminology.hl7.org/CodeSystem/adjudication';
const ORGANIZATION_TYPE = 'http://terminology.hl7.org/CodeSystem/organization-type';

/** A line amount: its Blue Button category (Synthea) or its standard `adjudication` code. */
const LINE_AMOUNT: Record<string, { bb: string; code?: string }> = {
  allowed: { bb: 'line_alowd_chrg_amt', code: 'eligible' },
  paid: { bb: 'line_prvdr_pmt_amt', code: 'benefit' },
  coinsurance: { bb: 'line_coinsrnc_amt' },
  deductible: { bb: 'line_bene_ptb_ddctbl_amt', code: 'deductible' },
};

/** FHIR subscriber-relationship → X12 individual relationship code. */
const RELATIONSHIP: Record<string, string> = { self: '18', spouse: '01', child: '19' };

export const PAYERS: Row[] = [
  { payer_id: 'MEDICARE', payer_name: 'Medicare', payer_type: 'public' },
  { payer_id: 'MEDICAID', payer_name: 'Medicaid', payer_type: 'public' },
  { payer_id: 'DUAL', payer_name: 'Medicare-Medicaid Dual Eligible', payer_type: 'public' },
  { payer_id: 'PRIVATE', payer_name: 'Private Commercial Insurance', payer_type: 'commercial' },
  { payer_id: 'SELFPAY', payer_name: 'Self-Pay (uninsured)', payer_type: 'self' },
];

/** Synthea's coverage display → payer. */
const PAYER_OF: Record<string, string> = {
  medicare: 'MEDICARE',
  medicaid: 'MEDICAID',
  dual_eligible: 'DUAL',
  private: 'PRIVATE',
  no_insurance: 'SELFPAY',
};

const PLAN_OF: Record<string, { plan_code: string; plan_name: string }> = {
  MEDICARE: { plan_code: 'MCR-AB', plan_name: 'Medicare Parts A and B' },
  MEDICAID: { plan_code: 'MCD-STD', plan_name: 'Medicaid Standard' },
  DUAL: { plan_code: 'DUAL-FBDE', plan_name: 'Medicare-Medicaid Full Benefit Dual Eligible' },
  PRIVATE: { plan_code: 'COM-PPO', plan_name: 'Commercial PPO' },
};

const CODE_SYSTEM: Record<string, string> = {
  'http://snomed.info/sct': 'SNOMED',
  'http://hl7.org/fhir/sid/icd-10-cm': 'ICD10CM',
  'http://www.ama-assn.org/go/cpt': 'CPT',
  'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets': 'HCPCS',
  'http://hl7.org/fhir/sid/cvx': 'CVX',
  'http://www.nlm.nih.gov/research/umls/rxnorm': 'RXNORM',
  'http://hl7.org/fhir/sid/ndc': 'NDC',
};

function codeSystem(uri: string | undefined): string {
  const name = uri ? CODE_SYSTEM[uri] : undefined;
  if (!name) throw new Error(`claims: no code-system name for ${uri ?? '(none)'}`);
  return name;
}

/** Integer cents, rounded half-up from a float that may carry noise (28.104000000000003). */
export function cents(amount: number): number {
  return Math.round(Number((amount * 100).toPrecision(12)));
}

function money(amountInCents: number | undefined): string | null {
  return amountInCents === undefined ? null : (amountInCents / 100).toFixed(2);
}

function day(dateTime: string | undefined): string | null {
  return dateTime ? dateTime.slice(0, 10) : null;
}

function dayBefore(date: string): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}

function required<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Error(`claims: missing ${what}`);
  return value;
}

function firstCoding(codings: Coding[] | undefined, what: string): Coding {
  return required(codings?.[0], what);
}

/** Builds every table's rows. `bundles` in order: the n-th patient becomes member `A-n`. */
export function buildClaims(bundles: Iterable<Bundle>): Map<string, TableRows> {
  const rows = new Map<string, Row[]>(CLAIMS_TABLES.map((t) => [t.name, []]));
  const push = (tableName: string, row: Row) => required(rows.get(tableName), `table ${tableName}`).push(row);
  const providerIds = new Map<string, number>();
  /** Payers named by a Coverage's `payor` (demo-style bundles), in order of first use. */
  const coveragePayers = new Map<string, Row>();
  let syntheaPayers = false;
  let eligibilityId = 0;
  let memberNumber = 0;

  const providerFor = (resource: Organization | Practitioner, fullUrl: string | undefined): number => {
    const isOrg = resource.resourceType === 'Organization';
    const npi = resource.identifier?.find((i) => i.system === NPI_SYSTEM)?.value;
    const orgKey = resource.identifier?.find((i) => i.system === SYNTHEA)?.value ?? resource.id ?? resource.identifier?.[0]?.value ?? uuidOf(fullUrl);
    const sourceId = required(isOrg ? orgKey : npi, 'provider key');
    const known = providerIds.get(sourceId);
    if (known !== undefined) return known;
    const id = providerIds.size + 1;
    providerIds.set(sourceId, id);
    const address = resource.address?.[0];
    const name = isOrg ? undefined : (resource as Practitioner).name?.[0];
    push('provider', {
      provider_id: id,
      provider_kind: isOrg ? 'organization' : 'individual',
      npi: npi ?? null,
      source_id: sourceId,
      organization_name: isOrg ? ((resource as Organization).name ?? null) : null,
      last_name: name?.family ?? null,
      first_name: name?.given?.[0] ?? null,
      name_prefix: name?.prefix?.[0] ?? null,
      gender: isOrg ? null : sexCode((resource as Practitioner).gender),
      address_line1: address?.line?.[0] ?? null,
      city: address?.city ?? null,
      state: address?.state ?? null,
      zip_code: address?.postalCode ?? null,
      phone: resource.telecom?.find((t) => t.system === 'phone')?.value ?? null,
    });
    return id;
  };

  for (const bundle of bundles) {
    const byUrl = new Map<string, Resource>();
    const urlOf = new Map<Resource, string>();
    for (const entry of bundle.entry ?? []) {
      if (entry.fullUrl && entry.resource) {
        byUrl.set(entry.fullUrl, entry.resource);
        urlOf.set(entry.resource, entry.fullUrl);
      }
    }
    const resolve = <T extends Resource>(reference: string | undefined, type: T['resourceType']): T => {
      const resource = byUrl.get(required(reference, `${type} reference`));
      if (resource?.resourceType !== type) throw new Error(`claims: ${reference} is not a ${type} in its bundle`);
      return resource as T;
    };
    /** `Resource.id`, or the uuid of its `urn:uuid:` fullUrl when the bundle gives it none. */
    const idOf = (resource: Resource, what: string): string => required(resource.id ?? uuidOf(urlOf.get(resource)), what);
    const provider = (resource: Organization | Practitioner): number => providerFor(resource, urlOf.get(resource));
    /** The Coverage a claim names, when the bundle holds it (Synthea names the payer only in a display). */
    const coverageOf = (claim: Claim): Coverage | undefined => {
      const insurance = claim.insurance?.find((i) => i.focal) ?? claim.insurance?.[0];
      const resource = insurance?.coverage?.reference ? byUrl.get(insurance.coverage.reference) : undefined;
      return resource?.resourceType === 'Coverage' ? resource : undefined;
    };
    const payerOf = (claim: Claim): string => {
      const coverage = coverageOf(claim);
      if (!coverage) {
        syntheaPayers = true;
        return syntheaPayerOf(claim);
      }
      const org = resolve<Organization>(coverage.payor?.[0]?.reference, 'Organization');
      const payerId = required(org.identifier?.[0]?.value ?? org.id, 'payer identifier');
      if (!coveragePayers.has(payerId)) {
        const name = required(org.name, 'payer name');
        coveragePayers.set(payerId, { payer_id: payerId, payer_name: name, payer_type: /medicare|medicaid/i.test(name) ? 'public' : 'commercial' });
      }
      return payerId;
    };
    const resources = [...byUrl.values()];
    const patient = required(
      resources.find((r): r is Patient => r.resourceType === 'Patient'),
      'Patient in bundle',
    );
    memberNumber += 1;
    const memberId = `A-${memberNumber}`;
    push('member', memberRow(memberId, patient));
    // Synthea's MRN and uuid, then any other medical record number (the demo population's MRN).
    const xrefSystems = [MRN_SYSTEM, SYNTHEA];
    for (const i of patient.identifier ?? []) {
      const mr = i.type?.coding?.some((c) => c.code === 'MR');
      if (mr && i.system && !xrefSystems.includes(i.system)) xrefSystems.push(i.system);
    }
    for (const system of xrefSystems) {
      const value = patient.identifier?.find((i) => i.system === system)?.value;
      if (value) push('member_xref', { member_id: memberId, source_system: system, source_id: value });
    }
    // Providers in the order they appear, so ids do not depend on which claims reference them. Payers
    // (organization type `pay`) are not providers.
    for (const r of resources) {
      if (r.resourceType === 'Practitioner' || (r.resourceType === 'Organization' && !isPayer(r))) provider(r);
    }

    const claims = resources.filter((r): r is Claim => r.resourceType === 'Claim');
    const eobByClaim = new Map<string, ExplanationOfBenefit>();
    for (const r of resources) {
      if (r.resourceType === 'ExplanationOfBenefit') eobByClaim.set(required(r.claim?.reference, 'EOB claim'), r);
    }
    const claimUrl = new Map<Claim, string>();
    for (const entry of bundle.entry ?? [])
      if (entry.resource?.resourceType === 'Claim') claimUrl.set(entry.resource as Claim, entry.fullUrl ?? '');

    // Eligibility: runs of consecutive claims under the same insured payer.
    // A claim naming a Coverage resource is covered by that Coverage's span, one per Coverage.
    const spanOf = new Map<Claim, number>();
    const spanOfCoverage = new Map<Coverage, number>();
    for (const claim of claims) {
      const coverage = coverageOf(claim);
      if (!coverage) continue;
      const payer = payerOf(claim);
      let span = spanOfCoverage.get(coverage);
      if (span === undefined) {
        eligibilityId += 1;
        span = eligibilityId;
        spanOfCoverage.set(coverage, span);
        const plan = coverage.class?.find((c) => c.type?.coding?.some((t) => t.code === 'plan'));
        const relationship = coverage.relationship?.coding?.[0]?.code ?? 'self';
        push('eligibility', {
          eligibility_id: span,
          member_id: memberId,
          payer_id: payer,
          plan_code: required(plan?.value, 'Coverage plan class'),
          plan_name: plan?.name ?? required(plan?.value, 'Coverage plan class'),
          subscriber_id: required(coverage.subscriberId, 'Coverage.subscriberId'),
          relationship_code: RELATIONSHIP[relationship] ?? 'G8',
          start_date: required(day(coverage.period?.start), 'Coverage.period.start'),
          end_date: day(coverage.period?.end),
        });
      }
      spanOf.set(claim, span);
    }

    // Otherwise (Synthea): runs of consecutive claims under the same insured payer.
    const ordered = claims
      .filter((claim) => !spanOf.has(claim))
      .map((claim) => ({ claim, from: required(day(claim.billablePeriod?.start), 'billablePeriod.start'), payer: payerOf(claim) }))
      .sort((a, b) => (a.from === b.from ? (a.claim.id ?? '').localeCompare(b.claim.id ?? '') : a.from < b.from ? -1 : 1));
    const deathDate = day(patient.deceasedDateTime);
    for (let start = 0; start < ordered.length;) {
      const first = required(ordered[start], 'claim');
      let end = start;
      while (end + 1 < ordered.length && ordered[end + 1]?.payer === first.payer) end++;
      const next = ordered[end + 1];
      if (first.payer !== 'SELFPAY') {
        eligibilityId += 1;
        const lastFrom = required(ordered[end], 'claim').from;
        // Synthea dates a few claims days after the death; the span still covers them.
        const endDate = next ? maxDate(dayBefore(next.from), lastFrom) : deathDate ? maxDate(deathDate, lastFrom) : null;
        push('eligibility', {
          eligibility_id: eligibilityId,
          member_id: memberId,
          payer_id: first.payer,
          ...required(PLAN_OF[first.payer], `plan of ${first.payer}`),
          subscriber_id: `${required(PLAN_OF[first.payer], 'plan').plan_code}-${String(memberNumber).padStart(6, '0')}`,
          relationship_code: '18',
          start_date: first.from,
          end_date: endDate,
        });
        for (let i = start; i <= end; i++) spanOf.set(required(ordered[i], 'claim').claim, eligibilityId);
      }
      start = end + 1;
    }

    for (const claim of claims) {
      const claimId = idOf(claim, 'Claim.id');
      const type = firstCoding(claim.type?.coding, 'Claim.type').code ?? '';
      const eob = eobByClaim.get(claimUrl.get(claim) ?? '');
      const payer = payerOf(claim);
      const from = required(day(claim.billablePeriod?.start), 'billablePeriod.start');
      const thru = day(claim.billablePeriod?.end) ?? from;
      const totalCents = cents(required(claim.total?.value, 'Claim.total'));
      const billing = provider(resolve<Organization>(claim.provider?.reference, 'Organization'));
      const prescription = claim.prescription?.reference
        ? resolve<MedicationRequest>(claim.prescription.reference, 'MedicationRequest')
        : undefined;
      const renderingRef = eob?.careTeam?.[0]?.provider?.reference ?? prescription?.requester?.reference;
      const rendering = renderingRef ? provider(resolve<Practitioner>(renderingRef, 'Practitioner')) : null;
      const placeOfService = eob?.item?.[0]?.locationCodeableConcept?.coding?.[0]?.code ?? null;

      // Lines, with the EOB item of the same sequence for the adjudicated amounts.
      const lines: Row[] = [];
      if (type !== 'pharmacy') {
        const items = claim.item ?? [];
        const netCents = items.reduce((sum, item) => sum + (item.net?.value === undefined ? 0 : cents(item.net.value)), 0);
        items.forEach((item, index) => {
          const coding = firstCoding(item.productOrService?.coding, 'item.productOrService');
          const adjudicated = eob?.item?.find((i) => i.sequence === item.sequence);
          const amount = (kind: keyof typeof LINE_AMOUNT) => {
            const { bb, code } = required(LINE_AMOUNT[kind], kind);
            const value = adjudicated?.adjudication?.find((a) => {
              const coding = a.category?.coding?.[0];
              return coding?.code === `${BB}${bb}` || (code !== undefined && coding?.system === ADJUDICATION && coding.code === code);
            })?.amount?.value;
            return value === undefined ? undefined : cents(value);
          };
          const pointers = item.diagnosisSequence ?? [];
          lines.push({
            claim_id: claimId,
            line_number: required(item.sequence, 'item.sequence'),
            service_from_date: from,
            service_thru_date: thru,
            revenue_code: null,
            procedure_code: required(coding.code, 'item code'),
            procedure_code_system: codeSystem(coding.system),
            procedure_description: coding.display ?? null,
            modifier_1: null,
            dx_pointer_1: pointers[0] ?? null,
            dx_pointer_2: pointers[1] ?? null,
            dx_pointer_3: pointers[2] ?? null,
            dx_pointer_4: pointers[3] ?? null,
            units: '1',
            billed_amount: money(lineBilled(item.net?.value, index, totalCents - netCents)),
            allowed_amount: money(amount('allowed')),
            paid_amount: money(amount('paid')),
            coinsurance_amount: money(amount('coinsurance')),
            deductible_amount: money(amount('deductible')),
            place_of_service_code: adjudicated?.locationCodeableConcept?.coding?.[0]?.code ?? null,
          });
        });
      }
      const sumOf = (column: string): number =>
        lines.reduce((sum, line) => sum + (line[column] === null ? 0 : cents(Number(line[column]))), 0);
      // In an EOB coded with the standard adjudication categories (the demo population's, which report no
      // allowed amounts), a sum that no line reports is unknown rather than zero; Blue Button-coded
      // (Synthea) EOBs keep 0.00.
      const standard = eob?.item?.some((i) => i.adjudication?.some((a) => a.category?.coding?.[0]?.system === ADJUDICATION)) ?? false;
      const reportedSumOf = (column: string): number | undefined =>
        standard && lines.every((line) => line[column] === null) ? undefined : sumOf(column);
      const paidCents = eob ? cents(required(eob.payment?.amount?.value, 'EOB payment')) : undefined;

      push('claim_header', {
        claim_id: claimId,
        member_id: memberId,
        claim_type: type,
        claim_status: eob ? 'paid' : 'submitted',
        payer_id: payer,
        eligibility_id: spanOf.get(claim) ?? null,
        billing_provider_id: billing,
        rendering_provider_id: rendering,
        from_date: from,
        thru_date: thru,
        received_date: day(claim.created) ?? from,
        place_of_service_code: placeOfService,
        encounter_ref: claim.item?.[0]?.encounter?.[0]?.reference?.replace(/^urn:uuid:/, '') ?? null,
        total_billed: money(totalCents),
        total_allowed: eob ? money(reportedSumOf('allowed_amount')) : null,
        total_paid: money(paidCents),
      });
      (claim.diagnosis ?? []).forEach((diagnosis) => {
        const condition = resolve<Condition>(diagnosis.diagnosisReference?.reference, 'Condition');
        const coding = firstCoding(condition.code?.coding, 'Condition.code');
        const sequence = required(diagnosis.sequence, 'diagnosis.sequence');
        push('claim_diagnosis', {
          claim_id: claimId,
          dx_sequence: sequence,
          dx_code: required(coding.code, 'Condition code'),
          dx_code_system: codeSystem(coding.system),
          dx_description: coding.display ?? null,
          dx_type: sequence === 1 ? 'principal' : 'secondary',
          present_on_admission: null,
        });
      });
      for (const line of lines) push('claim_line', line);
      if (prescription) {
        const drug = firstCoding(prescription.medicationCodeableConcept?.coding, 'MedicationRequest.medication');
        const supply = prescription.dispenseRequest;
        push('rx_claim', {
          claim_id: claimId,
          rx_number: idOf(prescription, 'MedicationRequest.id'),
          fill_date: from,
          ndc_code: drug.system === 'http://hl7.org/fhir/sid/ndc' ? (drug.code ?? null) : null,
          rxnorm_code: drug.system === 'http://www.nlm.nih.gov/research/umls/rxnorm' ? (drug.code ?? null) : null,
          drug_name: drug.display ?? null,
          quantity_dispensed: supply?.quantity?.value === undefined ? null : String(supply.quantity.value),
          days_supply: supply?.expectedSupplyDuration?.value ?? null,
          refill_number: 0,
          prescriber_provider_id: rendering,
          billed_amount: money(totalCents),
          allowed_amount: null,
          paid_amount: null,
        });
      }
      if (eob) {
        push('eob', {
          eob_id: idOf(eob, 'EOB id'),
          claim_id: claimId,
          payer_id: PAYER_OF[eob.insurer?.display ?? ''] ?? payer,
          outcome: eob.outcome ?? 'complete',
          adjudication_date: required(day(eob.created), 'EOB created'),
          payment_date: day(eob.payment?.date),
          benefit_period_start: day(eob.billablePeriod?.start),
          benefit_period_end: day(eob.billablePeriod?.end),
          total_submitted: money(submittedCents(eob) ?? totalCents),
          total_allowed: money(reportedSumOf('allowed_amount')),
          total_paid: money(paidCents),
          member_coinsurance: money(reportedSumOf('coinsurance_amount')),
          member_deductible: money(reportedSumOf('deductible_amount')),
        });
      }
    }
  }

  rows.set('payer', [...(syntheaPayers ? PAYERS : []), ...coveragePayers.values()]);
  return new Map(
    CLAIMS_TABLES.map((t) => {
      const columns = t.columns.map((c) => c.name);
      const tableRows = rows.get(t.name) ?? [];
      return [t.name, { columns, rows: tableRows.map((row) => columns.map((c) => row[c] ?? null)) }];
    }),
  );
}

/**
 * A line's charge in cents. Synthea's first item is the encounter itself and carries no net: it is what
 * the other items leave of the claim total. Later items without a net (restated diagnoses) charge nothing.
 */
function lineBilled(net: number | undefined, index: number, remainderCents: number): number {
  if (net !== undefined) return cents(net);
  return index === 0 ? remainderCents : 0;
}

function submittedCents(eob: ExplanationOfBenefit): number | undefined {
  const value = eob.total?.find((t) => t.category?.coding?.[0]?.code === 'submitted')?.amount?.value;
  return value === undefined ? undefined : cents(value);
}

function syntheaPayerOf(claim: Claim): string {
  const display = claim.insurance?.find((i) => i.focal)?.coverage?.display ?? claim.insurance?.[0]?.coverage?.display ?? '';
  return required(PAYER_OF[display], `payer for coverage "${display}"`);
}

function isPayer(org: Organization): boolean {
  return org.type?.some((t) => t.coding?.some((c) => c.system === ORGANIZATION_TYPE && c.code === 'pay')) ?? false;
}

/** `urn:uuid:abc…` → `abc…`. */
function uuidOf(fullUrl: string | undefined): string | undefined {
  return fullUrl?.startsWith('urn:uuid:') ? fullUrl.slice('urn:uuid:'.length) : undefined;
}

function sexCode(gender: string | undefined): string {
  return gender === 'male' ? 'M' : gender === 'female' ? 'F' : 'U';
}

function maxDate(a: string, b: string): string {
  return a > b ? a : b;
}

function memberRow(memberId: string, patient: Patient): Row {
  const name = patient.name?.find((n) => n.use === 'official') ?? patient.name?.[0];
  const address = patient.address?.[0];
  return {
    member_id: memberId,
    last_name: required(name?.family, 'Patient family name'),
    first_name: name?.given?.[0] ?? null,
    middle_name: name?.given && name.given.length > 1 ? name.given.slice(1).join(' ') : null,
    name_prefix: name?.prefix?.[0] ?? null,
    birth_date: required(patient.birthDate, 'Patient.birthDate'),
    death_date: day(patient.deceasedDateTime),
    sex: sexCode(patient.gender),
    ssn: patient.identifier?.find((i) => i.system === SSN_SYSTEM)?.value ?? null,
    address_line1: address?.line?.[0] ?? null,
    address_line2: address?.line?.[1] ?? null,
    city: address?.city ?? null,
    state: address?.state ?? null,
    zip_code: address?.postalCode ?? null,
    phone: patient.telecom?.find((t) => t.system === 'phone')?.value ?? null,
  };
}
