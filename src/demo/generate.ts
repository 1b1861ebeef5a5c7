/**
 * healthgraph's demo population: a deterministic synthetic population as FHIR R4 transaction
 * Bundles, one per patient, with `urn:uuid` fullUrls and references between entries (like Synthea).
 * Shared Organizations, Practitioners and Locations appear in every bundle that uses them as
 * conditional creates on their identifier, so each loads once.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FhirBundle } from './bundle';
import { createContext } from './context';
import { addEncounters } from './encounters';
import { addPatient } from './patient';
import { Prng, deriveSeed } from './prng';

export type { FhirBundle, FhirBundleEntry, FhirReference } from './bundle';
export { MRN_SYSTEM, SSN_SYSTEM } from './patient';

export interface PopulationOptions {
  patients: number;
  seed: number;
}

export const DEFAULT_POPULATION: PopulationOptions = { patients: 40, seed: 1 };

/** One patient's bundle. Patient `index` is the same whatever the population size. */
export function generatePatientBundle(seed: number, index: number): FhirBundle {
  const ctx = addPatient(createContext(new Prng(deriveSeed(seed, index))), seed, index);
  addEncounters(ctx);
  return ctx.bundle.build();
}

export function generatePopulation(opts: PopulationOptions = DEFAULT_POPULATION): FhirBundle[] {
  if (!Number.isInteger(opts.patients) || opts.patients < 0) {
    throw new Error(`patients must be a non-negative integer, got ${opts.patients}`);
  }
  const bundles: FhirBundle[] = [];
  for (let i = 0; i < opts.patients; i++) {
    bundles.push(generatePatientBundle(opts.seed, i));
  }
  return bundles;
}

/** Writes one `patient-NNNN.json` transaction bundle per patient into `dir`; returns the paths. */
export function writePopulation(dir: string, opts: PopulationOptions = DEFAULT_POPULATION): string[] {
  mkdirSync(dir, { recursive: true });
  return generatePopulation(opts).map((bundle, i) => {
    const file = join(dir, `patient-${String(i + 1).padStart(4, '0')}.json`);
    writeFileSync(file, `${JSON.stringify(bundle, null, 2)}\n`);
    return file;
  });
}
