/**
 * Relay connections assembled from one or more parts: a part is one ordered stream of records
 * (one resource type in one source). Parts are merged by the list's sort order; the cursor keeps
 * each part's offset, so paging is stable even when sources order ties differently.
 */
import type { SearchRequest, SortSpec, SourceRecord } from '../../connectors/types';
import { comparator } from '../model/evaluate';
import { Edge, lazyFingerprint, PageInfo, type Fingerprint, type Offsets, type Positions } from './cursor';

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
  request: Pick<SearchRequest, 'type' | 'criteria' | 'sort' | 'include' | 'elements'>;
}

/**
 * A part's identity as text (its key and request, without `include` and `elements`: what the
 * query reads of the records does not change which records the list holds, so cursors stay
 * valid), computed once per part.
 */
const partTexts = new WeakMap<Part, string>();
export function partText(part: Part): string {
  let text = partTexts.get(part);
  if (text === undefined) {
    // The same text as the request without `include` and `elements`, written without copying it.
    const { type, criteria, sort } = part.request;
    text = JSON.stringify([part.key, { type, criteria, sort }]);
    partTexts.set(part, text);
  }
  return text;
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

/** Merges part pages into one connection page of at most `first` edges. */
export function mergePages(pages: PartPage[], sort: readonly SortSpec[], first: number, fp: Fingerprint, hadCursor: boolean, start: Positions = {}): ConnectionModel {
  const compare = comparator(sort);
  const offsets: Offsets = Object.fromEntries(pages.map((p) => [p.key, p.offset]));
  // Each part's position after its last record so far (where its source pages by keyset).
  const positions: Positions = {};
  for (const page of pages) if (page.offset > 0 && start[page.key]) positions[page.key] = start[page.key]!;
  let withPositions = Object.keys(positions).length > 0;
  const heads = pages.map(() => 0);
  const edges: EdgeModel[] = [];
  while (edges.length < first) {
    let best = -1;
    for (let i = 0; i < pages.length; i++) {
      const page = pages[i]!;
      const candidate = page.records[heads[i]!];
      if (!candidate) continue;
      const current = best >= 0 ? pages[best]!.records[heads[best]!] : undefined;
      if (!current || compare(candidate, current) < 0) best = i;
    }
    if (best < 0) break;
    const page = pages[best]!;
    const node = page.records[heads[best]!]!;
    heads[best]! += 1;
    offsets[page.key] = page.offset + heads[best]!;
    if (node.position) {
      positions[page.key] = node.position;
      withPositions = true;
    } else delete positions[page.key];
    edges.push(new Edge(fp, { ...offsets }, node, withPositions ? { ...positions } : undefined));
  }
  const hasNextPage = pages.some((p, i) => heads[i]! < p.records.length || p.hasMore);
  return {
    totalCount: pages.reduce((sum, p) => sum + p.total, 0),
    edges,
    pageInfo: new PageInfo(edges, hasNextPage, hadCursor),
  };
}
