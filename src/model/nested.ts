import type { FhirJson } from './fhir-json';

/**
 * A nested FHIR element that holds references (an encounter participant, a claim item, …).
 * It keeps the source of the resource it sits in, so its references resolve against that source.
 */
export interface NestedModel {
  source: string;
  json: FhirJson;
}
