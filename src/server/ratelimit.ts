/**
 * Per-client rate limits: a fixed one-minute window per client. In memory (per gateway instance)
 * by default; with `auth.rateLimit.redisUrl` the counters live in Redis (`INCR` + `PEXPIRE`), so
 * several instances share one budget. When Redis cannot be reached the request is refused
 * (RATE_LIMITED) rather than let through unmetered.
 */
import { RedisCounter } from './redis';

export interface RateDecision {
  allowed: boolean;
  /** Seconds until the window resets (for `Retry-After`). */
  retryAfter: number;
  remaining: number;
}

export interface RateLimiter {
  take(key: string, perMinute: number): Promise<RateDecision>;
  close(): Promise<void>;
}

const WINDOW_MS = 60_000;

export function memoryRateLimiter(now: () => number = Date.now): RateLimiter {
  const windows = new Map<string, { start: number; count: number }>();
  return {
    async take(key, perMinute) {
      const t = now();
      const start = Math.floor(t / WINDOW_MS) * WINDOW_MS;
      let w = windows.get(key);
      if (!w || w.start !== start) {
        w = { start, count: 0 };
        windows.set(key, w);
      }
      w.count++;
      const retryAfter = Math.max(1, Math.ceil((start + WINDOW_MS - t) / 1000));
      return { allowed: w.count <= perMinute, retryAfter, remaining: Math.max(0, perMinute - w.count) };
    },
    async close() {
      windows.clear();
    },
  };
}

export function redisRateLimiter(url: string, now: () => number = Date.now): RateLimiter {
  const redis = new RedisCounter(url);
  return {
    async take(key, perMinute) {
      const t = now();
      const start = Math.floor(t / WINDOW_MS) * WINDOW_MS;
      const retryAfter = Math.max(1, Math.ceil((start + WINDOW_MS - t) / 1000));
      try {
        const count = await redis.incrementWindow(`healthgraph:rl:${key}:${start}`, WINDOW_MS * 2);
        return { allowed: count <= perMinute, retryAfter, remaining: Math.max(0, perMinute - count) };
      } catch {
        return { allowed: false, retryAfter, remaining: 0 };
      }
    },
    close: () => redis.close(),
  };
}
