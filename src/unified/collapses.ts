/**
 * The two collapses of src/data/collapse.ts the unified patient uses: persons (`patients` lists one
 * Patient per person) and facts (a unified patient's lists and timeline show a fact held by two
 * sources once).
 */
import type { Criterion, SourceRecord } from '../../connectors/types';
import type { DataAccess } from '../data/access';
import type { Collapse, PartRecord } from '../data/collapse';
import type { Part, PartPage } from '../data/connection';
import type { IdentityService } from '../identity/service';
import { dayOf, duplicateAffinity, duplicateKeys } from './duplicates';

function withCriterion(part: Part, suffix: string, criterion: Criterion): Part {
  return {
    key: `${part.key}#${suffix}`,
    source: part.source,
    request: { ...part.request, criteria: [...part.request.criteria, criterion] },
  };
}

function shiftDay(day: string, days: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** A page that holds every record of its part. */
const complete = (page: PartPage | undefined): boolean => page !== undefined && page.offset === 0 && !page.hasMore;

/**
 * Facts: same duplicate key, different sources (src/unified/duplicates.ts); the source that comes
 * first in the identity precedence shows the fact.
 */
export function factCollapse(identity: IdentityService | undefined): Collapse {
  return {
    name: 'facts/1',
    withinSource: false,
    keysOf: duplicateKeys,
    affinity: duplicateAffinity,
    collapsible: (part, parts, pages) =>
      parts.some((p, i) => p.request.type === part.request.type && p.source !== part.source && (pages[i]?.total ?? 1) > 0),
    rankOf: (source) => identity?.precedenceOf(source) ?? 0,
    partners: factPartners,
  };
}

async function factPartners(
  items: readonly PartRecord[],
  parts: readonly Part[],
  loaded: readonly PartPage[],
  data: DataAccess,
): Promise<PartRecord[]> {
  // A type collapses only when a part of it in another source may hold records: one that is not
  // known to be empty (a page from the start with nothing in it).
  const holding = new Map<string, Set<string>>();
  parts.forEach((p, i) => {
    const page = loaded[i];
    if (complete(page) && page!.records.length === 0) return;
    const set = holding.get(p.request.type) ?? new Set<string>();
    set.add(p.source);
    holding.set(p.request.type, set);
  });
  const sourcesOfType = holding;
  const days = new Map<string, { lo: string; hi: string }>();
  for (const { record } of items) {
    if ((sourcesOfType.get(record.type)?.size ?? 0) < 2) continue;
    const day = dayOf(record);
    if (!day) continue;
    const range = days.get(record.type);
    if (!range) days.set(record.type, { lo: day, hi: day });
    else {
      if (day < range.lo) range.lo = day;
      if (day > range.hi) range.hi = day;
    }
  }
  const out: PartRecord[] = [];
  await Promise.all(
    parts.map(async (part, index) => {
      const range = days.get(part.request.type);
      if (!range) return;
      const page = loaded[index];
      if (complete(page)) {
        for (const record of page!.records) out.push({ part: index, record });
        return;
      }
      const window = withCriterion(part, 'window', { param: 'date', range: { from: shiftDay(range.lo, -1), to: shiftDay(range.hi, 1) } });
      const records = (await data.allOf(window).catch(() => undefined)) ?? page?.records ?? [];
      for (const record of records) out.push({ part: index, record });
    }),
  );
  return out;
}

/** Persons: records of one person (in any source, or twice in one source) are one patient. */
export function personCollapse(identity: IdentityService): Collapse {
  const personKey = (r: SourceRecord): string => identity.personOf(r.source, r.id) ?? `record:${r.source}/${r.id}`;
  return {
    name: 'persons/1',
    withinSource: true,
    keysOf: (r) => [personKey(r)],
    prepare: (records) => identity.observe(records),
    async partners(items: readonly PartRecord[], parts: readonly Part[], _loaded: readonly PartPage[], data: DataAccess) {
      const wanted = new Map<string, Set<string>>();
      for (const { record } of items) {
        for (const m of identity.membersOf(record.source, record.id)) {
          if (m.source === record.source && m.recordId === record.id) continue;
          const set = wanted.get(m.source) ?? new Set<string>();
          set.add(m.recordId);
          wanted.set(m.source, set);
        }
      }
      const out: PartRecord[] = [];
      await Promise.all(
        parts.map(async (part, index) => {
          const ids = wanted.get(part.source);
          if (!ids || ids.size === 0) return;
          const records =
            (await data.allOf(withCriterion(part, 'members', { param: '_id', ids: [...ids].sort() })).catch(() => undefined)) ?? [];
          for (const record of records) out.push({ part: index, record });
        }),
      );
      return out;
    },
  };
}
