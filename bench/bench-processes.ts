/**
 * The processes a benchmark starts on 127.0.0.1: `ringcache peer` (the built CLI), the bare `ws`
 * server and the bare one-hop forwarder baselines, and any other command that prints a ready line.
 * A {@link ProcessGroup} owns every child it started and stops them all, also on error and on
 * Ctrl-C (and, as a last resort, synchronously on process exit).
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { progress, withTimeout } from './bench-run.js';

/** The built `ringcache` CLI, the baselines' scripts (all in dist/). */
export const CLI = fileURLToPath(new URL('../cli/ringcache.js', import.meta.url));
export const BARE_SERVER = fileURLToPath(new URL('./bare-ws-server.js', import.meta.url));
export const BARE_FORWARDER = fileURLToPath(new URL('./bare-forwarder.js', import.meta.url));
export const HOST = '127.0.0.1';

/** A child process that printed its ready line. */
export interface ReadyProcess {
  child: ChildProcess;
  /** The ready line matched against the pattern given to {@link ProcessGroup.spawnReady}. */
  match: RegExpExecArray;
  /** Resolves with the exit code or signal name once the process has exited. */
  exited: Promise<string>;
  /** performance.now() (ms) at spawn and when the ready line arrived. */
  spawnedAt: number;
  readyAt: number;
  /** The last stderr lines (at most 40), for error messages. */
  stderrTail: () => string;
}

/** Options of {@link ProcessGroup.spawnReady}. */
export interface SpawnReadyOptions {
  /** The first stdout line must match it; its groups come back in {@link ReadyProcess.match}. */
  pattern: RegExp;
  /** Wait for the first stdout line that matches, skipping the others (for servers that log on stdout). Default false. */
  skipOtherLines?: boolean;
  /** Deadline of the ready line, ms. Default 15000. */
  readyTimeoutMs?: number;
  /** 'pipe' keeps the child's stdin open so it can exit when this process goes (the bare servers do). Default 'ignore'. */
  stdin?: 'pipe' | 'ignore';
  /** Called with every stderr line (the child's logs). */
  onStderrLine?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}


/**
 * Stops a benchmark cleanly on SIGINT/SIGTERM: calls `onSignal(signal)` (the run marks itself
 * interrupted), logs that it stops `what`, runs `stop` and exits 130 (SIGINT) or 143 (SIGTERM).
 * A second signal kills `processes` at once and exits 130.
 */
export function stopOnSignals(processes: ProcessGroup, stop: () => Promise<unknown>, what: string, onSignal: (signal: string) => void): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) {
        processes.killNow();
        process.exit(130);
      }
      stopping = true;
      onSignal(signal);
      progress(`${signal}: stopping ${what}`);
      void stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}

/** Every child process a benchmark started; stops them on demand and on exit. */
export class ProcessGroup {
  private readonly children = new Set<ChildProcess>();
  private readonly killNowBound = (): void => this.killNow();

  constructor() {
    process.on('exit', this.killNowBound);
  }

