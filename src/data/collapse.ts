/**
 * Collapsed connections: a multi-part list (like `DataAccess.connection`) in which records that
 * are "the same thing" — one person's records in `patients`, the same fact held by two sources in a
 * unified patient's lists — are shown once, listing every source that holds them.
 *
 * Which record stands for a group is a pure function of the records, not of paging: records are
 * grouped by `Collapse.keysOf` (records sharing a key, transitively); the group's winner is its first record in the list's total order
 * (the sort, then the part's position, then the record id). With `withinSource: true` only the
 * winner shows. With `withinSource: false` two records of one source are never duplicates of each
 * other: a group is split into facts of at most one record per source (pairing the most alike
 * records, `affinity`, then in list order), each shown once as the record of the source that
 * ranks first (`rankOf`), so a group shows as many records as its largest source holds.
 * A hidden record still advances its part's offset in the cursor, so cursors stay the per-part
 * offsets of `connection` and every page is computed from them alone: paging visits each visible
 * record once, as long as the data and the links do not change in between.
 *
 * Deciding a group needs its members that are not on the page: `Collapse.partners` fetches them
 * (a date window around the page, or a person's other records), so a page costs one more request
 * per part only when a group can span parts.
 */
import type { SortSpec, SourceRecord } from '../../connectors/types';
import { HealthgraphError } from '../errors';
import { comparator } from '../model/evaluate';
import type { DataAccess } from './access';
import { listFingerprint, type ConnectionModel, type EdgeModel, type Part, type PartPage } from './connection';
import { decodeCursor, Edge, PageInfo, type Offsets } from './cursor';

/** A record with the part it came from (its position in `parts`). */
export interface PartRecord {
  part: number;
  record: SourceRecord;
}

/** A record shown for its group, with the group's other records (in other sources, or hidden). */
export interface CollapsedRecord extends SourceRecord {
  sameAs?: SourceRecord[];
}

export interface Collapse {
  /** Fingerprint input: what makes two collapses different for cursors. */
  readonly name: string;
  /** Whether a source's own records may collapse with each other (persons: yes; facts: no). */
  readonly withinSource: boolean;
  /** Which source's record shows a fact held by several (lower first); default: the list order decides. */
  rankOf?(source: string): number;
  /** How alike two records of one group are (higher pairs first); default: all alike, list order pairs them. */
  affinity?(a: SourceRecord, b: SourceRecord): number;
  /** Whether a part's records may collapse with another part's at all (default: yes); totals read only those whole. */
  collapsible?(part: Part, parts: readonly Part[], pages: readonly PartPage[]): boolean;
  /** The keys of a record: records sharing a key (transitively) are one group; none: it never collapses. */
  keysOf(record: SourceRecord): readonly string[];
  /**
   * Every record, in any part, that may share a group with one of `records` (records already in
   * `records` may be returned again). `loaded` are the pages in hand, which a collapse may use
   * instead of fetching when they are complete.
   */
  partners(records: readonly PartRecord[], parts: readonly Part[], loaded: readonly PartPage[], data: DataAccess): Promise<PartRecord[]>;
  /** Called with the records of each page before they are grouped (e.g. to link new patients first). */
  prepare?(records: readonly SourceRecord[]): Promise<void>;
}

export interface CollapsedArgs {
  first: number;
  after?: string | null;
  wantTotal: boolean;
  sort: SortSpec[];
  path?: readonly (string | number)[];
  /** A total order to merge by instead of the sort's (it must agree with each part's own order). */
  order?: (a: PartRecord, b: PartRecord) => number;
}

const MAX_ROUNDS = 6;

type Order = (a: PartRecord, b: PartRecord) => number;

function totalOrder(sort: readonly SortSpec[]): Order {
  const compare = comparator(sort);
  return (a, b) => compare(a.record, b.record) || a.part - b.part || (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0);
}

/** Merges loaded pages in list order, stopping where a part that has more runs out (beyond, the order is unknown). */
function mergeLoaded(pages: readonly PartPage[], order: Order): { seq: PartRecord[]; truncated: boolean } {
  const heads = pages.map(() => 0);
  const seq: PartRecord[] = [];
  for (;;) {
    let best: PartRecord | undefined;
    for (let i = 0; i < pages.length; i++) {
      const page = pages[i]!;
      const record = page.records[heads[i]!];
      if (!record) {
        if (page.hasMore) return { seq, truncated: true };
        continue;
      }
      const candidate = { part: i, record };
      if (!best || order(candidate, best) < 0) best = candidate;
    }
    if (!best) return { seq, truncated: false };
    heads[best.part]! += 1;
    seq.push(best);
  }
}

