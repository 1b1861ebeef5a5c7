/**
 * The per-request data-access layer. Every read goes through here: records by id (batched per
 * source and type), references, and connection pages (batched across parents into one upstream
 * request per source, type and level). The AccessPolicy is applied on every path.
 */
import DataLoader from 'dataloader';
import type { CallContext, Criterion, Position, ResourceType, SearchRequest, SearchResult, SortSpec, SourceRecord, Token, TypeCapabilities } from '../../connectors/types';
import { resolveCohorts } from './cohort';
import { HealthgraphError } from '../errors';
import { encounterIdsOf, matchesAll, patientIdsOf, comparator } from '../model/evaluate';
import { parseReference } from '../model/references';
import { ELEMENTS, topElements } from '../model/elements';
import type { AccessPolicy } from './policy';
import { batchableRef, planPart, type PartPlan } from './plan';
import type { SourceRegistry } from './registry';
import { decodeCursorState } from './cursor';
import { listFingerprint, mergePages, partText, type ConnectionModel, type Part, type PartPage } from './connection';

export interface DataAccessOptions {
  registry: SourceRegistry;
  policy: AccessPolicy;
  call: CallContext;
  /** Most records fetched for one batched or gateway-evaluated list before giving up. */
  maxBatchRecords: number;
  /**
   * A list spanning several parts lost some of them (a source failed): the list still answers with
   * the rest, and the error is reported here with the list's path.
   */
  onPartialFailure?: (error: Error, path: readonly (string | number)[]) => void;
}

interface RecordKey {
  source: string;
  type: ResourceType;
  id: string;
}

interface PageKey {
  part: Part;
  offset: number;
  limit: number;
  wantTotal: boolean;
  /** The list's cursors are read: ask sources that page by keyset for positions. */
  positions: boolean;
  /** The position of the part's record before `offset`, from the cursor (keyset paging). */
  after?: Position;
}

export interface ConnectionArgs {
  first: number;
  after?: string | null;
  wantTotal: boolean;
  sort: SortSpec[];
  /** The list's response path, for reporting a part that failed. */
  path?: readonly (string | number)[];
  /** Whether the query reads the list's cursors (then sources that can page by keyset return positions). */
  positions?: boolean;
}

/** Parent ids per batched request: keeps request URLs well under common 8–16 KB limits. */
const MAX_IDS_PER_REQUEST = 100;

const NONE_SHORT: ReadonlySet<string> = new Set();
const NO_ELEMENTS: readonly string[] = Object.freeze([]);

const parentIdsOf = (record: SourceRecord, param: 'patient' | 'encounter'): readonly string[] =>
  param === 'patient' ? patientIdsOf(record.resource, record.type) : encounterIdsOf(record.resource, record.type);

/**
 * Parents whose per-parent page may be short: the source returned `cut.limit` of their records (so
 * more may follow) and the policy removed some of those, so one that belongs on the page may not
 * have been fetched. `kept` is what the policy left of `fetched`, in its order, so one walk over
 * both counts each parent's fetched records and the removed ones (a policy that returned other
 * objects would only make more parents look short: asked for again, never wrong).
 */
function shortParents(fetched: readonly SourceRecord[], kept: readonly SourceRecord[], cut: NonNullable<SearchRequest['perRef']>): ReadonlySet<string> {
  const counts = new Map<string, { fetched: number; removed: number }>();
  let next = 0;
  for (const record of fetched) {
    const removed = kept[next] !== record;
    if (!removed) next++;
    for (const id of parentIdsOf(record, cut.param)) {
      const count = counts.get(id);
      if (count) {
        count.fetched++;
        if (removed) count.removed++;
      } else counts.set(id, { fetched: 1, removed: removed ? 1 : 0 });
    }
  }
  const short = new Set<string>();
  for (const [id, n] of counts) if (n.fetched >= cut.limit && n.fetched - n.removed < cut.limit) short.add(id);
  return short;
}

const recordKey = (k: RecordKey): string => `${k.source}\u0000${k.type}\u0000${k.id}`;

