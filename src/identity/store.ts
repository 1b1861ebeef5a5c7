/**
 * The link store: what the index must remember between runs — every record's standardized form and
 * person id, the links (pairs graded possible or better, with their explanation), and the manual
 * decisions with who, when and why (an append-only audit log; the latest decision on a pair wins).
 *
 * `LinkStore` is the interface (a MongoDB-backed store implements the same four collections:
 * records, links, decisions, meta); `MemoryLinkStore` keeps everything in maps (tests, one-shot runs);
 * `SqliteLinkStore` is the default, an embedded SQLite file next to the config file.
 */
import Database from 'better-sqlite3';
import type { MatchExplanation } from './match';
import type { Grade, MatchRecord, RecordKey } from './types';

export interface StoredRecord {
  source: string;
  recordId: string;
  personId: string;
  record: MatchRecord;
}

export interface StoredLink {
  a: RecordKey;
  b: RecordKey;
  grade: Grade;
  score: number;
  explanation?: MatchExplanation;
}

export interface ManualDecision {
  a: RecordKey;
  b: RecordKey;
  action: 'link' | 'unlink';
  by: string;
  /** ISO instant. */
  at: string;
  reason: string;
}

export interface LinkStore {
  loadRecords(): Promise<StoredRecord[]>;
  loadLinks(): Promise<StoredLink[]>;
  /** Every decision ever made, oldest first. */
  loadDecisions(): Promise<ManualDecision[]>;
  /** Replaces everything but the decisions (a full build). */
  replaceAll(records: StoredRecord[], links: StoredLink[]): Promise<void>;
  /** Upserts records and replaces the links touching `touched` with `links` (an incremental change). */
  update(records: StoredRecord[], touched: RecordKey[], links: StoredLink[]): Promise<void>;
  appendDecision(decision: ManualDecision): Promise<void>;
  close(): Promise<void>;
}

export function keyOf(key: RecordKey): string {
  return `${key.source}\u0000${key.recordId}`;
}

export class MemoryLinkStore implements LinkStore {
  private records = new Map<string, StoredRecord>();
  private links = new Map<string, StoredLink>();
  private readonly decisions: ManualDecision[] = [];

  async loadRecords(): Promise<StoredRecord[]> {
    return [...this.records.values()].map((r) => structuredClone(r));
  }

  async loadLinks(): Promise<StoredLink[]> {
    return [...this.links.values()].map((l) => structuredClone(l));
  }

  async loadDecisions(): Promise<ManualDecision[]> {
    return this.decisions.map((d) => ({ ...d }));
  }

  async replaceAll(records: StoredRecord[], links: StoredLink[]): Promise<void> {
    this.records = new Map(records.map((r) => [keyOf(r), structuredClone(r)]));
    this.links = new Map(links.map((l) => [`${keyOf(l.a)}\u0001${keyOf(l.b)}`, structuredClone(l)]));
  }

  async update(records: StoredRecord[], touched: RecordKey[], links: StoredLink[]): Promise<void> {
    for (const r of records) this.records.set(keyOf(r), structuredClone(r));
    const gone = new Set(touched.map(keyOf));
    for (const [k, l] of this.links) if (gone.has(keyOf(l.a)) || gone.has(keyOf(l.b))) this.links.delete(k);
    for (const l of links) this.links.set(`${keyOf(l.a)}\u0001${keyOf(l.b)}`, structuredClone(l));
  }

  async appendDecision(decision: ManualDecision): Promise<void> {
    this.decisions.push({ ...decision });
  }

