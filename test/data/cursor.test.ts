import { decodeCursor, decodeCursorState, encodeCursor, fingerprint } from '../../src/data/cursor';
import { HealthgraphError } from '../../src/errors';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof HealthgraphError ? error.code : 'not a HealthgraphError';
  }
  return undefined;
}

describe('connection cursors', () => {
  const fp = fingerprint([['ehr:Patient', { type: 'Patient', criteria: [] }], [{ field: 'name', direction: 'asc' }]]);

  it('carry the offset of every part of a list', () => {
    const cursor = encodeCursor(fp, { 'ehr:Patient': 20, 'lake:Patient': 3 });
    expect(decodeCursor(cursor, fp)).toEqual({ 'ehr:Patient': 20, 'lake:Patient': 3 });
  });

  it('no cursor means the start of the list', () => {
    expect(decodeCursor(undefined, fp)).toEqual({});
    expect(decodeCursor(null, fp)).toEqual({});
    expect(decodeCursor('', fp)).toEqual({});
  });

  it('fingerprints are stable and change with the question', () => {
    expect(fingerprint({ a: 1 })).toBe(fingerprint({ a: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
  });

  it('a cursor from a different filter or order is rejected as bad input', () => {
    const other = fingerprint([['ehr:Patient', { type: 'Patient', criteria: [{ param: 'gender', tokens: [{ code: 'male' }] }] }]]);
    const cursor = encodeCursor(other, { 'ehr:Patient': 20 });
    expect(codeOf(() => decodeCursor(cursor, fp))).toBe('BAD_USER_INPUT');
    expect(() => decodeCursor(cursor, fp)).toThrow(/different list, filter or order/);
  });

  it.each([
    ['garbage', 'not-a-cursor!'],
    ['base64 that is not JSON', Buffer.from('{{{').toString('base64url')],
    ['JSON without offsets', Buffer.from(JSON.stringify({ f: 'x' })).toString('base64url')],
    ['a negative offset', () => encodeCursor(fp, { 'ehr:Patient': -1 })],
    ['a fractional offset', () => encodeCursor(fp, { 'ehr:Patient': 1.5 })],
    ['a huge offset', () => encodeCursor(fp, { 'ehr:Patient': 10_000_000 })],
    ['a string offset', () => Buffer.from(JSON.stringify({ f: fp, o: { 'ehr:Patient': '3' } })).toString('base64url')],
  ])('%s is rejected as bad input naming "after"', (_, make) => {
    const cursor = typeof make === 'function' ? make() : make;
    expect(codeOf(() => decodeCursor(cursor, fp))).toBe('BAD_USER_INPUT');
    expect(() => decodeCursor(cursor, fp)).toThrow(/"after"/);
  });
});

describe('cursor positions (keyset paging)', () => {
  const fp = fingerprint('list');
  test('round-trip with the offsets', () => {
    const cursor = encodeCursor(fp, { 'research:Encounter': 7 }, { 'research:Encounter': ['2011-09-16', 59] });
    expect(decodeCursorState(cursor, fp)).toEqual({ offsets: { 'research:Encounter': 7 }, positions: { 'research:Encounter': ['2011-09-16', 59] } });
    expect(decodeCursor(cursor, fp)).toEqual({ 'research:Encounter': 7 });
  });
  test('a position that is not a list, or names a part without an offset, is refused', () => {
    const raw = (p: unknown): string => Buffer.from(JSON.stringify({ f: fp, o: { a: 1 }, p })).toString('base64url');
    for (const p of [['x'], { a: 'x' }, { b: [1] }, { a: new Array(65).fill(1) }]) expect(() => decodeCursorState(raw(p), fp)).toThrow('"after" is not a valid cursor');
    expect(decodeCursorState(raw({ a: [1, 2] }), fp).positions).toEqual({ a: [1, 2] });
  });
});
