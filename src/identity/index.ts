/**
 * The master patient index: one person across every source.
 *
 * ```ts
 * const index = await PatientIndex.open(new SqliteLinkStore('healthgraph-links.db'));
 * index.addRecords(records);                    // SourceRecord-like: { source, id, resource }
 * const report = await index.build(onProgress); // block, score, cluster, persist
 * index.personOf('ehr', '123');                 // → 'p3f2…' (stable across builds)
 * index.recordsOf(personId);                    // → [{ source, recordId, grade, score, basis }]
 * index.match(fhirPatient);                     // → candidates with grade, score and explanation
 * await index.linkRecord(changedRecord);        // incremental: re-links only what it touches
 * await index.link(a, b, 'admin@x', 'same MRN on paper chart');  // manual, audited, wins
 * await index.unlink(a, b, 'admin@x', 'twins');
 * ```
 *
 * Pipeline: `standardize.ts` (FHIR Patient → MatchRecord) → `table.ts` (columnar, interned) →
 * `blocking.ts` (candidate pairs) → `match.ts` (deterministic + Fellegi–Sunter, grades, explanations;
 * `em.ts` estimates weights) → `links.ts` (guarded clustering of certain links) → `store.ts`
 * (persistence). Only `certain` links merge records into one person; `probable` ones are listed by
 * `reviewQueue()` for a person to decide with `link`/`unlink`. See docs/identity.md.
 */
import { createHash } from 'node:crypto';
import { BlockIndex, DEFAULT_RULES, forEachCandidatePair, type BlockingOptions, type BlockingStats } from './blocking';
import { estimateU, estimateWeights, PatternCounts, type EmResult } from './em';
import { cluster, EdgeList, identity, linkAll, RANK, type ClusterStats } from './links';
import { Comparator, type MatchExplanation, type MatchOptions } from './match';
import { keyOf, type LinkStore, type ManualDecision, type StoredLink, type StoredRecord } from './store';
import { standardizePatient } from './standardize';
import { RecordTable } from './table';
import type { Grade, MatchRecord, RecordKey } from './types';

export type PersonId = string;

/** A source record to index: the gateway's SourceRecord fits (`id` is the source's record id). */
export interface PatientRecordRef {
  source: string;
  id: string;
  resource: Record<string, unknown>;
}

export interface LinkedRecord extends RecordKey {
  /** The strongest link that holds this record in its person (`certain` for a record alone). */
  grade: Grade;
  score?: number;
  basis: 'self' | 'auto' | 'identifier' | 'manual';
}

export interface Candidate extends RecordKey {
  personId: PersonId;
  grade: Grade;
  score: number;
  explanation: MatchExplanation;
}

export interface BuildReport {
  records: number;
  persons: number;
  blocking: BlockingStats;
  grades: { certain: number; probable: number; possible: number };
  clustering: ClusterStats;
  estimation?: EmResult;
  seconds: number;
  recordsPerSecond: number;
}

export interface BuildProgress {
  phase: 'estimate' | 'compare' | 'cluster' | 'persist';
  done: number;
  total: number;
}

export interface PatientIndexOptions {
  match?: MatchOptions;
  blocking?: BlockingOptions;
  /** `configured` (default): the weights of `match.weights` or the defaults; `estimated`: EM on the candidate pairs at each build. */
  weights?: 'configured' | 'estimated';
}

interface Neighbour {
  other: number;
  score: number;
  rank: number;
  identifier: boolean;
}

const GRADE_OF_RANK: Grade[] = ['certainly-not', 'possible', 'probable', 'certain'];

export class PatientIndex {
  readonly table = new RecordTable();
  readonly comparator: Comparator;
  private readonly blockIndex: BlockIndex;
  private readonly rowOfKey = new Map<string, number>();
  private readonly records: (MatchRecord | undefined)[] = [];
  private root: Int32Array = new Int32Array(0);
  private readonly personOfRow = new Map<number, PersonId>();
  private readonly rowsOfPerson = new Map<PersonId, number[]>();
  private readonly neighbours = new Map<number, Neighbour[]>();
  private readonly decisions = new Map<string, ManualDecision>();
  private readonly auditLog: ManualDecision[] = [];

  private constructor(
    private readonly store: LinkStore,
    private readonly options: PatientIndexOptions,
  ) {
    this.comparator = new Comparator(this.table, options.match);
    this.blockIndex = new BlockIndex(this.table, options.blocking?.rules ?? DEFAULT_RULES, options.blocking?.maxBlockSize ?? 400);
  }

