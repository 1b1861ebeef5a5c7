/**
 * Writing lake documents: batches go to MongoDB as `insertMany` (ordered: false), the fast path for
 * new resources; for the ids that already exist the stored versions are read (one `find`) and only
 * those that are older are replaced, by a `replaceOne` whose filter repeats the condition, so
 * re-importing changes nothing and newer versions win:
 *   - the incoming resource has meta.lastUpdated: it replaces a stored one with an older or no lastUpdated;
 *   - it has none: it replaces a stored unversioned one whose content hash differs;
 *   - either way, a stored document of an older layout version is replaced.
 * At most `concurrency` batches are in flight, and a batch waits for an in-flight one that holds
 * one of its ids, so writes of one id happen in input order.
 *
 * Ids met again (Synthea repeats each Organization and Practitioner in every bundle that cites it)
 * are remembered with the version stored once the first repeat has been resolved (a bounded map,
 * oldest forgotten first), so later repeats need neither the failed insert nor the `find`. On
 * FerretDB both are dear: a batch with one duplicate is re-inserted one document per transaction,
 * and `_id: {$in}` scans the collection. Remembering is safe with concurrent imports: the stored
 * version can only become newer, and a replace still carries its condition in the filter.
 */
import { MongoBulkWriteError, type AnyBulkWriteOperation, type Db, type Document } from 'mongodb';
import { collectionOf, indexesFor, LAYOUT_VERSION, type LakeDocument } from '../../connectors/mongo/layout';

export interface WriteCounts {
  inserted: number;
  replaced: number;
  kept: number;
  failed: number;
}

export interface WriterOptions {
  concurrency: number;
  /**
   * Create each collection's indexes before its first write (false: the caller creates them after
   * the load with `ensureIndexes`, or not at all).
   */
  indexesFirst?: boolean;
  /** Called for write errors other than "kept" (e.g. a document the server rejects). */
  onFailure?: (doc: LakeDocument, message: string) => void;
}

const DUPLICATE_KEY = 11000;
/** Most repeated ids remembered (a few hundred bytes each). */
const REMEMBERED_IDS = 50_000;

/** The `_hg` fields `supersedes` reads, as stored. */
type StoredVersion = { _hg: { v: number; lu?: Date; h: string } };

function newer(a: LakeDocument, b: LakeDocument): LakeDocument {
  const la = a._hg.lu?.getTime();
  const lb = b._hg.lu?.getTime();
  if (la !== undefined && lb !== undefined) return lb > la ? b : a;
  if (la !== undefined) return a;
  if (lb !== undefined) return b;
  return b;
}

/** The filter a stored document must match to be replaced by `doc`. */
export function replaceFilter(doc: LakeDocument): Document {
  const older = { '_hg.v': { $lt: LAYOUT_VERSION } };
  if (doc._hg.lu) return { _id: doc._id, $or: [{ '_hg.lu': { $lt: doc._hg.lu } }, { '_hg.lu': { $exists: false } }, older] };
  return { _id: doc._id, '_hg.lu': { $exists: false }, $or: [{ '_hg.h': { $ne: doc._hg.h } }, older] };
}

/** Whether `doc` replaces the stored document (see replaceFilter; this is the same rule, evaluated here). */
export function supersedes(doc: LakeDocument, stored: Document | undefined): boolean {
  if (!stored) return true;
  const hg = (stored._hg ?? {}) as { lu?: Date; h?: string; v?: number };
  if (typeof hg.v !== 'number' || hg.v < LAYOUT_VERSION) return true;
  if (doc._hg.lu) return !(hg.lu instanceof Date) || hg.lu.getTime() < doc._hg.lu.getTime();
  return !(hg.lu instanceof Date) && hg.h !== doc._hg.h;
}

function writeErrorsOf(error: unknown): { index: number; code: number; message: string }[] | undefined {
  if (!(error instanceof MongoBulkWriteError)) return undefined;
  const list = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
  return list.map((w) => ({ index: w.index, code: Number(w.code), message: w.errmsg ?? 'write error' }));
}

export class LakeWriter {
  private readonly inFlight = new Map<Promise<unknown>, Set<string>>();
  private readonly indexed = new Set<string>();
  /** `Type/id` → the version stored, for ids met again; in insertion order (the oldest is forgotten first). */
  private readonly written = new Map<string, StoredVersion>();
  private failure?: Error;
  readonly counts: WriteCounts = { inserted: 0, replaced: 0, kept: 0, failed: 0 };
  /** Wall time spent in write round trips (overlaps with parsing when concurrency > 0). */
  writeMs = 0;

  constructor(
    private readonly db: Db,
    private readonly options: WriterOptions,
  ) {}

  /** Queues a batch; resolves once the batch may be followed by another (not when it is written). */
  async submit(docs: LakeDocument[], onDone: () => void): Promise<void> {
    const batch = this.dedupe(docs);
    const keys = new Set(batch.map((d) => `${d.resourceType}/${d._id}`));
    for (;;) {
      if (this.failure) throw this.failure;
      const blocking = [...this.inFlight].filter(([, ids]) => [...keys].some((k) => ids.has(k))).map(([p]) => p);
      if (blocking.length === 0 && this.inFlight.size < this.options.concurrency) break;
      await Promise.race(blocking.length > 0 ? blocking : [...this.inFlight.keys()]);
    }
    const promise: Promise<void> = this.write(batch)
      .then(onDone)
      .catch((error: Error) => void (this.failure ??= error))
      .finally(() => this.inFlight.delete(promise));
    this.inFlight.set(promise, keys);
  }

