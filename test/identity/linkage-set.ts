/**
 * The linkage test set: every Synthea patient's Patient resource copied into three sources (`ehr`
 * FHIR server, `claims` SQL warehouse, `lake` documents) under different ids, perturbed the way
 * registration systems do, plus distinct people who look alike (twins, same name and birth year,
 * parent/child Jr/Sr) and within-source duplicates. Ground truth: `person` of every record.
 * Deterministic (seeded); skips (returns undefined) when ../shared is absent.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import table from '../../src/identity/data/nicknames.json';
import { Prng } from '../../src/demo/prng';
import { syntheaBundleFiles } from '../peers/fhir/loader';

export interface LinkageRecord {
  source: 'ehr' | 'claims' | 'lake';
  id: string;
  /** Ground truth: the person this record is about. */
  person: string;
  resource: Record<string, unknown>;
  /** Perturbations applied (for reading failures). */
  changes: string[];
}

export interface LinkageSet {
  records: LinkageRecord[];
  persons: number;
  lookAlikes: { twins: number; sameNameYear: number; juniorSenior: number };
  duplicates: number;
}

type Json = Record<string, unknown>;

/** The Synthea Patient resources (cached as one JSON file after the first extraction). */
export function syntheaPatients(repoRoot: string): Json[] | undefined {
  const cache = join(repoRoot, '.services', 'cache', 'synthea', 'patients.json');
  if (existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8')) as Json[];
  const files = syntheaBundleFiles(repoRoot, 100_000);
  if (!files) return undefined;
  const patients: Json[] = [];
  for (const file of files) {
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as { entry?: { resource?: Json }[] };
    const patient = bundle.entry?.find((e) => e.resource?.resourceType === 'Patient')?.resource;
    if (!patient) continue;
    delete patient.text;
    delete patient.extension;
    patients.push(patient);
  }
  writeFileSync(cache, JSON.stringify(patients));
  return patients;
}

export function repoRoot(): string {
  return resolve(__dirname, '..', '..');
}

/** The demo generator's seeded mulberry32, as a plain function. */
function rng(seed: number): () => number {
  const prng = new Prng(seed);
  return () => prng.next();
}

const NICKNAMES = new Map(Object.entries(table.names as Record<string, string[]>).map(([k, v]) => [k, v]));
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

class Perturber {
  constructor(readonly random: () => number) {}

  chance(p: number): boolean {
    return this.random() < p;
  }

  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)] as T;
  }

  typo(word: string): string {
    if (word.length < 2) return word;
    const at = this.chance(0.15) ? 0 : 1 + Math.floor(this.random() * (word.length - 1));
    const letter = this.pick(LETTERS.split(''));
    const op = Math.floor(this.random() * 4);
    const w = op === 0 ? word.slice(0, at) + letter + word.slice(at + 1) : op === 1 && word.length > 3 ? word.slice(0, at) + word.slice(at + 1) : op === 2 ? word.slice(0, at) + letter + word.slice(at) : at + 1 < word.length ? word.slice(0, at) + word[at + 1] + word[at] + word.slice(at + 2) : word + letter;
    return at === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : w;
  }
}

function clone(p: Json): Json {
  return structuredClone(p);
}

function official(p: Json): Json {
  return ((p.name as Json[]) ?? [])[0] as Json;
}

function digitsOnly(s: string): string {
  return s.replace(/[^0-9]/g, '');
}

