/**
 * SQLite through `better-sqlite3`, in a worker thread: the file opened read-only (`readonly: true`)
 * with `PRAGMA query_only`. better-sqlite3 is synchronous and cannot interrupt a statement, so the
 * statements run in a worker of their own, one at a time: the gateway's event loop never waits on
 * one, and a statement that runs past `statementTimeoutMs` fails with a timeout at that moment; its
 * worker is ended (its thread lasts until SQLite finishes the statement) and a new one opens the
 * file for the next statement.
 */
import { isAbsolute, resolve } from 'node:path';
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

export function createSqliteDriver(options: DriverOptions): SqlDriver {
  const workerData = { file: sqlitePath(options.url), module: require.resolve('better-sqlite3') };
  const queue: Pending[] = [];
  let worker: Worker | undefined;
  let running: { job: Pending; timer: NodeJS.Timeout } | undefined;
  let closed = false;
  /** Workers ended after a timeout whose statement still runs (SQLite checks for no interruption). */
  const stopping = new Set<Promise<unknown>>();

  const settle = (answer: Answer): void => {
    if (!running) return;
    const { job, timer } = running;
    clearTimeout(timer);
    running = undefined;
    if (answer.error) job.reject(failureOf(answer.error));
    else job.resolve(answer.rows ?? []);
    next();
  };

  /** A worker that died or was ended: the statement it ran fails, the next one gets a new worker. */
  const lost = (error: SqlDriverError): void => {
    const job = running?.job;
    if (running) clearTimeout(running.timer);
    running = undefined;
    worker = undefined;
    job?.reject(error);
    next();
  };

  const start = (): Worker => {
    const created = new Worker(WORKER_SOURCE, { eval: true, workerData });
    created.on('message', (answer: Answer) => {
      if (created === worker) settle(answer);
    });
    created.on('error', (error) => {
      if (created === worker) lost(new SqlDriverError('unavailable', 'database worker failed', error));
    });
    created.on('exit', () => {
      if (created === worker) lost(new SqlDriverError('unavailable', 'database worker stopped'));
    });
    // An idle worker does not keep the process alive.
    created.unref();
    return created;
  };

  function next(): void {
    if (running || closed) return;
    const job = queue.shift();
    if (!job) return;
    if (!worker && stopping.size >= MAX_STOPPING) {
      // Too many timed-out statements still hold a thread each: refuse at once rather than start another.
      job.reject(new SqlDriverError('unavailable', 'earlier statements that timed out are still running'));
      next();
      return;
    }
    worker ??= start();
    const timer = setTimeout(() => {
      // The client gets its timeout now; the worker is ended, but its thread runs on until SQLite
      // finishes the statement (it never returns to JavaScript before), so such threads are counted.
      // Counted before `lost` moves on to the next statement, so that one sees it.
      const stuck = worker;
      if (stuck) {
        const ended: Promise<unknown> = stuck.terminate().finally(() => {
          stopping.delete(ended);
          next();
        });
        stopping.add(ended);
      }
      lost(new SqlDriverError('timeout', 'statement timed out'));
    }, options.statementTimeoutMs);
    running = { job, timer };
    worker.postMessage({ sql: job.sql, params: job.params });
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
      const current = worker;
      worker = undefined;
      if (running) {
        clearTimeout(running.timer);
        running.job.reject(new SqlDriverError('unavailable', 'database closed'));
        running = undefined;
      }
      await Promise.all([current?.terminate(), ...stopping]);
    },
  };
}
