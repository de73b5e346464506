/**
 * The peer's structured logger: pino, writing JSON lines to stderr (stdout is reserved for the
 * single "listening" line that scripts read). Set the level with `--log-level`.
 */
import { pino } from 'pino';
import type { LogLevel } from './config.js';

/** The logger interface used across ringcache (pino's). */
export type Logger = pino.Logger;

/**
 * Creates a logger writing to stderr (fd 2) synchronously enough that a crash's last words are kept.
 * @param level minimum level to log
 * @param bindings fields added to every line (e.g. `{peer: id}`)
 */
export function createLogger(level: LogLevel, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: bindings, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ fd: 2, sync: true }));
}

/** A logger that drops everything (tests, embedded use). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