  /** Waits for every batch in flight; rethrows the first failure. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight.keys()]);
    if (this.failure) throw this.failure;
  }

  private dedupe(docs: LakeDocument[]): LakeDocument[] {
    const byKey = new Map<string, LakeDocument>();
    for (const doc of docs) {
      const key = `${doc.resourceType}/${doc._id}`;
      const seen = byKey.get(key);
      byKey.set(key, seen ? newer(seen, doc) : doc);
    }
    return [...byKey.values()];
  }

  private async write(docs: LakeDocument[]): Promise<void> {
    const started = performance.now();
    const byType = new Map<string, LakeDocument[]>();
    for (const doc of docs) {
      const list = byType.get(doc.resourceType);
      if (list) list.push(doc);
      else byType.set(doc.resourceType, [doc]);
    }
    try {
      for (const [type, list] of byType) await this.writeType(type, list);
    } finally {
      this.writeMs += performance.now() - started;
    }
  }

  /** Creates the layout's missing indexes on a collection (once per writer). */
  async ensureIndexes(type: string): Promise<void> {
    if (this.indexed.has(type)) return;
    this.indexed.add(type);
    // Only the missing ones: FerretDB 1.24 drops the connection (a server-side panic) when
    // createIndexes names indexes that all exist already.
    const collection = this.db.collection(collectionOf(type));
    const existing = new Set(
      await collection
        .listIndexes()
        .toArray()
        .then((list) => list.map((i) => String(i.name)))
        .catch(() => [] as string[]),
    );
    const missing = indexesFor(type).filter((i) => !existing.has(i.name));
    if (missing.length > 0) await collection.createIndexes(missing);
  }

  private remember(type: string, id: string, stored: Document | undefined): void {
    const key = `${type}/${id}`;
    this.written.delete(key);
    const hg = stored?._hg as StoredVersion['_hg'] | undefined;
    if (!hg) return;
    this.written.set(key, { _hg: { v: hg.v, lu: hg.lu, h: hg.h } });
    if (this.written.size > REMEMBERED_IDS) this.written.delete(this.written.keys().next().value!);
  }

  private async writeType(type: string, docs: LakeDocument[]): Promise<void> {
    if (this.options.indexesFirst) await this.ensureIndexes(type);
    const collection = this.db.collection<LakeDocument>(collectionOf(type));
    const fresh: LakeDocument[] = [];
    const existing: LakeDocument[] = [];
    const stored = new Map<string, Document>();
    for (const doc of docs) {
      const known = this.written.get(`${type}/${doc._id}`);
      if (!known) fresh.push(doc);
      else {
        existing.push(doc);
        stored.set(doc._id, known);
      }
    }
    const unknown: LakeDocument[] = [];
    if (fresh.length > 0) {
      try {
        const result = await collection.insertMany(fresh, { ordered: false });
        this.counts.inserted += result.insertedCount;
      } catch (error) {
        const errors = writeErrorsOf(error);
        if (!errors) throw error;
        this.counts.inserted += fresh.length - errors.length;
        for (const e of errors) {
          const doc = fresh[e.index];
          if (!doc) continue;
          if (e.code === DUPLICATE_KEY) unknown.push(doc);
          else this.fail(doc, e.message);
        }
      }
    }
    if (unknown.length > 0) {
      // Read the stored versions first: on a re-import nothing needs replacing, and one query answers that.
      const found = await collection
        .find({ _id: { $in: unknown.map((d) => d._id) } }, { projection: { '_hg.lu': 1, '_hg.h': 1, '_hg.v': 1 }, batchSize: unknown.length })
        .toArray();
      for (const doc of found) stored.set(String(doc._id), doc);
      existing.push(...unknown);
    }
    if (existing.length === 0) return;
    const replace = existing.filter((doc) => supersedes(doc, stored.get(doc._id)));
    for (const doc of existing) this.remember(type, doc._id, stored.get(doc._id));
    this.counts.kept += existing.length - replace.length;
    if (replace.length === 0) return;
    // The same condition in the filter keeps this right when another import writes concurrently. No
    // upsert: FerretDB 1.24 stops an unordered update batch at its first error (a duplicate key).
    const ops: AnyBulkWriteOperation<LakeDocument>[] = replace.map((doc) => ({ replaceOne: { filter: replaceFilter(doc), replacement: doc } }));
    try {
      const result = await collection.bulkWrite(ops, { ordered: false });
      this.counts.replaced += result.matchedCount;
      this.counts.kept += replace.length - result.matchedCount;
      // A replace that matched nothing met a newer stored version, unknown here: forget the id.
      for (const doc of replace) this.remember(type, doc._id, result.matchedCount === replace.length ? doc : undefined);
    } catch (error) {
      const errors = writeErrorsOf(error);
      if (!errors) throw error;
      for (const e of errors) if (replace[e.index]) this.fail(replace[e.index]!, e.message);
      this.counts.replaced += replace.length - errors.length;
      for (const doc of replace) this.remember(type, doc._id, undefined);
    }
  }

  private fail(doc: LakeDocument, message: string): void {
    this.counts.failed++;
    this.options.onFailure?.(doc, message);
  }
}
