/** Facts about the machine a benchmark ran on, and CPU accounting per process from /proc. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

export interface MachineFacts {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  loadAverageAtStart: number[];
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function nproc(): number {
  try {
    return Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
  } catch {
    return cpus().length;
  }
}

export function machineFacts(): MachineFacts {
  const cpuinfo = readText('/proc/cpuinfo') ?? '';
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  return {
    nproc: nproc(),
    cpuModel: model,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    kernel: readText('/proc/sys/kernel/osrelease')?.trim() ?? 'unknown',
    loadAverageAtStart: loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds (user + system) a process has used so far; undefined when it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Busy CPU seconds of the whole machine, all cores (from the first line of /proc/stat). */
function machineBusySeconds(): number | undefined {
  const line = readText('/proc/stat')?.split('\n', 1)[0];
  if (!line?.startsWith('cpu ')) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / TICKS_PER_SECOND;
}

/** Average CPU use during a window, in % of one core (200% = both cores of a 2-core machine). */
export type CpuSplit = Record<string, number | null>;

/** Samples named processes and the whole machine at start and stop; the rest is "other". */
export class CpuMeter {
  private started = 0;
  private readonly before = new Map<string, number | undefined>();
  private machineBefore: number | undefined;

  constructor(private readonly pids: Record<string, number | undefined>) {}

  start(): void {
    this.started = performance.now();
    for (const [name, pid] of Object.entries(this.pids)) this.before.set(name, pid === undefined ? undefined : processCpuSeconds(pid));
    this.machineBefore = machineBusySeconds();
  }

  stop(): CpuSplit {
    const seconds = (performance.now() - this.started) / 1000;
    const percent = (used: number | undefined): number | null => (used === undefined ? null : Math.round((used / seconds) * 100));
    const split: CpuSplit = {};
    let named = 0;
    for (const [name, pid] of Object.entries(this.pids)) {
      const before = this.before.get(name);
      const after = pid === undefined ? undefined : processCpuSeconds(pid);
      const used = before === undefined || after === undefined ? undefined : after - before;
      named += used ?? 0;
      split[name] = percent(used);
    }
    const machineAfter = machineBusySeconds();
    const machine = this.machineBefore === undefined || machineAfter === undefined ? undefined : machineAfter - this.machineBefore;
    split.machine = percent(machine);
    split.other = machine === undefined ? null : Math.max(0, percent(machine - named) ?? 0);
    return split;
  }
}

/** The process listening on a local TCP port (from /proc/net/tcp*), when this user can see it. */
export function pidListeningOn(port: number): number | undefined {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (readText(table) ?? '').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === '0A' && cols[9]) inodes.add(`socket:[${cols[9]}]`);
    }
  }
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${entry}/fd/${fd}`))) return Number(entry);
      } catch {
        // the descriptor closed meanwhile
      }
    }
  }
  return undefined;
}
