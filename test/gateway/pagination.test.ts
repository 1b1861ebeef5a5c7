/**
 * Walking Relay connections page by page against the FHIR peer: every record exactly once, totals
 * equal the peer's own, and cursors only work for the list they came from.
 */
import {
  dataOf,
  errorCodes,
  fhirSource,
  fhirUrl,
  gatewayId,
  searchAll,
  searchFhir,
  startGateway,
  type TestGateway,
} from '../support/services';

interface Page {
  totalCount: number;
  edges: { cursor: string; node: { id: string; source: { recordId: string } } }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
}

let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway([fhirSource('ehr', fhirUrl())]);
});

afterAll(async () => {
  await gw?.close();
});

/** Follows `endCursor` until `hasNextPage` is false; returns the pages seen. */
async function walk(
  fetchPage: (after: string | null) => Promise<{ page: Page; upstream: number }>,
): Promise<{ pages: Page[]; upstream: number[] }> {
  const pages: Page[] = [];
  const upstream: number[] = [];
  let after: string | null = null;
  for (let i = 0; i < 500; i++) {
    const { page, upstream: n } = await fetchPage(after);
    pages.push(page);
    upstream.push(n);
    if (!page.pageInfo.hasNextPage) return { pages, upstream };
    expect(page.pageInfo.endCursor).toEqual(page.edges[page.edges.length - 1]!.cursor);
    after = page.pageInfo.endCursor;
  }
  throw new Error('more than 500 pages');
}

const recordIds = (pages: Page[]): string[] => pages.flatMap((p) => p.edges.map((e) => e.node.source.recordId));
const PAGE = 'totalCount edges { cursor node { id source { recordId } } } pageInfo { hasNextPage hasPreviousPage endCursor }';

describe('walking patients with first/after', () => {
  it('visits every patient exactly once, one upstream request per page', async () => {
    const expected = (await searchAll('Patient')).map((p) => p.id).sort();
    const { pages, upstream } = await walk(async (after) => {
      const result = await gw.query(`query($after: String) { patients(first: 7, after: $after) { ${PAGE} } }`, { after });
      return { page: dataOf<{ patients: Page }>(result).patients, upstream: result.upstream };
    });
    const seen = recordIds(pages);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(expected);
    expect(pages).toHaveLength(Math.ceil(expected.length / 7));
    for (const page of pages) expect(page.totalCount).toBe(expected.length);
    expect(pages[0]!.pageInfo.hasPreviousPage).toBe(false);
    expect(pages[1]!.pageInfo.hasPreviousPage).toBe(true);
    expect(pages[pages.length - 1]!.pageInfo.hasNextPage).toBe(false);
    expect(upstream.every((n) => n === 1)).toBe(true);
  });

  it('a filtered, ordered walk gives the peer’s matches in birth-date order', async () => {
    const female = await searchAll('Patient', { gender: 'female' });
    const { pages } = await walk(async (after) => {
      const result = await gw.query(
        `query($after: String) { patients(first: 5, after: $after, filter: { gender: FEMALE }, orderBy: { field: BIRTH_DATE, direction: DESC }) { ${PAGE} edges { node { birthDate } } } }`,
        { after },
      );
      return { page: dataOf<{ patients: Page }>(result).patients, upstream: result.upstream };
    });
    const seen = recordIds(pages);
    expect([...seen].sort()).toEqual(female.map((p) => p.id).sort());
    const birthDates = pages.flatMap((p) => p.edges.map((e) => (e.node as unknown as { birthDate: string }).birthDate));
    expect(birthDates).toEqual([...birthDates].sort().reverse());
    expect(pages[0]!.totalCount).toBe(female.length);
  });

  it('first: 0 gives the total and no edges', async () => {
    const { total } = await searchFhir('Patient', { _total: 'accurate', _count: '1' });
    const data = dataOf<{ patients: Page }>(await gw.query(`{ patients(first: 0) { ${PAGE} } }`));
    expect(data.patients.totalCount).toBe(total);
    expect(data.patients.edges).toEqual([]);
    expect(data.patients.pageInfo.hasNextPage).toBe(true);
  });
});