const itemKey = (item: PartRecord): string => `${item.part}\u0000${item.record.id}`;

/** Which of `items` are visible (their group's other records), or hidden (null). Groups: records sharing a key, transitively. */
async function decide(
  items: readonly PartRecord[],
  partners: readonly PartRecord[],
  collapse: Collapse,
  order: Order,
): Promise<Map<string, PartRecord[] | null>> {
  const byKey = new Map<string, PartRecord>();
  for (const item of [...items, ...partners]) if (!byKey.has(itemKey(item))) byKey.set(itemKey(item), item);
  const parent = new Map<string, string>();
  const find = (x: string): string => {
    let root = x;
    while (parent.get(root) !== root) root = parent.get(root)!;
    for (let y = x; y !== root;) {
      const next = parent.get(y)!;
      parent.set(y, root);
      y = next;
    }
    return root;
  };
  const firstWithKey = new Map<string, string>();
  for (const [k, item] of byKey) {
    parent.set(k, k);
    for (const key of collapse.keysOf(item.record)) {
      const other = firstWithKey.get(key);
      if (other === undefined) firstWithKey.set(key, k);
      else parent.set(find(k), find(other));
    }
  }
  const groups = new Map<string, PartRecord[]>();
  for (const [k, item] of byKey) {
    const root = find(k);
    const group = groups.get(root);
    if (group) group.push(item);
    else groups.set(root, [item]);
  }
  const out = new Map<string, PartRecord[] | null>();
  for (const item of items) {
    const group = groups.get(find(itemKey(item)))!;
    if (group.length === 1) {
      out.set(itemKey(item), []);
      continue;
    }
    if (collapse.withinSource) {
      const winner = group.reduce((a, b) => (order(a, b) <= 0 ? a : b));
      out.set(itemKey(item), itemKey(winner) === itemKey(item) ? group.filter((g) => itemKey(g) !== itemKey(item)) : null);
      continue;
    }
    const fact = factsOf(group, collapse, order).find((f) => f.some((g) => itemKey(g) === itemKey(item)))!;
    out.set(itemKey(item), itemKey(fact[0]!) === itemKey(item) ? fact.slice(1) : null);
  }
  return out;
}

/**
 * Splits a group into facts, one record per source at most: sources in rank order; each source's
 * records (in list order) join the open fact they have most affinity with (then the earliest), or
 * start a new one. A fact's first record is the one shown.
 */
function factsOf(group: readonly PartRecord[], collapse: Collapse, order: Order): PartRecord[][] {
  const rank = collapse.rankOf ?? (() => 0);
  const bySource = new Map<string, PartRecord[]>();
  for (const g of [...group].sort((a, b) => rank(a.record.source) - rank(b.record.source) || order(a, b))) {
    bySource.set(g.record.source, [...(bySource.get(g.record.source) ?? []), g]);
  }
  const facts: PartRecord[][] = [];
  for (const [source, records] of bySource) {
    const open = facts.filter((f) => !f.some((g) => g.record.source === source));
    for (const record of records) {
      let best = -1;
      let bestAffinity = -1;
      open.forEach((fact, i) => {
        const affinity = collapse.affinity ? collapse.affinity(fact[0]!.record, record.record) : 0;
        if (affinity > bestAffinity) [best, bestAffinity] = [i, affinity];
      });
      if (best < 0) facts.push([record]);
      else open.splice(best, 1)[0]!.push(record);
    }
  }
  return facts;
}

async function loadPages(
  data: DataAccess,
  parts: readonly Part[],
  offsets: Offsets,
  limit: number,
  wantTotal: boolean,
  path: readonly (string | number)[],
): Promise<PartPage[]> {
  const settled = await Promise.allSettled(parts.map((part) => data.partPage(part, offsets[part.key] ?? 0, limit, wantTotal)));
  const pages: PartPage[] = [];
  const failures: Error[] = [];
  settled.forEach((result, i) => {
    if (result.status === 'fulfilled') pages.push(result.value);
    else {
      failures.push(result.reason as Error);
      pages.push({ key: parts[i]!.key, offset: offsets[parts[i]!.key] ?? 0, records: [], hasMore: false, total: 0 });
    }
  });
  if (failures.length === parts.length && failures.length > 0) throw failures[0];
  for (const failure of failures) if (!data.reportPartial(failure, path)) throw failure;
  return pages;
}

