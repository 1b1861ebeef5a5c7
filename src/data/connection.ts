/**
 * Relay connections assembled from one or more parts: a part is one ordered stream of records
 * (one resource type in one source). Parts are merged by the list's sort order; the cursor keeps
 * each part's offset, so paging is stable even when sources order ties differently.
 */
import type { SearchRequest, SortSpec, SourceRecord } from '../../connectors/types';
import { comparator } from '../model/evaluate';
import { encodeCursor, lazyFingerprint, PageInfo, type Fingerprint, type Offsets, type Positions } from './cursor';

export interface EdgeModel {
  cursor: string;
  node: SourceRecord;
}

export interface PageInfoModel {
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  startCursor: string | null;
  endCursor: string | null;
}

export interface ConnectionModel {
  totalCount: number;
  edges: EdgeModel[];
  pageInfo: PageInfoModel;
}

/** One stream of a connection: a search in one source, before paging. */
export interface Part {
  key: string;
  source: string;
  /** What the list holds (type, criteria, order), and what the query reads of it (include, elements). */
  request: Pick<SearchRequest, 'type' | 'criteria' | 'sort' | 'include' | 'elements' | 'textless'>;
  /** partText's memo (parts live for one request: a property costs less than a WeakMap entry). */
  text?: string;
}

/**
 * A part's identity as text (its key and request, without `include` and `elements`: what the
 * query reads of the records does not change which records the list holds, so cursors stay
 * valid), computed once per part.
 */
export function partText(part: Part): string {
  if (part.text === undefined) {
    // The same text as the request without `include` and `elements`, written without copying it.
    const { type, criteria, sort } = part.request;
    part.text = JSON.stringify([part.key, { type, criteria, sort }]);
  }
  return part.text;
}

/**
 * The fingerprint a list's cursors carry: its parts, its order and anything else that changes which
 * records it holds. Computed when a cursor is first encoded or checked.
 */
export function listFingerprint(parts: readonly Part[], sort: readonly SortSpec[], ...extra: string[]): () => string {
  return lazyFingerprint(() => [...parts.map(partText), JSON.stringify(sort), ...extra].join('\u0000'));
}

/** What a part returned for one page: records from its offset on, and whether more follow. */
export interface PartPage {
  key: string;
  offset: number;
  records: SourceRecord[];
  hasMore: boolean;
  total: number;
}

/**
 * How a merged page was taken from its parts, so that an edge's cursor — the parts' offsets and
 * positions after it — is worked out only when asked for: most queries read no cursor, and copying
 * both per edge was a measurable share of a wide answer's allocations. Edges are usually asked in
 * order, so the replay state moves forward and each cursor costs one step.
 */
class MergeTrace {
  private at = -1;
  private offsets: Offsets = {};
  private positions: Positions = {};
  private withPositions = false;

  constructor(
    private readonly fp: Fingerprint,
    private readonly pages: readonly PartPage[],
    private readonly start: Positions,
    /** Per edge, the index of the page it came from, and its record as the page held it. */
    private readonly from: readonly number[],
    private readonly taken: readonly SourceRecord[],
  ) {}

  cursorAt(index: number): string {
    if (index < this.at) this.at = -1;
    if (this.at < 0) this.reset();
    while (this.at < index) this.step(++this.at);
    return encodeCursor(this.fp, { ...this.offsets }, this.withPositions ? { ...this.positions } : undefined);
  }

  private reset(): void {
    this.offsets = Object.fromEntries(this.pages.map((p) => [p.key, p.offset]));
    // Each part's position after its last record so far (where its source pages by keyset).
    this.positions = {};
    for (const page of this.pages) if (page.offset > 0 && this.start[page.key]) this.positions[page.key] = this.start[page.key]!;
    this.withPositions = Object.keys(this.positions).length > 0;
  }

  private step(index: number): void {
    const page = this.pages[this.from[index]!]!;
    this.offsets[page.key]! += 1;
    const { position } = this.taken[index]!;
    if (position) {
      this.positions[page.key] = position;
      this.withPositions = true;
    } else delete this.positions[page.key];
  }
}

/** An edge of a merged page: its cursor comes from the page's trace when first read. */
class TracedEdge implements EdgeModel {
  private encoded: string | undefined;

  constructor(
    private readonly trace: MergeTrace,
    private readonly index: number,
    public node: SourceRecord,
  ) {}

  get cursor(): string {
    this.encoded ??= this.trace.cursorAt(this.index);
    return this.encoded;
  }
}

/** Merges part pages into one connection page of at most `first` edges. */
export function mergePages(pages: PartPage[], sort: readonly SortSpec[], first: number, fp: Fingerprint, hadCursor: boolean, start: Positions = {}): ConnectionModel {
  const edges: EdgeModel[] = [];
  const from: number[] = [];
  const taken: SourceRecord[] = [];
  const trace = new MergeTrace(fp, pages, start, from, taken);
  const heads = pages.map(() => 0);
  const filled = pages.filter((p) => p.records.length > 0);
  if (filled.length <= 1) {
    // At most one part holds records (a list of several types often finds only one): its records in their order, nothing to compare.
    const only = filled.length === 1 ? pages.indexOf(filled[0]!) : -1;
    const records = only >= 0 ? pages[only]!.records : [];
    const n = Math.min(first, records.length);
    for (let i = 0; i < n; i++) {
      from.push(only);
      taken.push(records[i]!);
      edges.push(new TracedEdge(trace, i, records[i]!));
    }
    if (only >= 0) heads[only] = n;
  } else {
    const compare = comparator(sort);
    while (edges.length < first) {
      let best = -1;
      for (let i = 0; i < pages.length; i++) {
        const candidate = pages[i]!.records[heads[i]!];
        if (!candidate) continue;
        const current = best >= 0 ? pages[best]!.records[heads[best]!] : undefined;
        if (!current || compare(candidate, current) < 0) best = i;
      }
      if (best < 0) break;
      const node = pages[best]!.records[heads[best]!]!;
      heads[best]! += 1;
      from.push(best);
      taken.push(node);
      edges.push(new TracedEdge(trace, edges.length, node));
    }
  }
  const hasNextPage = pages.some((p, i) => heads[i]! < p.records.length || p.hasMore);
  return {
    totalCount: pages.reduce((sum, p) => sum + p.total, 0),
    edges,
    pageInfo: new PageInfo(edges, hasNextPage, hadCursor),
  };
}
