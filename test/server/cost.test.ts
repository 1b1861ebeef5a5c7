/**
 * The per-request cost check and its memo: the same document costs the same for any strings in
 * its variables, and differently when a page size, a list length or an @include changes it.
 */
import { buildSchema, parse } from 'graphql';
import { checkCost } from '../../src/server/limits';

const schema = buildSchema(`
  type Query { patient(id: ID!): Patient  nodes(ids: [ID!]!): [Patient] }
  type Patient { id: ID!  encounters(first: Int): EncounterConnection }
  type EncounterConnection { edges: [EncounterEdge!]! }
  type EncounterEdge { node: Encounter! }
  type Encounter { id: ID!  status: String }
`);
const document = parse(`query Q($id: ID!, $n: Int, $ids: [ID!]!, $more: Boolean!) {
  patient(id: $id) { id encounters(first: $n) { edges { node { id status } } } }
  nodes(ids: $ids) { id encounters(first: 2) @include(if: $more) { edges { node { id } } } }
}`);
const cost = (variables: Record<string, unknown>, max = 1_000_000): number => checkCost(schema, document, 'Q', variables, max);

describe('checkCost', () => {
  it('depends on page sizes, list lengths and @include, not on the text of strings', () => {
    const base = cost({ id: 'a', n: 10, ids: ['x'], more: false });
    expect(cost({ id: 'b', n: 10, ids: ['y'], more: false })).toBe(base);
    expect(cost({ id: 'a', n: 20, ids: ['x'], more: false })).toBeGreaterThan(base);
    const included = cost({ id: 'a', n: 10, ids: ['x'], more: true });
    expect(included).toBeGreaterThan(base);
    expect(cost({ id: 'a', n: 10, ids: ['x', 'y', 'z'], more: true })).toBeGreaterThan(included);
  });

  it('a remembered cost is still checked against each request limit', () => {
    const value = cost({ id: 'a', n: 50, ids: ['x'], more: true });
    expect(() => cost({ id: 'c', n: 50, ids: ['q'], more: true }, value - 1)).toThrow(/exceeds the limit/);
  });

  it('a variable of the wrong type is the client’s mistake, even after the shape was seen', () => {
    cost({ id: 'a', n: 0, ids: [], more: false });
    expect(() => cost({ id: 'a', n: 'many', ids: [], more: false })).toThrow(expect.objectContaining({ extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }));
  });
});
