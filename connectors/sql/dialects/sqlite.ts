/**
 * SQLite through `better-sqlite3`, in a worker thread: the file opened read-only (`readonly: true`)
 * with `PRAGMA query_only`. better-sqlite3 is synchronous and cannot interrupt a statement, so the
 * statements run in worker threads, one at a time in each: the gateway's event loop never waits on
 * one, and a statement that runs past `statementTimeoutMs` fails with a timeout at that moment; its
 * worker is ended (its thread lasts until SQLite finishes the statement) and a new one opens the
 * file for the next statement. There are up to `poolSize` workers, at most one per core: the
 * statements of one level (a patient's conditions, visits and drugs) run side by side.
 */
import { isAbsolute, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { checkedInt, plainInList, SqlDriverError, type Dialect, type DriverOptions, type Row, type SqlDriver } from './types';

export const sqliteDialect: Dialect = {
  name: 'sqlite',
  placeholder: () => '?',
  quote: (id) => `"${id.replace(/"/g, '""')}"`,
  inList: plainInList,
  page: (limit, offset) => `LIMIT ${checkedInt(limit, 'limit')}${offset > 0 ? ` OFFSET ${checkedInt(offset, 'offset')}` : ''}`,
  startsWith: (expr, p) => `LOWER(${expr}) LIKE ${p} ESCAPE '!'`,
  isNullFlag: (expr) => `(${expr} IS NULL)`,
  explain: (sql) => `EXPLAIN QUERY PLAN ${sql}`,
};

/** `sqlite:///abs/path.db` → `/abs/path.db`; `sqlite:relative.db` → resolved against the working directory. */
export function sqlitePath(url: string): string {
  const rest = url.replace(/^sqlite:/i, '');
  const path = rest.startsWith('//') ? decodeURIComponent(rest.replace(/^\/\//, '')) : decodeURIComponent(rest);
  return isAbsolute(path) ? path : resolve(path);
}

/**
 * The worker: opens the file on its first statement, keeps up to 500 prepared statements, and
 * answers each `{ sql, params }` with `{ rows }` or `{ error: { kind, code, message } }`. Plain
 * JavaScript given as text, so it runs the same from the compiled code and under ts-jest.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
let db;
const statements = new Map();
const bindable = (v) => (typeof v === 'boolean' ? (v ? 1 : 0) : v);
parentPort.on('message', ({ sql, params }) => {
  try {
    if (!db) {
      try {
        db = new Database(workerData.file, { readonly: true, fileMustExist: true });
        db.pragma('query_only = ON');
      } catch (error) {
        db = undefined;
        parentPort.postMessage({ error: { kind: 'open', code: error.code, message: error.message } });
        return;
      }
    }
    let statement = statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      if (statements.size > 500) statements.clear();
      statements.set(sql, statement);
    }
    parentPort.postMessage({ rows: statement.all(...params.map(bindable)) });
  } catch (error) {
    parentPort.postMessage({ error: { kind: 'query', code: error.code, message: error.message } });
  }
});
`;

/** Timed-out statements per source whose threads may still run; beyond this, statements fail at once. */
const MAX_STOPPING = 2;

interface Answer {
  rows?: Row[];
  error?: { kind: 'open' | 'query'; code?: string; message?: string };
}

function failureOf(error: NonNullable<Answer['error']>): SqlDriverError {
  const code = error.code ?? '';
  if (error.kind === 'open') return new SqlDriverError('unavailable', 'database file cannot be opened', error);
  if (/SQLITE_(CANTOPEN|NOTADB|CORRUPT|IOERR)/.test(code)) return new SqlDriverError('unavailable', 'database file cannot be read', error);
  if (/no such (table|column)/.test(error.message ?? '')) return new SqlDriverError('invalid', 'the mapping names a table or column the database does not have', error);
  return new SqlDriverError('invalid', 'query failed', error);
}

interface Pending {
  sql: string;
  params: readonly unknown[];
  resolve: (rows: Row[]) => void;
  reject: (error: Error) => void;
}

/** One worker thread and the statement it runs. */
interface Slot {
  worker?: Worker;
  running?: { job: Pending; timer: NodeJS.Timeout };
}

export function createSqliteDriver(options: DriverOptions): SqlDriver {
  const workerData = { file: sqlitePath(options.url), module: require.resolve('better-sqlite3') };
  const queue: Pending[] = [];
  // Statements run side by side in up to `poolSize` workers, at most one per core (SQLite reads in parallel).
  const slots: Slot[] = Array.from({ length: Math.max(1, Math.min(options.poolSize, availableParallelism())) }, () => ({}));
  let closed = false;
  /** Workers ended after a timeout whose statement still runs (SQLite checks for no interruption). */
  const stopping = new Set<Promise<unknown>>();

  const settle = (slot: Slot, answer: Answer): void => {
    if (!slot.running) return;
    const { job, timer } = slot.running;
    clearTimeout(timer);
    slot.running = undefined;
    if (answer.error) job.reject(failureOf(answer.error));
    else job.resolve(answer.rows ?? []);
    next();
  };

  /** A worker that died or was ended: the statement it ran fails, the next one gets a new worker. */
  const lost = (slot: Slot, error: SqlDriverError): void => {
    const job = slot.running?.job;
    if (slot.running) clearTimeout(slot.running.timer);
    slot.running = undefined;
    slot.worker = undefined;
    job?.reject(error);
    next();
  };

  const start = (slot: Slot): Worker => {
    const created = new Worker(WORKER_SOURCE, { eval: true, workerData });
    created.on('message', (answer: Answer) => {
      if (created === slot.worker) settle(slot, answer);
    });
    created.on('error', (error) => {
      if (created === slot.worker) lost(slot, new SqlDriverError('unavailable', 'database worker failed', error));
    });
    created.on('exit', () => {
      if (created === slot.worker) lost(slot, new SqlDriverError('unavailable', 'database worker stopped'));
    });
    // An idle worker does not keep the process alive.
    created.unref();
    return created;
  };

  /** Starts queued statements on free workers (an open one first). */
  function next(): void {
    while (!closed && queue.length > 0) {
      const free = slots.filter((s) => !s.running);
      const slot = free.find((s) => s.worker) ?? free[0];
      if (!slot) return;
      const job = queue.shift()!;
      if (!slot.worker && stopping.size >= MAX_STOPPING) {
        // Too many timed-out statements still hold a thread each: refuse at once rather than start another.
        job.reject(new SqlDriverError('unavailable', 'earlier statements that timed out are still running'));
        continue;
      }
      const worker = (slot.worker ??= start(slot));
      const timer = setTimeout(() => {
        // The client gets its timeout now; the worker is ended, but its thread runs on until SQLite
        // finishes the statement (it never returns to JavaScript before), so such threads are counted.
        // Counted before `lost` moves on to the next statement, so that one sees it.
        const ended: Promise<unknown> = worker.terminate().finally(() => {
          stopping.delete(ended);
          next();
        });
        stopping.add(ended);
        lost(slot, new SqlDriverError('timeout', 'statement timed out'));
      }, options.statementTimeoutMs);
      slot.running = { job, timer };
      worker.postMessage({ sql: job.sql, params: job.params });
    }
  }

  return {
    dialect: sqliteDialect,
    query(sql, params) {
      if (closed) return Promise.reject(new SqlDriverError('unavailable', 'database closed'));
      return new Promise<Row[]>((resolve, reject) => {
        queue.push({ sql, params, resolve, reject });
        next();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.reject(new SqlDriverError('unavailable', 'database closed'));
      const workers: (Worker | undefined)[] = [];
      for (const slot of slots) {
        workers.push(slot.worker);
        slot.worker = undefined;
        if (slot.running) {
          clearTimeout(slot.running.timer);
          slot.running.job.reject(new SqlDriverError('unavailable', 'database closed'));
          slot.running = undefined;
        }
      }
      await Promise.all([...workers.map((w) => w?.terminate()), ...stopping]);
    },
  };
}