  async close(): Promise<void> {}
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS records (
  source TEXT NOT NULL, record_id TEXT NOT NULL, person_id TEXT NOT NULL, record TEXT NOT NULL,
  PRIMARY KEY (source, record_id));
CREATE INDEX IF NOT EXISTS records_person ON records (person_id);
CREATE TABLE IF NOT EXISTS links (
  a_source TEXT NOT NULL, a_record TEXT NOT NULL, b_source TEXT NOT NULL, b_record TEXT NOT NULL,
  grade TEXT NOT NULL, score REAL NOT NULL, explanation TEXT,
  PRIMARY KEY (a_source, a_record, b_source, b_record));
CREATE INDEX IF NOT EXISTS links_b ON links (b_source, b_record);
CREATE TABLE IF NOT EXISTS decisions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, a_source TEXT NOT NULL, a_record TEXT NOT NULL,
  b_source TEXT NOT NULL, b_record TEXT NOT NULL, action TEXT NOT NULL CHECK (action IN ('link', 'unlink')),
  by TEXT NOT NULL, at TEXT NOT NULL, reason TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

interface LinkRow {
  a_source: string;
  a_record: string;
  b_source: string;
  b_record: string;
  grade: Grade;
  score: number;
  explanation: string | null;
}

/** The link store in an embedded SQLite database (WAL mode; one writer, the gateway or the CLI). */
export class SqliteLinkStore implements LinkStore {
  private readonly db: Database.Database;

  constructor(readonly file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(SCHEMA);
    this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', '1')").run();
  }

  async loadRecords(): Promise<StoredRecord[]> {
    const rows = this.db.prepare('SELECT source, record_id, person_id, record FROM records').all() as {
      source: string;
      record_id: string;
      person_id: string;
      record: string;
    }[];
    return rows.map((r) => ({ source: r.source, recordId: r.record_id, personId: r.person_id, record: JSON.parse(r.record) as MatchRecord }));
  }

  async loadLinks(): Promise<StoredLink[]> {
    const rows = this.db.prepare('SELECT * FROM links').all() as LinkRow[];
    return rows.map((r) => {
      const link: StoredLink = {
        a: { source: r.a_source, recordId: r.a_record },
        b: { source: r.b_source, recordId: r.b_record },
        grade: r.grade,
        score: r.score,
      };
      if (r.explanation) link.explanation = JSON.parse(r.explanation) as MatchExplanation;
      return link;
    });
  }

  async loadDecisions(): Promise<ManualDecision[]> {
    const rows = this.db.prepare('SELECT * FROM decisions ORDER BY seq').all() as {
      a_source: string;
      a_record: string;
      b_source: string;
      b_record: string;
      action: 'link' | 'unlink';
      by: string;
      at: string;
      reason: string;
    }[];
    return rows.map((r) => ({
      a: { source: r.a_source, recordId: r.a_record },
      b: { source: r.b_source, recordId: r.b_record },
      action: r.action,
      by: r.by,
      at: r.at,
      reason: r.reason,
    }));
  }

  private insertRecords(records: StoredRecord[]): void {
    const insert = this.db.prepare('INSERT OR REPLACE INTO records (source, record_id, person_id, record) VALUES (?, ?, ?, ?)');
    for (const r of records) insert.run(r.source, r.recordId, r.personId, JSON.stringify(r.record));
  }

  private insertLinks(links: StoredLink[]): void {
    const insert = this.db.prepare('INSERT OR REPLACE INTO links VALUES (?, ?, ?, ?, ?, ?, ?)');
    for (const l of links) {
      insert.run(l.a.source, l.a.recordId, l.b.source, l.b.recordId, l.grade, l.score, l.explanation ? JSON.stringify(l.explanation) : null);
    }
  }

  async replaceAll(records: StoredRecord[], links: StoredLink[]): Promise<void> {
    this.db.transaction(() => {
      this.db.exec('DELETE FROM records; DELETE FROM links;');
      this.insertRecords(records);
      this.insertLinks(links);
    })();
  }

  async update(records: StoredRecord[], touched: RecordKey[], links: StoredLink[]): Promise<void> {
    const deleteA = this.db.prepare('DELETE FROM links WHERE a_source = ? AND a_record = ?');
    const deleteB = this.db.prepare('DELETE FROM links WHERE b_source = ? AND b_record = ?');
    this.db.transaction(() => {
      this.insertRecords(records);
      for (const k of touched) {
        deleteA.run(k.source, k.recordId);
        deleteB.run(k.source, k.recordId);
      }
      this.insertLinks(links);
    })();
  }

  async appendDecision(d: ManualDecision): Promise<void> {
    this.db
      .prepare('INSERT INTO decisions (a_source, a_record, b_source, b_record, action, by, at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(d.a.source, d.a.recordId, d.b.source, d.b.recordId, d.action, d.by, d.at, d.reason);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
