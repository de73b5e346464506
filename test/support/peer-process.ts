/**
 * Starts real `ringcache peer` processes (the built CLI in dist/) on 127.0.0.1 with port 0 and
 * reads their listening line, for integration tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/ringcache.js', import.meta.url));

/** A running peer process. */
export interface PeerProcess {
  id: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process wrote to stderr so far (its logs). */
  stderr: () => string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
}

/** Fast-but-realistic timers for tests that do not check default-timing behaviour. */
export const FAST_FLAGS = ['--probe-interval', '150', '--probe-timeout', '80', '--suspicion-min', '600', '--reconnect-base', '20', '--reconnect-max', '500'];

/**
 * Spawns `ringcache peer --host 127.0.0.1 --port 0 ...args` and resolves once it prints
 * `ringcache peer <id> listening on <url>`.
 * @throws Error when the process exits first or is not ready within `readyTimeoutMs`
 */
export function startPeerProcess(args: string[], readyTimeoutMs = 15_000, env: NodeJS.ProcessEnv = {}): Promise<PeerProcess> {
  const child = spawn(process.execPath, [CLI, 'peer', '--host', '127.0.0.1', '--port', '0', '--log-level', 'info', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
    if (stderr.length > 2_000_000) stderr = stderr.slice(-1_000_000);
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`peer not ready within ${readyTimeoutMs} ms; stderr:\n${stderr.slice(-4000)}`));
    }, readyTimeoutMs);
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      const match = /^ringcache peer (\S+) listening on (ws:\/\/[^\s]+)$/.exec(line);
      if (!match) return reject(new Error(`unexpected first stdout line: ${line}`));
      resolve({ id: match[1]!, url: match[2]!, port: Number(new URL(match[2]!).port), child, stderr: () => stderr, exited });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`peer exited (${code}) before it was ready; stderr:\n${stderr.slice(-4000)}`));
    });
  });
}

/** Kills every given peer process with SIGKILL and waits for the exits (test cleanup). */
export async function killAll(peers: Array<PeerProcess | undefined>): Promise<void> {
  await Promise.all(
    peers.map(async (peer) => {
      if (!peer || peer.child.exitCode !== null || peer.child.signalCode !== null) return;
      peer.child.kill('SIGKILL');
      await peer.exited;
    }),
  );
}
