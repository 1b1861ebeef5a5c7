/**
 * The offline GraphQL playground: GraphiQL served entirely from this process.
 *
 * Nothing on the page reaches beyond the gateway: React, ReactDOM and GraphiQL come from node_modules (GraphiQL's
 * fonts are embedded in its CSS as data URIs), and the page has no inline script — `init.js` reads its settings from
 * a `<script type="application/json" id="hg-config">` block, so a strict `script-src 'self'` CSP works.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface Example {
  name: string;
  query: string;
  variables?: Record<string, unknown>;
}

export interface PlaygroundAsset {
  contentType: string;
  body: Buffer;
  /** A strong, quoted ETag (`"…"`), ready for the `ETag` header. */
  etag: string;
}

export interface PlaygroundOptions {
  /** Where GraphiQL sends operations, e.g. `/graphql` (resolved against the page URL). */
  endpoint: string;
  title?: string;
  examples: Example[];
  /** URL path the assets are served under; must start and end with `/`. Default `/playground/`. */
  assetPrefix?: string;
}

export interface Playground {
  /** The page for `GET <endpoint>` when a browser asks for `text/html`. */
  html(): string;
  /** A static file the page references, by request pathname (`/playground/graphiql.min.js`); query string ignored. */
  asset(pathname: string): PlaygroundAsset | undefined;
  readonly assetPrefix: string;
}

export const PLAYGROUND_ASSET_PREFIX = '/playground/';

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
const SVG = 'image/svg+xml';

/** Files copied verbatim from installed packages, in the order the page loads them. */
const VENDOR_FILES: ReadonlyArray<{ name: string; pkg: string; file: string; contentType: string }> = [
  { name: 'graphiql.min.css', pkg: 'graphiql', file: 'graphiql.min.css', contentType: CSS },
  { name: 'react.production.min.js', pkg: 'react', file: 'umd/react.production.min.js', contentType: JS },
  { name: 'react-dom.production.min.js', pkg: 'react-dom', file: 'umd/react-dom.production.min.js', contentType: JS },
  { name: 'graphiql.min.js', pkg: 'graphiql', file: 'graphiql.min.js', contentType: JS },
];

/** Runs in the browser; kept ES2017 and dependency-free. Reads everything it needs from #hg-config. */
const INIT_JS = `(function () {
  'use strict';
  var config = JSON.parse(document.getElementById('hg-config').textContent);
  var tabs = config.examples.map(function (example) {
    return {
      query: example.query,
      variables: example.variables ? JSON.stringify(example.variables, null, 2) : undefined,
    };
  });
  var props = {
    fetcher: GraphiQL.createFetcher({ url: new URL(config.endpoint, window.location.href).href }),
    storage: GraphiQL.createLocalStorage({ namespace: 'healthgraph' }),
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: true,
  };
  if (tabs.length > 0) props.defaultTabs = tabs;
  var logo = React.createElement(GraphiQL.Logo, null, config.title);
  ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(GraphiQL, props, logo));
})();
`;

const PLAYGROUND_CSS = `html, body, #graphiql { height: 100%; margin: 0; overflow: hidden; }
#graphiql > .hg-loading { font: 14px sans-serif; padding: 1rem; color: #555; }
`;

const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#e10098"/><path d="M4 4v8M12 4v8M4 8h8" stroke="#fff" stroke-width="2"/></svg>`;

export function createPlayground(opts: PlaygroundOptions): Playground {
  const prefix = opts.assetPrefix ?? PLAYGROUND_ASSET_PREFIX;
  if (!prefix.startsWith('/') || !prefix.endsWith('/') || prefix.startsWith('//')) {
    throw new Error(`playground assetPrefix must start and end with "/" (got "${prefix}")`);
  }
  const title = opts.title ?? 'healthgraph';

  const assets = new Map<string, PlaygroundAsset>();
  for (const v of VENDOR_FILES) assets.set(v.name, makeAsset(v.contentType, readVendorFile(v.pkg, v.file)));
  assets.set('playground.css', makeAsset(CSS, Buffer.from(PLAYGROUND_CSS)));
  assets.set('init.js', makeAsset(JS, Buffer.from(INIT_JS)));
  assets.set('favicon.svg', makeAsset(SVG, Buffer.from(FAVICON_SVG)));

  /** `?v=<etag>` makes each URL change with its content, so the server may cache assets forever. */
  const url = (name: string): string => `${prefix}${name}?v=${versionOf(assets.get(name))}`;
  const config = {
    endpoint: opts.endpoint,
    title,
    examples: opts.examples.map((e) => ({ query: `# ${e.name}\n${e.query}`, variables: e.variables })),
  };

  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<link rel="icon" type="image/svg+xml" href="${url('favicon.svg')}">
<link rel="stylesheet" href="${url('graphiql.min.css')}">
<link rel="stylesheet" href="${url('playground.css')}">
</head>
<body>
<div id="graphiql"><div class="hg-loading">Loading ${escapeHtml(title)}…</div></div>
<script type="application/json" id="hg-config">${jsonForScript(config)}</script>
<script src="${url('react.production.min.js')}"></script>
<script src="${url('react-dom.production.min.js')}"></script>
<script src="${url('graphiql.min.js')}"></script>
<script src="${url('init.js')}"></script>
</body>
</html>
`;

  return {
    assetPrefix: prefix,
    html: () => page,
    asset(pathname) {
      const path = pathname.split('?', 1)[0] ?? '';
      if (!path.startsWith(prefix)) return undefined;
      return assets.get(path.slice(prefix.length));
    },
  };
}

/**
 * Reads `docs/examples/*.graphql`. Each file starts with `# name: …`, optionally followed by
 * `# variables: {json}`; other comments stay in the query text.
 */
export function loadExamples(dir: string): Example[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort();
  return files.map((file) => parseExample(file, readFileSync(join(dir, file), 'utf8')));
}

export function parseExample(file: string, text: string): Example {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const nameMatch = /^#\s*name:\s*(.+?)\s*$/.exec(lines[0] ?? '');
  if (!nameMatch?.[1]) throw new Error(`${file}: the first line must be "# name: …"`);
  let rest = lines.slice(1);
  let variables: Record<string, unknown> | undefined;
  const varMatch = /^#\s*variables:\s*(.+?)\s*$/.exec(rest[0] ?? '');
  if (varMatch?.[1]) {
    variables = parseVariables(file, varMatch[1]);
    rest = rest.slice(1);
  }
  const example: Example = { name: nameMatch[1], query: rest.join('\n').trim() + '\n' };
  if (variables) example.variables = variables;
  return example;
}

function parseVariables(file: string, json: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new Error(`${file}: "# variables:" is not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${file}: "# variables:" must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

function readVendorFile(pkg: string, file: string): Buffer {
  // `<pkg>/package.json` is resolvable even where a package's `exports` hides its umd/ folder (react, react-dom).
  const body = readFileSync(join(dirname(require.resolve(`${pkg}/package.json`)), file));
  // Drop the source-map trailer: the maps are not served, and the page must not ask for anything we lack.
  return Buffer.from(body.toString('utf8').replace(/\n\/[/*]# sourceMappingURL=[^\n]*\s*$/, '\n'));
}

function makeAsset(contentType: string, body: Buffer): PlaygroundAsset {
  const hash = createHash('sha256').update(body).digest('base64url').slice(0, 27);
  return { contentType, body, etag: `"${hash}"` };
}

function versionOf(asset: PlaygroundAsset | undefined): string {
  return asset ? asset.etag.slice(1, 13) : '0';
}

/** JSON safe inside a `<script>` element: no `</script>`, `<!--`, or JS line separators can end or confuse it. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
