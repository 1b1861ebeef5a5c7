/**
 * The peer's CapabilityStatement. Medplum's router has no `metadata` route, so it is built from the
 * search parameters indexed in @medplum/core's schema: what the peer declares is what it evaluates.
 */
import { getSearchParameters } from '@medplum/core';
import type {
  CapabilityStatement,
  CapabilityStatementRestResource,
  CapabilityStatementRestResourceSearchParam,
} from '@medplum/fhirtypes';
import { knownResourceTypes } from './definitions';

type SearchParamType = CapabilityStatementRestResourceSearchParam['type'];

/** Search result parameters the peer implements for every type (see repository.ts). */
const RESULT_PARAMETERS: CapabilityStatementRestResourceSearchParam[] = [
  { name: '_count', type: 'number', documentation: 'Page size, default 20, at most 1000.' },
  { name: '_offset', type: 'number', documentation: 'Records to skip; `next` links use it.' },
  { name: '_sort', type: 'string', documentation: 'Comma-separated sort rules in priority order, `-` for descending.' },
  { name: '_total', type: 'token', documentation: '`none` omits Bundle.total; otherwise it is always accurate.' },
  { name: '_summary', type: 'token', documentation: 'Only `count` is honoured.' },
];

const INTERACTIONS: CapabilityStatementRestResource['interaction'] = [
  { code: 'read' },
  { code: 'vread' },
  { code: 'search-type' },
  { code: 'create' },
  { code: 'update' },
  { code: 'patch' },
  { code: 'delete' },
  { code: 'history-instance' },
];

export function buildCapabilityStatement(baseUrl: string, softwareVersion: string): CapabilityStatement {
  const types = knownResourceTypes().filter((type) => getSearchParameters(type) !== undefined);
  const revIncludes = reverseIncludes(types);
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2025-01-01',
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['json'],
    software: { name: 'healthgraph FHIR test peer (Medplum fhir-router MemoryRepository)', version: softwareVersion },
    implementation: { description: 'In-memory FHIR R4 server for tests, benchmarks and the demo', url: baseUrl },
    rest: [
      {
        mode: 'server',
        interaction: [{ code: 'batch' }, { code: 'transaction' }],
        searchParam: RESULT_PARAMETERS,
        operation: [{ name: 'graphql', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-graphql' }],
        resource: types.map((type) => ({
          type,
          interaction: INTERACTIONS,
          searchParam: searchParams(type),
          searchInclude: referenceParams(type).map((code) => `${type}:${code}`),
          searchRevInclude: revIncludes.get(type) ?? [],
        })),
      },
    ],
  } as CapabilityStatement;
}

function searchParams(type: string): CapabilityStatementRestResourceSearchParam[] {
  const params = getSearchParameters(type) ?? {};
  return Object.values(params)
    .filter((param) => param.code && param.type !== 'composite' && param.type !== 'special')
    .map((param) => ({ name: param.code as string, type: param.type as SearchParamType, definition: param.url }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function referenceParams(type: string): string[] {
  return Object.values(getSearchParameters(type) ?? {})
    .filter((param) => param.type === 'reference' && param.code)
    .map((param) => param.code as string)
    .sort();
}

/** For each type, the `Source:param` pairs whose reference parameter can point at it. */
function reverseIncludes(types: string[]): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const source of types) {
    for (const param of Object.values(getSearchParameters(source) ?? {})) {
      if (param.type !== 'reference' || !param.code) {
        continue;
      }
      for (const target of param.target ?? []) {
        const list = result.get(target) ?? [];
        list.push(`${source}:${param.code}`);
        result.set(target, list);
      }
    }
  }
  return result;
}
