/**
 * The console's command runner: parses a line, runs the command against a {@link CacheClient},
 * times it, and returns a {@link CommandResult} whose text is formatted by `result-format.ts`.
 * Used by both the TUI and the line mode; it has no I/O of its own besides the client.
 */
import { EventEmitter } from 'eventemitter3';
import type { CacheClient, RingInfo } from '../client/cache-client.js';
import { parseIntegerArg } from '../client/cli-format.js';
import { CacheError, toCacheError } from '../errors.js';
import { parseCommandLine, parseValue } from './command-line.js';
import {
  BUILTIN_COMMANDS,
  commandNames,
  findBuiltinCommand,
  helpText,
  type ArgumentKind,
  type CommandSpec,
  type ConsoleExtension,
  type ExtensionCommand,
} from './console-commands.js';
import type { CommandResult, CommandRunner, ParsedCommand } from './console-types.js';
import {
  displayUrl,
  formatClusterStats,
  formatEntry,
  formatError,
  formatInteger,
  formatList,
  formatMembers,
  formatPeerStats,
  formatRing,
  statsError,
} from './result-format.js';

/**
 * The client methods the session uses: a real {@link CacheClient} fits, and so does a test double
 * implementing these members.
 */
export type ConsoleClient = Pick<CacheClient, 'getEntry' | 'set' | 'del' | 'expire' | 'ttl' | 'incr' | 'mget' | 'mset' | 'ring' | 'clusterStats' | 'close' | 'url'>;

/** Options of {@link ConsoleSession}. */
export interface ConsoleSessionOptions {
  /** The connected client. The session closes it when `connect URL` replaces it. */
  client: ConsoleClient;
  /** Extra commands (`ringcache demo`'s `add-peer`, `kill PEER`, `stop PEER`). */
  extensions?: ConsoleExtension[];
  /** Monotonic clock in ms used to time commands. Default `performance.now()`. */
  now?: () => number;
  /**
   * Creates the client for `connect URL` (typically `CacheClient.connect(url)`); may throw a
   * CacheError, reported as the command's error (the old client stays). Without it, `connect`
   * fails with BAD_REQUEST.
   */
  onConnect?(url: string): Promise<ConsoleClient>;
  /** Initial state of `watch`. Default true. */
  watching?: boolean;
  /** Most keys remembered for completion (least recently used ones are forgotten first). Default 10,000. */
  maxKeys?: number;
  /** Deadline in ms of the background `ring` lookup that learns the connected peer's id. Default 2000. */
  ringLookupTimeoutMs?: number;
}

/** Events of {@link ConsoleSession}. */
export interface ConsoleSessionEvents {
  /** `watch on|off` changed the event-log switch. */
  watch: [on: boolean];
  /** `connect URL` swapped the client: hand the new one to the ClusterWatcher (`swapClient`). */
  client: [client: ConsoleClient, url: string];
}

/** Built-in commands that talk to the cluster, so their results carry `ms` and `servedBy`. */
const CLUSTER_COMMANDS: ReadonlySet<string> = new Set(['get', 'set', 'del', 'expire', 'ttl', 'incr', 'mget', 'mset', 'ring', 'members', 'stats']);

/** What a command handler returns: the result without the timing, which `run` adds. */
type Outcome = Omit<CommandResult, 'ms' | 'servedBy'>;

/**
 * A console session: one connected client, the command table (built-ins and extensions), the
 * `watch` switch, and the keys seen so far for completion.
 *
 * {@link run} never throws: a bad line, a usage error and a CacheError from the cluster all
 * become `{ok: false, text: '(error) CODE: message', json: {error: {code, message}}}`
 * (usage errors and unbalanced quotes are `BAD_REQUEST`, an unknown command `UNKNOWN_OP`).
 *
 * `servedBy` is the id of the peer the client is connected to, learnt from ring snapshots (a
 * background `ring` lookup at construction and after a swap, and every `ring`/`members`
 * command), else that peer's URL.
 */
export class ConsoleSession extends EventEmitter<ConsoleSessionEvents> implements CommandRunner {
  private clientNow: ConsoleClient;
  private readonly extensions: readonly ConsoleExtension[];
  private readonly now: () => number;
  private readonly onConnect: ((url: string) => Promise<ConsoleClient>) | undefined;
  private readonly maxKeys: number;
  private readonly ringLookupTimeoutMs: number;
  private watchingNow: boolean;
  /** Keys seen in arguments, least recently used first. */
  private readonly keys = new Map<string, true>();
  /** Peer id by normalized URL, from ring snapshots. */
  private readonly idByUrl = new Map<string, string>();
  private lastRing: RingInfo | undefined;
  private ringLookup: Promise<void> | undefined;

