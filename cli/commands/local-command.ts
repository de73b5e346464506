/**
 * `ringcache local`: starts a local cluster of real peer processes on 127.0.0.1 (what
 * `npm start` runs), prints their URLs, PIDs and commands to try, and stops them all
 * gracefully on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { CommandModule } from 'yargs';

const CLI_PATH = fileURLToPath(new URL('../ringcache.js', import.meta.url));

/** A peer process started by {@link spawnPeer}. */
export interface LocalPeer {
  id: string;
  url: string;
  child: ChildProcess;
}

/**
 * Spawns one `ringcache peer` child process and resolves with its URL once it prints its
 * listening line.
 * @param stderr where the peer's logs go: this process's stderr, nowhere, or an open file descriptor
 * @throws Error when the child exits before it is ready
 */
export function spawnPeer(args: string[], env: NodeJS.ProcessEnv = process.env, stderr: 'inherit' | 'ignore' | number = 'inherit'): Promise<LocalPeer> {
  // detached: a terminal's Ctrl-C must reach only this command, which then stops each peer with
  // one SIGTERM (a second signal would make a peer skip its handoff).
  const child = spawn(process.execPath, [CLI_PATH, 'peer', ...args], { stdio: ['ignore', 'pipe', stderr], env, detached: true });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      const match = /^ringcache peer (\S+) listening on (\S+)$/.exec(line);
      if (match) resolve({ id: match[1]!, url: match[2]!, child });
      else reject(new Error(`unexpected output from peer: ${line}`));
    });
    child.once('exit', (code) => reject(new Error(`peer exited with code ${code} before it was ready`)));
  });
}

export const localCommand: CommandModule = {
  command: 'local',
  describe: 'start a local cluster of peer processes on 127.0.0.1 (Ctrl-C stops it)',
  builder: (argv) =>
    argv
      .option('peers', { type: 'number', default: 3, describe: 'number of peers' })
      .option('base-port', { type: 'number', default: 7000, describe: 'port of the first peer; the others follow' })
      .option('replicas', { type: 'number', default: 2, describe: 'copies of each key, primary included' })
      .option('log-level', { type: 'string', default: 'warn', describe: 'log level of the peers (stderr)' }),
  handler: async (args) => {
    const count = Number(args.peers);
    const basePort = Number(args['base-port']);
    if (!Number.isInteger(count) || count < 1 || count > 32) {
      process.stderr.write('ringcache local: --peers must be an integer from 1 to 32\n');
      process.exit(2);
    }
    const peers: LocalPeer[] = [];
    const stopAll = async (): Promise<void> => {
      await Promise.all(
        peers.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.child.exitCode !== null) return resolve();
              p.child.once('exit', () => resolve());
              p.child.kill('SIGTERM');
            }),
        ),
      );
    };
    try {
      for (let i = 0; i < count; i++) {
        const args2 = ['--id', `p${i + 1}`, '--port', String(basePort + i), '--replicas', String(args.replicas), '--log-level', String(args['log-level'])];
        if (i > 0) args2.push('--bootstrap', peers[0]!.url);
        peers.push(await spawnPeer(args2));
      }
    } catch (error) {
      process.stderr.write(`ringcache local: ${(error as Error).message}\n`);
      await stopAll();
      process.exit(1);
    }
    const first = peers[0]!.url;
    const relative = path.relative(process.cwd(), CLI_PATH);
    const cli = `node ${relative.startsWith('..') ? CLI_PATH : relative}`;
    const out = [
      `ringcache local cluster: ${count} peers, replicas ${args.replicas}`,
      ...peers.map((p) => `  ${p.id}  ${p.url}  pid ${p.child.pid}`),
      '',
      'Talk to any peer from another terminal, e.g.:',
      `  ${cli} set greeting '"hello"' --url ${first}`,
      `  ${cli} get greeting --url ${peers[peers.length - 1]!.url}`,
      `  ${cli} ring --url ${first}`,
      `  kill -9 ${peers[peers.length - 1]!.child.pid}   # then: ${cli} ring --url ${first}`,
      `  or any WebSocket client: send {"id":1,"op":"get","key":"greeting"} to ${first}`,
      '',
      'Ctrl-C stops the cluster (each peer leaves gracefully).',
    ];
    process.stdout.write(`${out.join('\n')}\n`);
    let stopping = false;
    const onSignal = (): void => {
      if (stopping) process.exit(1);
      stopping = true;
      process.stdout.write('stopping the local cluster...\n');
      void stopAll().then(() => process.exit(0));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('exit', () => {
      for (const p of peers) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    });
  },
};
