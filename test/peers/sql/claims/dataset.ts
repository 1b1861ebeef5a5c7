/**
 * The claims dataset: the first N Synthea bundles — the same files, in the same order, as the FHIR
 * peer loads (`syntheaBundleFiles`), so the same people are in both — through `buildClaims`.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readBundles, syntheaArchivePath, syntheaBundleFiles } from '../../fhir/loader';
import { sha256, type DatasetSource } from '../dataset';
import { buildClaims } from './build';
import { CLAIMS_TABLES } from './tables';

/** Bump when the rows change for a reason the builder's own source does not show. */
const FORMAT = 'claims-synthea-1';

/** Undefined when neither the shared archive nor an extracted copy is there. */
export function claimsDataset(repoRoot: string, patients: number): DatasetSource | undefined {
  const extracted = join(repoRoot, '.services', 'cache', 'synthea', 'synthea-r4-bundles');
  if (!existsSync(syntheaArchivePath(repoRoot)) && !existsSync(extracted)) return undefined;
  let files: string[] | undefined;
  const bundleFiles = (): string[] => {
    files ??= syntheaBundleFiles(repoRoot, patients) ?? [];
    return files;
  };
  return {
    name: 'claims',
    tables: CLAIMS_TABLES,
    hash: () =>
      sha256(
        FORMAT,
        JSON.stringify(CLAIMS_TABLES),
        // The builder's own code (compiled or not): a change to how rows are made reloads the warehouse.
        readFileSync(require.resolve('./build')),
        String(patients),
        ...bundleFiles().map((f) => `${basename(f)}:${statSync(f).size}`),
      ),
    read: () => buildClaims(readBundles(bundleFiles())),
  };
}
