/**
 * From JSON text to resources ready for the lake: one NDJSON line or one JSON document (a resource
 * or a Bundle, Synthea's transaction bundles included). Problems are returned, never thrown, so one
 * bad line or entry never blocks the good ones.
 */
import type { FhirResource } from '../../connectors/types';
import { isObject } from '../model/fhir-json';

export interface ParsedResource {
  resource: FhirResource & { id: string };
  /** 0-based entry index when the resource came from a Bundle. */
  entry?: number;
}

export interface ParseProblem {
  message: string;
  entry?: number;
}

export interface ParseResult {
  resources: ParsedResource[];
  problems: ParseProblem[];
}

const TYPE_RE = /^[A-Z][A-Za-z]{1,63}$/;
const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

/** Checks one resource; `expectedType` is the type an NDJSON file's name promises (`Patient.000.ndjson`). */
function check(value: unknown, expectedType: string | undefined): { resource?: FhirResource & { id: string }; problem?: string } {
  if (!isObject(value)) return { problem: 'not a JSON object' };
  const type = value.resourceType;
  if (typeof type !== 'string' || !TYPE_RE.test(type)) return { problem: 'missing or invalid resourceType' };
  if (expectedType && type !== expectedType && type !== 'Bundle') return { problem: `wrong resourceType ${type} (the file holds ${expectedType})` };
  if (typeof value.id !== 'string' || !ID_RE.test(value.id)) return { problem: `${type} without a valid id` };
  return { resource: value as FhirResource & { id: string } };
}

/** Rewrites `urn:uuid:` references to `Type/id` in place, walking the whole resource. */
function resolveReferences(value: unknown, targets: Map<string, string>): void {
  if (Array.isArray(value)) {
    for (const item of value) resolveReferences(item, targets);
    return;
  }
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (key === 'reference' && typeof child === 'string') {
      const target = targets.get(child);
      if (target) value.reference = target;
    } else if (typeof child === 'object' && child !== null) {
      resolveReferences(child, targets);
    }
  }
}

/** The resources of a Bundle, with `urn:uuid:` (and other fullUrl) references resolved to `Type/id`. */
export function bundleResources(bundle: Record<string, unknown>): ParseResult {
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  const targets = new Map<string, string>();
  const candidates: { resource: Record<string, unknown>; entry: number }[] = [];
  const problems: ParseProblem[] = [];
  entries.forEach((entry: unknown, index) => {
    if (!isObject(entry) || !isObject(entry.resource)) {
      if (isObject(entry) && isObject(entry.request) && entry.request.method === 'DELETE') return;
      problems.push({ message: 'entry without a resource', entry: index });
      return;
    }
    const resource = entry.resource;
    const fullUrl = typeof entry.fullUrl === 'string' ? entry.fullUrl : undefined;
    if (resource.id === undefined && fullUrl?.startsWith('urn:uuid:')) resource.id = fullUrl.slice('urn:uuid:'.length);
    if (fullUrl && typeof resource.resourceType === 'string' && typeof resource.id === 'string') {
      targets.set(fullUrl, `${resource.resourceType}/${resource.id}`);
    }
    candidates.push({ resource, entry: index });
  });
  const resources: ParsedResource[] = [];
  for (const { resource, entry } of candidates) {
    const checked = check(resource, undefined);
    if (!checked.resource) {
      problems.push({ message: checked.problem!, entry });
      continue;
    }
    if (checked.resource.resourceType === 'Bundle') {
      problems.push({ message: 'nested Bundle skipped', entry });
      continue;
    }
    if (targets.size > 0) resolveReferences(checked.resource, targets);
    resources.push({ resource: checked.resource, entry });
  }
  return { resources, problems };
}

/** One JSON document: a resource, or a Bundle whose entries are the resources. */
export function parseDocument(text: string, expectedType?: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { resources: [], problems: [{ message: `invalid JSON: ${(error as Error).message.slice(0, 120)}` }] };
  }
  const checked = check(value, expectedType);
  if (isObject(value) && value.resourceType === 'Bundle') return bundleResources(value);
  if (!checked.resource) return { resources: [], problems: [{ message: checked.problem! }] };
  return { resources: [{ resource: checked.resource }], problems: [] };
}

/** The resource type a Bulk Data file name promises: `Patient.000.ndjson` → Patient. */
export function typeFromFileName(name: string): string | undefined {
  const base = name.split(/[\\/]/).pop() ?? name;
  const m = /^([A-Z][A-Za-z]+)(?:[._-][^/]*)?\.ndjson(?:\.gz)?$/.exec(base);
  return m?.[1];
}