/** A list of names as text, kept per list (include and element lists are shared by every parent's part of a list). */
const listTexts = new WeakMap<readonly string[], string>();
function listText(list: readonly string[] | undefined): string {
  if (!list) return '[]';
  let text = listTexts.get(list);
  if (text === undefined) listTexts.set(list, (text = JSON.stringify(list)));
  return text;
}

const pageKey = (k: PageKey): string =>
  `${partText(k.part)}\u0000${k.offset}\u0000${k.limit}\u0000${k.wantTotal ? 1 : 0}\u0000${listText(k.part.request.include)}\u0000${k.part.request.elements ? listText(k.part.request.elements) : '*'}\u0000${listText(k.part.request.textless)}\u0000${k.positions ? 1 : 0}${k.after ? JSON.stringify(k.after) : ''}`;

/** Per element list of a projection (shared by a list's parts), the elements asked for with the gateway's own, per type and sort. */
const withOwnElements = new WeakMap<readonly string[], Map<string, { all: readonly string[]; policyOnly: readonly string[] }>>();

/**
 * What the gateway itself reads of a record besides what resolvers read: the patient references
 * (splitting batches per patient, the compartment, the audit trail), the encounter references when
 * the list hangs under an encounter (splitting batches per encounter), the category when the
 * policy checks it (a grant narrowed by category), `meta` (labels, lastUpdated) and the elements
 * the list's order compares.
 */
function ownElements(type: ResourceType, sort: readonly SortSpec[], underEncounter: boolean, category: boolean): string[] {
  const e = ELEMENTS[type];
  const sorted = sort.flatMap((s) => (s.field === 'date' ? (e.date ?? []) : s.field === 'birthdate' ? ['birthDate'] : s.field === 'name' ? ['name'] : []));
  return topElements(['meta', ...(e.patient ?? []), ...(underEncounter ? (e.encounter ?? []) : []), ...(category ? (e.category ?? []) : []), ...sorted]);
}

export class DataAccess {
  private readonly records: DataLoader<RecordKey, SourceRecord | null, string>;
  /**
   * Page loaders, one per source and type: a batch only ever groups pages of one type (see
   * batchGroup), and separate loaders let each type's pages resolve as soon as they are in, so one
   * list's slower policy check (a claim's diagnoses) does not hold the next level of another back.
   */
  private readonly pages = new Map<string, DataLoader<PageKey, PartPage, string>>();
  /** Conditions found for a `hasCondition` the source could not apply, per source and codes (this request only). */
  private readonly cohorts = new Map<string, Promise<SourceRecord[] | undefined>>();

  constructor(private readonly options: DataAccessOptions) {
    this.records = new DataLoader((keys) => this.loadRecords(keys), { cacheKeyFn: recordKey, maxBatchSize: 500 });
  }

  get registry(): SourceRegistry {
    return this.options.registry;
  }

  /** One record by source record id, or null when it does not exist or may not be seen. */
  async get(source: string, type: ResourceType, id: string): Promise<SourceRecord | null> {
    const record = await this.records.load({ source, type, id });
    return record && this.options.policy.release(record);
  }

  /** The record a FHIR reference in `fromSource` points at, when it is one of the allowed types. */
  async resolve(fromSource: string, reference: unknown, allowed: readonly ResourceType[]): Promise<SourceRecord | null> {
    const parsed = parseReference(reference);
    if (!parsed || !allowed.includes(parsed.type)) return null;
    return this.get(fromSource, parsed.type, parsed.id);
  }

  async resolveMany(fromSource: string, references: unknown[], allowed: readonly ResourceType[]): Promise<SourceRecord[]> {
    const records = await Promise.all(references.map((r) => this.resolve(fromSource, r, allowed)));
    return records.filter((r): r is SourceRecord => r !== null);
  }

