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

  private async writeType(type: string, docs: LakeDocument[]): Promise<void> {
    if (this.options.indexesFirst) await this.ensureIndexes(type);
    const collection = this.db.collection<LakeDocument>(collectionOf(type));
    const existing: LakeDocument[] = [];
    try {
      const result = await collection.insertMany(docs, { ordered: false });
      this.counts.inserted += result.insertedCount;
    } catch (error) {
      const errors = writeErrorsOf(error);
      if (!errors) throw error;
      this.counts.inserted += docs.length - errors.length;
      for (const e of errors) {
        const doc = docs[e.index];
        if (!doc) continue;
        if (e.code === DUPLICATE_KEY) existing.push(doc);
        else this.fail(doc, e.message);
      }
    }
    if (existing.length === 0) return;
    // Read the stored versions first: on a re-import nothing needs replacing, and one query answers that.
    const stored = new Map<string, Document>();
    const found = await collection
      .find({ _id: { $in: existing.map((d) => d._id) } }, { projection: { '_hg.lu': 1, '_hg.h': 1, '_hg.v': 1 }, batchSize: existing.length })
      .toArray();
    for (const doc of found) stored.set(String(doc._id), doc);
    const replace = existing.filter((doc) => supersedes(doc, stored.get(doc._id)));
    this.counts.kept += existing.length - replace.length;
    if (replace.length === 0) return;
    // The same condition in the filter keeps this right when another import writes concurrently. No
    // upsert: FerretDB 1.24 stops an unordered update batch at its first error (a duplicate key).
    const ops: AnyBulkWriteOperation<LakeDocument>[] = replace.map((doc) => ({ replaceOne: { filter: replaceFilter(doc), replacement: doc } }));
    try {
      const result = await collection.bulkWrite(ops, { ordered: false });
      this.counts.replaced += result.matchedCount;
      this.counts.kept += replace.length - result.matchedCount;
    } catch (error) {
      const errors = writeErrorsOf(error);
      if (!errors) throw error;
      for (const e of errors) if (replace[e.index]) this.fail(replace[e.index]!, e.message);
      this.counts.replaced += replace.length - errors.length;
    }
  }

  private fail(doc: LakeDocument, message: string): void {
    this.counts.failed++;
    this.options.onFailure?.(doc, message);
  }
}
