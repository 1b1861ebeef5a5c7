/**
 * `healthgraph lake import`: streams inputs into the lake in batches, with checkpoints so a killed
 * import resumes where it stopped. Memory stays bounded: one unit (line, file or archive member)
 * parsed at a time, at most `concurrency` batches in flight.
 *
 * Checkpoints live in the lake's `_hg_import` collection, one document per input (path + size +
 * mtime): `done` is the last unit whose resources are all acknowledged by the server, `complete`
 * marks a finished input (skipped next time unless `force`). Because every write is idempotent,
 * re-doing the units after `done` is harmless, so a resumed import ends with the same lake.
 */
import { MongoClient, type Db } from 'mongodb';
import { toLakeDocument, type LakeDocument } from '../../connectors/mongo/layout';
import { databaseOf } from '../../connectors/mongo/connector';
import { expandInputs, readUnits, type Input } from './inputs';
import { parseDocument } from './parse';
import { Progress } from './progress';
import { LakeWriter, type WriteCounts } from './writer';

export const CHECKPOINTS = '_hg_import';

export interface ImportOptions {
  url: string;
  database?: string;
  /** Files and folders. */
  paths?: string[];
  /** Extra inputs (Bulk Data output files). */
  inputs?: Input[];
  batchSize?: number;
  concurrency?: number;
  /** Re-read inputs a previous import completed. */
  force?: boolean;
  /** Where progress and error lines go; none when undefined. */
  progress?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  progressIntervalMs?: number;
  /** Most error lines printed (all are counted). */
  maxErrorLines?: number;
  /**
   * When the layout's indexes are created: `first` (default) before a collection's first write;
   * `after` once every input is loaded; `none` never (FerretDB 1.24 on SQLite never uses them for
   * a query: docs/sources/lake.md). Measured on FerretDB/SQLite, `after` is slower than `first`.
   * With `first` and `after`, every lake collection's missing indexes are created at the end, so
   * an import killed before that point gets them on the next run.
   */
  indexes?: 'first' | 'after' | 'none';
  /** A MongoClient to use (e.g. with command monitoring); otherwise one is created and closed. */
  client?: MongoClient;
}

export interface ImportError {
  file: string;
  line?: number;
  entry?: number;
  message: string;
}

export interface InputReport {
  path: string;
  skipped: boolean;
  resumedAfter?: number;
  units: number;
  resources: number;
  errors: number;
}

export interface ImportReport {
  inputs: InputReport[];
  /** Resources read and normalized in this run. */
  resources: number;
  writes: WriteCounts;
  errors: number;
  firstErrors: ImportError[];
  elapsedMs: number;
  resourcesPerSecond: number;
  /** Where the time went, ms (parse and normalize on the main thread; write round trips overlap with them). */
  stages: { read: number; parse: number; normalize: number; write: number; waitForWrites: number; indexes: number };
  peakRssMb: number;
}

interface Mark {
  key: string;
  path: string;
  done: number;
  complete: boolean;
}

/** Orders batch completions so a checkpoint never claims a unit whose batch is still in flight. */
class Checkpoints {
  private readonly pending: { marks: Mark[]; finished: boolean }[] = [];
  private readonly dirty = new Map<string, Mark>();
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly db: Db) {}

  async load(key: string): Promise<{ done: number; complete: boolean } | undefined> {
    const doc = await this.db.collection<{ _id: string; done: number; complete: boolean }>(CHECKPOINTS).findOne({ _id: key });
    return doc ? { done: doc.done, complete: doc.complete } : undefined;
  }

  /** Registers a batch carrying these marks; returns the callback to call once it is written. */
  enqueue(marks: Mark[]): () => void {
    const entry = { marks, finished: false };
    this.pending.push(entry);
    return () => {
      entry.finished = true;
      while (this.pending[0]?.finished) for (const mark of this.pending.shift()!.marks) this.dirty.set(mark.key, mark);
      this.flush();
    };
  }

  flush(): Promise<void> {
    if (this.dirty.size === 0) return this.flushing;
    const marks = [...this.dirty.values()];
    this.dirty.clear();
    this.flushing = this.flushing.then(() =>
      this.db
        .collection<{ _id: string }>(CHECKPOINTS)
        .bulkWrite(
          marks.map((m) => ({
            updateOne: { filter: { _id: m.key }, update: { $set: { path: m.path, done: m.done, complete: m.complete, updatedAt: new Date() } }, upsert: true },
          })),
          { ordered: true },
        )
        .then(() => undefined),
    );
    return this.flushing;
  }
}