/**
 * The number of visible records: parts that cannot collapse with another count their source's
 * total; the others are read whole and grouped. Undefined when one of those is too large to read.
 */
async function collapsedTotal(
  data: DataAccess,
  parts: readonly Part[],
  pages: readonly PartPage[],
  collapse: Collapse,
  order: Order,
): Promise<number | undefined> {
  const collapsible = parts.map(
    (p, i) => (collapse.collapsible ? collapse.collapsible(p, parts, pages) : true) && (pages[i]?.total ?? 1) > 0,
  );
  const alone = pages.reduce((sum, page, i) => sum + (collapsible[i] ? 0 : page.total), 0);
  const all = await Promise.all(parts.map((p, i) => (collapsible[i] ? data.allOf(p).catch(() => undefined) : Promise.resolve([]))));
  if (all.some((a) => a === undefined)) return undefined;
  const items = all.flatMap((records, part) => records!.map((record) => ({ part, record })));
  await collapse.prepare?.(items.map((i) => i.record));
  const visible = await decide(items, [], collapse, order);
  return alone + [...visible.values()].filter((v) => v !== null).length;
}

/** A page of a collapsed list; see the module comment. */
export async function collapsedConnection(
  data: DataAccess,
  parts: Part[],
  args: CollapsedArgs,
  collapse: Collapse,
): Promise<ConnectionModel> {
  if (!Number.isInteger(args.first) || args.first < 0 || args.first > 1000) {
    throw new HealthgraphError('BAD_USER_INPUT', '"first" must be between 0 and 1000', { argument: 'first' });
  }
  const fp = listFingerprint(parts, args.sort, collapse.name);
  const start = decodeCursor(args.after, fp);
  const order = args.order ?? totalOrder(args.sort);
  const path = args.path ?? [];
  let limit = args.first + 1;
  let pages: PartPage[] = [];
  let counted: PartPage[] = [];
  let edges: EdgeModel[] = [];
  let hasNextPage = false;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    pages = await loadPages(data, parts, start, limit, args.wantTotal && round === 0, path);
    if (round === 0) counted = pages;
    const { seq, truncated } = mergeLoaded(pages, order);
    await collapse.prepare?.(seq.map((s) => s.record));
    // The merged sequence ends where a part that has more ran out, so its date range is tight:
    // one partners look-up decides every record in it.
    const partners = await collapse.partners(seq, parts, pages, data);
    const visibility = await decide(seq, partners, collapse, order);
    const offsets: Offsets = { ...Object.fromEntries(parts.map((p) => [p.key, start[p.key] ?? 0])) };
    edges = [];
    let walked = 0;
    for (const item of seq) {
      if (edges.length === args.first) break;
      walked++;
      const key = parts[item.part]!.key;
      offsets[key] = (offsets[key] ?? 0) + 1;
      const sameAs = visibility.get(itemKey(item));
      if (sameAs === null || sameAs === undefined) continue;
      const node: CollapsedRecord = sameAs.length > 0 ? { ...item.record, sameAs: sameAs.map((s) => s.record) } : item.record;
      edges.push(new Edge<SourceRecord>(fp, { ...offsets }, node));
    }
    const restVisible = seq.slice(walked).some((r) => visibility.get(itemKey(r)) !== null);
    hasNextPage = edges.length === args.first ? restVisible || truncated : truncated;
    if (edges.length === args.first || !pages.some((p) => p.hasMore) || !hasNextPage) break;
    limit *= 4;
  }
  let totalCount = counted.reduce((sum, p) => sum + p.total, 0);
  if (args.wantTotal) totalCount = (await collapsedTotal(data, parts, counted, collapse, order)) ?? totalCount;
  for (const edge of edges) {
    const node = edge.node as CollapsedRecord;
    const released: CollapsedRecord = data.release(node);
    if (node.sameAs) edge.node = { ...released, sameAs: node.sameAs.map((s) => data.release(s)) } as CollapsedRecord;
    else edge.node = released;
  }
  return {
    totalCount,
    edges,
    pageInfo: new PageInfo(edges, hasNextPage, Boolean(args.after)),
  };
}
