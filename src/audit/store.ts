/**
 * The audit trail: an append-only, hash-chained table in an embedded SQLite file.
 *
 * Each row holds the event as canonical JSON and `hash = sha256(prev_hash || seq || json)`, where
 * `prev_hash` is the previous row's hash (64 zeros for the first). Triggers refuse UPDATE and
 * DELETE; anything that edits the file by other means breaks the chain, and `verify` names the
 * first row that does not add up. Appends run in an IMMEDIATE transaction, so several gateway
 * processes sharing one file still build one chain.
 */
import { createHash } from 'node:crypto';
import Database from 'better-sqlite3';
import type { AuditEventInput } from './recorder';

export const GENESIS = '0'.repeat(64);

export interface StoredEvent {
  seq: number;
  time: string;
  hash: string;
  prevHash: string;
  event: AuditEventInput;
}

export interface AuditQuery {
  clientId?: string;
  subject?: string;
  /** `source/Patient/id`. */
  patient?: string;
  since?: string;
  until?: string;
  outcome?: string;
  breakTheGlass?: boolean;
  limit: number;
  /** Events with a smaller seq (paging backwards from the newest). */
  before?: number;
}

export interface VerifyResult {
  ok: boolean;
  events: number;
  /** The first row whose hash or link does not add up. */
  firstBad?: { seq: number; problem: string };
}

/** Canonical JSON: keys sorted at every level, so the hash does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    // Lists of ids are most of a wide answer's event: JSON.stringify writes them the same way.
    if (value.every((v) => typeof v === 'string')) return JSON.stringify(value);
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function chainHash(prevHash: string, seq: number, json: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(String(seq)).update('\n').update(json).digest('hex');
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_events (
  seq INTEGER PRIMARY KEY,
  time TEXT NOT NULL,
  client_id TEXT,
  subject TEXT,
  outcome TEXT NOT NULL,
  btg INTEGER NOT NULL,
  patients TEXT NOT NULL,
  event TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events(time);
CREATE INDEX IF NOT EXISTS audit_events_client ON audit_events(client_id);
CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
`;

interface Row {
  seq: number;
  client_id?: string | null;
  subject?: string | null;
  outcome?: string;
  btg?: number;
  patients?: string;
  time: string;
  event: string;
  prev_hash: string;
  hash: string;
}

export class AuditStore {
  private readonly db: Database.Database;
  private readonly appendTx: Database.Transaction<(event: AuditEventInput) => StoredEvent>;

  /** `file` is a path, or `:memory:` (tests and development without a config file). */
  constructor(readonly file: string) {
    this.db = new Database(file);
    if (file !== ':memory:') this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
    const last = this.db.prepare<[], { seq: number; hash: string }>('SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1');
    const insert = this.db.prepare(
      'INSERT INTO audit_events (seq, time, client_id, subject, outcome, btg, patients, event, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.appendTx = this.db.transaction((event: AuditEventInput): StoredEvent => {
      const previous = last.get();
      const seq = (previous?.seq ?? 0) + 1;
      const prevHash = previous?.hash ?? GENESIS;
      const json = canonicalJson(event);
      const hash = chainHash(prevHash, seq, json);
      insert.run(seq, event.time, event.clientId ?? null, event.subject ?? null, event.outcome, event.breakTheGlass ? 1 : 0, `|${event.patients.join('|')}|`, json, prevHash, hash);
      return { seq, time: event.time, hash, prevHash, event };
    });
  }

  append(event: AuditEventInput): StoredEvent {
    return this.appendTx.immediate(event);
  }

  query(q: AuditQuery): StoredEvent[] {
    const where: string[] = [];
    const params: (string | number)[] = [];
    const add = (clause: string, value: string | number | undefined): void => {
      if (value === undefined) return;
      where.push(clause);
      params.push(value);
    };
    add('client_id = ?', q.clientId);
    add('subject = ?', q.subject);
    add("patients LIKE ? ESCAPE '\\'", q.patient === undefined ? undefined : `%|${q.patient.replace(/[\\%_]/g, (c) => `\\${c}`)}|%`);
    add('time >= ?', q.since);
    add('time <= ?', q.until);
    add('outcome = ?', q.outcome);
    add('btg = ?', q.breakTheGlass === undefined ? undefined : q.breakTheGlass ? 1 : 0);
    add('seq < ?', q.before);
    const sql = `SELECT seq, time, event, prev_hash, hash FROM audit_events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    const rows = this.db.prepare<(string | number)[], Row>(sql).all(...params, q.limit);
    return rows.map((r) => ({ seq: r.seq, time: r.time, hash: r.hash, prevHash: r.prev_hash, event: JSON.parse(r.event) as AuditEventInput }));
  }

  /** Walks the whole chain; stops at the first row whose link or hash does not add up. */
  verify(): VerifyResult {
    let prev = GENESIS;
    let expectedSeq = 1;
    let count = 0;
    const rows = this.db.prepare<[], Row>('SELECT seq, time, client_id, subject, outcome, btg, patients, event, prev_hash, hash FROM audit_events ORDER BY seq');
    for (const row of rows.iterate()) {
      if (row.seq !== expectedSeq) return { ok: false, events: count, firstBad: { seq: row.seq, problem: `expected entry ${expectedSeq}: entries are missing` } };
      if (row.prev_hash !== prev) return { ok: false, events: count, firstBad: { seq: row.seq, problem: 'its link to the previous entry does not match' } };
      let json: string;
      try {
        json = canonicalJson(JSON.parse(row.event));
      } catch {
        return { ok: false, events: count, firstBad: { seq: row.seq, problem: 'its event is not valid JSON' } };
      }
      if (json !== row.event || chainHash(prev, row.seq, row.event) !== row.hash) {
        return { ok: false, events: count, firstBad: { seq: row.seq, problem: 'its content does not match its hash' } };
      }
      const event = JSON.parse(row.event) as AuditEventInput;
      const columns = [row.time === event.time, (row.client_id ?? undefined) === event.clientId, (row.subject ?? undefined) === event.subject, row.outcome === event.outcome, row.btg === (event.breakTheGlass ? 1 : 0), row.patients === `|${event.patients.join('|')}|`];
      if (columns.includes(false)) return { ok: false, events: count, firstBad: { seq: row.seq, problem: 'its index columns do not match its event' } };
      prev = row.hash;
      expectedSeq++;
      count++;
    }
    return { ok: true, events: count };
  }

  close(): void {
    this.db.close();
  }
}