export async function importLake(options: ImportOptions): Promise<ImportReport> {
  const started = performance.now();
  const client = options.client ?? new MongoClient(options.url, { appName: 'healthgraph-lake-import' });
  const ownClient = options.client === undefined;
  const db = client.db(databaseOf(options.url, options.database));
  const batchSize = options.batchSize ?? 1000;
  const maxErrorLines = options.maxErrorLines ?? 200;
  const inputs = [...(await expandInputs(options.paths ?? [])), ...(options.inputs ?? [])];
  const totalBytes = inputs.reduce((sum, i) => sum + i.size, 0);
  const stages = { read: 0, parse: 0, normalize: 0, write: 0, waitForWrites: 0, indexes: 0 };
  const state = { resources: 0, errors: 0, bytesRead: 0, peakRss: process.memoryUsage().rss };
  const firstErrors: ImportError[] = [];
  const reports: InputReport[] = [];

  const progress = options.progress
    ? new Progress({ stream: options.progress, plainIntervalMs: options.progressIntervalMs }, () => ({
        resources: state.resources,
        errors: state.errors,
        bytesRead: state.bytesRead,
        totalBytes,
      }))
    : undefined;

  const report = (error: ImportError): void => {
    state.errors++;
    if (firstErrors.length < 20) firstErrors.push(error);
    if (state.errors <= maxErrorLines) {
      const where = `${error.file}${error.line !== undefined ? `:${error.line}` : ''}${error.entry !== undefined ? ` entry ${error.entry}` : ''}`;
      progress?.message(`error: ${where}: ${error.message}`);
      if (state.errors === maxErrorLines) progress?.message(`(further errors are counted, not printed)`);
    }
  };

  const writer = new LakeWriter(db, {
    concurrency: options.concurrency ?? 2,
    indexesFirst: (options.indexes ?? 'first') === 'first',
    onFailure: (doc, message) => report({ file: doc._hg.src.file ?? '?', line: doc._hg.src.line, entry: doc._hg.src.entry, message: `rejected by the server: ${message.slice(0, 200)}` }),
  });
  const checkpoints = new Checkpoints(db);
  let batch: LakeDocument[] = [];
  let marks: Mark[] = [];

  const submit = async (): Promise<void> => {
    const docs = batch;
    const onDone = checkpoints.enqueue(marks);
    batch = [];
    marks = [];
    if (docs.length === 0) {
      onDone();
      return;
    }
    const waitStarted = performance.now();
    await writer.submit(docs, onDone);
    stages.waitForWrites += performance.now() - waitStarted;
  };

  try {
    if (ownClient) await client.connect();
    progress?.start();
    for (const input of inputs) {
      const saved = await checkpoints.load(input.key);
      const inputReport: InputReport = { path: input.path, skipped: false, units: 0, resources: 0, errors: 0 };
      reports.push(inputReport);
      if (saved?.complete && !options.force) {
        inputReport.skipped = true;
        state.bytesRead += input.size;
        continue;
      }
      const resumeAfter = options.force ? -1 : (saved?.done ?? -1);
      if (resumeAfter >= 0) inputReport.resumedAfter = resumeAfter;
      const errorsBefore = state.errors;
      let lastUnit = -1;
      const units = readUnits(input, (bytes) => (state.bytesRead += bytes));
      try {
        for (let readStarted = performance.now(), next = await units.next(); !next.done; readStarted = performance.now(), next = await units.next()) {
          stages.read += performance.now() - readStarted;
          const unit = next.value;
          lastUnit = unit.index;
          if (unit.index <= resumeAfter) continue;
          inputReport.units++;
          const parseStarted = performance.now();
          const parsed = parseDocument(unit.text, unit.expectedType);
          const normalizeStarted = performance.now();
          stages.parse += normalizeStarted - parseStarted;
          for (const problem of parsed.problems) report({ file: unit.file, line: unit.line, entry: problem.entry, message: problem.message });
          for (const { resource, entry } of parsed.resources) {
            batch.push(toLakeDocument(resource, { file: unit.file, line: unit.line, entry }, parsed.resources.length === 1 ? unit.text : undefined));
          }
          stages.normalize += performance.now() - normalizeStarted;
          state.resources += parsed.resources.length;
          inputReport.resources += parsed.resources.length;
          const last = marks[marks.length - 1];
          if (last?.key === input.key) last.done = unit.index;
          else marks.push({ key: input.key, path: input.path, done: unit.index, complete: false });
          if (batch.length >= batchSize) await submit();
          if (inputReport.units % 256 === 0) state.peakRss = Math.max(state.peakRss, process.memoryUsage().rss);
        }
      } catch (error) {
        const after = lastUnit >= 0 ? ` after unit ${lastUnit + 1}` : '';
        report({ file: input.path, message: `input unreadable${after} (truncated or corrupt?): ${(error as Error).message.slice(0, 200)}` });
      }
      inputReport.errors = state.errors - errorsBefore;
      marks.push({ key: input.key, path: input.path, done: lastUnit, complete: true });
    }
    await submit();
    await writer.drain();
    await checkpoints.flush();
    // Every lake collection, not only those written now: an import killed after its last batch
    // but before this point leaves complete inputs behind, and the next run writes nothing.
    const indexesStarted = performance.now();
    if (options.indexes !== 'none') {
      const collections = await db.listCollections({}, { nameOnly: true }).toArray();
      for (const { name } of collections) if (!name.startsWith('_hg') && !name.startsWith('system.')) await writer.ensureIndexes(name);
    }
    stages.indexes = performance.now() - indexesStarted;
  } finally {
    progress?.stop();
    if (ownClient) await client.close();
  }
  stages.write = writer.writeMs;
  const elapsedMs = performance.now() - started;
  state.peakRss = Math.max(state.peakRss, process.memoryUsage().rss);
  return {
    inputs: reports,
    resources: state.resources,
    writes: writer.counts,
    errors: state.errors,
    firstErrors,
    elapsedMs,
    resourcesPerSecond: elapsedMs > 0 ? (state.resources * 1000) / elapsedMs : 0,
    stages: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, Math.round(v)])) as ImportReport['stages'],
    peakRssMb: Math.round(state.peakRss / 1048576),
  };
}

