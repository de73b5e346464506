/**
 * `ringcache console` end to end: connects, builds the session (commands), the view model and
 * its watcher, and runs either the full-screen UI (stdin and stdout are terminals) or the line
 * mode (pipes, `--json`). Used by `ringcache console` and `ringcache demo`; the CLI layer only
 * parses flags.
 *
 * The full-screen UI starts at once, before any peer answers, and shows the connection status:
 * a console opened during an incident must not hang on a dead first URL. The line mode connects
 * first and exits 1 when no URL answers, so a script fails fast.
 */
import { CacheClient, type CacheClientOptions } from '../../client/cache-client.js';
import { toCacheError } from '../../errors.js';
import { ClusterView } from '../cluster-view.js';
import { ClusterWatcher } from '../cluster-watcher.js';
import { ConsoleSession } from '../command-runner.js';
import type { ConsoleExtension } from '../console-commands.js';
import { loadHistory, saveHistory } from '../history-file.js';
import { runLineConsole } from '../line-console.js';
import { formatError } from '../result-format.js';

/** Options of {@link openConsole}. */
export interface OpenConsoleOptions {
  /** Peer URLs: the first is tried first, the others are failover targets. */
  urls: string[];
  /** Line mode with one JSON object per result. */
  json?: boolean;
  /** Line mode: print the event log as it grows. (The full-screen UI is always live.) */
  live?: boolean;
  /** History file of the full-screen UI. */
  historyPath: string;
  /** Extra commands (the demo's `add-peer`, `kill`, `stop`). */
  extensions?: ConsoleExtension[];
  /** Shown in the UI's command pane at start. */
  intro?: string;
  /** Full-screen UI or line mode; default: the UI when stdin and stdout are terminals and not `json`. */
  tui?: boolean;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
  /** Client options (deadlines, reconnect backoff); see {@link CacheClientOptions}. */
  client?: CacheClientOptions;
}

/** Buckets of the ring strip: finer than any terminal is wide, so the strip is exact at every width. */
const STRIP_BUCKETS = 256;

/** Client settings of the console: short reconnect backoff, so a failover shows within a second or two. */
const CONSOLE_CLIENT: CacheClientOptions = { timeoutMs: 5000, connectTimeoutMs: 2000, reconnectBaseMs: 100, reconnectMaxMs: 1000 };

/**
 * Runs the console until `quit` (or the end of the input in line mode).
 * @returns the exit code: 0; 1 when the line mode could not connect or a command failed; 2 for bad URLs
 */
export async function openConsole(options: OpenConsoleOptions): Promise<number> {
  const stdin = options.stdin ?? process.stdin;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const clientOptions = { ...CONSOLE_CLIENT, ...options.client };
  const tui = options.tui ?? (stdin.isTTY === true && stdout.isTTY === true && !options.json);

  let client: CacheClient;
  try {
    client = tui ? new CacheClient(options.urls, clientOptions) : await CacheClient.connect(options.urls, clientOptions);
  } catch (error) {
    const { code, message } = toCacheError(error);
    stderr.write(`ringcache console: ${formatError(code, message)}\n`);
    return code === 'BAD_CONFIG' ? 2 : 1;
  }

  const live = tui || options.live === true;
  const view = live ? new ClusterView({ stripWidth: STRIP_BUCKETS }) : undefined;
  let session: ConsoleSession | undefined;
  const watcher = view ? new ClusterWatcher({ client, view, onRing: (ring) => session?.noteRing(ring) }) : undefined;
  // `connect URL` builds the new client here, so the watcher gets the real CacheClient.
  let latest = client;
  session = new ConsoleSession({
    client,
    ...(options.extensions ? { extensions: options.extensions } : {}),
    onConnect: async (url) => {
      latest = await CacheClient.connect(url, clientOptions);
      return latest;
    },
  });
  session.on('client', () => void watcher?.swapClient(latest));

  try {
    if (watcher) void watcher.start();
    if (!tui) return await runLineConsole({ runner: session, input: stdin, output: stdout, json: options.json === true, ...(view ? { view } : {}) });
    let saving: Promise<unknown> = Promise.resolve();
    const history = await loadHistory(options.historyPath);
    prepareInteractiveTerminal();
    // Loaded only here: the line mode never pays for React and ink.
    const { runTui } = await import('./run-tui.js');
    const code = await runTui({
      runner: session,
      view: view!,
      history,
      // Writes one after another, the newest last.
      onHistory: (lines) => {
        const snapshot = [...lines];
        saving = saving.then(() => saveHistory(snapshot, options.historyPath));
      },
      stdin,
      stdout,
      stderr,
      ...(options.intro ? { intro: options.intro } : {}),
      target: options.urls.join(' '),
    });
    await saving;
    return code;
  } finally {
    watcher?.stop();
    await session.client.close().catch(() => undefined);
    if (latest !== session.client) await latest.close().catch(() => undefined);
  }
}

/**
 * Settings read when React and ink load, so set before the UI is imported:
 * - ink renders nothing but the last frame when it thinks it runs in CI (a `CI` variable is set),
 *   which is wrong for a person at a terminal (the full-screen UI only runs on a TTY), so the
 *   variable is cleared for this process;
 * - React's development build makes a frame several times slower, and a frame drawn while a
 *   reply is waiting delays it, so NODE_ENV defaults to `production`.
 */
function prepareInteractiveTerminal(): void {
  delete process.env.CI;
  delete process.env.CONTINUOUS_INTEGRATION;
  process.env.NODE_ENV ??= 'production';
}
