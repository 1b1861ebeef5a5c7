/**
 * Connection cursors. A cursor records, for each part of a connection (a source × resource type
 * stream), how many records of that part come before the edge, plus a fingerprint of the question
 * so a cursor cannot be replayed against a different filter or order.
 */
import { createHash } from 'node:crypto';
import { badInput } from '../errors';

export type Offsets = Record<string, number>;

export function fingerprint(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url').slice(0, 10);
}

export function encodeCursor(fp: string, offsets: Offsets): string {
  return Buffer.from(JSON.stringify({ f: fp, o: offsets }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined, fp: string): Offsets {
  if (cursor === null || cursor === undefined || cursor === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const value = parsed as { f?: unknown; o?: unknown } | undefined;
  if (!value || typeof value.o !== 'object' || value.o === null) throw badInput('"after" is not a valid cursor', { argument: 'after' });
  if (value.f !== fp) throw badInput('"after" is a cursor from a different list, filter or order', { argument: 'after' });
  const offsets: Offsets = {};
  for (const [key, n] of Object.entries(value.o as Record<string, unknown>)) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 1_000_000) {
      throw badInput('"after" is not a valid cursor', { argument: 'after' });
    }
    offsets[key] = n;
  }
  return offsets;
}
