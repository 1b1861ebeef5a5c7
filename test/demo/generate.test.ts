import type { FhirBundle } from '../../src/demo/generate';
import { MRN_SYSTEM, SSN_SYSTEM, generatePopulation } from '../../src/demo/generate';

function references(value: unknown, into: string[] = []): string[] {
  if (Array.isArray(value)) {
    value.forEach((item) => references(item, into));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === 'reference' && typeof child === 'string') {
        into.push(child);
      } else {
        references(child, into);
      }
    }
  }
  return into;
}

function ofType(bundle: FhirBundle, type: string): Record<string, unknown>[] {
  return bundle.entry.filter((e) => e.resource.resourceType === type).map((e) => e.resource);
}

describe('the demo population generator', () => {
  const population = generatePopulation({ patients: 12, seed: 7 });

  it('produces the same population for the same seed', () => {
    expect(generatePopulation({ patients: 12, seed: 7 })).toEqual(population);
  });

  it('produces a different population for another seed', () => {
    expect(generatePopulation({ patients: 12, seed: 8 })).not.toEqual(population);
  });

  it('gives patient i the same bundle whatever the population size', () => {
    expect(generatePopulation({ patients: 3, seed: 7 })).toEqual(population.slice(0, 3));
  });

  it('writes transaction bundles whose every reference resolves inside the bundle', () => {
    for (const bundle of population) {
      expect(bundle.type).toBe('transaction');
      const fullUrls = new Set(bundle.entry.map((e) => e.fullUrl));
      expect(fullUrls.size).toBe(bundle.entry.length);
      for (const entry of bundle.entry) {
        expect(entry.fullUrl).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
        expect(entry.request.url).toBe(entry.resource.resourceType);
        for (const reference of references(entry.resource)) {
          expect(fullUrls).toContain(reference);
        }
      }
    }
  });

  it('creates shared providers conditionally on their identifier', () => {
    for (const bundle of population) {
      for (const entry of bundle.entry) {
        const shared = ['Organization', 'Practitioner', 'Location'].includes(entry.resource.resourceType);
        expect(entry.request.ifNoneExist !== undefined).toBe(shared);
      }
    }
  });

  it('gives each patient an MRN, an SSN, 3 to 30 encounters and a claim and EOB per encounter', () => {
    for (const bundle of population) {
      const [patient, ...others] = ofType(bundle, 'Patient');
      expect(others).toHaveLength(0);
      const identifiers = (patient?.identifier ?? []) as { system: string; value: string }[];
      expect(identifiers.map((i) => i.system)).toEqual([MRN_SYSTEM, SSN_SYSTEM]);
      const encounters = ofType(bundle, 'Encounter').length;
      expect(encounters).toBeGreaterThanOrEqual(3);
      expect(encounters).toBeLessThanOrEqual(30);
      expect(ofType(bundle, 'Claim')).toHaveLength(encounters);
      expect(ofType(bundle, 'ExplanationOfBenefit')).toHaveLength(encounters);
      expect(ofType(bundle, 'Coverage')).toHaveLength(1);
    }
  });

  it('codes clinical data with the real code systems', () => {
    const all = population.flatMap((bundle) => bundle.entry.map((e) => e.resource));
    const systems = new Set(JSON.stringify(all).match(/"system":"[^"]+"/g));
    for (const system of [
      'http://snomed.info/sct',
      'http://loinc.org',
      'http://www.nlm.nih.gov/research/umls/rxnorm',
      'http://hl7.org/fhir/sid/cvx',
      'http://unitsofmeasure.org',
    ]) {
      expect(systems).toContain(`"system":"${system}"`);
    }
    const types = new Set(all.map((r) => r.resourceType));
    for (const type of ['Condition', 'Observation', 'MedicationRequest', 'MedicationAdministration', 'Procedure', 'Immunization', 'AllergyIntolerance', 'DocumentReference']) {
      expect(types).toContain(type);
    }
  });

  it('writes clinical notes that name the conditions coded for the same patient', () => {
    const bundle = population.find((b) => ofType(b, 'Condition').length > 0) as FhirBundle;
    const notes = ofType(bundle, 'DocumentReference').map((doc) => {
      const [content] = doc.content as { attachment: { contentType: string; data: string } }[];
      expect(content?.attachment.contentType).toBe('text/plain');
      return Buffer.from(content?.attachment.data ?? '', 'base64').toString('utf8');
    });
    expect(notes.length).toBeGreaterThan(0);
    const text = notes.join('\n');
    expect(text).toMatch(/year-old/);
    expect(/history of|Assessment: [a-z]/.test(text)).toBe(true);
  });

  it('never reads the clock: dates stay before the end of the demo timeline', () => {
    const json = JSON.stringify(population);
    const years = (json.match(/"(\d{4})-\d{2}-\d{2}/g) ?? []).map((d) => Number(d.slice(1, 5)));
    expect(Math.max(...years)).toBeLessThanOrEqual(2025);
  });
});
