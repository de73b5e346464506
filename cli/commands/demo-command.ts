/**
 * `ringcache demo`: a local cluster of real peer processes on 127.0.0.1 with the console open on
 * it (what `npm start` runs). The console gets four more commands to play with the cluster:
 * `add-peer` (one more peer, bootstrapping from a live one), `kill PEER` (SIGKILL, as `kill -9`),
 * `stop PEER` (SIGTERM: a graceful leave) and `procs` (the processes and their PIDs).
 * On quit, every peer still running gets one SIGTERM and is waited for (bounded), then killed.
 */
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CacheError } from '../../src/errors.js';
import type { ConsoleExtension } from '../../src/console/console-commands.js';
import type { CommandResult } from '../../src/console/console-types.js';
import { defaultHistoryPath } from '../../src/console/history-file.js';
import { openConsole } from '../../src/console/ui/open-console.js';
import { spawnPeer } from './local-command.js';

/** How long quitting waits for the peers' graceful leave before killing them. */
const STOP_GRACE_MS = 10_000;
/** How long `stop PEER` waits for the peer to finish leaving before answering. */
const STOP_COMMAND_WAIT_MS = 10_000;

/** One peer process of the demo. */
interface DemoPeer {
  id: string;
  url: string;
  child: ChildProcess;
  /** How it was ended by a command, if it was. */
  ended?: 'killed' | 'stopped';
  /** Resolves with the exit code or signal once the process has exited. */
  exited: Promise<number | string>;
}

/** Options of {@link DemoCluster}. */
export interface DemoClusterOptions {
  basePort: number;
  replicas: number;
  logLevel: string;
  /** Open file descriptor the peers' logs (stderr) go to. */
  logFd: number | 'ignore';
}

/** The demo's peer processes: started, killed and stopped by the console's demo commands. */
export class DemoCluster {
  private readonly peers = new Map<string, DemoPeer>();
  private next = 1;

  constructor(private readonly options: DemoClusterOptions) {}

  /** URLs of the peers still running, in start order. */
  get urls(): string[] {
    return this.running().map((peer) => peer.url);
  }

  /** Every peer started, in start order. */
  get all(): DemoPeer[] {
    return [...this.peers.values()];
  }

