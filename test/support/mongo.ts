/**
 * Helpers for tests against a real MongoDB-wire server: FerretDB from `make services`
 * (mongodb://127.0.0.1:27018) or any MongoDB given as MONGODB_URL. Each test file works in its own
 * database, dropped afterwards. Tests that need the server or ../shared/data skip with a message
 * when they are missing.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MongoClient } from 'mongodb';

const ROOT = resolve(__dirname, '../..');

/** The server's base URL (no database). */
export function mongoBaseUrl(): string {
  const url = process.env.MONGODB_URL ?? process.env.HG_TEST_MONGODB_URL ?? 'mongodb://127.0.0.1:27018/';
  return url.replace(/^(mongodb(?:\+srv)?:\/\/[^/?]+)\/?[^?]*/, '$1/');
}

/** A URL naming a database of its own for one test file. */
export function testDatabaseUrl(label: string): string {
  const base = mongoBaseUrl();
  const db = `hg_test_${label.replace(/[^A-Za-z0-9_]/g, '_')}_${process.pid}`;
  const [head, query] = base.split('?') as [string, string | undefined];
  return `${head}${db}${query ? `?${query}` : ''}`;
}

let reachable: boolean | undefined;

/** Whether the server answers a ping (checked once, synchronously, so `describe` can be skipped). */
export function mongoReachable(): boolean {
  if (reachable === undefined) {
    try {
      execFileSync(
        process.execPath,
        [
          '-e',
          `const { MongoClient } = require('mongodb'); const c = new MongoClient(process.argv[1], { serverSelectionTimeoutMS: 2000 });
           c.db('admin').command({ ping: 1 }).then(() => process.exit(0), () => process.exit(1));`,
          mongoBaseUrl(),
        ],
        { cwd: ROOT, stdio: 'ignore', timeout: 10_000 },
      );
      reachable = true;
    } catch {
      reachable = false;
    }
  }
  return reachable;
}

/** A path under ../shared/data, or undefined when the shared data is not there. */
export function sharedData(path: string): string | undefined {
  const full = join(ROOT, '..', 'shared', 'data', path);
  return existsSync(full) ? full : undefined;
}

/**
 * `describe`, or `describe.skip` with a console message naming what is missing: the MongoDB-wire
 * server, and any shared data paths given.
 */
export function describeWithMongo(name: string, needs: string[], body: () => void): void {
  const missing: string[] = [];
  if (!mongoReachable()) missing.push(`a MongoDB-wire server at ${mongoBaseUrl()} (run \`make services\` or set MONGODB_URL)`);
  for (const path of needs) if (!sharedData(path)) missing.push(`../shared/data/${path}`);
  if (missing.length > 0) {
    console.warn(`skipping "${name}": needs ${missing.join(' and ')}`);
    describe.skip(name, body);
  } else {
    describe(name, body);
  }
}

/** Drops a test database. */
export async function dropDatabase(url: string): Promise<void> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.db().dropDatabase();
  } finally {
    await client.close();
  }
}

/** The compiled CLI, for tests that run it as a process. */
export const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
