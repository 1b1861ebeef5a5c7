/**
 * What the consent policy says it reads of a record (`reads`, `policyElements`) is all it reads: a
 * record cut down to those elements (with the patient references and `meta` the data layer always
 * keeps; the category only under a grant narrowed by category, which a plain grant has not) and stripped of every code's texts gives the policy the same inputs — labels,
 * labelled secondary elements, the codes and date Consent provisions match, the patients — as the
 * whole record. Lists under consent ask their sources for no more than that, so a missing element
 * here would be a record judged on less than it holds. Checked on the security suite's world (every
 * sensitive case it has) and, when ../shared is there, on the 10-patient bulk export.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FhirResource, ResourceType } from '../../connectors/types';
import { isResourceType } from '../../connectors/types';
import { LabelIndex } from '../../src/consent/labels';
import { policyElements } from '../../src/consent/policy';
import { ELEMENTS, topElements } from '../../src/model/elements';
import { dateOf, patientIdsOf } from '../../src/model/evaluate';
import { readAll } from '../../src/model/fhir-json';
import { worldBundle } from '../security/fixtures';
import { sharedData } from '../support/mongo';

const labels = new LabelIndex();

/** The elements a list under consent asks for when its query reads nothing of the nodes (a plain grant: no category). */
function kept(type: ResourceType): Set<string> {
  return new Set(['resourceType', 'id', 'meta', ...topElements(ELEMENTS[type].patient ?? []), ...policyElements(type)]);
}

/** `display` and `text` removed at every depth (a source asked for elements without their texts). */
function withoutTexts(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTexts);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'display' && k !== 'text').map(([k, v]) => [k, withoutTexts(v)]));
}

function projected(resource: FhirResource, type: ResourceType): FhirResource {
  const keep = kept(type);
  return Object.fromEntries(Object.entries(resource).filter(([k]) => keep.has(k)).map(([k, v]) => [k, k === 'meta' ? v : withoutTexts(v)])) as FhirResource;
}

/** Everything the policy decides on, for one record. */
function inputs(resource: FhirResource, type: ResourceType): unknown {
  const codes = (ELEMENTS[type].code ?? []).flatMap((p) => readAll(resource, p));
  const codings = codes.flatMap((c) => {
    const list = c && typeof c === 'object' && Array.isArray((c as { coding?: unknown[] }).coding) ? (c as { coding: unknown[] }).coding : [c];
    return list.map((x) => (x && typeof x === 'object' ? { system: (x as { system?: string }).system, code: (x as { code?: string }).code } : x));
  });
  return {
    labels: [...labels.recordLabels(resource, type)].sort(),
    elementLabels: [...labels.elementLabels(resource, type)].map(([k, v]) => [k, [...v].sort()]),
    codings,
    date: dateOf(resource, type) ?? null,
    patients: [...patientIdsOf(resource, type)],
  };
}

function resources(): FhirResource[] {
  const out: FhirResource[] = (worldBundle().entry ?? []).map((e) => ({ ...(e.resource as unknown as FhirResource), id: e.fullUrl ?? 'x' }));
  const bulk = sharedData('bulk-10-patients');
  if (bulk) {
    for (const file of readdirSync(bulk).filter((f) => f.endsWith('.ndjson') && f !== 'log.ndjson')) {
      for (const line of readFileSync(join(bulk, file), 'utf8').split('\n')) if (line.trim()) out.push(JSON.parse(line) as FhirResource);
    }
  }
  return out;
}

describe('the elements the consent policy reads', () => {
  test('a record cut to them, without code texts, gives the policy the same inputs as the whole record', () => {
    let compared = 0;
    let labelled = 0;
    for (const resource of resources()) {
      const type = resource.resourceType;
      if (!isResourceType(type)) continue;
      const whole = inputs(resource, type);
      expect({ type, id: resource.id, inputs: inputs(projected(resource, type), type) }).toEqual({ type, id: resource.id, inputs: whole });
      compared++;
      if ((whole as { labels: string[] }).labels.length > 0 || (whole as { elementLabels: unknown[] }).elementLabels.length > 0) labelled++;
    }
    // The world alone: 30 records, labelled conditions, observations, medications, claims and encounters among them.
    expect(compared).toBeGreaterThanOrEqual(30);
    expect(labelled).toBeGreaterThanOrEqual(5);
  });
});
