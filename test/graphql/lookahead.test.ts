/**
 * The look-ahead of a list field (src/graphql/lookahead.ts): which elements of its nodes are read,
 * and which of those are read without their texts (a coding's display, a concept's text), so a
 * source may leave the texts out. Anything it cannot see through keeps the texts.
 */
import { makeExecutableSchema } from '@graphql-tools/schema';
import { graphql, type GraphQLResolveInfo } from 'graphql';
import { applyFieldDefaults } from '../../src/graphql/field-defaults';
import { listLookahead, type ListLookahead } from '../../src/graphql/lookahead';
import { reads } from '../../src/graphql/reads';

const typeDefs = `
  interface Resource { id: ID! }
  type Coding { system: String code: String display: String }
  type CodeableConcept { coding: [Coding!]! text: String }
  scalar JSON
  type Condition implements Resource { id: ID! code: CodeableConcept category: [CodeableConcept!]! note: String label: String extension: JSON }
  type ConditionEdge { node: Condition! }
  type ConditionConnection { edges: [ConditionEdge!]! }
  type Query { conditions: ConditionConnection! }
`;

let seen: ListLookahead | undefined;
const schema = applyFieldDefaults(
  makeExecutableSchema({
    typeDefs,
    resolvers: {
      Query: {
        conditions: (_: unknown, __: unknown, ___: unknown, info: GraphQLResolveInfo) => {
          seen = listLookahead(info);
          return { edges: [] };
        },
      },
      // A field of its own that reads `code` (it might show the concept's name).
      Condition: { label: reads(['code'], () => 'x') },
    },
  }),
);

async function textless(selection: string, fragments = ''): Promise<{ elements: readonly string[] | null | undefined; textless: readonly string[] }> {
  seen = undefined;
  const result = await graphql({ schema, source: `{ conditions { edges { node { ${selection} } } } } ${fragments}` });
  expect(result.errors).toBeUndefined();
  return { elements: seen!.elements.get('Condition'), textless: seen!.textless.get('Condition') ?? [] };
}

describe('list look-ahead: elements read without their texts', () => {
  test('codes read for their system and code only', async () => {
    expect(await textless('id code { coding { system code } }')).toEqual({ elements: ['code'], textless: ['code'] });
  });

  test("a coding's display or a concept's text keeps the texts", async () => {
    expect((await textless('code { coding { code display } }')).textless).toEqual([]);
    expect((await textless('code { text }')).textless).toEqual([]);
    expect((await textless('code { coding { code } } category { text }')).textless).toEqual(['code']);
  });

  test('through fragments, inline and named', async () => {
    expect((await textless('... on Condition { code { coding { code } } }')).textless).toEqual(['code']);
    expect((await textless('code { coding { code } } ...More', 'fragment More on Condition { code { coding { display } } }')).textless).toEqual([]);
    expect((await textless('...Codes', 'fragment Codes on Condition { category { coding { code } } }')).textless).toEqual(['category']);
  });

  test('a field of its own that reads the element keeps its texts; a plain element without texts is not one', async () => {
    expect((await textless('code { coding { code } } label')).textless).toEqual([]);
    expect(await textless('note category { coding { system } }')).toEqual({ elements: ['category', 'note'], textless: ['category', 'note'] });
    // A JSON value is returned whole, texts included.
    expect(await textless('extension category { coding { system } }')).toEqual({ elements: ['category', 'extension'], textless: ['category'] });
  });
});