  constructor(options: ConsoleSessionOptions) {
    super();
    this.clientNow = options.client;
    this.extensions = Object.freeze([...(options.extensions ?? [])]);
    this.now = options.now ?? (() => performance.now());
    this.onConnect = options.onConnect;
    this.watchingNow = options.watching ?? true;
    this.maxKeys = options.maxKeys ?? 10_000;
    this.ringLookupTimeoutMs = options.ringLookupTimeoutMs ?? 2000;
    this.lookUpRing();
  }

  /** The client commands go to now (replaced by `connect URL`). */
  get client(): ConsoleClient {
    return this.clientNow;
  }

  /** The `watch on|off` switch: whether cluster events should be shown. */
  get watching(): boolean {
    return this.watchingNow;
  }

  /** The last ring snapshot the session saw (from its lookups and `ring`/`members` commands). */
  get ring(): RingInfo | undefined {
    return this.lastRing;
  }

  /** Keys seen so far, most recent last. */
  get knownKeys(): string[] {
    return [...this.keys.keys()];
  }

  /** Tells the session about a ring snapshot seen elsewhere (e.g. the watcher's `ring` events), for `servedBy` and completion. */
  noteRing(ring: RingInfo): void {
    this.lastRing = ring;
    const url = this.clientNow.url;
    if (url !== undefined) this.idByUrl.set(normalizeUrl(url), ring.self);
    for (const peer of ring.peers) this.idByUrl.set(normalizeUrl(peer.url), peer.id);
  }

  /**
   * Runs one command line.
   * @returns the result; `{ok: true, text: '', json: {}}` for a blank line; never rejects
   */
  async run(line: string): Promise<CommandResult> {
    let parsed: ParsedCommand | undefined;
    try {
      parsed = parseCommandLine(line);
    } catch (error) {
      return errorResult(error);
    }
    if (!parsed) return { ok: true, text: '', json: {} };
    const spec = findBuiltinCommand(parsed.name);
    if (spec) return this.runBuiltin(spec, parsed);
    const extension = this.findExtension(parsed.name);
    if (extension) return this.runExtension(extension, parsed);
    return errorResult(new CacheError('UNKNOWN_OP', `unknown command '${parsed.name}' (try 'help')`));
  }

  /**
   * Completions of a partial line, as whole lines (the line with its last word completed), sorted:
   * command names for the first word (built-ins, aliases and extensions); then, by the command's
   * argument: keys seen so far, peer ids (`stats`), peer URLs (`connect`), command names (`help`),
   * fixed words (`on`/`off`, `ttl`). A completed argument that needs quoting is double-quoted.
   * @example complete('ge') // ['get']
   * @example complete('get us') // ['get user:1', 'get user:2']
   */
  complete(line: string): string[] {
    const match = /^(\s*)(\S*)$/.exec(line);
    if (match) {
      const [, lead, prefix] = match;
      return commandNames(this.extensions)
        .filter((name) => name.startsWith(prefix!.toLowerCase()))
        .map((name) => lead + name);
    }
    const cut = lastWordStart(line);
    const head = line.slice(0, cut);
    const partial = line.slice(cut);
    let parsed: ParsedCommand | undefined;
    try {
      parsed = parseCommandLine(head);
    } catch {
      return [];
    }
    if (!parsed) return [];
    const kind = this.argumentKind(parsed.name, parsed.args.length);
    if (kind === undefined) return [];
    // A word being typed inside an opening double quote matches on what follows the quote.
    const prefix = partial.startsWith('"') ? partial.slice(1) : partial;
    return [...new Set(this.candidates(kind))]
      .filter((candidate) => candidate.startsWith(prefix))
      .sort()
      .map((candidate) => head + quoteIfNeeded(candidate));
  }

  // --- dispatch -------------------------------------------------------------------------------

  private async runBuiltin(spec: CommandSpec, parsed: ParsedCommand): Promise<CommandResult> {
    const { args } = parsed;
    if (args.length < spec.minArgs || args.length > spec.maxArgs) return usageError(spec.name, spec.usage);
    this.rememberKeys(spec, args);
    if (!CLUSTER_COMMANDS.has(spec.name)) {
      try {
        return await this.runLocal(spec, args);
      } catch (error) {
        return errorResult(error);
      }
    }
    if (this.ringLookup) await this.ringLookup;
    const client = this.clientNow;
    const started = this.now();
    let outcome: Outcome;
    try {
      outcome = await this.runCluster(spec, args, client);
    } catch (error) {
      outcome = errorResult(error);
    }
    return { ...outcome, ms: roundMs(this.now() - started), ...this.servedBy(client) };
  }

