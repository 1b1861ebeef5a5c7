/** A dataset to load: its tables, a content hash of its input, and its rows (read only when needed). */
import { createHash } from 'node:crypto';
import type { Dataset } from './config';
import type { Table } from './table';
import type { Value } from './targets';

export interface TableRows {
  columns: string[];
  rows: Value[][];
}

export interface DatasetSource {
  name: Dataset;
  tables: readonly Table[];
  /** Changes whenever the input, the table definitions or the way rows are made change. */
  hash(): string;
  read(): Map<string, TableRows>;
}

export function sha256(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}