/** Builds the set from Synthea patients. Rates per copy are documented inline and in docs/identity.md. */
export function buildLinkageSet(patients: readonly Json[], seed = 20240501): LinkageSet {
  const r = new Perturber(rng(seed));
  const addresses = patients.map((p) => ((p.address as Json[]) ?? [])[0]).filter((a): a is Json => a !== undefined);
  const givenBySex = { male: [] as string[], female: [] as string[] };
  const families: string[] = [];
  for (const p of patients) {
    const n = official(p);
    const g = ((n?.given as string[]) ?? [])[0];
    if (g && (p.gender === 'male' || p.gender === 'female')) givenBySex[p.gender].push(g);
    if (typeof n?.family === 'string') families.push(n.family);
  }
  const people: { person: string; patient: Json }[] = [];
  const lookAlikes = { twins: 0, sameNameYear: 0, juniorSenior: 0 };
  patients.forEach((p, k) => {
    const person = `P${k}`;
    const base = clone(p);
    people.push({ person, patient: base });
    const sex = p.gender === 'female' ? 'female' : 'male';
    const n = official(base);
    const birth = String(base.birthDate);
    if (r.chance(0.05)) {
      // A twin: same family, birth date, address, phone; another given name; own SSN.
      const twin = clone(base);
      const tn = official(twin);
      let given = r.pick(givenBySex[r.chance(0.5) ? 'male' : 'female']);
      while (given === ((n.given as string[])[0] ?? '')) given = r.pick(givenBySex.female);
      tn.given = [given];
      twin.name = [tn];
      setSsn(twin, `999-${String(10 + Math.floor(r.random() * 89))}-${String(1000 + Math.floor(r.random() * 8999))}`);
      people.push({ person: `${person}-twin`, patient: twin });
      lookAlikes.twins++;
    }
    if (r.chance(0.05)) {
      // Same name, same birth year, otherwise someone else.
      const other = clone(base);
      const month = 1 + Math.floor(r.random() * 12);
      const day = 1 + Math.floor(r.random() * 28);
      other.birthDate = `${birth.slice(0, 4)}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
      other.address = [r.pick(addresses)];
      other.telecom = [{ system: 'phone', value: `555-${String(100 + Math.floor(r.random() * 899))}-${String(1000 + Math.floor(r.random() * 8999))}` }];
      setSsn(other, `999-${String(10 + Math.floor(r.random() * 89))}-${String(1000 + Math.floor(r.random() * 8999))}`);
      other.name = [official(other)];
      people.push({ person: `${person}-namesake`, patient: other });
      lookAlikes.sameNameYear++;
    }
    if (sex === 'male' && Number(birth.slice(0, 4)) > 1950 && r.chance(0.04)) {
      // The father: same name, address and phone; born 25–35 years earlier; Sr. (the son Jr.) half the time.
      const father = clone(base);
      father.birthDate = `${Number(birth.slice(0, 4)) - 25 - Math.floor(r.random() * 10)}${birth.slice(4)}`;
      setSsn(father, `999-${String(10 + Math.floor(r.random() * 89))}-${String(1000 + Math.floor(r.random() * 8999))}`);
      if (r.chance(0.5)) {
        official(father).suffix = ['Sr.'];
        n.suffix = ['Jr.'];
      }
      people.push({ person: `${person}-father`, patient: father });
      lookAlikes.juniorSenior++;
    }
  });
  const records: LinkageRecord[] = [];
  let duplicates = 0;
  const counters = { ehr: 0, claims: 0, lake: 0 };
  const emit = (source: LinkageRecord['source'], person: string, patient: Json): void => {
    const { resource, changes } = perturb(r, source, patient, addresses, families);
    const id = `${source}-${++counters[source]}`;
    resource.id = id;
    const ids = resource.identifier as Json[];
    if (source === 'ehr') ids.push({ system: 'urn:healthgraph:ehr:mrn', value: `E${100000 + counters.ehr}` });
    if (source === 'claims') ids.push({ system: 'urn:healthgraph:claims:member', value: `M-${200000 + counters.claims}` });
    if (source === 'lake') ids.push({ system: 'urn:healthgraph:lake:doc', value: `L${300000 + counters.lake}` });
    records.push({ source, id, person, resource, changes });
  };
  for (const { person, patient } of people) {
    for (const source of ['ehr', 'claims', 'lake'] as const) {
      emit(source, person, patient);
      if (r.chance(0.07)) {
        emit(source, person, patient);
        duplicates++;
      }
    }
  }
  // The lake copies the EHR MRN for 40% of its records of people the EHR holds once.
  const ehrMrn = new Map<string, string>();
  for (const rec of records) if (rec.source === 'ehr') ehrMrn.set(rec.person, ehrMrn.has(rec.person) ? '' : String(((rec.resource.identifier as Json[]).at(-1) as Json).value));
  for (const rec of records) {
    const mrn = ehrMrn.get(rec.person);
    if (rec.source === 'lake' && mrn && r.chance(0.4)) (rec.resource.identifier as Json[]).push({ system: 'urn:healthgraph:ehr:mrn', value: mrn });
  }
  return { records, persons: people.length, lookAlikes, duplicates };
}

function setSsn(p: Json, ssn: string): void {
  p.identifier = ((p.identifier as Json[]) ?? []).map((i) => (i.system === 'http://hl7.org/fhir/sid/us-ssn' ? { ...i, value: ssn } : i));
}

const SSN_MISSING = { ehr: 0.1, claims: 0.05, lake: 0.4 };

function perturb(r: Perturber, source: LinkageRecord['source'], original: Json, addresses: Json[], families: string[]): { resource: Json; changes: string[] } {
  const p = clone(original);
  const changes: string[] = [];
  const names = (p.name as Json[]) ?? [];
  const n = names[0] as Json;
  const given = (n.given as string[]) ?? [];
  // Sources keep only their own identifiers (and the SSN, sometimes).
  const ssn = ((p.identifier as Json[]) ?? []).find((i) => i.system === 'http://hl7.org/fhir/sid/us-ssn');
  p.identifier = [];
  if (ssn && !r.chance(SSN_MISSING[source])) {
    let value = String(ssn.value);
    if (r.chance(0.02)) {
      const d = digitsOnly(value).split('');
      const at = Math.floor(r.random() * 9);
      d[at] = String((Number(d[at]) + 1 + Math.floor(r.random() * 8)) % 10);
      value = `${d.slice(0, 3).join('')}-${d.slice(3, 5).join('')}-${d.slice(5).join('')}`;
      changes.push('ssn-typo');
    }
    (p.identifier as Json[]).push({ system: 'http://hl7.org/fhir/sid/us-ssn', value: source === 'claims' ? digitsOnly(value) : value });
  } else changes.push('ssn-missing');
  const maiden = names.find((x) => x.use === 'maiden');
  if (maiden && r.chance(0.3)) {
    n.family = maiden.family; // a record from before the marriage
    changes.push('maiden-surname');
  } else if (p.gender === 'female' && !maiden && r.chance(0.04)) {
    n.family = r.pick(families);
    changes.push('married-surname');
  }
  p.name = r.chance(0.5) && maiden ? [n, maiden] : [n]; // not every source keeps the maiden name
  if (given[0]) {
    const nick = NICKNAMES.get(given[0].toUpperCase());
    if (nick && r.chance(0.1)) {
      const x = r.pick(nick);
      given[0] = x.charAt(0) + x.slice(1).toLowerCase();
      changes.push('nickname');
    } else if (r.chance(0.04)) {
      given[0] = r.typo(given[0]);
      changes.push('given-typo');
    }
  }
  if (typeof n.family === 'string' && r.chance(0.04)) {
    n.family = r.typo(n.family);
    changes.push('family-typo');
  }
  if (r.chance(0.02) && given[0] && typeof n.family === 'string') {
    const g = given[0];
    given[0] = n.family;
    n.family = g;
    changes.push('name-order-swap');
  }
  if (source !== 'ehr' && r.chance(0.3)) {
    n.family = String(n.family ?? '').toUpperCase();
    n.given = given.map((g) => g.toUpperCase());
    changes.push('upper-case');
  }
  delete n.prefix;
  const birth = String(p.birthDate ?? '');
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(birth);
  if (m && Number(m[3]) <= 12 && m[2] !== m[3] && r.chance(0.03)) {
    p.birthDate = `${m[1]}-${m[3]}-${m[2]}`;
    changes.push('day-month-swap');
  } else if (m && r.chance(0.02)) {
    const year = r.chance(0.5);
    const d = (year ? (m[1] as string) : (m[3] as string)).split('');
    const at = year ? 3 : 1;
    d[at] = String((Number(d[at]) + 1 + Math.floor(r.random() * 8)) % 10);
    const value = d.join('');
    p.birthDate = year ? `${value}-${m[2]}-${m[3]}` : Number(value) >= 1 && Number(value) <= 28 ? `${m[1]}-${m[2]}-${value}` : birth;
    if (p.birthDate !== birth) changes.push('birth-date-typo');
  }
  if (r.chance(0.15)) {
    p.address = [r.pick(addresses)];
    changes.push('new-address');
  } else if (r.chance(0.03)) {
    delete p.address;
    changes.push('address-missing');
  } else if (r.chance(0.3)) {
    const a = clone(((p.address as Json[]) ?? [])[0] ?? {});
    a.line = ((a.line as string[]) ?? []).map((l) => l.replace(/\bStreet\b/, 'St').replace(/\bAvenue\b/, 'Ave').replace(/\bApt\b/, '#').replace(/\bSuite\b/, 'Ste').toUpperCase());
    a.state = 'MA';
    p.address = [a];
    changes.push('address-format');
  }
  if (r.chance(0.2)) {
    delete p.telecom;
    changes.push('phone-missing');
  } else if (r.chance(0.05)) {
    p.telecom = [{ system: 'phone', value: `(555) ${String(100 + Math.floor(r.random() * 899))}-${String(1000 + Math.floor(r.random() * 8999))}` }];
    changes.push('new-phone');
  }
  if (r.chance(0.02)) {
    delete p.gender;
    changes.push('sex-missing');
  }
  return { resource: p, changes };
}