/** The final report as text. */
export function formatReport(report: ImportReport): string {
  const n = (v: number): string => Math.round(v).toLocaleString('en-US');
  const skipped = report.inputs.filter((i) => i.skipped).length;
  const resumed = report.inputs.filter((i) => i.resumedAfter !== undefined).length;
  const lines = [
    `lake import: ${n(report.resources)} resources from ${report.inputs.length} input${report.inputs.length === 1 ? '' : 's'} in ${(report.elapsedMs / 1000).toFixed(1)} s (${n(report.resourcesPerSecond)}/s), peak RSS ${report.peakRssMb} MB`,
    `  written: ${n(report.writes.inserted)} inserted, ${n(report.writes.replaced)} replaced by a newer version, ${n(report.writes.kept)} unchanged (same or older version), ${n(report.writes.failed)} rejected`,
    `  errors: ${n(report.errors)}${report.errors > 0 ? ' (bad lines and entries were skipped; the rest was imported)' : ''}`,
    `  time: read ${n(report.stages.read)} ms, parse ${n(report.stages.parse)} ms, normalize ${n(report.stages.normalize)} ms, write round trips ${n(report.stages.write)} ms (overlapping), waiting for writes ${n(report.stages.waitForWrites)} ms, indexes ${n(report.stages.indexes)} ms`,
  ];
  if (skipped > 0) lines.push(`  ${skipped} input${skipped === 1 ? '' : 's'} already imported (skipped; --force re-reads them)`);
  if (resumed > 0) lines.push(`  ${resumed} input${resumed === 1 ? '' : 's'} resumed from a checkpoint`);
  for (const e of report.firstErrors.slice(0, 10)) {
    lines.push(`  error: ${e.file}${e.line !== undefined ? `:${e.line}` : ''}${e.entry !== undefined ? ` entry ${e.entry}` : ''}: ${e.message}`);
  }
  return lines.join('\n');
}
