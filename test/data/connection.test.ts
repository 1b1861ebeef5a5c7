import type { Position, SourceRecord } from '../../connectors/types';
import { mergePages, type PartPage } from '../../src/data/connection';
import { decodeCursorState } from '../../src/data/cursor';

const record = (source: string, id: string, date: string, position?: Position): SourceRecord => ({
  source,
  type: 'Encounter',
  id,
  resource: { resourceType: 'Encounter', id, period: { start: date } },
  ...(position ? { position } : {}),
});

const sort = [{ field: 'date' as const, direction: 'desc' as const }];
const fp = 'fp-test';

/** Two parts merged by date, newest first: ehr pages by keyset (positions), lake by offset; ehr resumes after a cursor. */
function twoParts(): PartPage[] {
  return [
    {
      key: 'ehr',
      offset: 2,
      records: [record('ehr', 'e3', '2020-05-01', ['2020-05-01', 'e3']), record('ehr', 'e4', '2020-03-01', ['2020-03-01', 'e4'])],
      hasMore: true,
      total: 10,
    },
    { key: 'lake', offset: 0, records: [record('lake', 'l1', '2020-04-01'), record('lake', 'l2', '2020-02-01')], hasMore: false, total: 2 },
  ];
}

describe('merged connection pages', () => {
  it('merge the parts in sort order and say whether more follow', () => {
    const page = mergePages(twoParts(), sort, 3, fp, true, { ehr: ['2020-06-01', 'e2'] });
    expect(page.edges.map((e) => e.node.id)).toEqual(['e3', 'l1', 'e4']);
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect(page.totalCount).toBe(12);
  });

  it("give each edge the parts' offsets and keyset positions after it, whatever order the cursors are read in", () => {
    const expected = [
      { offsets: { ehr: 3, lake: 0 }, positions: { ehr: ['2020-05-01', 'e3'] } },
      { offsets: { ehr: 3, lake: 1 }, positions: { ehr: ['2020-05-01', 'e3'] } },
      { offsets: { ehr: 4, lake: 1 }, positions: { ehr: ['2020-03-01', 'e4'] } },
      { offsets: { ehr: 4, lake: 2 }, positions: { ehr: ['2020-03-01', 'e4'] } },
    ];
    for (const order of [
      [0, 1, 2, 3],
      [3, 0, 1, 2],
      [2, 2, 0, 3, 1],
    ]) {
      const page = mergePages(twoParts(), sort, 4, fp, true, { ehr: ['2020-06-01', 'e2'] });
      for (const i of order) expect(decodeCursorState(page.edges[i]!.cursor, fp)).toEqual(expected[i]);
      expect(page.pageInfo.endCursor).toBe(page.edges[3]!.cursor);
      expect(page.pageInfo.startCursor).toBe(page.edges[0]!.cursor);
    }
  });

  it('keep the start position of a part that has not moved yet, and carry no positions when no part pages by keyset', () => {
    const page = mergePages(twoParts(), sort, 4, fp, true, { ehr: ['2020-06-01', 'e2'] });
    const lakeFirst = mergePages([twoParts()[1]!, { ...twoParts()[0]!, records: [] }], sort, 1, fp, true, { ehr: ['2020-06-01', 'e2'] });
    expect(decodeCursorState(lakeFirst.edges[0]!.cursor, fp)).toEqual({ offsets: { lake: 1, ehr: 2 }, positions: { ehr: ['2020-06-01', 'e2'] } });
    const offsetsOnly = mergePages([twoParts()[1]!], sort, 2, fp, false);
    expect(decodeCursorState(offsetsOnly.edges[1]!.cursor, fp)).toEqual({ offsets: { lake: 2 }, positions: {} });
    expect(page.edges).toHaveLength(4);
  });

  it('a page of one part takes its records in their order, at most `first`', () => {
    const page = mergePages([twoParts()[1]!], sort, 1, fp, false);
    expect(page.edges.map((e) => e.node.id)).toEqual(['l1']);
    expect(page.pageInfo.hasNextPage).toBe(true);
    expect(decodeCursorState(page.pageInfo.endCursor, fp)).toEqual({ offsets: { lake: 1 }, positions: {} });
  });
});
