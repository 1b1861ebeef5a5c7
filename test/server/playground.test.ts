import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'graphql';
import { createPlayground, jsonForScript, loadExamples, parseExample } from '../../src/server/playground';

const EXAMPLES_DIR = join(__dirname, '..', '..', 'docs', 'examples');

/** Every `src="…"` / `href="…"` in an HTML document. */
function referencedUrls(html: string): string[] {
  return [...html.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/g)].map((m) => m[1] ?? '');
}

/** `http://x`, `https://x`, protocol-relative `//x` and CSS `url(http…)`/`@import` of a remote file. */
const EXTERNAL_ORIGIN = /(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}(?::\d+)?\//i;

function withoutComments(css: string): string {
  return css.replace(/\/\*[\s\S]*?\*\//g, '');
}

describe('the playground page', () => {
  const examples = loadExamples(EXAMPLES_DIR);
  const playground = createPlayground({ endpoint: '/graphql', examples });
  const html = playground.html();

  it('is titled healthgraph', () => {
    expect(html).toContain('<title>healthgraph</title>');
  });

  it('references only files that the playground itself serves', () => {
    const urls = referencedUrls(html);
    expect(urls.length).toBeGreaterThanOrEqual(6);
    for (const url of urls) {
      expect(url).toMatch(/^\/[^/]/); // a local path: not a scheme, not protocol-relative
      expect(playground.asset(url)).toBeDefined();
    }
  });

  it('has no inline script: the only script body is the JSON config', () => {
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    const inline = scripts.filter((m) => (m[2] ?? '').trim() !== '');
    expect(inline).toHaveLength(1);
    expect(inline[0]?.[1]).toContain('type="application/json"');
    expect(inline[0]?.[1]).toContain('id="hg-config"');
  });

  it('names no external origin in the page, the init script or the stylesheets', () => {
    const init = playground.asset('/playground/init.js')?.body.toString('utf8') ?? '';
    const ownCss = playground.asset('/playground/playground.css')?.body.toString('utf8') ?? '';
    const graphiqlCss = playground.asset('/playground/graphiql.min.css')?.body.toString('utf8') ?? '';
    expect(init).not.toBe('');
    // The config block is inert data; its example queries legitimately mention code systems like http://loinc.org.
    const markup = html.replace(/<script type="application\/json" id="hg-config">[\s\S]*?<\/script>/, '');
    expect(markup).not.toBe(html);
    for (const text of [markup, init, ownCss, withoutComments(graphiqlCss)]) {
      expect(text).not.toMatch(EXTERNAL_ORIGIN);
    }
    // GraphiQL's fonts must come embedded, not from a font CDN.
    expect(graphiqlCss).toMatch(/@font-face/);
    for (const m of withoutComments(graphiqlCss).matchAll(/url\(\s*['"]?([^'")]*)/g)) {
      expect(m[1]).toMatch(/^(data:|#)/);
    }
    expect(withoutComments(graphiqlCss)).not.toMatch(/@import/);
  });

  it('does not point the browser at source maps it does not serve', () => {
    for (const name of ['graphiql.min.js', 'graphiql.min.css']) {
      const body = playground.asset(`/playground/${name}`)?.body.toString('utf8') ?? '';
      expect(body).not.toMatch(/[#@] sourceMappingURL=/);
    }
  });

  it('carries the endpoint, title and every example in the config block', () => {
    const m = /<script type="application\/json" id="hg-config">([\s\S]*?)<\/script>/.exec(html);
    const config = JSON.parse(m?.[1] ?? 'null') as {
      endpoint: string;
      title: string;
      examples: Array<{ query: string; variables?: Record<string, unknown> }>;
    };
    expect(config.endpoint).toBe('/graphql');
    expect(config.title).toBe('healthgraph');
    expect(config.examples).toHaveLength(examples.length);
    expect(config.examples[0]?.query).toContain(`# ${examples[0]?.name}`);
  });

  it('cannot be broken out of by an example containing </script>', () => {
    const evil = createPlayground({
      endpoint: '/graphql',
      title: 'a <b> & "c"',
      examples: [{ name: '</script><script>alert(1)</script>', query: '{ __typename }' }],
    }).html();
    expect(evil.match(/<\/script>/g)).toHaveLength(5); // the config block and the four script tags
    expect(evil).not.toContain('alert(1)</script>');
    expect(evil).toContain('<title>a &#60;b&#62; &#38; &#34;c&#34;</title>');
    expect(JSON.parse(jsonForScript({ s: '</script>\u2028' }))).toEqual({ s: '</script>\u2028' });
  });
});

describe('playground assets', () => {
  const playground = createPlayground({ endpoint: '/graphql', examples: [] });

  it.each([
    ['graphiql.min.js', 'text/javascript; charset=utf-8'],
    ['react.production.min.js', 'text/javascript; charset=utf-8'],
    ['react-dom.production.min.js', 'text/javascript; charset=utf-8'],
    ['init.js', 'text/javascript; charset=utf-8'],
    ['graphiql.min.css', 'text/css; charset=utf-8'],
    ['playground.css', 'text/css; charset=utf-8'],
    ['favicon.svg', 'image/svg+xml'],
  ])('serves %s as %s with a quoted ETag', (name, contentType) => {
    const asset = playground.asset(`/playground/${name}`);
    expect(asset?.contentType).toBe(contentType);
    expect(asset?.body.length).toBeGreaterThan(0);
    expect(asset?.etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
  });

  it('ignores the cache-busting query string and returns the same cached buffer', () => {
    const a = playground.asset('/playground/graphiql.min.js?v=whatever');
    expect(a).toBeDefined();
    expect(a).toBe(playground.asset('/playground/graphiql.min.js'));
  });

  it('serves nothing outside its prefix or its file list', () => {
    expect(playground.asset('/graphiql.min.js')).toBeUndefined();
    expect(playground.asset('/playground/../package.json')).toBeUndefined();
    expect(playground.asset('/playground/graphiql.min.js.map')).toBeUndefined();
    expect(playground.asset('/playground/')).toBeUndefined();
  });

  it('honours a custom asset prefix in both the page and asset()', () => {
    const custom = createPlayground({ endpoint: '/api/graphql', examples: [], assetPrefix: '/api/ide/' });
    const urls = referencedUrls(custom.html());
    expect(urls.every((u) => u.startsWith('/api/ide/'))).toBe(true);
    expect(custom.asset('/api/ide/init.js')).toBeDefined();
    expect(() => createPlayground({ endpoint: '/g', examples: [], assetPrefix: '//cdn.example/' })).toThrow(
      /assetPrefix/,
    );
  });
});

describe('example queries in docs/examples', () => {
  const examples = loadExamples(EXAMPLES_DIR);

  it('has between 6 and 10 named examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(6);
    expect(examples.length).toBeLessThanOrEqual(10);
    for (const e of examples) expect(e.name.length).toBeGreaterThan(3);
  });

  it.each(examples.map((e) => [e.name, e] as const))('"%s" is valid GraphQL with a named operation', (_name, e) => {
    const doc = parse(e.query);
    const ops = doc.definitions.filter((d) => d.kind === 'OperationDefinition');
    expect(ops).toHaveLength(1);
    expect(ops[0]?.kind === 'OperationDefinition' && ops[0].name?.value).toBeTruthy();
    expect(e.query).not.toMatch(/^#\s*(name|variables):/m);
  });

  it('supplies variables for every required variable an example declares', () => {
    for (const e of examples) {
      const op = parse(e.query).definitions.find((d) => d.kind === 'OperationDefinition');
      const required = op?.kind === 'OperationDefinition' ? (op.variableDefinitions ?? []) : [];
      for (const v of required.filter((d) => d.type.kind === 'NonNullType')) {
        expect(e.variables).toHaveProperty(v.variable.name.value);
      }
    }
  });

  it('reads the name and variables header and rejects a malformed one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hg-examples-'));
    writeFileSync(
      join(dir, 'a.graphql'),
      '# name: One\n# variables: {"id": "x"}\n# keep me\nquery A($id: ID!) { node(id: $id) { id } }\n',
    );
    writeFileSync(join(dir, 'b.txt'), 'ignored');
    expect(loadExamples(dir)).toEqual([
      { name: 'One', variables: { id: 'x' }, query: '# keep me\nquery A($id: ID!) { node(id: $id) { id } }\n' },
    ]);
    expect(() => parseExample('c.graphql', 'query { a }')).toThrow(/c\.graphql.*# name:/);
    expect(() => parseExample('d.graphql', '# name: D\n# variables: {oops}\n{ a }')).toThrow(/d\.graphql.*JSON/);
    expect(() => parseExample('e.graphql', '# name: E\n# variables: [1]\n{ a }')).toThrow(/JSON object/);
  });
});