  /** Opens an index over a store, restoring records, person ids, links and manual decisions. */
  static async open(store: LinkStore, options: PatientIndexOptions = {}): Promise<PatientIndex> {
    const index = new PatientIndex(store, options);
    for (const d of await store.loadDecisions()) index.recordDecision(d);
    const rows: number[] = [];
    for (const stored of await store.loadRecords()) {
      const row = index.addRow(stored.record);
      index.personOfRow.set(row, stored.personId);
      rows.push(row);
    }
    index.growRoot();
    for (const link of await store.loadLinks()) {
      const a = index.rowOfKey.get(keyOf(link.a));
      const b = index.rowOfKey.get(keyOf(link.b));
      if (a === undefined || b === undefined) continue;
      const identifier = link.explanation?.notes.includes('identifier') ?? false;
      index.addNeighbour(a, b, link.score, RANK[link.grade === 'certainly-not' ? 'certainlyNot' : link.grade], identifier);
    }
    for (const row of rows) {
      const person = index.personOfRow.get(row) as PersonId;
      const list = index.rowsOfPerson.get(person);
      if (list) list.push(row);
      else index.rowsOfPerson.set(person, [row]);
    }
    for (const list of index.rowsOfPerson.values()) for (const row of list) index.root[row] = list[0] as number;
    index.blockIndex.rebuild(rows);
    return index;
  }

  /** Stages records for the next `build` (standardized now; a record already held with the same content is skipped). */
  addRecords(records: readonly PatientRecordRef[]): void {
    for (const ref of records) this.stage(ref);
    this.growRoot();
  }

  private stage(ref: PatientRecordRef): number | undefined {
    const record = standardizePatient(ref.source, ref.id, ref.resource);
    const key = keyOf(record);
    const old = this.rowOfKey.get(key);
    if (old !== undefined && JSON.stringify(this.records[old]) === JSON.stringify(record)) return undefined;
    if (old !== undefined) this.table.alive[old] = 0;
    return this.addRow(record);
  }

  private addRow(record: MatchRecord): number {
    const row = this.table.add(record);
    this.records[row] = record;
    this.rowOfKey.set(keyOf(record), row);
    return row;
  }

  private growRoot(): void {
    if (this.root.length >= this.table.length) return;
    const next = identity(Math.max(this.table.length, this.root.length * 2));
    next.set(this.root);
    this.root = next;
  }

  private liveRows(): Int32Array {
    const rows: number[] = [];
    for (let r = 0; r < this.table.length; r++) if (this.table.alive[r] === 1) rows.push(r);
    return Int32Array.from(rows);
  }

  /** Links everything held: estimate weights (optional), block, score, cluster, assign person ids, persist. */
  async build(onProgress: (p: BuildProgress) => void = () => {}): Promise<BuildReport> {
    const started = performance.now();
    const rows = this.liveRows();
    let estimation: EmResult | undefined;
    if (this.options.weights === 'estimated') {
      onProgress({ phase: 'estimate', done: 0, total: rows.length });
      estimation = this.estimate(rows);
      this.comparator.setWeights(estimation.weights);
    }
    onProgress({ phase: 'compare', done: 0, total: rows.length });
    const { edges, blocking, grades } = linkAll(this.comparator, rows, this.options.blocking);
    onProgress({ phase: 'cluster', done: rows.length, total: rows.length });
    this.neighbours.clear();
    for (let e = 0; e < edges.length; e++) {
      const a = edges.a[e] as number;
      const b = edges.b[e] as number;
      this.comparator.compare(a, b);
      this.addNeighbour(a, b, edges.score[e] as number, edges.rank[e] as number, this.comparator.sharedIdentifier);
    }
    this.root = identity(this.table.length);
    const { stats } = cluster(this.comparator, edges, undefined, this.constraints(), this.root);
    this.assignPersons(Array.from(rows));
    this.blockIndex.rebuild(rows);
    onProgress({ phase: 'persist', done: rows.length, total: rows.length });
    await this.store.replaceAll(this.storedRecords(rows), this.storedLinks(rows));
    const seconds = (performance.now() - started) / 1000;
    return {
      records: rows.length,
      persons: new Set(Array.from(rows, (r) => this.personOfRow.get(r))).size,
      blocking,
      grades,
      clustering: stats,
      ...(estimation ? { estimation } : {}),
      seconds,
      recordsPerSecond: rows.length / Math.max(seconds, 1e-9),
    };
  }