  /** A connection page over the parts, merged in sort order. */
  async connection(parts: Part[], args: ConnectionArgs): Promise<ConnectionModel> {
    if (!Number.isInteger(args.first) || args.first < 0 || args.first > 1000) {
      throw new HealthgraphError('BAD_USER_INPUT', '"first" must be between 0 and 1000', { argument: 'first' });
    }
    const fp = listFingerprint(parts, args.sort);
    const { offsets, positions } = decodeCursorState(args.after, fp);
    const settled = await Promise.allSettled(
      parts.map((part) => {
        // A type its source does not hold (a list spans every medication type): nothing to load.
        if (!this.holds(part)) return Promise.resolve<PartPage>({ key: part.key, offset: offsets[part.key] ?? 0, records: [], hasMore: false, total: 0 });
        const offset = offsets[part.key] ?? 0;
        const after = offset > 0 ? positions[part.key] : undefined;
        return this.pagesOf(part).load({ part, offset, limit: args.first + 1, wantTotal: args.wantTotal, positions: Boolean(args.positions), ...(after ? { after } : {}) });
      }),
    );
    const pages: PartPage[] = [];
    const failures: Error[] = [];
    for (const result of settled) {
      if (result.status === 'fulfilled') pages.push(result.value);
      else failures.push(result.reason as Error);
    }
    if (failures.length > 0 && (pages.length === 0 || !this.options.onPartialFailure)) throw failures[0];
    for (const failure of failures) this.options.onPartialFailure?.(failure, args.path ?? []);
    const connection = mergePages(pages, args.sort, args.first, fp, Boolean(args.after), positions);
    for (const edge of connection.edges) edge.node = this.options.policy.release(edge.node);
    return connection;
  }

  /** One part's page from `offset` (batched and cached like connection pages; policy filtered, not yet released). */
  partPage(part: Part, offset: number, limit: number, wantTotal: boolean): Promise<PartPage> {
    return this.pagesOf(part).load({ part, offset, limit, wantTotal, positions: false });
  }

  /** Whether the part's source holds its type (an unknown source is left to fail where it is used). */
  private holds(part: Part): boolean {
    const connector = this.options.registry.get(part.source);
    return !connector || connector.capabilities().types[part.request.type] !== undefined;
  }

  private pagesOf(part: Part): DataLoader<PageKey, PartPage, string> {
    const group = `${part.source}\u0000${part.request.type}`;
    let loader = this.pages.get(group);
    if (!loader) {
      // No cache: its key (the part's whole identity as text) cost more to write for every list than
      // the rare repeat saves; repeats asked together are still fetched once (see loadPages).
      loader = new DataLoader((keys) => this.loadPages(keys), { cache: false });
      this.pages.set(group, loader);
    }
    return loader;
  }

  /**
   * Every record of a part (policy filtered, residual criteria applied, sorted; not yet released),
   * or undefined when there are more than `maxBatchRecords`.
   */
  allOf(part: Part): Promise<SourceRecord[] | undefined> {
    return this.fetchAll(part);
  }

  /** The record as the caller may see it (the policy's release step), for lists assembled outside `connection`. */
  release(record: SourceRecord): SourceRecord {
    return this.options.policy.release(record);
  }

  /** Reports a part that failed while the rest of a list still answers (see `onPartialFailure`). */
  reportPartial(error: Error, path: readonly (string | number)[]): boolean {
    if (!this.options.onPartialFailure) return false;
    this.options.onPartialFailure(error, path);
    return true;
  }

  private async loadRecords(keys: readonly RecordKey[]): Promise<(SourceRecord | null | Error)[]> {
    const groups = new Map<string, RecordKey[]>();
    for (const key of keys) {
      const group = `${key.source}\u0000${key.type}`;
      const list = groups.get(group);
      if (list) list.push(key);
      else groups.set(group, [key]);
    }
    const found = new Map<string, SourceRecord>();
    const failures = new Map<string, Error>();
    await Promise.all(
      [...groups.values()].map(async (group) => {
        const { source, type } = group[0]!;
        try {
          const connector = this.options.registry.require(source);
          if (!connector.capabilities().types[type] || this.options.policy.searchConstraints(source, type) === null) return;
          const ids = [...new Set(group.map((k) => k.id))];
          const records = await this.options.policy.filter(await connector.getByIds(type, ids, this.options.call));
          for (const record of records) found.set(recordKey(record), record);
        } catch (error) {
          failures.set(`${source}\u0000${type}`, error as Error);
        }
      }),
    );
    return keys.map((key) => failures.get(`${key.source}\u0000${key.type}`) ?? found.get(recordKey(key)) ?? null);
  }

