/**
 * A detached tmux session on a private server (`tmux -L <unique socket>`, no user config), for
 * end-to-end tests of the full-screen console: type with `send-keys`, read the screen with
 * `capture-pane -p`. It never touches the user's own tmux server.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when a `tmux` binary runs. */
export function hasTmux(): boolean {
  return spawnSync('tmux', ['-V'], { stdio: 'ignore' }).status === 0;
}

/** Options of {@link TmuxSession.start}. */
export interface TmuxStartOptions {
  columns: number;
  rows: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

export class TmuxSession {
  readonly socket: string;
  readonly name: string;
  private readonly dir: string;

  constructor(label: string) {
    const unique = `${label}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.socket = `ringcache-e2e-${unique}`;
    this.name = unique;
    this.dir = mkdtempSync(join(tmpdir(), 'ringcache-tmux-'));
  }

  /**
   * Starts `argv` (run directly, no shell) in a new detached session of exactly
   * `columns` x `rows` (no status line). The pane stays after the program exits, so a crash
   * stays readable. (To learn the exit status, wrap the program in `sh -c` and echo `$?`: tmux
   * cannot report it where it runs with SIGCHLD blocked, as some sandboxes start it.)
   */
  start(argv: string[], options: TmuxStartOptions): void {
    const config = join(this.dir, 'tmux.conf');
    writeFileSync(config, ['set -g remain-on-exit on', 'set -g status off', 'set -g history-limit 2000', ''].join('\n'));
    execFileSync(
      'tmux',
      ['-L', this.socket, '-f', config, 'new-session', '-d', '-s', this.name, '-x', String(options.columns), '-y', String(options.rows), ...(options.cwd ? ['-c', options.cwd] : []), '--', ...argv],
      { env: options.env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
  }

  /** Types `text` literally, then Enter. */
  sendLine(text: string): void {
    this.tmux('send-keys', '-t', this.name, '-l', text);
    this.tmux('send-keys', '-t', this.name, 'Enter');
  }

  /** Sends tmux key names (`Tab`, `Up`, `C-c`, ...). */
  sendKeys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...keys);
  }

  /** The screen as text, one line per row (no colours). */
  capture(): string {
    return this.tmux('capture-pane', '-p', '-t', this.name);
  }

  /** Kills the private tmux server (and the programs in it) and removes its socket and the config. */
  kill(): void {
    const socketPath = spawnSync('tmux', ['-L', this.socket, 'display-message', '-p', '#{socket_path}'], { encoding: 'utf8' }).stdout?.trim();
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { stdio: 'ignore' });
    // A server that cannot finish exiting (a sandbox that blocks SIGCHLD) leaves its socket behind.
    if (socketPath) rmSync(socketPath, { force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }
}
