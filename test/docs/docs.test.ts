import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { configReferenceMarkdown, describeConfig } from '../../src/config/describe';
import { schemaReferenceMarkdown } from '../../src/graphql/schema-docs';
import { projectRoot } from '../../src/paths';

const read = (file: string): string => readFileSync(join(projectRoot(), file), 'utf8');

describe('generated documentation', () => {
  it('documents every configuration setting with a description', () => {
    const undocumented = describeConfig()
      .filter((s) => !s.path.endsWith('[]') && !/\)$/.test(s.path))
      .filter((s) => !s.description)
      .map((s) => s.path);
    expect(undocumented).toEqual([]);
  });

  it('keeps the configuration reference in docs/configuration.md in step with the schema (run `make docs`)', () => {
    const text = read('docs/configuration.md');
    const block = /<!-- config-reference:start -->\n([\s\S]*?)\n<!-- config-reference:end -->/.exec(text)?.[1];
    expect(block).toBe(configReferenceMarkdown());
  });

  it('keeps docs/schema.md in step with schema/*.graphql (run `make docs`)', () => {
    expect(read('docs/schema.md')).toBe(`${schemaReferenceMarkdown()}\n`);
  });
});
