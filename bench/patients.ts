/** Choosing the patients to query: real ones from the peer with a full summary to return. */

export interface BenchPatient {
  /** FHIR logical id in the peer. */
  id: string;
  encounters: number;
  claims: number;
}

interface Bundle {
  total?: number;
  entry?: { resource?: { id?: string } }[];
  link?: { relation: string; url: string }[];
}

async function getBundle(url: string): Promise<Bundle> {
  const res = await fetch(url, { headers: { accept: 'application/fhir+json' }, signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return (await res.json()) as Bundle;
}

async function count(fhirUrl: string, type: string, patientId: string): Promise<number> {
  const bundle = await getBundle(`${fhirUrl}/${type}?patient=${encodeURIComponent(patientId)}&_summary=count`);
  return bundle.total ?? 0;
}

async function allPatientIds(fhirUrl: string): Promise<string[]> {
  const ids: string[] = [];
  let next: string | undefined = `${fhirUrl}/Patient?_count=500&_elements=id`;
  while (next) {
    const bundle = await getBundle(next);
    for (const entry of bundle.entry ?? []) if (entry.resource?.id) ids.push(entry.resource.id);
    next = bundle.link?.find((l) => l.relation === 'next')?.url;
  }
  return ids;
}

/**
 * Patients with at least `minEncounters` encounters and at least one claim, most encounters first,
 * at most `max` of them. Throws when none qualifies (the benchmark would measure empty answers).
 */
export async function pickPatients(fhirUrl: string, minEncounters: number, max: number): Promise<BenchPatient[]> {
  const ids = await allPatientIds(fhirUrl);
  const counted: BenchPatient[] = [];
  for (const id of ids) {
    const [encounters, claims] = await Promise.all([count(fhirUrl, 'Encounter', id), count(fhirUrl, 'Claim', id)]);
    counted.push({ id, encounters, claims });
  }
  const chosen = counted
    .filter((p) => p.encounters >= minEncounters && p.claims > 0)
    .sort((a, b) => b.encounters - a.encounters || a.id.localeCompare(b.id))
    .slice(0, max);
  if (chosen.length === 0) {
    throw new Error(`No patient in ${fhirUrl} has ${minEncounters}+ encounters and a claim (${ids.length} patients looked at)`);
  }
  return chosen;
}
