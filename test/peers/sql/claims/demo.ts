/**
 * The demo's claims warehouse: healthgraph's own generated population (src/demo) — the same bundles,
 * same seed and count, as the demo FHIR server loads with `--demo N --seed S` — through the claims
 * builder, into one SQLite file. `make run` (scripts/demo.sh) runs it before the gateway starts:
 *
 *   node dist/test/peers/sql/claims/demo.js [--patients 40] [--seed 1] [--out .services/demo/claims.db] [--force]
 *
 * Idempotent: the file records a hash of the generated bundles, the table definitions and the
 * builder's code, and is rebuilt only when one of them changed (or with `--force`).
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { DEFAULT_POPULATION, generatePopulation, type PopulationOptions } from '../../../../src/demo/generate';
import { findRepoRoot } from '../config';
import { sha256, type DatasetSource } from '../dataset';
import { loadDataset } from '../load';
import { sqliteTarget } from '../targets';
import { buildClaims } from './build';
import { CLAIMS_TABLES } from './tables';

/** Bump when the rows change for a reason neither the bundles nor the builder's source show. */
const FORMAT = 'claims-demo-1';

export function demoClaimsDataset(population: PopulationOptions = DEFAULT_POPULATION): DatasetSource {
  let bundles: Bundle[] | undefined;
  const generated = (): Bundle[] => {
    bundles ??= generatePopulation(population) as unknown as Bundle[];
    return bundles;
  };
  return {
    name: 'claims',
    tables: CLAIMS_TABLES,
    hash: () =>
      sha256(FORMAT, JSON.stringify(CLAIMS_TABLES), readFileSync(require.resolve('./build')), JSON.stringify(generated())),
    read: () => buildClaims(generated()),
  };
}

export interface DemoClaimsOptions extends PopulationOptions {
  /** The SQLite file to write. */
  file: string;
  force?: boolean;
}

/** Builds (or leaves alone, when up to date) the demo's claims database; true when it was (re)built. */
export async function buildDemoClaimsDb(options: DemoClaimsOptions): Promise<boolean> {
  const target = await sqliteTarget(findRepoRoot(__dirname), () => options.file);
  try {
    const source = demoClaimsDataset({ patients: options.patients, seed: options.seed });
    return (await loadDataset(source, [target], { check: false, force: options.force ?? false })) > 0;
  } finally {
    await target.close();
  }
}

export function parseDemoClaimsArgs(argv: readonly string[], cwd = process.cwd()): DemoClaimsOptions {
  const options: DemoClaimsOptions = {
    ...DEFAULT_POPULATION,
    file: join(findRepoRoot(__dirname), '.services', 'demo', 'claims.db'),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${flag} needs a value`);
      return next;
    };
    const count = (): number => {
      const text = value();
      const n = Number(text);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} expects a non-negative integer, got "${text}"`);
      return n;
    };
    if (flag === '--patients') options.patients = count();
    else if (flag === '--seed') options.seed = count();
    else if (flag === '--out') {
      const out = value();
      options.file = isAbsolute(out) ? out : resolve(cwd, out);
    } else if (flag === '--force') options.force = true;
    else throw new Error(`unknown argument ${flag ?? ''}`);
  }
  return options;
}

if (require.main === module) {
  Promise.resolve()
    .then(() => buildDemoClaimsDb(parseDemoClaimsArgs(process.argv.slice(2))))
    .then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
        process.exit(2);
      },
    );
}