  private async runExtension(command: ExtensionCommand, parsed: ParsedCommand): Promise<CommandResult> {
    const { args } = parsed;
    if (args.length < (command.minArgs ?? 0) || args.length > (command.maxArgs ?? Infinity)) return usageError(command.name, command.usage);
    try {
      return await command.run(args);
    } catch (error) {
      return errorResult(error);
    }
  }

  /** Commands answered by the console itself (`watch`, `connect`, `help`, `quit`). */
  private async runLocal(spec: CommandSpec, args: string[]): Promise<CommandResult> {
    switch (spec.name) {
      case 'watch': {
        if (args.length === 0) return { ok: true, text: `watch is ${this.watchingNow ? 'on' : 'off'}`, json: { watch: this.watchingNow } };
        const word = args[0]!.toLowerCase();
        if (word !== 'on' && word !== 'off') return usageError(spec.name, spec.usage);
        const on = word === 'on';
        const changed = on !== this.watchingNow;
        this.watchingNow = on;
        if (changed) this.emit('watch', on);
        return { ok: true, text: `watch is ${on ? 'on' : 'off'}`, json: { watch: on } };
      }
      case 'connect':
        return this.connect(args[0]!);
      case 'help':
        return this.help(args[0]);
      case 'quit':
        return { ok: true, text: '', json: {}, quit: true };
    }
    throw new CacheError('INTERNAL', `no handler for '${spec.name}'`);
  }

  private async runCluster(spec: CommandSpec, args: string[], client: ConsoleClient): Promise<Outcome> {
    switch (spec.name) {
      case 'get': {
        const entry = await client.getEntry(args[0]!);
        return { ok: true, text: formatEntry(entry), json: entry };
      }
      case 'set': {
        let ttl: number | undefined;
        if (args.length === 3 || (args.length === 4 && args[2]!.toLowerCase() !== 'ttl')) return usageError(spec.name, spec.usage);
        if (args.length === 4) ttl = parseIntegerArg(args[3], 'ttl', 1);
        await client.set(args[0]!, parseValue(args[1]!), ttl === undefined ? {} : { ttl });
        return { ok: true, text: 'OK', json: {} };
      }
      case 'del': {
        const results = await Promise.all(args.map((key) => client.del(key)));
        const deleted = results.filter(Boolean).length;
        return { ok: true, text: formatInteger(deleted), json: { deleted } };
      }
      case 'expire': {
        const updated = await client.expire(args[0]!, parseIntegerArg(args[1], 'MS', 1));
        return { ok: true, text: formatInteger(updated ? 1 : 0), json: { updated } };
      }
      case 'ttl': {
        const ttl = await client.ttl(args[0]!);
        return { ok: true, text: formatInteger(ttl), json: { ttl } };
      }
      case 'incr': {
        const by = args.length > 1 ? parseIntegerArg(args[1], 'BY') : 1;
        const value = await client.incr(args[0]!, by);
        return { ok: true, text: formatInteger(value), json: { value } };
      }
      case 'mget': {
        const values = await client.mget(args);
        return { ok: true, text: formatList(values.map(formatEntry)), json: { values } };
      }
      case 'mset': {
        if (args.length % 2 !== 0) return usageError(spec.name, spec.usage);
        const entries = [];
        for (let i = 0; i < args.length; i += 2) entries.push({ key: args[i]!, value: parseValue(args[i + 1]!) });
        await client.mset(entries);
        return { ok: true, text: 'OK', json: {} };
      }
      case 'ring': {
        const ring = await client.ring();
        this.noteRing(ring);
        return { ok: true, text: formatRing(ring), json: { ring } };
      }
      case 'members': {
        const ring = await client.ring();
        this.noteRing(ring);
        const members = ring.peers.map(({ id, url, state, incarnation }) => ({ id, url, state, incarnation }));
        return { ok: true, text: formatMembers(ring), json: { members } };
      }
      case 'stats': {
        const peers = await client.clusterStats();
        if (args.length === 0) return { ok: true, text: formatClusterStats(peers), json: { peers } };
        const id = args[0]!;
        const stats = peers[id];
        if (stats === undefined) {
          const known = Object.keys(peers).sort().join(', ');
          throw new CacheError('BAD_REQUEST', `no ring member '${id}' (members: ${known || 'none'})`);
        }
        const error = statsError(stats);
        if (error) return { ok: false, text: formatError(error.code, error.message), json: { error } };
        return { ok: true, text: formatPeerStats(stats), json: { stats } };
      }
    }
    throw new CacheError('INTERNAL', `no handler for '${spec.name}'`);
  }

