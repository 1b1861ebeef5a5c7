/** `healthgraph identity build --config FILE`: link every source's Patient records and save the link store. */
import { loadConfig } from '../config/load';
import { SourceRegistry } from '../data/registry';
import { ConfigError } from '../errors';
import { createLogger } from '../logger';
import { createConnector } from '../sources';
import { IdentityService, linkStoreLocation } from './service';

export async function identityBuild(configPath: string, out: NodeJS.WritableStream = process.stderr): Promise<number> {
  const config = loadConfig(configPath);
  if (!config.identity) throw new ConfigError(`${configPath}: no "identity" section; add "identity: {}" to link patients across sources`);
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn');
  const registry = new SourceRegistry(config.sources.map((s) => createConnector(s, log)));
  await registry.start();
  const identity = await IdentityService.open(config.identity, { configPath, sourceOrder: registry.connectors.map((c) => c.id) });
  let last = 0;
  try {
    const report = await identity.build(registry, { requestId: 'identity-build' }, (p) => {
      const now = Date.now();
      if (p.phase === 'read' && now - last < 500 && p.done < p.total) return;
      last = now;
      out.write(`identity: ${p.phase}${p.source ? ` ${p.source}` : ''} ${p.done}/${p.total}\n`);
    });
    const where = linkStoreLocation(config.identity, configPath) ?? '(memory)';
    out.write(
      `identity: ${report.records} records → ${report.persons} persons in ${report.seconds.toFixed(2)} s ` +
        `(${Math.round(report.recordsPerSecond)} records/s; certain ${report.grades.certain}, probable ${report.grades.probable}, possible ${report.grades.possible} pairs; ` +
        `${identity.index.reviewQueue().length} probable pairs wait for review); saved to ${where}\n`,
    );
    return 0;
  } finally {
    await identity.close();
    await registry.close();
  }
}
