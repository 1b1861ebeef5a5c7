/** Small FHIR Patient builders for identity tests. */
export interface PersonSpec {
  given?: string;
  family?: string;
  middle?: string;
  maiden?: string;
  suffix?: string;
  birthDate?: string;
  gender?: string;
  line?: string;
  zip?: string;
  phone?: string;
  ssn?: string;
  mrn?: [string, string];
}

export const ANN: PersonSpec = {
  given: 'Ann',
  family: 'Keller',
  birthDate: '1980-04-12',
  gender: 'female',
  line: '12 Elm Street',
  zip: '01940',
  phone: '555-201-3344',
  ssn: '123-45-6780',
};

export function patient(spec: PersonSpec): Record<string, unknown> {
  const name: Record<string, unknown>[] = [{ use: 'official', family: spec.family, given: [spec.given, ...(spec.middle ? [spec.middle] : [])].filter(Boolean), ...(spec.suffix ? { suffix: [spec.suffix] } : {}) }];
  if (spec.maiden) name.push({ use: 'maiden', family: spec.maiden, given: [spec.given] });
  const identifier: Record<string, unknown>[] = [];
  if (spec.ssn) identifier.push({ system: 'http://hl7.org/fhir/sid/us-ssn', value: spec.ssn });
  if (spec.mrn) identifier.push({ system: spec.mrn[0], value: spec.mrn[1] });
  return {
    resourceType: 'Patient',
    name,
    ...(spec.birthDate ? { birthDate: spec.birthDate } : {}),
    ...(spec.gender ? { gender: spec.gender } : {}),
    ...(spec.line ? { address: [{ line: [spec.line], postalCode: spec.zip }] } : {}),
    ...(spec.phone ? { telecom: [{ system: 'phone', value: spec.phone }] } : {}),
    identifier,
  };
}