  private async connect(url: string): Promise<CommandResult> {
    if (!this.onConnect) throw new CacheError('BAD_REQUEST', 'connect is not available in this console');
    const started = this.now();
    const client = await this.onConnect(url);
    const old = this.clientNow;
    this.clientNow = client;
    this.lastRing = undefined;
    this.emit('client', client, url);
    if (old !== client) await old.close().catch(() => undefined);
    this.lookUpRing();
    const connectedUrl = displayUrl(client.url ?? url);
    return { ok: true, text: `connected to ${connectedUrl}`, json: { url: connectedUrl }, ms: roundMs(this.now() - started), servedBy: connectedUrl };
  }

  private help(name: string | undefined): CommandResult {
    if (name === undefined) {
      const commands = [
        ...BUILTIN_COMMANDS.map(({ name: n, usage, help }) => ({ name: n, usage, help })),
        ...this.extensions.flatMap((extension) => extension.commands.map(({ name: n, usage, help }) => ({ name: n, usage, help }))),
      ];
      return { ok: true, text: helpText(this.extensions), json: { commands } };
    }
    const lower = name.toLowerCase();
    const spec: { name: string; usage: string; help: string } | undefined = findBuiltinCommand(lower) ?? this.findExtension(lower);
    if (!spec) throw new CacheError('BAD_REQUEST', `no command '${name}' (try 'help')`);
    return { ok: true, text: `${spec.usage}\n  ${spec.help}`, json: { name: spec.name, usage: spec.usage, help: spec.help } };
  }

  // --- servedBy, keys, completion ---------------------------------------------------------------

  private servedBy(client: ConsoleClient): { servedBy?: string } {
    const url = client.url;
    if (url === undefined) return {};
    const id = this.idByUrl.get(normalizeUrl(url));
    if (id === undefined && !this.ringLookup) this.lookUpRing();
    return { servedBy: id ?? displayUrl(url) };
  }

  /** Best effort, in the background: learn the connected peer's id and the ring's URLs. */
  private lookUpRing(): void {
    if (this.ringLookup) return;
    const client = this.clientNow;
    this.ringLookup = client
      .ring({ timeoutMs: this.ringLookupTimeoutMs })
      .then(
        (ring) => {
          if (client === this.clientNow) this.noteRing(ring);
        },
        () => undefined,
      )
      .finally(() => {
        this.ringLookup = undefined;
      });
  }

  private rememberKeys(spec: CommandSpec, args: readonly string[]): void {
    args.forEach((arg, index) => {
      if (spec.argumentKind(index) !== 'key') return;
      this.keys.delete(arg);
      this.keys.set(arg, true);
    });
    while (this.keys.size > this.maxKeys) this.keys.delete(this.keys.keys().next().value!);
  }

  private findExtension(name: string): ExtensionCommand | undefined {
    for (const extension of this.extensions) {
      const command = extension.commands.find((c) => c.name === name);
      if (command) return command;
    }
    return undefined;
  }

  private argumentKind(name: string, index: number): ArgumentKind | undefined {
    const spec = findBuiltinCommand(name);
    if (spec) return index < spec.maxArgs ? spec.argumentKind(index) : undefined;
    const command = this.findExtension(name);
    if (!command || index >= (command.maxArgs ?? Infinity)) return undefined;
    return command.argumentKind;
  }

  private candidates(kind: ArgumentKind): string[] {
    if (typeof kind === 'object') return [...kind.words];
    switch (kind) {
      case 'key':
        return [...this.keys.keys()];
      case 'command':
        return commandNames(this.extensions);
      case 'peer':
        return (this.lastRing?.peers ?? []).map((peer) => peer.id);
      case 'url':
        return [...new Set((this.lastRing?.peers ?? []).filter((peer) => peer.state === 'alive' || peer.state === 'suspect').map((peer) => peer.url))];
    }
  }
}

// --- helpers of this file -------------------------------------------------------------------

/** ms rounded to 0.1. */
function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function usageError(name: string, usage: string): CommandResult {
  return errorResult(new CacheError('BAD_REQUEST', `wrong arguments for '${name}' (usage: ${usage})`));
}

function errorResult(error: unknown): CommandResult {
  const { code, message } = toCacheError(error);
  return { ok: false, text: formatError(code, message), json: { error: { code, message } } };
}

/** `ws://h:p` and `ws://h:p/` name the same peer. */
function normalizeUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

/** Index where the line's last (partial) word starts: after the last whitespace. */
function lastWordStart(line: string): number {
  for (let i = line.length - 1; i >= 0; i--) if (/\s/.test(line[i]!)) return i + 1;
  return 0;
}

/** A completion that would not survive the tokenizer as a bare word is double-quoted. */
function quoteIfNeeded(word: string): string {
  if (word !== '' && !/[\s"'\\]/.test(word) && !/^[{[]/.test(word)) return word;
  return `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
