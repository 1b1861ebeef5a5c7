/**
 * Where Consents come from: the consent store (a file, Bundle or folder of Consent JSON named in
 * config, read once at start) and the sources (`Consent?patient=…`, batched per request through a
 * DataLoader that dies with the request — style.md §4).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import DataLoader from 'dataloader';
import type { CallContext, FhirResource } from '../../connectors/types';
import type { SourceRegistry } from '../data/registry';
import { ConfigError } from '../errors';
import { isObject } from '../model/fhir-json';
import { patientIdsOf } from '../model/evaluate';
import { tryDecodeId } from '../ids';

function consentsIn(json: unknown): FhirResource[] {
  if (Array.isArray(json)) return json.flatMap(consentsIn);
  if (!isObject(json)) return [];
  if (json.resourceType === 'Consent') return [json as FhirResource];
  if (json.resourceType === 'Bundle' && Array.isArray(json.entry)) return json.entry.flatMap((e) => (isObject(e) ? consentsIn(e.resource) : []));
  return [];
}

/** Consents of the store, by the patient they are about (record id or gateway id, as written). */
export class ConsentStore {
  private readonly byPatient = new Map<string, FhirResource[]>();
  /** Consents written with a gateway patient id, by the source record it names (`source\0id`). */
  private readonly byRecord = new Map<string, FhirResource[]>();

  constructor(consents: readonly FhirResource[] = []) {
    for (const consent of consents) {
      for (const id of patientIdsOf(consent, 'Consent')) {
        const list = this.byPatient.get(id);
        if (list) list.push(consent);
        else this.byPatient.set(id, [consent]);
      }
    }
    for (const [key, list] of this.byPatient) {
      const decoded = tryDecodeId(key);
      if (decoded?.type !== 'Patient') continue;
      const record = `${decoded.source}\u0000${decoded.id}`;
      this.byRecord.set(record, [...(this.byRecord.get(record) ?? []), ...list]);
    }
  }

  static load(path: string | undefined): ConsentStore {
    if (!path) return new ConsentStore();
    let files: string[];
    try {
      files = statSync(path).isDirectory()
        ? readdirSync(path)
            .filter((f) => f.endsWith('.json'))
            .sort()
            .map((f) => join(path, f))
        : [path];
    } catch {
      throw new ConfigError(`consent.store: cannot read ${path}`);
    }
    const consents: FhirResource[] = [];
    for (const file of files) {
      try {
        consents.push(...consentsIn(JSON.parse(readFileSync(file, 'utf8'))));
      } catch {
        throw new ConfigError(`consent.store: ${file} is not valid JSON`);
      }
    }
    return new ConsentStore(consents);
  }

  /**
   * Consents about one patient record: those naming its record id, or its gateway id. A plain record
   * id in the store matches that id in any source (documented in docs/security.md).
   */
  about(source: string, patientId: string): FhirResource[] {
    return [...(this.byPatient.get(patientId) ?? []), ...(this.byRecord.get(`${source}\u0000${patientId}`) ?? [])];
  }

  get size(): number {
    return this.byPatient.size;
  }
}

interface PatientKey {
  source: string;
  id: string;
}

/** Per-request Consent look-ups in the sources: one `Consent?patient=a,b,c` per source and tick. */
export function createSourceConsentLoader(registry: SourceRegistry, consentSources: readonly string[] | undefined, call: CallContext) {
  const wanted = (source: string): boolean => {
    if (consentSources && !consentSources.includes(source)) return false;
    return registry.get(source)?.capabilities().types.Consent !== undefined;
  };
  return new DataLoader<PatientKey, FhirResource[], string>(
    async (keys) => {
      const bySource = new Map<string, string[]>();
      for (const key of keys) if (wanted(key.source)) bySource.set(key.source, [...(bySource.get(key.source) ?? []), key.id]);
      const found = new Map<string, FhirResource[]>();
      const failed = new Map<string, Error>();
      await Promise.all(
        [...bySource].map(async ([source, ids]) => {
          try {
            const connector = registry.require(source);
            const multi = connector.capabilities().types.Consent?.multiValueRefs ?? false;
            const groups = multi ? [[...new Set(ids)]] : [...new Set(ids)].map((id) => [id]);
            for (const group of groups) {
              const result = await connector.search({ type: 'Consent', criteria: [{ param: 'patient', ids: group }], sort: [], limit: 1000, offset: 0, wantTotal: false }, call);
              for (const record of result.records) {
                for (const patient of patientIdsOf(record.resource, 'Consent')) {
                  const key = `${source}\u0000${patient}`;
                  found.set(key, [...(found.get(key) ?? []), record.resource]);
                }
              }
            }
          } catch (error) {
            failed.set(source, error as Error);
          }
        }),
      );
      // A source whose consents cannot be read fails the look-up: the caller withholds (fail safe).
      return keys.map((k) => failed.get(k.source) ?? found.get(`${k.source}\u0000${k.id}`) ?? []);
    },
    { cacheKeyFn: (k) => `${k.source}\u0000${k.id}` },
  );
}
