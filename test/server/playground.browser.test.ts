/**
 * The playground in a real browser, with the network cut off: every request that does not go to 127.0.0.1 is
 * aborted and recorded, and the page is served under a strict Content-Security-Policy. Uses the system Chromium
 * (never a downloaded one) and skips when it is not installed.
 */
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, graphql } from 'graphql';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createPlayground } from '../../src/server/playground';

const CHROMIUM = '/usr/bin/chromium';
const maybe = existsSync(CHROMIUM) ? describe : describe.skip;

const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  // GraphiQL's components set inline styles at run time.
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self' data:",
  "img-src 'self' data:",
  "connect-src 'self'",
].join('; ');

const schema = buildSchema(`
  """A toy schema standing in for the gateway's."""
  type Query {
    "Greets someone."
    hello(name: String): String
    patient(id: ID!): Patient
  }
  type Patient {
    id: ID!
    family: String
  }
`);
const rootValue = {
  hello: ({ name }: { name?: string }) => `Hello, ${name ?? 'world'}`,
  patient: ({ id }: { id: string }) => ({ id, family: 'Medhurst46' }),
};

interface ToyServer {
  server: Server;
  origin: string;
  operations: string[];
  authorizations: Array<string | undefined>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function startToyServer(): Promise<ToyServer> {
  const playground = createPlayground({
    endpoint: '/graphql',
    examples: [
      { name: 'Say hello', query: 'query Hello {\n  hello(name: "playground")\n}\n' },
      {
        name: 'One patient',
        query: 'query OnePatient($id: ID!) {\n  patient(id: $id) { id family }\n}\n',
        variables: { id: 'p1' },
      },
    ],
  });
  const operations: string[] = [];
  const authorizations: Array<string | undefined> = [];

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const asset = req.method === 'GET' ? playground.asset(url.pathname) : undefined;
    if (asset) {
      res.writeHead(200, { 'content-type': asset.contentType, etag: asset.etag });
      res.end(asset.body);
    } else if (url.pathname === '/graphql' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP });
      res.end(playground.html());
    } else if (url.pathname === '/graphql' && req.method === 'POST') {
      const body = JSON.parse(await readBody(req)) as { query: string; variables?: Record<string, unknown> };
      operations.push(body.query);
      authorizations.push(req.headers.authorization);
      const result = await graphql({ schema, source: body.query, rootValue, variableValues: body.variables });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(result));
    } else {
      res.writeHead(404).end();
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}`, operations, authorizations };
}

async function eventually(check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

maybe('the playground in a browser with no internet', () => {
  let toy: ToyServer;
  let browser: Browser;
  let page: Page;
  const blocked: string[] = [];
  const problems: string[] = [];

  beforeAll(async () => {
    toy = await startToyServer();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.protocol === 'data:') {
        await route.continue();
      } else {
        blocked.push(route.request().url());
        await route.abort('blockedbyclient');
      }
    });
    page = await context.newPage();
    page.on('websocket', (ws) => blocked.push(ws.url()));
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
    });
    await page.goto(`${toy.origin}/graphql`, { waitUntil: 'load' });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => toy?.server.close(resolve));
  });

  it('renders the GraphiQL editor with the healthgraph title and the examples as tabs', async () => {
    await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 30_000 });
    expect(await page.title()).toBe('healthgraph');
    await expect(page.locator('.graphiql-logo').innerText()).resolves.toContain('healthgraph');
    const tabs = await page.locator('.graphiql-tab').allInnerTexts();
    expect(tabs.join(' ')).toContain('Hello');
    expect(tabs.join(' ')).toContain('OnePatient');
  }, 45_000);

  it('loads the schema by introspection from the endpoint', async () => {
    await eventually(() => toy.operations.some((q) => q.includes('__schema')), 15_000);
    await page.click('button[aria-label="Show Documentation Explorer"]');
    await page.locator('.graphiql-doc-explorer').getByText('Query').first().waitFor({ timeout: 10_000 });
  }, 30_000);

  it('runs the selected example and shows the data', async () => {
    await page.click('button.graphiql-execute-button');
    const response = page.locator('.graphiql-response .CodeMirror');
    await response.getByText('Hello, playground').waitFor({ timeout: 15_000 });
    expect(await response.innerText()).toContain('"hello"');
    await page.screenshot({ path: '/tmp/playground.png' });
  }, 30_000);

  it('sends a pasted Authorization header and the example variables', async () => {
    await page.locator('.graphiql-tab', { hasText: 'OnePatient' }).click({ timeout: 5_000 });
    await page.locator('.graphiql-editor-tools button', { hasText: 'Headers' }).click({ timeout: 5_000 });
    // The headers editor is a CodeMirror 5 instance; set its text through its API (a string: no DOM lib here).
    await page.evaluate(`(() => {
      const editors = [...document.querySelectorAll('.graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror')];
      const visible = editors[0];
      visible.CodeMirror.setValue('{ "Authorization": "Bearer test-token" }');
    })()`);
    const before = toy.authorizations.length;
    await page.click('button.graphiql-execute-button');
    await page.locator('.graphiql-response .CodeMirror').getByText('Medhurst46').waitFor({ timeout: 15_000 });
    expect(toy.authorizations.slice(before)).toContain('Bearer test-token');
  }, 30_000);

  it('never tried to reach anything but 127.0.0.1, and broke no CSP rule', () => {
    expect(blocked).toEqual([]);
    expect(problems.filter((p) => /Content Security Policy|Refused to/i.test(p))).toEqual([]);
    expect(problems.filter((p) => p.startsWith('page error'))).toEqual([]);
  });

  it('(control) would have caught a request to another host', async () => {
    const probe = await page.context().newPage();
    await probe.goto('http://example.com/').catch(() => undefined);
    await probe.close();
    expect(blocked).toEqual(['http://example.com/']);
  });
});
