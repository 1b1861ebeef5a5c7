/**
 * The providers and payers every demo patient shares. They are fixed (not drawn from the seed), so
 * their identifiers and fullUrls are the same in every bundle and load as one resource each.
 */
import type { FhirResource } from '../../connectors/types';
import type { BundleBuilder, FhirReference } from './bundle';
import { nameUuid } from './prng';

export const ORG_SYSTEM = 'urn:healthgraph:demo:organization';
export const NPI_SYSTEM = 'http://hl7.org/fhir/sid/us-npi';
export const LOCATION_SYSTEM = 'urn:healthgraph:demo:location';

interface Place {
  line: string;
  city: string;
  state: string;
  postalCode: string;
  phone: string;
}

export interface Provider {
  key: string;
  name: string;
  hospital: boolean;
  place: Place;
}

export interface Payer {
  key: string;
  name: string;
  plan: string;
}

export interface Clinician {
  npi: string;
  family: string;
  given: string;
  gender: 'female' | 'male';
  /** Index into PROVIDERS. */
  provider: number;
}

export const PROVIDERS: readonly Provider[] = [
  { key: 'ORG-RIVERSIDE', name: 'Riverside General Hospital', hospital: true, place: { line: '100 River Road', city: 'Worcester', state: 'MA', postalCode: '01605', phone: '508-555-0100' } },
  { key: 'ORG-HARBORVIEW', name: 'Harborview Family Practice', hospital: false, place: { line: '22 Harbor Street', city: 'Boston', state: 'MA', postalCode: '02118', phone: '617-555-0122' } },
  { key: 'ORG-NORTHGATE', name: 'Northgate Urgent Care', hospital: false, place: { line: '7 Northgate Plaza', city: 'Lowell', state: 'MA', postalCode: '01852', phone: '978-555-0107' } },
  { key: 'ORG-LAKESIDE', name: 'Lakeside Medical Center', hospital: true, place: { line: '500 Lakeside Avenue', city: 'Springfield', state: 'MA', postalCode: '01103', phone: '413-555-0150' } },
  { key: 'ORG-MAPLE', name: 'Maple Street Clinic', hospital: false, place: { line: '41 Maple Street', city: 'Cambridge', state: 'MA', postalCode: '02139', phone: '617-555-0141' } },
];

export const PAYERS: readonly Payer[] = [
  { key: 'PAYER-HARBOR', name: 'Harbor Health Mutual', plan: 'Harbor Gold PPO' },
  { key: 'PAYER-MEDICARE', name: 'Medicare', plan: 'Medicare Part B' },
  { key: 'PAYER-BAYSTATE', name: 'Bay State Community Health Plan', plan: 'Community HMO' },
];

export const CLINICIANS: readonly Clinician[] = [
  { npi: '9990000011', family: 'Okafor', given: 'Adaeze', gender: 'female', provider: 0 },
  { npi: '9990000029', family: 'Lindqvist', given: 'Erik', gender: 'male', provider: 0 },
  { npi: '9990000037', family: 'Moreno', given: 'Lucia', gender: 'female', provider: 1 },
  { npi: '9990000045', family: 'Chen', given: 'Wei', gender: 'male', provider: 1 },
  { npi: '9990000052', family: 'Patel', given: 'Priya', gender: 'female', provider: 2 },
  { npi: '9990000060', family: 'Novak', given: 'Tomas', gender: 'male', provider: 2 },
  { npi: '9990000078', family: 'Haddad', given: 'Samir', gender: 'male', provider: 3 },
  { npi: '9990000086', family: 'Brennan', given: 'Siobhan', gender: 'female', provider: 3 },
  { npi: '9990000094', family: 'Kowalski', given: 'Anna', gender: 'female', provider: 4 },
  { npi: '9990000102', family: 'Mensah', given: 'Kwame', gender: 'male', provider: 4 },
];

/** Adds shared resources to a bundle on first use and returns references to them. */
export class SharedResources {
  constructor(private readonly bundle: BundleBuilder) {}

  organization(index: number): FhirReference {
    const provider = PROVIDERS[index % PROVIDERS.length] as Provider;
    const identifier = { system: ORG_SYSTEM, value: provider.key };
    const resource: FhirResource = {
      resourceType: 'Organization',
      identifier: [identifier],
      active: true,
      type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov', display: 'Healthcare Provider' }] }],
      name: provider.name,
      telecom: [{ system: 'phone', value: provider.place.phone, use: 'work' }],
      address: [address(provider.place)],
    };
    return this.bundle.addShared(nameUuid(provider.key), resource, identifier, provider.name);
  }

  payer(index: number): FhirReference {
    const payer = PAYERS[index % PAYERS.length] as Payer;
    const identifier = { system: ORG_SYSTEM, value: payer.key };
    const resource: FhirResource = {
      resourceType: 'Organization',
      identifier: [identifier],
      active: true,
      type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'pay', display: 'Payer' }] }],
      name: payer.name,
    };
    return this.bundle.addShared(nameUuid(payer.key), resource, identifier, payer.name);
  }

  practitioner(index: number): FhirReference {
    const clinician = CLINICIANS[index % CLINICIANS.length] as Clinician;
    const identifier = { system: NPI_SYSTEM, value: clinician.npi };
    const display = `Dr. ${clinician.given} ${clinician.family}`;
    const resource: FhirResource = {
      resourceType: 'Practitioner',
      identifier: [identifier],
      active: true,
      name: [{ use: 'official', family: clinician.family, given: [clinician.given], prefix: ['Dr.'] }],
      gender: clinician.gender,
      telecom: [{ system: 'email', value: `${clinician.given}.${clinician.family}@example.org`.toLowerCase(), use: 'work' }],
      address: [address((PROVIDERS[clinician.provider] as Provider).place)],
    };
    return this.bundle.addShared(nameUuid(`NPI-${clinician.npi}`), resource, identifier, display);
  }

  location(index: number): FhirReference {
    const provider = PROVIDERS[index % PROVIDERS.length] as Provider;
    const identifier = { system: LOCATION_SYSTEM, value: `${provider.key}-MAIN` };
    const resource: FhirResource = {
      resourceType: 'Location',
      identifier: [identifier],
      status: 'active',
      name: `${provider.name} main campus`,
      mode: 'instance',
      type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: provider.hospital ? 'HOSP' : 'OF', display: provider.hospital ? 'Hospital' : 'Outpatient facility' }] }],
      address: address(provider.place),
      managingOrganization: this.organization(index),
    };
    return this.bundle.addShared(nameUuid(`${provider.key}-LOCATION`), resource, identifier, `${provider.name} main campus`);
  }
}

function address(place: Place): Record<string, unknown> {
  return { use: 'work', line: [place.line], city: place.city, state: place.state, postalCode: place.postalCode, country: 'US' };
}

/** Index of a clinician working for the given provider. */
export function clinicianAt(provider: number, pick: number): number {
  const local = CLINICIANS.map((c, i) => ({ c, i })).filter(({ c }) => c.provider === provider % PROVIDERS.length);
  return (local[pick % local.length] ?? { i: 0 }).i;
}