  /**
   * Starts one more peer: id `pN`, port `basePort + N - 1` (any free port when that one is
   * taken), bootstrapping from the first running peer.
   * @throws Error when the process does not start
   */
  async addPeer(): Promise<{ peer: DemoPeer; via?: DemoPeer }> {
    const n = this.next++;
    const id = `p${n}`;
    const via = this.running()[0];
    const args = (port: number): string[] => {
      const list = ['--id', id, '--port', String(port), '--replicas', String(this.options.replicas), '--log-level', this.options.logLevel];
      if (via) list.push('--bootstrap', via.url);
      return list;
    };
    let started;
    try {
      started = await spawnPeer(args(this.options.basePort + n - 1), process.env, this.options.logFd);
    } catch {
      // Most likely the port is taken (a peer killed a moment ago, another program): any port will do.
      started = await spawnPeer(args(0), process.env, this.options.logFd);
    }
    const { child } = started;
    const exited = new Promise<number | string>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode ?? -1);
      else child.once('exit', (code, signal) => resolve(code ?? signal ?? -1));
    });
    const peer: DemoPeer = { id: started.id, url: started.url, child, exited };
    this.peers.set(peer.id, peer);
    return via ? { peer, via } : { peer };
  }

  /** Sends SIGKILL (`kill -9`): the others find out through probes, suspicion and the dead timeout. */
  kill(id: string): DemoPeer {
    const peer = this.runningPeer(id);
    peer.ended = 'killed';
    peer.child.kill('SIGKILL');
    return peer;
  }

  /**
   * Sends SIGTERM (a graceful leave: announce `left`, hand entries off, exit) and waits for the
   * exit, at most `waitMs`.
   * @returns the exit code or signal, or undefined when still leaving after `waitMs`
   */
  async stop(id: string, waitMs = STOP_COMMAND_WAIT_MS): Promise<number | string | undefined> {
    const peer = this.runningPeer(id);
    peer.ended = 'stopped';
    peer.child.kill('SIGTERM');
    return withDeadline(peer.exited, waitMs);
  }

  /** Stops every running peer (one SIGTERM each), waits at most `graceMs`, then SIGKILLs the rest. */
  async stopAll(graceMs = STOP_GRACE_MS): Promise<void> {
    for (const peer of this.running()) peer.child.kill('SIGTERM');
    // Peers already leaving after `stop PEER` are waited for too, without a second signal.
    const alive = this.all.filter((peer) => peer.child.exitCode === null && peer.child.signalCode === null);
    await Promise.all(
      alive.map(async (peer) => {
        if ((await withDeadline(peer.exited, graceMs)) === undefined) {
          peer.child.kill('SIGKILL');
          await peer.exited;
        }
      }),
    );
  }

  /** Kills whatever still runs, synchronously (for `process.on('exit')`). */
  killAllNow(): void {
    for (const peer of this.all) if (peer.child.exitCode === null && peer.child.signalCode === null) peer.child.kill('SIGKILL');
  }

  /** The console commands that drive this cluster. */
  extension(): ConsoleExtension {
    return {
      commands: [
        {
          name: 'add-peer',
          usage: 'add-peer',
          help: 'demo: start one more peer process, bootstrapping from a live one',
          minArgs: 0,
          maxArgs: 0,
          run: async () => {
            const { peer, via } = await this.addPeer();
            const text = `${peer.id} started on ${peer.url} (pid ${peer.child.pid})${via ? `, joining through ${via.id}` : ''}`;
            return { ok: true, text, json: { id: peer.id, url: peer.url, pid: peer.child.pid } };
          },
        },
        {
          name: 'kill',
          usage: 'kill PEER',
          help: 'demo: kill -9 a peer process (SIGKILL): watch it go suspect, then dead',
          minArgs: 1,
          maxArgs: 1,
          argumentKind: 'peer',
          run: async ([id]) => {
            const peer = this.kill(id!);
            return { ok: true, text: `sent SIGKILL to ${peer.id} (pid ${peer.child.pid})`, json: { id: peer.id, pid: peer.child.pid, signal: 'SIGKILL' } };
          },
        },
        {
          name: 'stop',
          usage: 'stop PEER',
          help: 'demo: stop a peer gracefully (SIGTERM): it leaves and hands its keys off',
          minArgs: 1,
          maxArgs: 1,
          argumentKind: 'peer',
          run: async ([id]) => {
            const started = performance.now();
            const code = await this.stop(id!);
            const ms = Math.round(performance.now() - started);
            const text = code === undefined ? `sent SIGTERM to ${id}; still leaving after ${ms} ms` : `${id} left and exited (${code}) after ${ms} ms`;
            return { ok: true, text, json: { id, signal: 'SIGTERM', exit: code ?? null } };
          },
        },
        {
          name: 'procs',
          usage: 'procs',
          help: "demo: the demo's peer processes, their PIDs and whether they run",
          minArgs: 0,
          maxArgs: 0,
          run: async () => this.procs(),
        },
      ],
    };
  }

  private procs(): CommandResult {
    const rows = this.all.map((peer) => {
      const done = peer.child.exitCode !== null || peer.child.signalCode !== null;
      const status = done ? `exited (${peer.child.exitCode ?? peer.child.signalCode})` : peer.ended === 'stopped' ? 'leaving' : 'running';
      return { id: peer.id, url: peer.url, pid: peer.child.pid, status };
    });
    const width = Math.max(2, ...rows.map((r) => r.id.length));
    const text = rows.map((r) => `${r.id.padEnd(width)}  ${r.url}  pid ${String(r.pid).padEnd(7)}  ${r.status}`).join('\n');
    return { ok: true, text: text || '(no peers)', json: { peers: rows } };
  }

  private running(): DemoPeer[] {
    return this.all.filter((peer) => peer.child.exitCode === null && peer.child.signalCode === null && peer.ended === undefined);
  }

  private runningPeer(id: string): DemoPeer {
    const peer = this.peers.get(id);
    if (!peer) {
      const known = this.all.map((p) => p.id).join(', ');
      throw new CacheError('BAD_REQUEST', `no peer '${id}' in this demo (peers: ${known || 'none'})`);
    }
    if (peer.ended !== undefined || peer.child.exitCode !== null || peer.child.signalCode !== null) {
      throw new CacheError('BAD_REQUEST', `${id} is not running (${peer.ended ?? 'exited'})`);
    }
    return peer;
  }
}

