/**
 * The command output pane: the commands entered and their results, newest last, turned into
 * screen lines (wrapped to the width) so the pane can show exactly the lines that fit.
 */
import type { CommandResult } from '../console-types.js';
import { formatServedBy } from '../result-format.js';

/** One command entered at the prompt; `result` is missing while it runs. */
export interface OutputEntry {
  /** Increasing, for React keys. */
  seq: number;
  line: string;
  /** ms since the epoch when it was entered. */
  startedAt: number;
  /** True while it waits for the command before it to finish. */
  queued?: boolean;
  result?: CommandResult;
}

/** One screen line of the pane. */
export interface OutputLine {
  key: string;
  text: string;
  /** How the component colours it. */
  tone: 'command' | 'ok' | 'error' | 'info';
  /** Right of a command line, dim: `served by p2 in 1.8 ms`, or `running 1.2 s`. */
  aside?: string;
}

/** Entries kept; older ones scroll away for good. */
export const MAX_ENTRIES = 200;

/** The prompt's symbol, also starting each command line of the pane. */
export const PROMPT = '›';

/** Milliseconds for people: `0.42 ms`, `1.8 ms`, `250 ms`, `3.1 s`. */
export function formatMs(ms: number): string {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 10_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Cuts `text` into lines of at most `width` characters (existing line breaks kept): at the last
 * space that fits (the space dropped), else in the middle of a word.
 */
export function wrapText(text: string, width: number): string[] {
  const w = Math.max(1, Math.floor(width));
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let chars = Array.from(line);
    if (chars.length === 0) out.push('');
    while (chars.length > w) {
      const space = chars.lastIndexOf(' ', w);
      const cut = space > 0 ? space : w;
      out.push(chars.slice(0, cut).join(''));
      chars = chars.slice(space > 0 ? cut + 1 : cut);
    }
    if (chars.length > 0) out.push(chars.join(''));
  }
  return out;
}

/**
 * The screen lines of `entries` for a pane `width` columns wide.
 * @param now for the elapsed time of a running command
 */
export function outputLines(entries: readonly OutputEntry[], width: number, now: number): OutputLine[] {
  const lines: OutputLine[] = [];
  for (const entry of entries) {
    const { result } = entry;
    const aside = result ? formatServedBy(result) || undefined : entry.queued ? 'queued' : `running ${formatMs(Math.max(0, now - entry.startedAt))}`;
    lines.push({ key: `${entry.seq}c`, text: `${PROMPT} ${entry.line}`, tone: 'command', ...(aside ? { aside } : {}) });
    if (!result) continue;
    const tone = result.ok ? 'ok' : 'error';
    wrapText(result.text, width).forEach((text, i) => lines.push({ key: `${entry.seq}r${i}`, text, tone }));
  }
  return lines;
}

/**
 * The lines to show in a pane of `height` lines: the newest ones, `scroll` lines up from the
 * bottom (clamped so the pane stays full).
 */
export function visibleLines<T>(lines: readonly T[], height: number, scroll: number): T[] {
  if (height <= 0) return [];
  const maxScroll = Math.max(0, lines.length - height);
  const offset = Math.min(Math.max(0, scroll), maxScroll);
  const end = lines.length - offset;
  return lines.slice(Math.max(0, end - height), end);
}