  /**
   * The pages of one tick. Keys that differ only in the parent share one batched request (whose
   * split gives a repeated parent its page again); the other pages are fetched once per distinct key.
   */
  private async loadPages(keys: readonly PageKey[]): Promise<(PartPage | Error)[]> {
    const results = new Array<PartPage | Error>(keys.length);
    const batches = new Map<string, number[]>();
    keys.forEach((key, index) => {
      const group = this.batchGroup(key);
      if (group === undefined) return;
      const list = batches.get(group);
      if (list) list.push(index);
      else batches.set(group, [index]);
    });
    const batched = new Set([...batches.values()].filter((l) => l.length > 1).flat());
    const singles: number[] = keys.map((_, i) => i).filter((i) => !batched.has(i));
    const tasks: Promise<void>[] = [];
    for (const indexes of batches.values()) {
      if (indexes.length < 2) continue;
      tasks.push(
        this.loadBatch(indexes.map((i) => keys[i]!)).then(
          (pages) => {
            if (!pages) singles.push(...indexes);
            else
              indexes.forEach((i, j) => {
                const page = pages[j];
                if (page) results[i] = page;
                else singles.push(i);
              });
          },
          (error: Error) => indexes.forEach((i) => (results[i] = error)),
        ),
      );
    }
    await Promise.all(tasks);
    const distinct = new Map<string, Promise<PartPage>>();
    await Promise.all(
      singles.map((i) => {
        const key = pageKey(keys[i]!);
        let page = distinct.get(key);
        if (!page) distinct.set(key, (page = this.loadPage(keys[i]!)));
        return page.then(
          (found) => void (results[i] = found),
          (error: Error) => void (results[i] = error),
        );
      }),
    );
    return results;
  }

  /** Page keys that differ only in one parent id share a group, and so one upstream request. */
  private batchGroup(key: PageKey): string | undefined {
    if (key.offset !== 0) return undefined;
    const ref = batchableRef(key.part.request.criteria);
    if (!ref) return undefined;
    const caps = this.options.registry.get(key.part.source)?.capabilities().types[key.part.request.type];
    if (!caps?.multiValueRefs || !caps.params.has(ref.param)) return undefined;
    const { criteria, sort, include, elements, textless } = key.part.request;
    const others = criteria.length === 1 ? '' : JSON.stringify(criteria.filter((_, i) => i !== ref.index));
    return `${key.part.source}\u0000${key.part.request.type}\u0000${ref.param}\u0000${others}\u0000${JSON.stringify(sort)}\u0000${key.limit}\u0000${listText(include)}\u0000${elements ? listText(elements) : '*'}\u0000${listText(textless)}\u0000${key.positions ? 1 : 0}`;
  }

  /** The part's criteria with the policy's constraints added and cohorts resolved; null when nothing can match. */
  private async constrained(part: Part): Promise<Criterion[] | null> {
    const constraints = this.options.policy.searchConstraints(part.source, part.request.type);
    if (constraints === null) return null;
    return resolveCohorts(part.source, [...part.request.criteria, ...constraints], {
      pushes: (source) => this.pushesCohort(source),
      conditions: (source, tokens) => this.cohortConditions(source, tokens),
      maxRecords: this.options.maxBatchRecords,
    });
  }

  /**
   * Whether a source applies `hasCondition` itself: it says it can, and every Condition it holds
   * counts for this caller (no scope, compartment or consent condition on Conditions).
   */
  private pushesCohort(source: string): boolean {
    const caps = this.options.registry.get(source)?.capabilities().types.Patient;
    const { policy } = this.options;
    return Boolean(caps?.params.has('hasCondition')) && policy.searchConstraints(source, 'Condition')?.length === 0 && !policy.postFilters(source, 'Condition');
  }

  /** The Conditions of a source with one of the codes, as this caller may see them (never returned, only read for patient ids). */
  private cohortConditions(source: string, tokens: Token[]): Promise<SourceRecord[] | undefined> {
    const key = JSON.stringify([source, tokens]);
    let found = this.cohorts.get(key);
    if (!found) {
      const part: Part = { key: `${source}:Condition:cohort`, source, request: { type: 'Condition', criteria: [{ param: 'code', tokens }], sort: [] } };
      found = this.fetchAll(part);
      this.cohorts.set(key, found);
    }
    return found;
  }

