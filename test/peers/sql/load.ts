/**
 * Loads the test datasets into the test databases, skipping what is already loaded:
 *
 *   node dist/test/peers/sql/load.js [--check] [--force] [--dataset omop|claims] [--db postgres,mariadb,sqlite]
 *
 * - `omop`: the shared OMOP CDM v5.4 CSVs → PostgreSQL schema `cdm`, MariaDB database `cdm`, `.services/sqlite/omop.db`;
 * - `claims`: the claims warehouse built from the first CLAIMS_SYNTHEA_PATIENTS (60) Synthea bundles → schema /
 *   database `claims`, `.services/sqlite/claims.db`.
 *
 * A dataset whose shared input is absent is skipped, as is a database that does not answer (its service
 * was not started). `--check` loads nothing and exits 1 when something would be loaded. `--force` reloads.
 */
import { claimsDataset } from './claims/dataset';
import { SQL_DBS, claimsPatientCount, findRepoRoot, type SqlDb } from './config';
import type { DatasetSource } from './dataset';
import { omopDataset } from './omop';
import { openTarget, type Target } from './targets';

interface Args {
  check: boolean;
  force: boolean;
  datasets: string[];
  dbs: SqlDb[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { check: false, force: false, datasets: ['omop', 'claims'], dbs: [...SQL_DBS] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--check') args.check = true;
    else if (arg === '--force') args.force = true;
    else if (arg === '--dataset') args.datasets = (argv[++i] ?? '').split(',');
    else if (arg === '--db') args.dbs = (argv[++i] ?? '').split(',') as SqlDb[];
    else throw new Error(`unknown argument ${arg}`);
  }
  for (const db of args.dbs) if (!SQL_DBS.includes(db)) throw new Error(`unknown database ${db}`);
  return args;
}

async function connect(dbs: SqlDb[], repoRoot: string): Promise<Target[]> {
  const targets: Target[] = [];
  for (const db of dbs) {
    try {
      targets.push(await openTarget(db, repoRoot));
    } catch (error) {
      console.log(`${db}: not reachable, skipped (${(error as Error).message.split('\n')[0]})`);
    }
  }
  return targets;
}

/** Loads one dataset into the targets that do not hold this version of it; returns how many needed it. */
export async function loadDataset(source: DatasetSource, targets: Target[], args: Pick<Args, 'check' | 'force'>): Promise<number> {
  const hash = source.hash();
  const stale: Target[] = [];
  for (const target of targets) {
    const loaded = await target.loadedHash(source.name);
    if (args.force || loaded !== hash) stale.push(target);
    else console.log(`${source.name} → ${target.db}: up to date`);
  }
  if (args.check || stale.length === 0) {
    for (const target of stale) console.log(`${source.name} → ${target.db}: needs loading`);
    return stale.length;
  }
  const started = Date.now();
  const data = source.read();
  const total = [...data.values()].reduce((sum, t) => sum + t.rows.length, 0);
  console.log(`${source.name}: read ${total} rows of ${data.size} tables in ${Date.now() - started} ms`);
  await Promise.all(
    stale.map(async (target) => {
      const begun = Date.now();
      await target.recreate(source.name, source.tables);
      for (const t of source.tables) {
        const rows = data.get(t.name);
        if (rows && rows.rows.length > 0) await target.insert(source.name, t, rows.columns, rows.rows);
      }
      await target.finish(source.name, source.tables, hash);
      console.log(`${source.name} → ${target.db}: loaded ${total} rows in ${Date.now() - begun} ms`);
    }),
  );
  return stale.length;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const repoRoot = findRepoRoot(__dirname);
  const sources: DatasetSource[] = [];
  if (args.datasets.includes('omop')) {
    const omop = omopDataset(repoRoot);
    if (omop) sources.push(omop);
    else console.log('omop: ../shared/data/omop-synthea27nj-5.4.zip is absent; not loaded');
  }
  if (args.datasets.includes('claims')) {
    const claims = claimsDataset(repoRoot, claimsPatientCount());
    if (claims) sources.push(claims);
    else console.log('claims: ../shared/data/synthea-r4-bundles.tar.xz is absent; not loaded');
  }
  if (sources.length === 0) return 0;
  const targets = await connect(args.dbs, repoRoot);
  try {
    let stale = 0;
    for (const source of sources) stale += await loadDataset(source, targets, args);
    return args.check && stale > 0 ? 1 : 0;
  } finally {
    await Promise.all(targets.map((t) => t.close()));
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      process.exit(2);
    },
  );
}
