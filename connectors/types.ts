/**
 * The one interface every source kind implements (style.md §3).
 *
 * The gateway's internal model is FHIR R4 JSON: every connector returns resources shaped as FHIR R4
 * (a SQL row or a lake document is mapped into that shape by its connector), wrapped in a SourceRecord
 * that says where it came from. The core plans against `SourceCapabilities` and never sees SQL, Mongo
 * or FHIR search syntax.
 */

export const RESOURCE_TYPES = [
  'Patient',
  'Encounter',
  'Condition',
  'Observation',
  'MedicationRequest',
  'MedicationStatement',
  'MedicationDispense',
  'MedicationAdministration',
  'Medication',
  'Claim',
  'ExplanationOfBenefit',
  'Coverage',
  'Procedure',
  'Immunization',
  'AllergyIntolerance',
  'DocumentReference',
  'Practitioner',
  'PractitionerRole',
  'Organization',
  'Location',
  'Consent',
] as const;

export type ResourceType = (typeof RESOURCE_TYPES)[number];

export function isResourceType(value: string): value is ResourceType {
  return (RESOURCE_TYPES as readonly string[]).includes(value);
}

export interface FhirCoding {
  system?: string;
  code?: string;
  display?: string;
}

/** A FHIR R4 resource as JSON. Elements are read through src/model helpers, never assumed present. */
export interface FhirResource {
  resourceType: string;
  id?: string;
  meta?: { lastUpdated?: string; versionId?: string; security?: FhirCoding[]; [key: string]: unknown };
  [element: string]: unknown;
}

/** One resource as a source holds it. `id` is the source's own record id (not the gateway's global id). */
export interface SourceRecord {
  source: string;
  type: ResourceType;
  id: string;
  lastUpdated?: string;
  resource: FhirResource;
  /**
   * Where the record stands in the order of the search that returned it, when the search asked for
   * positions (`SearchRequest.positions`): a later search can resume right after it (`after`).
   */
  position?: Position;
}

/** A record's place in a sorted search: its sort values and tie-breakers, as the source compares them (JSON values). */
export type Position = readonly (string | number | null)[];

/** A code or identifier token, FHIR-style `system|code`. A missing system matches any system. */
export interface Token {
  system?: string;
  code: string;
}

/** An inclusive range of partial-precision ISO dates (`2015`, `2017-06-30`, `2017-06-30T10:00:00Z`). */
export interface DateRange {
  from?: string;
  to?: string;
}

/**
 * A source-neutral search criterion. Criteria in one request are ANDed; the values inside one
 * criterion are ORed. Reference criteria carry record ids of the same source.
 */
export type Criterion =
  | { param: 'patient' | 'encounter' | '_id'; ids: string[] }
  | { param: 'code' | 'identifier' | 'category' | 'status' | 'gender'; tokens: Token[] }
  | { param: 'date' | 'birthdate'; range: DateRange }
  | { param: 'name' | 'family' | 'given'; text: string }
  /**
   * Patients only: those with at least one Condition of one of the codes in the same source (FHIR
   * `_has:Condition:patient:code`). A source that cannot evaluate it does not list it; the data
   * layer then resolves it to an `_id` criterion by searching the source's Conditions.
   */
  | { param: 'hasCondition'; tokens: Token[] };

export type SearchParam = Criterion['param'];
export const SEARCH_PARAMS: readonly SearchParam[] = [
  'patient',
  'encounter',
  '_id',
  'code',
  'identifier',
  'category',
  'status',
  'gender',
  'date',
  'birthdate',
  'name',
  'family',
  'given',
  'hasCondition',
];

export type SortField = 'date' | 'name' | 'birthdate' | 'lastUpdated' | 'id';
export interface SortSpec {
  field: SortField;
  direction: 'asc' | 'desc';
}