describe('walking a patient’s observations', () => {
  it('visits each of the patient’s observations exactly once and totalCount is the peer’s _total', async () => {
    const [patient] = (await searchFhir('Patient', { _count: '1', _sort: 'family' })).resources;
    const observations = await searchAll('Observation', { patient: patient!.id });
    const { total } = await searchFhir('Observation', { patient: patient!.id, _total: 'accurate', _count: '1' });
    expect(observations.length).toBeGreaterThan(60);
    const id = gatewayId('ehr', 'Patient', patient!.id);
    const { pages } = await walk(async (after) => {
      const result = await gw.query(
        `query($id: ID!, $after: String) { patient(id: $id) { observations(first: 40, after: $after) { ${PAGE} edges { node { effectiveDateTime } } } } }`,
        { id, after },
      );
      return { page: dataOf<{ patient: { observations: Page } }>(result).patient.observations, upstream: result.upstream };
    });
    const seen = recordIds(pages);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...seen].sort()).toEqual(observations.map((o) => o.id).sort());
    expect(pages[0]!.totalCount).toBe(total);
    expect(pages[pages.length - 1]!.pageInfo.hasNextPage).toBe(false);
    // newest first by default
    const dates = pages.flatMap((p) =>
      p.edges.map((e) => Date.parse((e.node as unknown as { effectiveDateTime: string }).effectiveDateTime)),
    );
    expect(dates).toEqual([...dates].sort((a, b) => b - a));
  });

  it('a filtered list’s totalCount is the peer’s total for the same search', async () => {
    const [patient] = (await searchFhir('Patient', { _count: '1', _sort: 'family' })).resources;
    const { total } = await searchFhir('Observation', {
      patient: patient!.id,
      code: 'http://loinc.org|8302-2',
      _total: 'accurate',
      _count: '1',
    });
    const data = dataOf<{ patient: { observations: Page } }>(
      await gw.query(
        `query($id: ID!) { patient(id: $id) { observations(first: 2, filter: { code: "http://loinc.org|8302-2" }) { ${PAGE} } } }`,
        { id: gatewayId('ehr', 'Patient', patient!.id) },
      ),
    );
    expect(total).toBeGreaterThan(2);
    expect(data.patient.observations.totalCount).toBe(total);
    expect(data.patient.observations.edges).toHaveLength(2);
    expect(data.patient.observations.pageInfo.hasNextPage).toBe(true);
  });
});

describe('cursors', () => {
  it('a cursor used with a different filter is rejected with BAD_USER_INPUT', async () => {
    const first = dataOf<{ patients: Page }>(await gw.query(`{ patients(first: 3, filter: { gender: MALE }) { ${PAGE} } }`));
    const cursor = first.patients.pageInfo.endCursor;
    const result = await gw.query(`query($after: String) { patients(first: 3, after: $after, filter: { gender: FEMALE }) { ${PAGE} } }`, {
      after: cursor,
    });
    expect(errorCodes(result.body)).toEqual(['BAD_USER_INPUT']);
    expect(result.body.errors![0]!.message).toMatch(/different list, filter or order/);
    expect(result.body.data).toEqual({ patients: null });
  });

  it('a cursor used with a different order is rejected too', async () => {
    const first = dataOf<{ patients: Page }>(await gw.query(`{ patients(first: 3) { ${PAGE} } }`));
    const result = await gw.query(
      `query($after: String) { patients(first: 3, after: $after, orderBy: { field: BIRTH_DATE }) { ${PAGE} } }`,
      { after: first.patients.pageInfo.endCursor },
    );
    expect(errorCodes(result.body)).toEqual(['BAD_USER_INPUT']);
  });

  it.each(['garbage', 'eyJ9', Buffer.from('{"f":"x","o":{"ehr:Patient":-5}}').toString('base64url')])(
    'a garbage cursor (%s) is rejected with BAD_USER_INPUT naming "after"',
    async (after) => {
      const result = await gw.query(`query($after: String) { patients(first: 3, after: $after) { ${PAGE} } }`, { after });
      expect(result.status).toBe(200);
      expect(errorCodes(result.body)).toEqual(['BAD_USER_INPUT']);
      expect(result.body.errors![0]!.extensions).toMatchObject({ argument: 'after' });
      expect(result.upstream).toBe(0);
    },
  );
});
