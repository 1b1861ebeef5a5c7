/**
 * Loads FHIR transaction Bundles into the peer through Medplum's own batch processing, which turns
 * `urn:uuid` fullUrls into `Type/id` references and honours `ifNoneExist` conditional creates.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { normalizeOperationOutcome } from '@medplum/core';
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { processBatch } from '@medplum/fhir-router';
import type { FhirRequest, FhirRouter } from '@medplum/fhir-router';
import type { IndexedMemoryRepository } from './repository';

/** Shared resources that Synthea re-creates in every patient's bundle; loaded once, by identifier. */
const SHARED_TYPES = new Set(['Organization', 'Practitioner', 'Location']);

export interface LoadResult {
  bundles: number;
  entries: number;
}

/**
 * Processes each bundle as Medplum's router would a `POST /fhir` of it. Transactions are processed
 * entry by entry (Medplum only enforces atomicity when its `transactions` option is set, and then
 * rejects conditional creates in bundles over 8 entries); any failed entry aborts the load.
 */
export async function loadBundles(
  router: FhirRouter,
  repo: IndexedMemoryRepository,
  bundles: Iterable<Bundle>,
): Promise<LoadResult> {
  const result: LoadResult = { bundles: 0, entries: 0 };
  for (const bundle of bundles) {
    const request: FhirRequest = { method: 'POST', url: '', pathname: '', params: {}, query: {}, body: bundle };
    const response = await processBatch(request, repo, router, bundle);
    (response.entry ?? []).forEach((entry, i) => {
      const status = entry.response?.status ?? '';
      if (!status.startsWith('2')) {
        const detail = JSON.stringify(entry.response?.outcome ?? normalizeOperationOutcome(entry));
        throw new Error(`Loading bundle ${result.bundles} entry ${i} failed with ${status || 'no status'}: ${detail}`);
      }
    });
    result.bundles += 1;
    result.entries += response.entry?.length ?? 0;
  }
  return result;
}

/**
 * Synthea POSTs its Organization and Practitioner resources unconditionally in every bundle; a real
 * server fed by Synthea's `hospital`/`practitioner` files holds each once. Make those entries
 * conditional creates on their first identifier so they are shared across patients.
 */
export function shareCommonResources(bundle: Bundle): Bundle {
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource;
    if (!resource || !SHARED_TYPES.has(resource.resourceType) || entry.request?.ifNoneExist) {
      continue;
    }
    const identifier = identifierOf(entry);
    if (entry.request?.method === 'POST' && identifier) {
      entry.request.ifNoneExist = `identifier=${encodeURIComponent(identifier)}`;
    }
  }
  return bundle;
}

function identifierOf(entry: BundleEntry): string | undefined {
  const resource = entry.resource as { identifier?: { system?: string; value?: string }[] } | undefined;
  const first = resource?.identifier?.find((identifier) => identifier.value);
  if (!first?.value) {
    return undefined;
  }
  return first.system ? `${first.system}|${first.value}` : first.value;
}

/** Where the shared Synthea archive lives, relative to the repository root. */
export function syntheaArchivePath(repoRoot: string): string {
  return resolve(repoRoot, '..', 'shared', 'data', 'synthea-r4-bundles.tar.xz');
}

/**
 * The first `count` Synthea bundle files in name order (a deterministic subset), extracting the
 * shared archive into `.services/cache/synthea/` on first use. Undefined when the archive is absent.
 */
export function syntheaBundleFiles(repoRoot: string, count: number): string[] | undefined {
  const archive = syntheaArchivePath(repoRoot);
  const cacheDir = join(repoRoot, '.services', 'cache', 'synthea');
  const bundleDir = join(cacheDir, 'synthea-r4-bundles');
  if (!existsSync(bundleDir)) {
    if (!existsSync(archive)) {
      return undefined;
    }
    // Extract beside the cache and rename, so an interrupted extraction is never mistaken for a complete one.
    const partial = join(cacheDir, `.partial-${process.pid}`);
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial, { recursive: true });
    execFileSync('tar', ['-xJf', archive, '-C', partial]);
    renameSync(join(partial, 'synthea-r4-bundles'), bundleDir);
    rmSync(partial, { recursive: true, force: true });
  }
  return readdirSync(bundleDir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .slice(0, count)
    .map((name) => join(bundleDir, name));
}

/** Bundle files (`*.json`) of a directory, in name order. */
export function bundleFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => join(dir, name));
}

/** Reads bundle files lazily, so only one large Synthea bundle is parsed at a time. */
export function* readBundles(files: readonly string[], prepare: (bundle: Bundle) => Bundle = (b) => b): Generator<Bundle> {
  for (const file of files) {
    yield prepare(JSON.parse(readFileSync(file, 'utf8')) as Bundle);
  }
}
