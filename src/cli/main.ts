/**
 * `healthgraph` command line. Problems with input (flags, config) print a plain message and exit 2;
 * never a stack trace.
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AuditStore } from '../audit/store';
import { configReferenceMarkdown } from '../config/describe';
import { loadConfig } from '../config/load';
import { schemaReferenceMarkdown } from '../graphql/schema-docs';
import { ConfigError } from '../errors';
import { createLogger } from '../logger';
import { createGateway } from '../server/gateway';
import { auditLocation } from '../server/security';
import { LAKE_USAGE, LakeUsageError, lakeCommand } from '../lake/cli';
import { introspect } from '../../connectors/sql/introspect';
import { identityBuild } from '../identity/cli';

const USAGE = `Usage:
  healthgraph serve --config FILE [--port 4000] [--host 127.0.0.1]
  healthgraph config check --config FILE
  healthgraph audit verify --config FILE   check the audit trail's hash chain (exit 1 and the first bad entry when broken)
  healthgraph docs config|schema       print the configuration or schema reference (Markdown)
  healthgraph sql introspect URL [--schema S]   draft a SQL mapping (YAML) from a database's catalog
  healthgraph identity build --config FILE   read every source's patients, link them into persons, save the link store
${LAKE_USAGE}
  healthgraph help

Environment: LOG_LEVEL (default info), NODE_ENV=production turns introspection and the playground off.`;

class UsageError extends Error {}

function portOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a number from 0 to 65535 (got "${value}")`);
  return port;
}

async function serve(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, port: { type: 'string', short: 'p' }, host: { type: 'string' } }, strict: true });
  if (!values.config) throw new UsageError('serve needs --config FILE');
  const config = loadConfig(values.config);
  const log = createLogger();
  const gateway = await createGateway(config, { log, configPath: values.config });
  const url = await gateway.listen(portOf(values.port) ?? config.server.port, values.host ?? config.server.host);
  log.info({ url: `${url}/graphql`, sources: config.sources.map((s) => s.id) }, 'healthgraph is listening');
  process.stderr.write(`healthgraph: GraphQL and playground at ${url}/graphql\n`);
  const stop = (signal: string): void => {
    log.info({ signal }, 'shutting down');
    gateway.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

async function configCheck(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, strict: true });
  if (!values.config) throw new UsageError('config check needs --config FILE');
  const config = loadConfig(values.config);
  process.stdout.write(`${values.config}: valid (${config.sources.length} source${config.sources.length === 1 ? '' : 's'})\n`);
}

function auditVerify(argv: string[]): number {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' }, file: { type: 'string' } }, strict: true });
  if (!values.config && !values.file) throw new UsageError('audit verify needs --config FILE (or --file AUDIT.sqlite)');
  const file = values.file ?? auditLocation(loadConfig(values.config!), values.config);
  if (file === ':memory:' || !existsSync(file)) throw new UsageError(`no audit trail at ${file}`);
  const store = new AuditStore(file);
  try {
    const result = store.verify();
    if (result.ok) {
      process.stdout.write(`${file}: chain intact (${result.events} event${result.events === 1 ? '' : 's'})\n`);
      return 0;
    }
    process.stdout.write(`${file}: chain broken at entry ${result.firstBad!.seq}: ${result.firstBad!.problem} (${result.events} entries before it verify)\n`);
    return 1;
  } finally {
    store.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        await serve(rest);
        return -1;
      case 'config':
        if (rest[0] !== 'check') throw new UsageError('unknown config command');
        await configCheck(rest.slice(1));
        return 0;
      case 'lake':
        return await lakeCommand(rest);
      case 'audit':
        if (rest[0] !== 'verify') throw new UsageError('unknown audit command');
        return auditVerify(rest.slice(1));
      case 'sql': {
        if (rest[0] !== 'introspect') throw new UsageError('unknown sql command');
        const { values, positionals } = parseArgs({ args: rest.slice(1), options: { schema: { type: 'string' } }, allowPositionals: true, strict: true });
        if (positionals.length !== 1) throw new UsageError('sql introspect needs one database URL');
        process.stdout.write(await introspect(positionals[0]!, values.schema));
        return 0;
      }
      case 'identity': {
        if (rest[0] !== 'build') throw new UsageError('unknown identity command');
        const { values } = parseArgs({ args: rest.slice(1), options: { config: { type: 'string', short: 'c' } }, strict: true });
        if (!values.config) throw new UsageError('identity build needs --config FILE');
        return await identityBuild(values.config);
      }
      case 'docs':
        if (rest[0] === 'config') process.stdout.write(`${configReferenceMarkdown()}\n`);
        else if (rest[0] === 'schema') process.stdout.write(`${schemaReferenceMarkdown()}\n`);
        else throw new UsageError('docs takes "config" or "schema"');
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${USAGE}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`healthgraph: ${error.message}\n`);
      return 2;
    }
    if (error instanceof UsageError || error instanceof LakeUsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`healthgraph: ${(error as Error).message}\n\n${USAGE}\n`);
      return 2;
    }
    if ((error as { code?: string }).code === 'EADDRINUSE') {
      process.stderr.write(`healthgraph: the port is already in use\n`);
      return 1;
    }
    process.stderr.write(`healthgraph: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    if (code >= 0) process.exit(code);
  });
}