/** `promise`'s value, or undefined when it takes longer than `ms`. */
async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

interface DemoArgs {
  peers: number;
  basePort: number;
  replicas: number;
  logLevel: string;
  history?: string;
}

export const demoCommand: CommandModule<object, DemoArgs> = {
  command: 'demo',
  describe: 'start a local cluster and open the console on it (add-peer, kill PEER, stop PEER to play)',
  builder: (argv: Argv) =>
    argv
      .option('peers', { type: 'number', default: 3, describe: 'number of peers to start' })
      .option('base-port', { type: 'number', default: 7000, describe: 'port of the first peer; the others follow' })
      .option('replicas', { type: 'number', default: 2, describe: 'copies of each key, primary included' })
      .option('log-level', { type: 'string', default: 'info', describe: "log level of the peers (their logs go to a file, see the console's first lines)" })
      .option('history', { type: 'string', describe: 'history file of the console', defaultDescription: 'RINGCACHE_HISTORY, else ~/.ringcache_history' }) as unknown as Argv<DemoArgs>,
  handler: async (args: ArgumentsCamelCase<DemoArgs>) => {
    const count = Number(args.peers);
    const basePort = Number(args.basePort);
    if (!Number.isInteger(count) || count < 1 || count > 32) {
      process.stderr.write('ringcache demo: --peers must be an integer from 1 to 32\n');
      process.exit(2);
    }
    if (!Number.isInteger(basePort) || basePort < 0 || basePort > 65535 - count) {
      process.stderr.write('ringcache demo: --base-port must be a port number\n');
      process.exit(2);
    }
    const logPath = join(tmpdir(), `ringcache-demo-${process.pid}.log`);
    const logFd = openSync(logPath, 'a');
    const cluster = new DemoCluster({ basePort, replicas: Number(args.replicas), logLevel: String(args.logLevel), logFd });
    process.on('exit', () => cluster.killAllNow());
    let stopping: Promise<void> | undefined;
    const finish = async (code: number): Promise<never> => {
      stopping ??= (async () => {
        const running = cluster.urls.length;
        if (running > 0) process.stdout.write(`ringcache demo: stopping ${running} peer${running === 1 ? '' : 's'} (graceful leave)...\n`);
        await cluster.stopAll();
        closeSync(logFd);
      })();
      await stopping;
      process.exit(code);
    };
    // A closed terminal or a kill of this process must not leave the (detached) peers behind.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void finish(1));

    try {
      process.stdout.write(`ringcache demo: starting ${count} peers on 127.0.0.1 (logs: ${logPath})...\n`);
      for (let i = 0; i < count; i++) await cluster.addPeer();
    } catch (error) {
      process.stderr.write(`ringcache demo: ${(error as Error).message} (logs: ${logPath})\n`);
      await finish(1);
    }
    const intro = [
      `Demo cluster: ${cluster.all.map((p) => `${p.id} ${p.url.replace(/\/$/, '')} (pid ${p.child.pid})`).join(', ')}. Peer logs: ${logPath}`,
      'Try: set greeting hello · get greeting · kill p2 (kill -9, then watch the rows) · add-peer · stop p3 (graceful leave) · procs · help',
      '`quit` (or Ctrl-C on an empty line) stops the cluster.',
    ].join('\n');
    const code = await openConsole({
      urls: cluster.urls,
      historyPath: args.history ?? defaultHistoryPath(),
      extensions: [cluster.extension()],
      intro,
    });
    await finish(code);
  },
};