  /**
   * Fetches all records for several parents at once, then splits them per parent. Undefined when
   * too many; an undefined page for a parent the policy may have left short (see `fetchRecords`).
   */
  private async loadBatch(keys: PageKey[]): Promise<(PartPage | undefined)[] | undefined> {
    const first = keys[0]!;
    const { request } = first.part;
    const ref = batchableRef(request.criteria)!;
    const ids = [...new Set(keys.map((k) => batchableRef(k.part.request.criteria)!.id))];
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += MAX_IDS_PER_REQUEST) chunks.push(ids.slice(i, i + MAX_IDS_PER_REQUEST));
    // Without totals, each parent needs only its first page (+1 to know whether more follow).
    const perRef = keys.some((k) => k.wantTotal) ? undefined : { param: ref.param, limit: first.limit + 1 };
    const fetched = await Promise.all(
      chunks.map((chunk) => {
        const merged: Criterion[] = request.criteria.map((c, i) => (i === ref.index ? { param: ref.param, ids: chunk } : c));
        return this.fetchRecords({ key: first.part.key, source: first.part.source, request: { ...request, criteria: merged } }, perRef, first.positions, true);
      }),
    );
    if (fetched.some((f) => f === undefined)) return undefined;
    const all = fetched.flatMap((f) => f!.records);
    const short = fetched.length === 1 ? fetched[0]!.short : new Set(fetched.flatMap((f) => [...f!.short]));
    const byParent = new Map<string, SourceRecord[]>();
    for (const record of all) {
      const parents = parentIdsOf(record, ref.param);
      for (const parent of parents.length === 1 ? parents : new Set(parents)) {
        const list = byParent.get(parent);
        if (list) list.push(record);
        else byParent.set(parent, [record]);
      }
    }
    return keys.map((key) => {
      const id = batchableRef(key.part.request.criteria)!.id;
      // A parent whose page the policy may have left short is asked for on its own.
      if (short.has(id)) return undefined;
      const records = byParent.get(id) ?? [];
      return { key: key.part.key, offset: 0, records: records.slice(0, key.limit), hasMore: records.length > key.limit, total: records.length };
    });
  }

  /**
   * Every record of a part (policy applied, residual criteria evaluated, sorted), or undefined when
   * there are more than maxBatchRecords; with `perRef`, only each parent's first ones when the
   * source can cut them exactly.
   */
  private async fetchAll(part: Part, perRef?: SearchRequest['perRef'], positions = false): Promise<SourceRecord[] | undefined> {
    return (await this.fetchRecords(part, perRef, positions, false))?.records;
  }

  /**
   * fetchAll, and with `cutFiltered` the per-parent cut also where the policy may then remove
   * records (consent, labels): a parent the source cut at `perRef.limit` that lost any of those
   * may be missing records that belong on its page, so it comes back in `short` (the caller asks
   * for its page on its own); every other parent's records are exactly its first ones.
   */
  private async fetchRecords(
    part: Part,
    perRef: SearchRequest['perRef'] | undefined,
    positions: boolean,
    cutFiltered: boolean,
  ): Promise<{ records: SourceRecord[]; short: ReadonlySet<string> } | undefined> {
    const connector = this.options.registry.require(part.source);
    const caps = connector.capabilities().types[part.request.type];
    const criteria = await this.constrained(part);
    if (!caps || criteria === null) return { records: [], short: NONE_SHORT };
    const plan = planPart(caps, criteria, part.request.sort);
    const limit = this.options.maxBatchRecords;
    const filtered = this.options.policy.postFilters(part.source, part.request.type);
    // A per-parent cut in the source is exact only when nothing is reordered after it, and nothing
    // removed (or the caller checks each parent, cutFiltered).
    const cut = perRef && caps.limitPerRef?.has(perRef.param) && plan.residual.length === 0 && plan.sortPushed && (!filtered || cutFiltered) ? perRef : undefined;
    const elements = this.projection(part, caps, plan.residual);
    const result = await this.search(part, {
      type: part.request.type,
      criteria: plan.pushed,
      sort: plan.sortPushed ? part.request.sort : [],
      limit: limit + 1,
      offset: 0,
      wantTotal: false,
      ...(cut ? { perRef: cut } : {}),
      ...elements,
      ...(positions && plan.sortPushed && plan.residual.length === 0 && caps.keyset ? { positions: true } : {}),
    });
    if (result.records.length > limit || result.hasMore) return undefined;
    const records = await this.admit(result.records, plan.residual, !elements.elements);
    if (cut && filtered) return { records, short: shortParents(result.records, records, cut) };
    return { records: plan.sortPushed ? records : [...records].sort(comparator(part.request.sort)), short: NONE_SHORT };
  }

  private async loadPage(key: PageKey): Promise<PartPage> {
    const { part } = key;
    const connector = this.options.registry.require(part.source);
    const caps = connector.capabilities().types[part.request.type];
    const criteria = await this.constrained(part);
    if (!caps || criteria === null) return { key: part.key, offset: key.offset, records: [], hasMore: false, total: 0 };
    const plan = planPart(caps, criteria, part.request.sort);
    const local = plan.residual.length > 0 || !plan.sortPushed || this.options.policy.postFilters(part.source, part.request.type);
    if (local && plan.sortPushed && !key.wantTotal) return this.loadFilteredPage(part, caps, plan, key);
    if (local) {
      const all = await this.fetchAll(part);
      if (!all) {
        throw new HealthgraphError(
          'QUERY_TOO_COMPLEX',
          `Source "${part.source}" cannot apply this filter or order itself and it matches more than ${this.options.maxBatchRecords} records; narrow the filter`,
          { source: part.source },
        );
      }
      const records = all.slice(key.offset, key.offset + key.limit);
      return { key: part.key, offset: key.offset, records, hasMore: all.length > key.offset + key.limit, total: all.length };
    }
    const elements = this.projection(part, caps, plan.residual);
    // Keyset paging where the source can: the next page starts after the cursor's position, not at an offset.
    const keyset = caps.keyset ? { ...(key.positions ? { positions: true } : {}), ...(key.after ? { after: key.after } : {}) } : {};
    const offset = caps.keyset && key.after ? 0 : key.offset;
    const result = await this.search(part, { type: part.request.type, criteria: plan.pushed, sort: part.request.sort, limit: key.limit, offset, wantTotal: key.wantTotal, ...elements, ...keyset });
    const records = await this.options.policy.filter(result.records);
    if (!elements.elements) this.prime(records);
    return {
      key: part.key,
      offset: key.offset,
      records,
      hasMore: result.hasMore,
      total: result.total ?? key.offset + result.records.length + (result.hasMore ? 1 : 0),
    };
  }

  /**
   * A page of a list the gateway filters itself (residual criteria, or a policy that removes
   * records) when the source sorts and no total is asked for: fetch from the start in growing
   * chunks until the page is full after filtering, instead of fetching every record.
   */
  private async loadFilteredPage(part: Part, caps: TypeCapabilities, plan: PartPlan, key: PageKey): Promise<PartPage> {
    const needed = key.offset + key.limit;
    const elements = this.projection(part, caps, plan.residual);
    const kept: SourceRecord[] = [];
    let sourceOffset = 0;
    // Residual criteria may reject many records, so ask for twice the page at once; a policy that
    // only post-filters (consent, labels) rarely removes any, so the page itself comes first.
    let chunk = plan.residual.length > 0 ? Math.max(50, needed * 2) : needed;
    let exhausted = false;
    while (kept.length < needed && !exhausted) {
      if (sourceOffset >= this.options.maxBatchRecords) {
        throw new HealthgraphError(
          'QUERY_TOO_COMPLEX',
          `Source "${part.source}" cannot apply this filter itself and the page lies beyond its first ${this.options.maxBatchRecords} records; narrow the filter`,
          { source: part.source },
        );
      }
      // Whole records when the gateway evaluates criteria itself; else what the query and the policy read (see `projection`).
      const result = await this.search(part, { type: part.request.type, criteria: plan.pushed, sort: part.request.sort, limit: chunk, offset: sourceOffset, wantTotal: false, ...elements });
      sourceOffset += result.records.length;
      exhausted = !result.hasMore || result.records.length === 0;
      kept.push(...(await this.admit(result.records, plan.residual, !elements.elements)));
      chunk = Math.min(chunk * 4, this.options.maxBatchRecords);
    }
    const records = kept.slice(key.offset, key.offset + key.limit);
    const hasMore = kept.length > key.offset + key.limit || !exhausted;
    return { key: part.key, offset: key.offset, records, hasMore, total: exhausted ? kept.length : key.offset + records.length + (hasMore ? 1 : 0) };
  }

  /**
   * What the gateway keeps of records a source returned: those matching the criteria the source
   * could not apply, then those the policy lets through; these are cached for later reads by id
   * unless they hold only some elements (`cache` false: a projection).
   */
  private async admit(records: SourceRecord[], residual: readonly Criterion[], cache: boolean): Promise<SourceRecord[]> {
    const matching = residual.length > 0 ? records.filter((r) => matchesAll(r.resource, r.type, residual)) : records;
    const visible = await this.options.policy.filter(matching);
    if (cache) this.prime(visible);
    return visible;
  }

  /**
   * The projection of a part's search (`{ elements }`), or `{}` for whole records: when the query
   * reads only some elements of its nodes, the source can return only those and what else reads
   * the records — the gateway itself, and a policy that inspects them after the fetch (consent,
   * labels: the elements it says it reads, or everything). A criterion the gateway evaluates itself
   * needs whole records. Projected records are never cached for reads by id, which may need other
   * elements.
   */
  private projection(part: Part, caps: TypeCapabilities, residual: readonly Criterion[]): { elements?: readonly string[]; textless?: readonly string[] } {
    const { elements, textless, type, sort } = part.request;
    if (!elements || !caps.projects || residual.length > 0) return {};
    const { policy } = this.options;
    const policyReads = policy.postFilters(part.source, type) ? policy.reads?.(part.source, type) : NO_ELEMENTS;
    if (!policyReads) return {};
    let byShape = withOwnElements.get(elements);
    if (!byShape) withOwnElements.set(elements, (byShape = new Map()));
    const underEncounter = part.request.criteria.some((c) => c.param === 'encounter');
    const category = policy.readsCategory?.(part.source, type) ?? true;
    const shape = `${type}\u0000${underEncounter ? 1 : 0}${category ? 1 : 0}${JSON.stringify(sort)}\u0000${listText(policyReads)}`;
    let found = byShape.get(shape);
    if (!found) {
      const all = [...new Set([...elements, ...ownElements(type, sort, underEncounter, category), ...policyReads])].sort();
      // Elements only the policy reads: it reads their codes, never their texts.
      byShape.set(shape, (found = { all, policyOnly: policyReads.filter((e) => !elements.includes(e)) }));
    }
    // The gateway's own reads of these elements (patients, categories, dates) never need their texts either.
    const withoutTexts = found.policyOnly.length > 0 ? [...(textless ?? []), ...found.policyOnly] : textless;
    return withoutTexts && withoutTexts.length > 0 ? { elements: found.all, textless: withoutTexts } : { elements: found.all };
  }

  /**
   * A part's search, asking the source for the targets of the references the query reads next
   * (`include`) where it can; those arrive with the matches and are cached after the policy's
   * check, so resolving the references costs no further request.
   */
  private async search(part: Part, request: SearchRequest): Promise<SearchResult> {
    const connector = this.options.registry.require(part.source);
    const supported = connector.capabilities().types[part.request.type]?.includes;
    const include = supported ? part.request.include?.filter((element) => supported.has(element)) : undefined;
    const result = await connector.search(include && include.length > 0 ? { ...request, include } : request, this.options.call);
    if (result.included && result.included.length > 0) await this.primeIncluded(part.source, result.included);
    return result;
  }

  /** Records returned alongside a search: cached as a read by id would have them (types the caller may not read are dropped). */
  private async primeIncluded(source: string, records: SourceRecord[]): Promise<void> {
    const readable = records.filter((r) => r.source === source && this.options.policy.searchConstraints(source, r.type) !== null);
    this.prime(await this.options.policy.filter(readable));
  }

  private prime(records: SourceRecord[]): void {
    for (const record of records) this.records.prime({ source: record.source, type: record.type, id: record.id }, record);
  }
}
