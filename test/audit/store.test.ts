import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AuditRecorder } from '../../src/audit/recorder';
import { AuditStore, canonicalJson } from '../../src/audit/store';
import { developmentPrincipal } from '../../src/auth/principal';
import { main } from '../../src/cli/main';

function eventFor(i: number) {
  const recorder = new AuditRecorder(`req-${i}`, { ...developmentPrincipal(), clientId: `client-${i % 2}`, subject: `user-${i}` });
  recorder.disclose({ source: 'ehr', type: 'Observation', id: `o${i}`, resource: { resourceType: 'Observation', subject: { reference: 'Patient/p1' } } }, ['p1']);
  return recorder.event('ok', 200);
}

function trail(events: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'hg-audit-unit-'));
  writeFileSync(join(dir, 'config.yaml'), 'sources:\n  - { id: ehr, kind: fhir, url: "http://127.0.0.1:1/fhir" }\n');
  const store = new AuditStore(join(dir, 'audit.sqlite'));
  for (let i = 1; i <= events; i++) store.append(eventFor(i));
  store.close();
  return dir;
}

async function cli(args: string[]): Promise<{ code: number; out: string }> {
  let out = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  try {
    return { code: await main(args), out };
  } finally {
    process.stdout.write = write;
  }
}

describe('the audit trail store', () => {
  it('chains events and finds them by client, patient and outcome', () => {
    const store = new AuditStore(':memory:');
    const stored = [1, 2, 3].map((i) => store.append(eventFor(i)));
    expect(stored[1]!.prevHash).toBe(stored[0]!.hash);
    expect(store.query({ limit: 10, clientId: 'client-1' }).map((e) => e.seq)).toEqual([3, 1]);
    expect(store.query({ limit: 10, patient: 'ehr/Patient/p1' })).toHaveLength(3);
    expect(store.query({ limit: 10, patient: 'ehr/Patient/p' })).toHaveLength(0);
    expect(store.query({ limit: 1, before: 3 }).map((e) => e.seq)).toEqual([2]);
    expect(store.verify()).toEqual({ ok: true, events: 3 });
    store.close();
  });

  it('hashes canonical JSON, whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined, b: null }] })).toBe('{"a":[{"b":null,"d":2}],"b":1}');
  });

  it('refuses updates and deletes', () => {
    const store = new AuditStore(':memory:');
    store.append(eventFor(1));
    const db = (store as unknown as { db: Database.Database }).db;
    expect(() => db.exec('DELETE FROM audit_events')).toThrow(/append-only/);
    expect(() => db.exec("UPDATE audit_events SET client_id = 'x'")).toThrow(/append-only/);
    store.close();
  });

  it('`healthgraph audit verify` passes an intact chain and exits 1 naming the first bad entry', async () => {
    const dir = trail(5);
    const ok = await cli(['audit', 'verify', '--config', join(dir, 'config.yaml')]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/chain intact \(5 events\)/);

    const db = new Database(join(dir, 'audit.sqlite'));
    db.exec('DROP TRIGGER audit_events_no_delete');
    db.exec('DELETE FROM audit_events WHERE seq = 4');
    db.close();
    const bad = await cli(['audit', 'verify', '--config', join(dir, 'config.yaml')]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/chain broken at entry 5: expected entry 4/);
  });

  it('detects an edited index column', async () => {
    const dir = trail(3);
    const db = new Database(join(dir, 'audit.sqlite'));
    db.exec('DROP TRIGGER audit_events_no_update');
    db.exec("UPDATE audit_events SET client_id = 'someone-else' WHERE seq = 2");
    db.close();
    const bad = await cli(['audit', 'verify', '--config', join(dir, 'config.yaml')]);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/entry 2: its index columns do not match/);
  });
});
