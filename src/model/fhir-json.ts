/** Small, safe readers for FHIR JSON: elements are never assumed present or well-typed. */

export type FhirJson = Record<string, unknown>;

export function isObject(value: unknown): value is FhirJson {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a dotted path (`period.start`); arrays on the way contribute their first element. */
export function readPath(json: unknown, path: string): unknown {
  let current: unknown = json;
  for (const step of path.split('.')) {
    if (Array.isArray(current)) current = current[0];
    if (!isObject(current)) return undefined;
    current = current[step];
  }
  return current;
}

/** Every value reached by a dotted path, flattening arrays at each step. */
export function readAll(json: unknown, path: string): unknown[] {
  if (!path.includes('.')) {
    const value = isObject(json) ? json[path] : undefined;
    return Array.isArray(value) ? [...value] : value === undefined || value === null ? [] : [value];
  }
  let current: unknown[] = [json];
  for (const step of path.split('.')) {
    const next: unknown[] = [];
    for (const item of current) {
      const value = isObject(item) ? item[step] : undefined;
      if (Array.isArray(value)) next.push(...value);
      else if (value !== undefined && value !== null) next.push(value);
    }
    current = next;
  }
  return current;
}

export function readString(json: unknown, path: string): string | undefined {
  const value = readPath(json, path);
  return typeof value === 'string' ? value : undefined;
}
