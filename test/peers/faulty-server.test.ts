/// <reference types="jest" />
// tsconfig.build.json compiles test/peers (with node types only); this keeps the test compiling there.
import type { FaultyServer } from './faulty-server';
import { startFaultyServer } from './faulty-server';
import type { FhirServer } from './fhir-server';
import { startFhirServer } from './fhir-server';

let fhir: FhirServer;
let faulty: FaultyServer;

beforeAll(async () => {
  fhir = await startFhirServer({ port: 0, demo: 3, warmGraphql: false });
  faulty = await startFaultyServer({ port: 0, upstream: fhir.url });
}, 60_000);

afterAll(async () => {
  await faulty.close();
  await fhir.close();
});

describe('the faulty FHIR peer', () => {
  it('proxies and rewrites next links to come back through the same prefix', async () => {
    const res = await fetch(`${faulty.base('slow/10')}/Patient?_count=1`);
    const body = (await res.json()) as { link: { relation: string; url: string }[] };
    const next = body.link.find((l) => l.relation === 'next')?.url;
    expect(next?.startsWith(`${faulty.base('slow/10')}/Patient?`)).toBe(true);
    expect((await fetch(next as string)).status).toBe(200);
  });

  it('answers an injected status with an OperationOutcome', async () => {
    const res = await fetch(`${faulty.base('fail/503')}/Patient`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
  });

  it('throttles the first n requests of a key with Retry-After, then recovers', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${faulty.base('flaky/t1/2/3')}/Patient?_count=1`);
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get('retry-after')).toBe('3');
      }
      await res.arrayBuffer();
    }
    expect(statuses).toEqual([429, 429, 200]);
    const stats = (await (await fetch(`${faulty.url}/__stats?key=t1`)).json()) as { requests: number };
    expect(stats.requests).toBe(3);
  });

  it('returns invalid JSON on garbage and drops the connection on reset', async () => {
    const garbage = await fetch(`${faulty.base('garbage')}/Patient`);
    expect(garbage.status).toBe(200);
    await expect(garbage.json()).rejects.toThrow();
    await expect(fetch(`${faulty.base('reset')}/Patient`)).rejects.toThrow();
  });
});
