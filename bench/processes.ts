/**
 * The processes a benchmark runs against: the FHIR peer (reused from `make services` when it is up,
 * otherwise started here) and the gateway, always in its own child process so that the load
 * generator in this process never shares the gateway's event loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidListeningOn } from './machine';

export interface Service {
  /** Base URL: the FHIR base (…/fhir) for the peer, the GraphQL endpoint for the gateway. */
  url: string;
  /** Process id when known (for CPU accounting); undefined for a peer we did not start and cannot find. */
  pid?: number;
  /** How it was obtained, for the report. */
  origin: string;
  /** The command line, when this benchmark started it. */
  command?: string;
  stop(): Promise<void>;
}

const DEFAULT_PEER = 'http://127.0.0.1:8081/fhir';
const READY_TIMEOUT_MS = 120_000;

async function isUp(fhirUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${fhirUrl}/metadata`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

function servicesPid(root: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(root, '.services', 'fhir.pid'), 'utf8').trim());
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/** The pid of a peer on this machine, found by its port, for CPU accounting. */
function localPid(url: string): number | undefined {
  const { hostname, port } = new URL(url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(hostname) || !port) return undefined;
  return pidListeningOn(Number(port));
}

/** Spawns `node …args`, resolving once a stdout/stderr line matches `ready`; rejects if it exits first. */
function spawnUntil(
  args: string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  ready: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args.join(' ')}: not ready after ${READY_TIMEOUT_MS / 1000}s\n${output.slice(-2000)}`));
    }, READY_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = ready.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        // Keep draining so a chatty child never blocks on a full pipe.
        child.stdout?.resume();
        child.stderr?.on('data', (more: Buffer) => process.stderr.write(more));
        resolve({ child, match });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (${signal ?? code}) before it was ready:\n${output.slice(-2000)}`));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

function shown(args: string[]): string {
  return ['node', ...args].join(' ');
}

/**
 * The FHIR peer: `BENCH_FHIR_URL` when set; else the one `make services` runs on :8081; else a
 * fresh one started here (60 Synthea patients) on a free port.
 */
export async function obtainPeer(root: string, env: NodeJS.ProcessEnv): Promise<Service> {
  const given = env.BENCH_FHIR_URL?.replace(/\/+$/, '');
  if (given) {
    if (!(await isUp(given))) throw new Error(`BENCH_FHIR_URL=${given} does not answer ${given}/metadata`);
    return { url: given, pid: localPid(given), origin: 'BENCH_FHIR_URL', stop: async () => {} };
  }
  if (await isUp(DEFAULT_PEER)) {
    return { url: DEFAULT_PEER, pid: servicesPid(root) ?? localPid(DEFAULT_PEER), origin: 'make services (:8081)', stop: async () => {} };
  }
  const patients = env.BENCH_SYNTHEA_PATIENTS ?? '60';
  const args = [...profileFlags(root, env, 'peer'), 'dist/test/peers/fhir-server.js', '--port', '0', '--synthea', patients];
  const { child, match } = await spawnUntil(args, env, root, /^ready .*url=(\S+)/m);
  return { url: match[1]!, pid: child.pid, origin: 'started by the benchmark', command: shown(args), stop: stopper(child) };
}

/** The node flags `bin/healthgraph` starts with (its `#!/usr/bin/env -S node …` line), so the bench runs what users run. */
export function binNodeFlags(root: string): string[] {
  const first = readFileSync(join(root, 'bin', 'healthgraph'), 'utf8').split('\n', 1)[0] ?? '';
  const match = /^#!\S*env -S node\s*(.*)$/.exec(first);
  return match?.[1] ? match[1].trim().split(/\s+/) : [];
}

/** The gateway: `bin/healthgraph serve` in a child process, on a free port, with LOG_LEVEL=warn (and bin/healthgraph's node flags unless others are given). */
export async function startGateway(
  root: string,
  env: NodeJS.ProcessEnv,
  configYaml: string,
  nodeFlags: string[] = binNodeFlags(root),
): Promise<Service & { configFile: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'healthgraph-bench-'));
  const configFile = join(dir, 'gateway.yaml');
  writeFileSync(configFile, configYaml);
  const args = [...nodeFlags, ...profileFlags(root, env, 'gateway'), 'bin/healthgraph', 'serve', '--config', configFile, '--port', '0'];
  const childEnv = { ...env, LOG_LEVEL: 'warn' };
  const { child, match } = await spawnUntil(args, childEnv, root, /GraphQL and playground at (\S+\/graphql)/);
  const stop = stopper(child);
  return {
    url: match[1]!,
    pid: child.pid,
    origin: 'started by the benchmark',
    command: `LOG_LEVEL=warn ${shown(args)}`,
    configFile,
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `BENCH_PROFILE=1` writes a V8 CPU profile of each child this benchmark starts to bench/results/profiles. */
function profileFlags(root: string, env: NodeJS.ProcessEnv, name: string): string[] {
  if (env.BENCH_PROFILE !== '1') return [];
  return [
    '--cpu-prof',
    '--cpu-prof-dir',
    join(root, 'bench', 'results', 'profiles'),
    '--cpu-prof-name',
    `${name}-${Date.now()}.cpuprofile`,
  ];
}
