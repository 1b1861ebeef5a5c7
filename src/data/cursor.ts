/**
 * Connection cursors. A cursor records, for each part of a connection (a source × resource type
 * stream), how many records of that part come before the edge, plus a fingerprint of the question
 * so a cursor cannot be replayed against a different filter or order.
 */
import { hash } from 'node:crypto';
import { badInput } from '../errors';
import type { Position, SourceRecord } from '../../connectors/types';

export type Offsets = Record<string, number>;
/** Per part, the position of its last record before the edge, where its source pages by keyset. */
export type Positions = Record<string, Position>;

/** A short digest of the question (a JSON-able value, or its JSON text). */
export function fingerprint(value: unknown): string {
  return hash('sha256', typeof value === 'string' ? value : JSON.stringify(value), 'base64url').slice(0, 10);
}

/** A list's fingerprint, or a function computing it when first needed (most lists never encode or check a cursor). */
export type Fingerprint = string | (() => string);

const fingerprintText = (fp: Fingerprint): string => (typeof fp === 'string' ? fp : fp());

/** A fingerprint computed at most once, when first asked for. */
export function lazyFingerprint(text: () => string): () => string {
  let value: string | undefined;
  return () => (value ??= fingerprint(text()));
}

export function encodeCursor(fp: Fingerprint, offsets: Offsets, positions?: Positions): string {
  return Buffer.from(JSON.stringify(positions ? { f: fingerprintText(fp), o: offsets, p: positions } : { f: fingerprintText(fp), o: offsets }), 'utf8').toString('base64url');
}

/**
 * A connection edge whose cursor is encoded only when asked for: most queries never select
 * `cursor`, and encoding one per edge was a measurable share of a wide answer's CPU.
 */
export class Edge<N = SourceRecord> {
  private encoded: string | undefined;

  constructor(
    private readonly fp: Fingerprint,
    private readonly offsets: Offsets,
    public node: N,
    private readonly positions?: Positions,
  ) {}

  get cursor(): string {
    this.encoded ??= encodeCursor(this.fp, this.offsets, this.positions);
    return this.encoded;
  }
}

/** Page info whose start and end cursors are the first and last edge's, encoded when asked for. */
export class PageInfo {
  constructor(
    private readonly edges: readonly { cursor: string }[],
    readonly hasNextPage: boolean,
    readonly hasPreviousPage: boolean,
  ) {}

  get startCursor(): string | null {
    return this.edges[0]?.cursor ?? null;
  }

  get endCursor(): string | null {
    return this.edges[this.edges.length - 1]?.cursor ?? null;
  }
}

export interface CursorState {
  offsets: Offsets;
  positions: Positions;
}

/** A cursor's offsets (and positions) per part; `{}` for no cursor. BAD_USER_INPUT for one that is not this list's. */
export function decodeCursorState(cursor: string | null | undefined, fp: Fingerprint): CursorState {
  if (cursor === null || cursor === undefined || cursor === '') return { offsets: {}, positions: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const value = parsed as { f?: unknown; o?: unknown; p?: unknown } | undefined;
  if (!value || typeof value.o !== 'object' || value.o === null) throw badInput('"after" is not a valid cursor', { argument: 'after' });
  if (value.f !== fingerprintText(fp)) throw badInput('"after" is a cursor from a different list, filter or order', { argument: 'after' });
  const offsets: Offsets = {};
  for (const [key, n] of Object.entries(value.o as Record<string, unknown>)) {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 1_000_000) {
      throw badInput('"after" is not a valid cursor', { argument: 'after' });
    }
    offsets[key] = n;
  }
  // Positions are checked against the part's order by its source (they only ever become statement parameters).
  const positions: Positions = {};
  if (value.p !== undefined) {
    if (typeof value.p !== 'object' || value.p === null || Array.isArray(value.p)) throw badInput('"after" is not a valid cursor', { argument: 'after' });
    for (const [key, position] of Object.entries(value.p as Record<string, unknown>)) {
      if (!Array.isArray(position) || position.length > 64 || !(key in offsets)) throw badInput('"after" is not a valid cursor', { argument: 'after' });
      positions[key] = position as Position;
    }
  }
  return { offsets, positions };
}

export function decodeCursor(cursor: string | null | undefined, fp: Fingerprint): Offsets {
  return decodeCursorState(cursor, fp).offsets;
}
