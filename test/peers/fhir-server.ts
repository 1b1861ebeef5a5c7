/**
 * A real FHIR R4 server for tests, benchmarks and the demo: Medplum's FhirRouter over an indexed
 * in-memory repository, behind node's `http` server.
 *
 *   node dist/test/peers/fhir-server.js --port 8081 [--host 127.0.0.1] [--base /fhir]
 *        [--synthea N] [--demo N] [--seed S] [--bundles DIR]
 *
 * Prints `ready port=… patients=… resources=…` once listening.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FhirRouter } from '@medplum/fhir-router';
import type { Bundle } from '@medplum/fhirtypes';
import { generatePopulation } from '../../src/demo/generate';
import { loadFhirDefinitions } from './fhir/definitions';
import { createFhirRequestListener } from './fhir/http';
import { bundleFilesIn, loadBundles, readBundles, shareCommonResources, syntheaBundleFiles } from './fhir/loader';
import { IndexedMemoryRepository } from './fhir/repository';

export interface FhirServerOptions {
  port?: number;
  host?: string;
  /** Path prefix of the FHIR API. Default `/fhir`. */
  basePath?: string;
  /** Load the first N bundles of the shared Synthea archive (falls back to `demo` when absent). */
  synthea?: number;
  /** Load N patients of healthgraph's own generated population. */
  demo?: number;
  /** Seed of the generated population. Default 1. */
  seed?: number;
  /** Load every `*.json` transaction bundle of this directory. */
  bundlesDir?: string;
  /** Extra bundles to load (in-process tests). */
  bundles?: Bundle[];
  /** Repository root, for `../shared/data` and `.services/cache`. Default: found from this file. */
  repoRoot?: string;
  /** Build Medplum's GraphQL schema before listening (about 1.5 s), so the first query is not slow. Default true. */
  warmGraphql?: boolean;
  /** Called with human-readable notes (e.g. the Synthea fallback). */
  onNotice?: (message: string) => void;
}

export interface FhirServer {
  /** Absolute base URL of the FHIR API, e.g. `http://127.0.0.1:8081/fhir`. */
  url: string;
  port: number;
  repo: IndexedMemoryRepository;
  router: FhirRouter;
  patients: number;
  resources: number;
  loadMs: number;
  close(): Promise<void>;
}

const SOFTWARE_VERSION = '4.5.2';

export async function startFhirServer(options: FhirServerOptions = {}): Promise<FhirServer> {
  loadFhirDefinitions();
  const host = options.host ?? '127.0.0.1';
  const basePath = normalizeBasePath(options.basePath ?? '/fhir');
  const repo = new IndexedMemoryRepository();
  const router = new FhirRouter({ introspectionEnabled: true });
  const started = Date.now();
  for (const bundles of bundleSources(options)) {
    await loadBundles(router, repo, bundles);
  }
  const loadMs = Date.now() - started;
  if (options.warmGraphql ?? true) {
    await warmGraphql(router, repo);
  }

  const listener = createFhirRequestListener({ router, repo, basePath, defaultHost: host, softwareVersion: SOFTWARE_VERSION });
  const server = createServer({ keepAlive: true }, listener);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const counts = repo.counts();
  return {
    url: `http://${host}:${port}${basePath}`,
    port,
    repo,
    router,
    patients: counts.Patient ?? 0,
    resources: Object.values(counts).reduce((sum, n) => sum + n, 0),
    loadMs,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

async function warmGraphql(router: FhirRouter, repo: IndexedMemoryRepository): Promise<void> {
  const body = { query: '{ PatientList(_count: 1) { id } }' };
  await router.handleRequest({ method: 'POST', url: '$graphql', pathname: '', params: {}, query: {}, body }, repo);
}

function* bundleSources(options: FhirServerOptions): Generator<Iterable<Bundle>> {
  const repoRoot = options.repoRoot ?? findRepoRoot(__dirname);
  let demo = options.demo ?? 0;
  if (options.synthea && options.synthea > 0) {
    const files = syntheaBundleFiles(repoRoot, options.synthea);
    if (files) {
      yield readBundles(files, shareCommonResources);
    } else {
      demo = Math.max(demo, options.synthea);
      options.onNotice?.(`shared Synthea archive not found; loading ${demo} generated demo patients instead`);
    }
  }
  if (demo > 0) {
    yield generatePopulation({ patients: demo, seed: options.seed ?? 1 }) as unknown as Bundle[];
  }
  if (options.bundlesDir) {
    yield readBundles(bundleFilesIn(options.bundlesDir));
  }
  if (options.bundles) {
    yield options.bundles;
  }
}

function normalizeBasePath(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** The nearest directory at or above `start` holding a package.json (works from src and dist). */
export function findRepoRoot(start: string): string {
  let dir = start;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) {
      return process.cwd();
    }
    dir = parent;
  }
  return dir;
}

interface CliArgs {
  options: FhirServerOptions;
}

export function parseFhirServerArgs(argv: readonly string[]): CliArgs {
  const options: FhirServerOptions = { port: 8081 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    const need = (): string => {
      if (value === undefined) {
        throw new Error(`${flag} needs a value`);
      }
      i++;
      return value;
    };
    switch (flag) {
      case '--port':
        options.port = toInt(flag, need());
        break;
      case '--host':
        options.host = need();
        break;
      case '--base':
        options.basePath = need();
        break;
      case '--synthea':
        options.synthea = toInt(flag, need());
        break;
      case '--demo':
        options.demo = toInt(flag, need());
        break;
      case '--seed':
        options.seed = toInt(flag, need());
        break;
      case '--bundles':
        options.bundlesDir = need();
        break;
      default:
        throw new Error(`unknown argument ${flag ?? ''}`);
    }
  }
  return { options };
}

function toInt(flag: string | undefined, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`${flag ?? 'argument'} expects a non-negative integer, got "${value}"`);
  }
  return n;
}

async function main(): Promise<void> {
  const { options } = parseFhirServerArgs(process.argv.slice(2));
  options.onNotice = (message) => console.log(`notice: ${message}`);
  const server = await startFhirServer(options);
  console.log(
    `ready port=${server.port} patients=${server.patients} resources=${server.resources} loadMs=${server.loadMs} url=${server.url}`,
  );
  const stop = (): void => {
    void server.close().finally(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