  /**
   * Spawns `command args` and resolves once its first stdout line matches `options.pattern`.
   * @throws Error when the line does not match, the process exits first, or no line comes within
   *   `readyTimeoutMs` (the process is killed then)
   */
  async spawnReady(label: string, command: string, args: readonly string[], options: SpawnReadyOptions): Promise<ReadyProcess> {
    const stdio: StdioOptions = [options.stdin ?? 'ignore', 'pipe', 'pipe'];
    const spawnedAt = performance.now();
    const child = spawn(command, args, { stdio, env: options.env ? { ...process.env, ...options.env } : process.env });
    this.children.add(child);
    const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(String(code ?? signal ?? -1))));
    let tail: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 40) tail = tail.slice(-20);
      options.onStderrLine?.(line);
    });
    const stderrTail = (): string => tail.join('\n');
    const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
    const match = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${label} not ready within ${readyTimeoutMs} ms; stderr:\n${stderrTail()}`));
      }, readyTimeoutMs);
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        const found = options.pattern.exec(line);
        if (!found && options.skipOtherLines) return;
        clearTimeout(timer);
        lines.removeAllListeners('line');
        // Keep draining the pipe: a child blocked on a full stdout would stall.
        lines.on('line', () => undefined);
        if (found) resolve(found);
        else reject(new Error(`${label}: unexpected first stdout line: ${line}`));
      });
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${label} exited (${code}) before it was ready; stderr:\n${stderrTail()}`));
      });
    });
    return { child, match, exited, spawnedAt, readyAt: performance.now(), stderrTail };
  }

  /** Takes a child started elsewhere (e.g. by `fork`) into the group: it is stopped with the others. */
  adopt(child: ChildProcess): void {
    this.children.add(child);
  }

  /** Stops one child (SIGKILL unless told otherwise) and waits for its exit. @throws Error when it does not exit within 5 s */
  async stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (isRunning(child)) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      await withTimeout(exited, 5000, `exit of pid ${child.pid}`).catch((error: unknown) => {
        child.kill('SIGKILL');
        throw error;
      });
    }
    this.children.delete(child);
  }

  /** Stops every child still running (SIGKILL), waiting at most 5 s for each. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.children].map((child) => this.stop(child).catch(() => undefined)));
  }

  /** Last resort, synchronous: SIGKILLs every child still running (runs on process exit). */
  killNow(): void {
    for (const child of this.children) if (isRunning(child)) child.kill('SIGKILL');
  }
}

/** A running `ringcache peer` process. */
export interface PeerProcess extends ReadyProcess {
  id: string;
  /** Its advertised client URL, `ws://127.0.0.1:<port>`. */
  url: string;
}

/**
 * Spawns `ringcache peer --host 127.0.0.1 --port 0 --id <id> [--bootstrap <url>] ...args` and
 * resolves once it prints `ringcache peer <id> listening on <url>`.
 * @param options.args further flags (`--replicas 2`, `--max-memory 2gb`, `--log-level warn`, ...);
 *   `--log-level info` unless they set one
 * @param options.nodeArgs options for node itself, before the script (e.g. `--cpu-prof`)
 * @throws Error as {@link ProcessGroup.spawnReady}
 */
export async function startPeer(
  group: ProcessGroup,
  id: string,
  options: { bootstrap?: string; args?: readonly string[]; nodeArgs?: readonly string[]; onStderrLine?: (line: string) => void } = {},
): Promise<PeerProcess> {
  const args = [...(options.nodeArgs ?? []), CLI, 'peer', '--host', HOST, '--port', '0', '--id', id];
  if (!options.args?.includes('--log-level')) args.push('--log-level', 'info');
  if (options.bootstrap) args.push('--bootstrap', options.bootstrap);
  args.push(...(options.args ?? []));
  const ready = await group.spawnReady(`peer ${id}`, process.execPath, args, {
    pattern: /^ringcache peer (\S+) listening on (ws:\/\/\S+)$/,
    onStderrLine: options.onStderrLine,
  });
  return { ...ready, id, url: ready.match[2]! };
}

/** Starts bench/bare-ws-server.js (the bare `ws` + Map server) and reads its URL. */
export async function startBareServer(group: ProcessGroup): Promise<ReadyProcess & { url: string }> {
  // stdin stays a pipe: the server exits when it closes, even if this process is SIGKILLed.
  const ready = await group.spawnReady('bare-ws-server', process.execPath, [BARE_SERVER], {
    pattern: /^bare-ws-server listening on (ws:\/\/\S+)$/,
    stdin: 'pipe',
    readyTimeoutMs: 10_000,
  });
  return { ...ready, url: ready.match[1]! };
}

/** Starts bench/bare-forwarder.js in front of the bare server at `backUrl` and reads its URL. */
export async function startBareForwarder(group: ProcessGroup, backUrl: string): Promise<ReadyProcess & { url: string }> {
  const ready = await group.spawnReady('bare-forwarder', process.execPath, [BARE_FORWARDER, backUrl], {
    pattern: /^bare-forwarder listening on (ws:\/\/\S+)$/,
    stdin: 'pipe',
    readyTimeoutMs: 10_000,
  });
  return { ...ready, url: ready.match[1]! };
}
