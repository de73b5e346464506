/**
 * The console's command history on disk: `~/.ringcache_history` unless `RINGCACHE_HISTORY` or
 * the caller names another file. One command per line, oldest first, at most
 * {@link MAX_HISTORY_LINES}. History is a convenience: reading or writing it never fails the
 * console (an unreadable file loads as empty, an unwritable one is not saved).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Most lines kept. */
export const MAX_HISTORY_LINES = 1000;

/** The history file's name in the home directory. */
export const HISTORY_FILE_NAME = '.ringcache_history';

/**
 * The history file's path: `env.RINGCACHE_HISTORY` when set and not blank, else
 * `~/.ringcache_history`.
 */
export function defaultHistoryPath(env: Record<string, string | undefined> = process.env, home: string = homedir()): string {
  const fromEnv = env.RINGCACHE_HISTORY?.trim();
  return fromEnv ? fromEnv : join(home, HISTORY_FILE_NAME);
}

/**
 * Appends a line to a history (newest last), returning a new array: blank lines and a repeat of
 * the newest line are skipped, and only the newest `max` lines are kept.
 */
export function addToHistory(history: readonly string[], line: string, max: number = MAX_HISTORY_LINES): string[] {
  const next = [...history];
  push(next, line);
  return next.length > max ? next.slice(next.length - max) : next;
}

/**
 * Reads the history, oldest first: blank lines and repeats of the previous line dropped, the
 * newest {@link MAX_HISTORY_LINES} kept.
 * @returns the lines; [] when the file is missing or unreadable (never rejects)
 */
export async function loadHistory(path: string = defaultHistoryPath()): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  return normalize(text.split(/\r?\n/));
}

/**
 * Writes the history (oldest first), normalized as {@link loadHistory} reads it, with mode 0600
 * (commands may contain values). Creates the parent directory when missing.
 * @returns true when written, false when it could not be (never rejects)
 */
export async function saveHistory(lines: readonly string[], path: string = defaultHistoryPath()): Promise<boolean> {
  const history = normalize(lines);
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, history.length > 0 ? `${history.join('\n')}\n` : '', { encoding: 'utf8', mode: 0o600 });
    return true;
  } catch {
    return false;
  }
}

/** Pushes `line` (newlines folded, trimmed) unless blank or equal to the last one. */
function push(history: string[], line: string): void {
  const clean = line.replace(/[\r\n]+/g, ' ').trim();
  if (clean !== '' && history[history.length - 1] !== clean) history.push(clean);
}

/** Blank lines and repeats dropped, the newest {@link MAX_HISTORY_LINES} kept. */
function normalize(lines: readonly string[]): string[] {
  const history: string[] = [];
  for (const line of lines) push(history, line);
  return history.slice(-MAX_HISTORY_LINES);
}