  /** EM on the candidate pairs, with u measured on random pairs. */
  private estimate(rows: Int32Array): EmResult {
    const base = estimateU(this.comparator, rows, Math.min(200_000, rows.length * 20), this.comparator.weightConfig);
    const patterns = new PatternCounts();
    forEachCandidatePair(this.table, rows, (i, j) => {
      this.comparator.compare(i, j);
      patterns.add(this.comparator.levels);
    }, this.options.blocking);
    return estimateWeights(patterns, base, { fixU: true, lambda: 0.3 });
  }

  private addNeighbour(a: number, b: number, score: number, rank: number, identifier: boolean): void {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const list = this.neighbours.get(x);
      const entry = { other: y, score, rank, identifier };
      if (!list) this.neighbours.set(x, [entry]);
      else {
        const k = list.findIndex((n) => n.other === y);
        if (k >= 0) list[k] = entry;
        else list.push(entry);
      }
    }
  }

  private constraints(): { links: [number, number][]; unlinks: [number, number][] } {
    const links: [number, number][] = [];
    const unlinks: [number, number][] = [];
    for (const d of this.decisions.values()) {
      const a = this.rowOfKey.get(keyOf(d.a));
      const b = this.rowOfKey.get(keyOf(d.b));
      if (a === undefined || b === undefined || this.table.alive[a] !== 1 || this.table.alive[b] !== 1) continue;
      (d.action === 'link' ? links : unlinks).push([a, b]);
    }
    return { links, unlinks };
  }

  /**
   * Gives each cluster among `rows` a person id: the previous id most of its members had (when no
   * larger cluster claims it), else one derived from its smallest member's key (stable, no state).
   */
  private assignPersons(rows: number[]): void {
    const groups = new Map<number, number[]>();
    for (const r of rows) {
      const g = this.root[r] as number;
      const list = groups.get(g);
      if (list) list.push(r);
      else groups.set(g, [r]);
    }
    const ordered = [...groups.values()].sort((a, b) => b.length - a.length);
    const claimed = new Set<PersonId>();
    for (const r of rows) {
      const p = this.personOfRow.get(r);
      if (p) this.rowsOfPerson.delete(p);
    }
    for (const members of ordered) {
      const votes = new Map<PersonId, number>();
      for (const r of members) {
        const p = this.personOfRow.get(r);
        if (p) votes.set(p, (votes.get(p) ?? 0) + 1);
      }
      let id = [...votes.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).find(([p]) => !claimed.has(p) && !this.rowsOfPerson.has(p))?.[0];
      if (!id) {
        const smallest = members.map((r) => keyOf(this.records[r] as MatchRecord)).sort()[0] as string;
        id = personIdOf(smallest);
        for (let k = 2; claimed.has(id) || this.rowsOfPerson.has(id); k++) id = personIdOf(`${smallest}\u0000${k}`);
      }
      claimed.add(id);
      this.rowsOfPerson.set(id, members);
      for (const r of members) this.personOfRow.set(r, id);
    }
  }

  private storedRecords(rows: ArrayLike<number>): StoredRecord[] {
    return Array.from(rows, (r) => {
      const record = this.records[r] as MatchRecord;
      return { source: record.source, recordId: record.recordId, personId: this.personOfRow.get(r) as PersonId, record };
    });
  }

  private storedLinks(rows: ArrayLike<number>): StoredLink[] {
    const out: StoredLink[] = [];
    const inSet = new Set(Array.from(rows));
    for (const a of inSet) {
      for (const n of this.neighbours.get(a) ?? []) {
        if (n.other < a && inSet.has(n.other)) continue;
        if (this.table.alive[n.other] !== 1) continue;
        const ra = this.records[a] as MatchRecord;
        const rb = this.records[n.other] as MatchRecord;
        out.push({
          a: { source: ra.source, recordId: ra.recordId },
          b: { source: rb.source, recordId: rb.recordId },
          grade: GRADE_OF_RANK[n.rank] as Grade,
          score: Math.round(n.score * 100) / 100,
          explanation: this.comparator.explain(a, n.other),
        });
      }
    }
    return out;
  }

  /**
   * Adds a new or changed record and links it without rebuilding: its candidates come from the block
   * index; only the persons it touches (its old person, and the persons of its certain candidates)
   * are re-clustered.
   */
  async linkRecord(ref: PatientRecordRef): Promise<PersonId> {
    const key = keyOf({ source: ref.source, recordId: ref.id });
    const oldRow = this.rowOfKey.get(key);
    const row = this.stage(ref);
    if (row === undefined) return this.personOfRow.get(oldRow as number) as PersonId;
    this.growRoot();
    const affected = new Set<number>([row]);
    if (oldRow !== undefined) {
      const oldPerson = this.personOfRow.get(oldRow);
      for (const r of oldPerson ? (this.rowsOfPerson.get(oldPerson) ?? []) : []) affected.add(r);
      for (const n of this.neighbours.get(oldRow) ?? []) this.neighbours.set(n.other, (this.neighbours.get(n.other) ?? []).filter((x) => x.other !== oldRow));
      this.neighbours.delete(oldRow);
      affected.delete(oldRow);
      this.personOfRow.set(row, oldPerson ?? '');
      if (!oldPerson) this.personOfRow.delete(row);
      this.personOfRow.delete(oldRow);
    }
    this.blockIndex.add(row);
    for (const other of this.blockIndex.candidates(row)) {
      if (this.table.alive[other] !== 1) continue;
      const score = this.comparator.scoreRank(row, other);
      if (this.comparator.lastRank === 0) continue;
      this.addNeighbour(row, other, score, this.comparator.lastRank, this.comparator.sharedIdentifier);
      if (this.comparator.lastRank === RANK.certain) {
        const p = this.personOfRow.get(other);
        for (const r of p ? (this.rowsOfPerson.get(p) ?? [other]) : [other]) affected.add(r);
      }
    }
    await this.recluster([...affected], oldRow !== undefined ? [oldRow] : []);
    return this.personOfRow.get(row) as PersonId;
  }

  /** Re-clusters `rows` (whole persons) from their stored edges and manual decisions; persists. */
  private async recluster(rows: number[], removed: number[] = []): Promise<void> {
    const inSet = new Set(rows);
    const edges = new EdgeList();
    for (const a of rows) {
      this.root[a] = a;
      for (const n of this.neighbours.get(a) ?? []) if (n.other > a && inSet.has(n.other)) edges.push(a, n.other, n.score, n.rank);
    }
    const all = this.constraints();
    const within = (pairs: [number, number][]): [number, number][] => pairs.filter(([a, b]) => inSet.has(a) && inSet.has(b));
    cluster(this.comparator, edges, undefined, { links: within(all.links), unlinks: within(all.unlinks) }, this.root, rows);
    this.assignPersons(rows);
    const touched = [...rows, ...removed].map((r) => ({ source: (this.records[r] as MatchRecord).source, recordId: (this.records[r] as MatchRecord).recordId }));
    await this.store.update(this.storedRecords(rows), touched, this.storedLinks(rows));
  }

  /** The person a source record belongs to. */
  personOf(source: string, recordId: string): PersonId | undefined {
    const row = this.rowOfKey.get(keyOf({ source, recordId }));
    return row === undefined ? undefined : this.personOfRow.get(row);
  }

  /** All person ids. */
  persons(): PersonId[] {
    return [...this.rowsOfPerson.keys()];
  }

  /** The source records of a person, each with the strongest link holding it there. */
  recordsOf(personId: PersonId): LinkedRecord[] {
    const rows = this.rowsOfPerson.get(personId) ?? [];
    const members = new Set(rows);
    return rows.map((r) => {
      const record = this.records[r] as MatchRecord;
      const base = { source: record.source, recordId: record.recordId };
      const manual = [...this.decisions.values()].some(
        (d) => d.action === 'link' && (keyOf(d.a) === keyOf(record) || keyOf(d.b) === keyOf(record)) && members.has(this.rowOfKey.get(keyOf(keyOf(d.a) === keyOf(record) ? d.b : d.a)) ?? -1),
      );
      if (manual) return { ...base, grade: 'certain' as Grade, basis: 'manual' as const };
      const best = (this.neighbours.get(r) ?? []).filter((n) => members.has(n.other)).sort((x, y) => y.rank - x.rank || y.score - x.score)[0];
      if (!best || rows.length === 1) return { ...base, grade: 'certain' as Grade, basis: 'self' as const };
      const grade = GRADE_OF_RANK[best.rank] as Grade;
      return { ...base, grade, score: Math.round(best.score * 100) / 100, basis: best.identifier && grade === 'certain' ? ('identifier' as const) : ('auto' as const) };
    });
  }

  /** FHIR `$match`-style: candidates for a Patient resource, best first, graded possible or better. */
  match(patient: Record<string, unknown>, options: { limit?: number; onlyCertainMatches?: boolean } = {}): Candidate[] {
    const row = this.table.add(standardizePatient('\u0000query', '', patient));
    this.table.alive[row] = 0;
    try {
      const out: Candidate[] = [];
      for (const other of this.blockIndex.candidates(row)) {
        if (this.table.alive[other] !== 1) continue;
        const explanation = this.comparator.explain(row, other);
        if (explanation.grade === 'certainly-not') continue;
        if (options.onlyCertainMatches && explanation.grade !== 'certain') continue;
        const record = this.records[other] as MatchRecord;
        out.push({ source: record.source, recordId: record.recordId, personId: this.personOfRow.get(other) ?? '', grade: explanation.grade, score: explanation.score, explanation });
      }
      return out.sort((a, b) => b.score - a.score).slice(0, options.limit ?? 20);
    } finally {
      this.table.removeLast();
    }
  }

  /** Why two held records link (or do not). */
  explain(a: RecordKey, b: RecordKey): MatchExplanation | undefined {
    const ra = this.rowOfKey.get(keyOf(a));
    const rb = this.rowOfKey.get(keyOf(b));
    return ra === undefined || rb === undefined ? undefined : this.comparator.explain(ra, rb);
  }

  /** Probable pairs in different persons: the review queue. */
  reviewQueue(): { a: RecordKey; b: RecordKey; score: number }[] {
    const out: { a: RecordKey; b: RecordKey; score: number }[] = [];
    for (const [a, list] of this.neighbours) {
      for (const n of list) {
        if (n.other < a || n.rank !== RANK.probable || this.table.alive[a] !== 1 || this.table.alive[n.other] !== 1) continue;
        if (this.personOfRow.get(a) === this.personOfRow.get(n.other)) continue;
        const ra = this.records[a] as MatchRecord;
        const rb = this.records[n.other] as MatchRecord;
        out.push({ a: { source: ra.source, recordId: ra.recordId }, b: { source: rb.source, recordId: rb.recordId }, score: Math.round(n.score * 100) / 100 });
      }
    }
    return out.sort((x, y) => y.score - x.score);
  }

  /** Manually links two records (they end up in one person); audited; wins over automatic decisions. */
  link(a: RecordKey, b: RecordKey, by: string, reason: string): Promise<void> {
    return this.decide({ a, b, action: 'link', by, reason, at: new Date().toISOString() });
  }

  /** Manually separates two records (never in one person again unless manually linked); audited. */
  unlink(a: RecordKey, b: RecordKey, by: string, reason: string): Promise<void> {
    return this.decide({ a, b, action: 'unlink', by, reason, at: new Date().toISOString() });
  }

  /** The audit log of manual decisions, oldest first. */
  decisionLog(): readonly ManualDecision[] {
    return this.auditLog;
  }

  private recordDecision(d: ManualDecision): void {
    const [x, y] = [keyOf(d.a), keyOf(d.b)].sort();
    this.decisions.set(`${x}\u0001${y}`, d);
    this.auditLog.push(d);
  }

  private async decide(d: ManualDecision): Promise<void> {
    const ra = this.rowOfKey.get(keyOf(d.a));
    const rb = this.rowOfKey.get(keyOf(d.b));
    if (ra === undefined || rb === undefined) throw new Error(`unknown record ${ra === undefined ? keyOf(d.a) : keyOf(d.b)}`.replace('\u0000', '/'));
    await this.store.appendDecision(d);
    this.recordDecision(d);
    const affected = new Set<number>();
    for (const r of [ra, rb]) {
      const p = this.personOfRow.get(r);
      for (const m of p ? (this.rowsOfPerson.get(p) ?? [r]) : [r]) affected.add(m);
    }
    await this.recluster([...affected]);
  }
}

function personIdOf(key: string): PersonId {
  return `p${createHash('sha256').update(key).digest('hex').slice(0, 20)}`;
}

export { SqliteLinkStore, MemoryLinkStore } from './store';
export type { LinkStore, ManualDecision } from './store';
export { standardizePatient } from './standardize';
export type { Grade, MatchRecord, RecordKey } from './types';
export type { MatchExplanation } from './match';
