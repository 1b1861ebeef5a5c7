/** Parsing FHIR references (`Patient/123`, `http://host/fhir/Patient/123/_history/2`). */
import { isResourceType, type ResourceType } from '../../connectors/types';
import { isObject } from './fhir-json';

export interface ParsedReference {
  type: ResourceType;
  id: string;
}

const REF_RE = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

const TYPE_RE = /^[A-Z][A-Za-z]+$/;
const ID_RE = /^[A-Za-z0-9\-.]{1,64}$/;

/** The type and id a reference points at, or undefined for contained, logical or unknown-type references. */
export function parseReference(value: unknown): ParsedReference | undefined {
  const reference = isObject(value) ? value.reference : value;
  if (typeof reference !== 'string' || reference.startsWith('#')) return undefined;
  // The common relative form `Type/id`, read without a match array.
  const slash = reference.indexOf('/');
  if (slash > 0 && reference.indexOf('/', slash + 1) < 0) {
    const type = reference.slice(0, slash);
    const id = reference.slice(slash + 1);
    return TYPE_RE.test(type) && ID_RE.test(id) && isResourceType(type) ? { type, id } : undefined;
  }
  const m = REF_RE.exec(reference);
  if (!m || !m[1] || !m[2] || !isResourceType(m[1])) return undefined;
  return { type: m[1], id: m[2] };
}
