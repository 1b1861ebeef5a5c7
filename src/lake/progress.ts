/**
 * Import progress: on a terminal, one live line (resources/s, errors, share of bytes read, ETA)
 * redrawn a few times a second; otherwise a plain line every few seconds, for logs and CI.
 */

export interface ProgressSnapshot {
  resources: number;
  errors: number;
  bytesRead: number;
  totalBytes: number;
  current?: string;
}

export interface ProgressOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Interval between plain lines when not on a terminal, ms. */
  plainIntervalMs?: number;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

const n = (value: number): string => Math.round(value).toLocaleString('en-US');

export class Progress {
  private readonly started = performance.now();
  private readonly tty: boolean;
  private timer?: NodeJS.Timeout;
  private drawn = false;

  constructor(
    private readonly options: ProgressOptions,
    private readonly snapshot: () => ProgressSnapshot,
  ) {
    this.tty = Boolean(options.stream.isTTY);
  }

  start(): void {
    const every = this.tty ? 250 : (this.options.plainIntervalMs ?? 5000);
    this.timer = setInterval(() => this.render(), every);
    this.timer.unref();
  }

  /** One line of text (an error report) printed above the live line. */
  message(text: string): void {
    this.clear();
    this.options.stream.write(`${text}\n`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }

  describe(): string {
    const s = this.snapshot();
    const elapsed = performance.now() - this.started;
    const rate = elapsed > 0 ? (s.resources * 1000) / elapsed : 0;
    const share = s.totalBytes > 0 ? Math.min(1, s.bytesRead / s.totalBytes) : undefined;
    const eta = share !== undefined && share > 0 ? (elapsed / share) * (1 - share) : NaN;
    const parts = [`${n(s.resources)} resources`, `${n(rate)}/s`, `${n(s.errors)} errors`];
    if (share !== undefined) parts.push(`${(share * 100).toFixed(1)}% read`, `ETA ${formatDuration(eta)}`);
    parts.push(`elapsed ${formatDuration(elapsed)}`);
    return `lake import: ${parts.join(', ')}`;
  }

  private render(): void {
    const line = this.describe();
    if (this.tty) {
      const width = Math.max(20, (this.options.stream.columns ?? 100) - 1);
      this.options.stream.write(`\r${line.slice(0, width).padEnd(width)}`);
      this.drawn = true;
    } else {
      this.options.stream.write(`${line}\n`);
    }
  }

  private clear(): void {
    if (this.tty && this.drawn) {
      this.options.stream.write(`\r${' '.repeat(Math.max(20, (this.options.stream.columns ?? 100) - 1))}\r`);
      this.drawn = false;
    }
  }
}
