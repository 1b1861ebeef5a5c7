import pino from 'pino';

export type Logger = pino.Logger;

/** Structured JSON logs on stderr; `LOG_LEVEL` sets the level (default `info`, `silent` in tests). */
export function createLogger(level = process.env.LOG_LEVEL ?? (process.env.JEST_WORKER_ID ? 'silent' : 'info')): Logger {
  return pino({ level, base: { service: 'healthgraph' } }, pino.destination(2));
}
