/** `healthgraph lake import --url mongodb://… PATH… [--from-fhir URL]`. */
import { parseArgs } from 'node:util';
import { bulkExportInputs } from './bulk-export';
import { formatReport, importLake } from './import';

export const LAKE_USAGE = `  healthgraph lake import --url mongodb://HOST:PORT/DB [PATH…] [--from-fhir URL [--type T,…]]
                         [--batch-size 1000] [--concurrency 2] [--indexes first|after|none] [--force] [--quiet]
        load FHIR NDJSON (.ndjson, .ndjson.gz), Bundles (.json), folders and archives (.tar, .tar.gz, .tar.xz)
        into the lake; idempotent and resumable (re-run the same command after a crash)`;

/** A problem with the command line: printed with the usage, exit status 2. */
export class LakeUsageError extends Error {}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new LakeUsageError(`--${name} must be a positive whole number (got "${value}")`);
  return n;
}

function indexesOption(value: string | undefined): 'first' | 'after' | 'none' | undefined {
  if (value === undefined || value === 'first' || value === 'after' || value === 'none') return value;
  throw new LakeUsageError(`--indexes must be first, after or none (got "${value}")`);
}

/** Runs `lake …`; returns the exit status (1 when some input had errors). */
export async function lakeCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'import') throw new LakeUsageError('lake takes "import"');
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: 'string' },
      database: { type: 'string' },
      'from-fhir': { type: 'string' },
      type: { type: 'string' },
      'batch-size': { type: 'string' },
      concurrency: { type: 'string' },
      indexes: { type: 'string' },
      force: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    },
  });
  if (!values.url || !/^mongodb(\+srv)?:\/\//.test(values.url)) throw new LakeUsageError('lake import needs --url mongodb://HOST:PORT/DATABASE');
  if (positionals.length === 0 && !values['from-fhir']) throw new LakeUsageError('lake import needs files or folders to read, or --from-fhir URL');
  const progress = values.quiet ? undefined : process.stderr;
  const inputs = [];
  if (values['from-fhir']) {
    progress?.write(`lake import: requesting a Bulk Data export from ${values['from-fhir']}\n`);
    const exported = await bulkExportInputs({
      base: values['from-fhir'],
      types: values.type?.split(',').filter(Boolean),
      onStatus: (text) => progress?.write(`lake import: export ${text}\n`),
    });
    progress?.write(`lake import: export ready, ${exported.inputs.length} file(s)${exported.errorFiles.length ? `, ${exported.errorFiles.length} error file(s) not imported` : ''}\n`);
    inputs.push(...exported.inputs);
  }
  const report = await importLake({
    url: values.url,
    database: values.database,
    paths: positionals,
    inputs,
    batchSize: positiveInt('batch-size', values['batch-size'], 1000),
    concurrency: positiveInt('concurrency', values.concurrency, 2),
    indexes: indexesOption(values.indexes),
    force: values.force,
    progress,
  });
  process.stdout.write(`${formatReport(report)}\n`);
  return report.errors > 0 ? 1 : 0;
}
