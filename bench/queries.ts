/**
 * The two questions the benchmark asks, each written twice: once for healthgraph's schema and once
 * for the upstream's own FHIR GraphQL (`$graphql`, Medplum's dialect). Both ask for the same
 * elements; `normalize.ts` checks that the answers match before anything is measured.
 */

/** (a) One patient: name, gender, birth date, identifiers. */
export const GATEWAY_PATIENT = `query Patient($id: ID!) {
  patient(id: $id) { id gender birthDate name { given family } identifier { system value } }
}`;

export const UPSTREAM_PATIENT = `query Patient($id: ID!) {
  Patient(id: $id) { id gender birthDate name { given family } identifier { system value } }
}`;

/**
 * (b) The patient summary: the patient, their 20 most recent encounters, each encounter's
 * conditions, observations and medication records (all four FHIR medication resources; the
 * gateway's `medications` merges them), and the patient's 20 most recent claims. Nested lists use
 * the gateway's default page size of 20 on both sides, and the gateway's order: newest first, ties
 * broken by id (`_sort: "-date,_id"`), so both sides pick the same 20 when there are more.
 */
export const GATEWAY_SUMMARY = `query Summary($id: ID!) {
  patient(id: $id) {
    id gender birthDate name { given family } identifier { system value }
    encounters(first: 20) {
      edges { node {
        id status class { code } type { text } period { start end }
        conditions(first: 20) { edges { node { id code { text } onsetDateTime } } }
        observations(first: 20) { edges { node { id code { text } valueQuantity { value unit } effectiveDateTime } } }
        medications(first: 20) { edges { node { id kind medicationCodeableConcept { text } date } } }
      } }
    }
    claims(first: 20) { edges { node { id status created total { value currency } } } }
  }
}`;

export const UPSTREAM_SUMMARY = `query Summary($id: ID!) {
  Patient(id: $id) {
    id gender birthDate name { given family } identifier { system value }
    EncounterList(_reference: patient, _count: 20, _sort: "-date,_id") {
      id status class { code } type { text } period { start end }
      ConditionList(_reference: encounter, _count: 20, _sort: "-onset-date,_id") { id code { text } onsetDateTime }
      ObservationList(_reference: encounter, _count: 20, _sort: "-date,_id") { id code { text } valueQuantity { value unit } effectiveDateTime }
      MedicationRequestList(_reference: encounter, _count: 20, _sort: "-authoredon,_id") { id medicationCodeableConcept { text } authoredOn }
      MedicationStatementList(_reference: context, _count: 20, _sort: "-effective,_id") { id medicationCodeableConcept { text } effectiveDateTime }
      MedicationDispenseList(_reference: context, _count: 20, _sort: "-whenhandedover,_id") { id medicationCodeableConcept { text } whenHandedOver }
      MedicationAdministrationList(_reference: context, _count: 20, _sort: "-effective-time,_id") { id medicationCodeableConcept { text } effectiveDateTime }
    }
    ClaimList(_reference: patient, _count: 20, _sort: "-created,_id") { id status created total { value currency } }
  }
}`;

export type Question = 'patient' | 'summary';
export type Target = 'gateway' | 'upstream';

export interface QuestionSpec {
  question: Question;
  title: string;
  /**
   * Levels of the query that need data from the source: (a) the patient; (b) the patient, then
   * encounters and claims, then the encounters' conditions, observations and medications.
   */
  levels: number;
  text: Record<Target, string>;
}

export const QUESTIONS: readonly QuestionSpec[] = [
  { question: 'patient', title: '(a) single-patient read', levels: 1, text: { gateway: GATEWAY_PATIENT, upstream: UPSTREAM_PATIENT } },
  { question: 'summary', title: '(b) patient summary', levels: 3, text: { gateway: GATEWAY_SUMMARY, upstream: UPSTREAM_SUMMARY } },
];

/** The JSON body of one POST: the query with the patient's id as a variable. */
export function requestBody(text: string, id: string): string {
  return JSON.stringify({ query: text, variables: { id } });
}
