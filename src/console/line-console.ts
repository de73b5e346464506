/**
 * The console without a terminal (stdin not a TTY, or `--no-tui`): one command per input line,
 * one result per command on the output, for scripts and pipes:
 *
 * ```
 * $ printf 'set k 42\nincr k\n' | ringcache console ws://127.0.0.1:7000 --json
 * {"ok":true,"command":"set","servedBy":"p1","ms":0.9,"result":{}}
 * {"ok":true,"command":"incr","servedBy":"p1","ms":0.4,"result":{"value":43}}
 * ```
 */
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { toCacheError } from '../errors.js';
import type { ClusterView } from './cluster-view.js';
import { parseCommandLine } from './command-line.js';
import type { CommandResult, CommandRunner, ViewEvent } from './console-types.js';
import { formatError, formatViewEvent } from './result-format.js';

/** Options of {@link runLineConsole}. */
export interface LineConsoleOptions {
  /** Runs each line (a `ConsoleSession`). When it has a `watching` flag (`watch on|off`), event lines follow it. */
  runner: CommandRunner & { readonly watching?: boolean };
  /** Command lines, one per line (`\n` or `\r\n`). */
  input: Readable;
  /** Where results (and event lines) go. */
  output: Writable;
  /** One JSON object per line instead of text. */
  json: boolean;
  /** With `--live`: the view whose new events are printed as they arrive (those already logged first). */
  view?: ClusterView;
}

/**
 * Runs commands from `input` until `quit`/`exit` or the end of the input, one at a time in order.
 *
 * Output per command:
 * - plain: the result's `text` (tables span lines; nothing for an empty text, e.g. `quit`)
 * - `json`: exactly one line, `{"ok":true,"command":"get","servedBy":"p1","ms":0.7,"result":{...}}`
 *   (`servedBy` and `ms` when known) or `{"ok":false,"command":"get","error":{"code","message"}}`;
 *   `command` is the lower-cased first word (null when the line cannot be tokenized).
 * Blank lines are skipped. With a `view`, each event becomes a line, `12:00:03 warn  p2 suspect`
 * or `{"event":{"at":...,"level":"warn","text":"p2 suspect"}}`, while the runner's `watching` is on.
 *
 * @returns the exit code: 0, or 1 when any command failed
 */
export async function runLineConsole(options: LineConsoleOptions): Promise<number> {
  const { runner, input, output, json, view } = options;
  const write = (line: string): void => {
    output.write(`${line}\n`);
  };
  let printed = view ? view.eventCount - view.state.events.length : 0;
  const printEvents = (): void => {
    if (!view) return;
    const count = view.eventCount;
    if (count === printed) return;
    const events = view.state.events;
    const fresh = events.slice(Math.max(0, events.length - (count - printed)));
    printed = count;
    if (runner.watching === false) return;
    for (const event of fresh) write(json ? JSON.stringify({ event: eventJson(event) }) : formatViewEvent(event));
  };
  view?.on('change', printEvents);
  printEvents();

  const lines = createInterface({ input, crlfDelay: Infinity, terminal: false });
  let failed = false;
  try {
    for await (const line of lines) {
      if (line.trim() === '') continue;
      const result = await runSafely(runner, line);
      if (!result.ok) failed = true;
      if (json) write(JSON.stringify(resultJson(line, result)));
      else if (result.text !== '') write(result.text);
      if (result.quit) break;
    }
  } finally {
    lines.close();
    view?.off('change', printEvents);
  }
  return failed ? 1 : 0;
}

/** {@link CommandRunner.run} promises never to reject; a runner that does still gets one result line. */
async function runSafely(runner: CommandRunner, line: string): Promise<CommandResult> {
  try {
    return await runner.run(line);
  } catch (error) {
    const { code, message } = toCacheError(error);
    return { ok: false, text: formatError(code, message), json: { error: { code, message } } };
  }
}

/** The `--json` line of one result. */
function resultJson(line: string, result: CommandResult): Record<string, unknown> {
  const command = commandName(line);
  if (!result.ok) {
    const error = (result.json as { error?: unknown } | undefined)?.error ?? { code: 'INTERNAL', message: result.text };
    return { ok: false, command, error };
  }
  const out: Record<string, unknown> = { ok: true, command };
  if (result.servedBy !== undefined) out.servedBy = result.servedBy;
  if (result.ms !== undefined) out.ms = result.ms;
  out.result = result.json ?? {};
  return out;
}

function commandName(line: string): string | null {
  try {
    return parseCommandLine(line)?.name ?? null;
  } catch {
    return null;
  }
}

function eventJson(event: ViewEvent): ViewEvent {
  return { at: event.at, level: event.level, text: event.text };
}