export interface SearchRequest {
  type: ResourceType;
  criteria: Criterion[];
  /** Applied in order; connectors append a unique tie-breaker so paging is stable. */
  sort: SortSpec[];
  /** Maximum number of records to return. */
  limit: number;
  /** Records to skip in the sorted result. */
  offset: number;
  /** Whether the caller needs `total`. Connectors may skip counting when false. */
  wantTotal: boolean;
  /**
   * At most `limit` records per value of the request's `param` criterion (each parent's first in
   * sort order), on top of `limit`. Sent only when the type's `limitPerRef` has `param`; `offset` is 0.
   * Each parent's records then come in sort order, but the order across parents is the source's
   * (the caller splits them per parent).
   */
  perRef?: { param: 'patient' | 'encounter'; limit: number };
  /**
   * Reference elements of the matches (top-level FHIR element names, e.g. `provider`) whose targets
   * the caller reads next: a source that can (`TypeCapabilities.includes`) returns those targets
   * with the matches (FHIR `_include`) in `SearchResult.included`, saving the next round trip.
   */
  include?: readonly string[];
  /**
   * The top-level FHIR elements of the matches the caller will read (undefined: all of them). A
   * source may return only these (a projection: fewer columns, joins or bytes); it may return more,
   * never fewer. Sent only to types whose capabilities say `projects`; such records are not cached
   * for other reads.
   */
  elements?: readonly string[];
  /**
   * Elements of `elements` whose texts the caller will not read: the `display` of their codings and
   * their `text`. A source may leave those out (e.g. a concept name from a look-up table); sent
   * only with `elements`.
   */
  textless?: readonly string[];
  /** Return each record's `position`, so a next page can start after it (types whose capabilities say `keyset`). */
  positions?: boolean;
  /**
   * Keyset paging: only records sorting after this position (of a record an earlier search with the
   * same criteria and sort returned); `offset` then counts from there. Types that say `keyset`.
   */
  after?: Position;
}

export interface SearchResult {
  records: SourceRecord[];
  /** Records the matches refer to, returned alongside them (`SearchRequest.include`); any type. */
  included?: SourceRecord[];
  /** Total number of matches, when requested and known. */
  total?: number;
  /** Whether more records follow this page. */
  hasMore: boolean;
}

export interface TypeCapabilities {
  /** Criteria the source evaluates itself. Others are evaluated by the gateway after fetching. */
  params: ReadonlySet<SearchParam>;
  /** Sort fields the source applies itself. */
  sorts: ReadonlySet<SortField>;
  /** Whether one request can carry many `patient` / `encounter` / `_id` values (batched look-ups). */
  multiValueRefs: boolean;
  /** Reference criteria for which the source can cut each parent's records to a number itself (`SearchRequest.perRef`). */
  limitPerRef?: ReadonlySet<'patient' | 'encounter'>;
  /** Reference elements whose targets the source can return with a search (`SearchRequest.include`). */
  includes?: ReadonlySet<string>;
  /** Whether the source returns only the asked-for elements of a search (`SearchRequest.elements`). */
  projects?: boolean;
  /** Whether searches return positions and resume after one (`SearchRequest.positions`, `after`): keyset paging. */
  keyset?: boolean;
}

export interface SourceCapabilities {
  types: Partial<Record<ResourceType, TypeCapabilities>>;
}

export type SourceState = 'up' | 'down' | 'degraded';

export interface SourceStatus {
  id: string;
  kind: string;
  state: SourceState;
  /** Round-trip time of the health probe, ms. */
  latencyMs?: number;
  /** A short, client-safe description (never raw upstream text). */
  message?: string;
  /** Resource types this source serves. */
  types: ResourceType[];
}

/** What every connector call receives: cancellation and per-request accounting. */
export interface CallContext {
  requestId: string;
  signal?: AbortSignal;
  /** Called once for every request sent upstream (for metrics, tests and benchmarks). */
  onUpstreamRequest?: (event: UpstreamRequestEvent) => void;
}

export interface UpstreamRequestEvent {
  source: string;
  /** Short description, e.g. `GET Condition?patient=…` or a SQL statement name. */
  operation: string;
  durationMs: number;
  outcome: 'ok' | 'error';
}

export interface Connector {
  readonly id: string;
  readonly kind: string;
  /** Connect, learn capabilities (e.g. read a CapabilityStatement). Must not throw for an unreachable source: report it in status(). */
  start(): Promise<void>;
  capabilities(): SourceCapabilities;
  /** Records of one type by source record ids; missing ids are simply absent from the result. */
  getByIds(type: ResourceType, ids: readonly string[], ctx: CallContext): Promise<SourceRecord[]>;
  search(request: SearchRequest, ctx: CallContext): Promise<SearchResult>;
  status(): Promise<SourceStatus>;
  close(): Promise<void>;
}
