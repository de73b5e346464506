/**
 * The contracts between the console's parts: the logic in src/console/ (commands, results, the
 * live view model) and the terminal UI that renders it (src/console/ui/). The UI never talks to
 * the cluster itself; it renders {@link ClusterViewState} and sends command lines to a
 * {@link CommandRunner}.
 */
import type { MemberState } from '../membership/member.js';

/** One parsed console command line, e.g. `set user:1 {"a":1} ttl 5000`. */
export interface ParsedCommand {
  /** Lower-case command name (`get`, `set`, `ring`, `watch`, `connect`, `help`, `quit`, demo commands...). */
  name: string;
  /** Remaining arguments, unparsed (values are decoded by the command itself). */
  args: string[];
  /** The original line. */
  line: string;
}

/** The outcome of one command, as shown to the user. */
export interface CommandResult {
  /** False when the command failed (bad usage, or a CacheError from the cluster). */
  ok: boolean;
  /** Human-readable text (may span lines; no colour codes: the UI colours it). */
  text: string;
  /** Machine-readable form for `--json` output: the reply fields, or `{error: {code, message}}`. */
  json: unknown;
  /** Id (or URL) of the peer that served it, when known. */
  servedBy?: string;
  /** Round-trip time in ms, when the command talked to the cluster. */
  ms?: number;
  /** Set by `quit`: the console should exit. */
  quit?: boolean;
}

/** Runs command lines; implemented by the console logic, used by the TUI and the line mode. */
export interface CommandRunner {
  run(line: string): Promise<CommandResult>;
  /** Completions for a partial line (command names, then keys seen so far). */
  complete(line: string): string[];
}

/** One row of the live view: a peer. */
export interface PeerRow {
  id: string;
  url: string;
  state: MemberState;
  incarnation: number;
  /** Fraction (0..1) of the hash space this peer holds as primary. */
  ownership: number;
  /** Keys held locally, from the last stats poll (undefined before the first one or when it failed). */
  keys?: number;
  /** Client operations per second handled by this peer, from stats deltas. */
  opsPerSec?: number;
  /** True for the peer the console is connected to. */
  connected: boolean;
  /** The last stats poll of this peer failed or timed out (shown as "slow/unreachable"). */
  unreachable?: boolean;
}

/** One line of the event log. */
export interface ViewEvent {
  /** ms since the Unix epoch. */
  at: number;
  level: 'info' | 'warn' | 'error';
  /** e.g. "p4 joined: 24.7% of the ring moves to p4", "p2 dead after 3.1 s". */
  text: string;
}

/** Everything the live view shows; produced by the view model, rendered by the UI. */
export interface ClusterViewState {
  /** URL the console talks to now. */
  url: string;
  /** Connection status; the UI shows reconnecting/disconnected prominently. */
  connection: 'connecting' | 'connected' | 'reconnecting' | 'closed';
  /** Ring epoch and checksum of the connected peer's ring. */
  epoch: number;
  checksum: string;
  replicas: number;
  /** Rows sorted by id. */
  peers: PeerRow[];
  /**
   * The hash space cut into `strip.length` equal buckets, each the id of the peer owning the
   * bucket's start as primary (null for an empty ring): rendered as a coloured strip.
   */
  strip: Array<string | null>;
  /** Newest last; bounded. */
  events: ViewEvent[];
  /** ms since the epoch of the last successful stats poll. */
  statsAt?: number;
}
