/**
 * The smallest Redis client the rate limiter needs: one connection, RESP2, `INCR` then `PEXPIRE`
 * in a pipeline. Replies arrive in order, so each request waits for its own two replies.
 */
import { connect, type Socket } from 'node:net';

interface Pending {
  resolve: (value: number) => void;
  reject: (error: Error) => void;
}

function command(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

export class RedisCounter {
  private socket?: Socket;
  private buffer = '';
  private readonly pending: Pending[] = [];

  constructor(private readonly url: string) {}

  private connection(): Socket {
    if (this.socket && !this.socket.destroyed) return this.socket;
    const u = new URL(this.url);
    const socket = connect({ host: u.hostname || '127.0.0.1', port: Number(u.port || 6379) });
    socket.setEncoding('utf8');
    socket.setTimeout(2000, () => socket.destroy(new Error('redis timeout')));
    socket.on('data', (chunk: string) => this.onData(chunk));
    const fail = (error?: Error) => {
      for (const p of this.pending.splice(0)) p.reject(error ?? new Error('redis connection closed'));
      this.buffer = '';
    };
    socket.on('error', fail);
    socket.on('close', () => fail());
    if (u.password) socket.write(command(u.username ? ['AUTH', decodeURIComponent(u.username), decodeURIComponent(u.password)] : ['AUTH', decodeURIComponent(u.password)]));
    if (u.password) this.pending.push({ resolve: () => undefined, reject: () => undefined });
    this.socket = socket;
    return socket;
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    for (;;) {
      const end = this.buffer.indexOf('\r\n');
      if (end < 0) return;
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const p = this.pending.shift();
      if (!p) continue;
      if (line.startsWith(':')) p.resolve(Number(line.slice(1)));
      else if (line.startsWith('+')) p.resolve(0);
      else p.reject(new Error('redis error'));
    }
  }

  private send(args: string[]): Promise<number> {
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.connection().write(command(args));
    });
  }

  /** Increments a window counter and makes sure it expires. */
  async incrementWindow(key: string, ttlMs: number): Promise<number> {
    const [count] = await Promise.all([this.send(['INCR', key]), this.send(['PEXPIRE', key, String(ttlMs)])]);
    return count;
  }

  async close(): Promise<void> {
    this.socket?.end();
    this.socket = undefined;
  }
}
