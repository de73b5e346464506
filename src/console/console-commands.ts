/**
 * The console's command table: every built-in command's name, usage, one-line help and arity,
 * and the extension hook through which a caller (e.g. `ringcache demo`) adds commands of its own
 * (`add-peer`, `kill PEER`, `stop PEER`). Pure data and lookups; the commands are executed by
 * {@link ConsoleSession} in `command-runner.ts`.
 */
import type { CommandResult } from './console-types.js';

/**
 * What an argument position holds, for completion: a cache key, a peer id, a peer URL, or one
 * of fixed words.
 */
export type ArgumentKind = 'key' | 'peer' | 'url' | 'command' | { words: readonly string[] };

/** One built-in command. */
export interface CommandSpec {
  /** Lower-case name, as typed. */
  name: string;
  /** Other names for the same command (`exit` for `quit`). */
  aliases?: readonly string[];
  /** Synopsis: `set KEY VALUE [ttl MS]`. */
  usage: string;
  /** One line for `help`. */
  help: string;
  /** Fewest arguments accepted. */
  minArgs: number;
  /** Most arguments accepted (`Infinity` for a variadic command). */
  maxArgs: number;
  /**
   * What argument `index` holds, for completion and for remembering keys; undefined: free text
   * (a VALUE, a number).
   */
  argumentKind(index: number): ArgumentKind | undefined;
}

/** A command added by a {@link ConsoleExtension}. */
export interface ExtensionCommand {
  /** Lower-case name; must not shadow a built-in (the built-in wins). */
  name: string;
  /** Synopsis, e.g. `kill PEER`. */
  usage: string;
  /** One line for `help`. */
  help: string;
  /**
   * Runs the command with the line's arguments (unparsed). May throw: a thrown error becomes an
   * `(error) CODE: message` result (a non-CacheError as `INTERNAL`). Timing and `servedBy` are
   * left to the command.
   */
  run(args: string[]): Promise<CommandResult>;
  /** Optional arity, checked before `run` (a usage error otherwise). */
  minArgs?: number;
  maxArgs?: number;
  /** Optional completion hint for every argument: e.g. `'peer'` for `kill PEER`. */
  argumentKind?: ArgumentKind;
}

/** A set of extra commands plugged into the console by its caller. */
export interface ConsoleExtension {
  commands: ExtensionCommand[];
}

const keyAt = (...indices: number[]) => (index: number): ArgumentKind | undefined => (indices.includes(index) ? 'key' : undefined);
const every = (kind: ArgumentKind) => (): ArgumentKind => kind;
const none = (): undefined => undefined;

/** The built-in commands, in the order `help` lists them. */
export const BUILTIN_COMMANDS: readonly CommandSpec[] = Object.freeze([
  { name: 'get', usage: 'get KEY', help: 'read a key: its value as JSON, or (nil)', minArgs: 1, maxArgs: 1, argumentKind: keyAt(0) },
  {
    name: 'set',
    usage: 'set KEY VALUE [ttl MS]',
    help: 'write a key; VALUE is JSON when it parses (42, {"a":1}, \'"42"\'), else a string',
    minArgs: 2,
    maxArgs: 4,
    argumentKind: (index: number) => (index === 0 ? 'key' : index === 2 ? { words: ['ttl'] } : undefined),
  },
  { name: 'del', usage: 'del KEY [KEY...]', help: 'delete keys: (integer) how many existed', minArgs: 1, maxArgs: Infinity, argumentKind: every('key') },
  { name: 'expire', usage: 'expire KEY MS', help: 'set a key\'s time to live in ms: (integer) 1, or 0 when missing', minArgs: 2, maxArgs: 2, argumentKind: keyAt(0) },
  { name: 'ttl', usage: 'ttl KEY', help: 'time to live left in ms: -1 no expiry, -2 missing', minArgs: 1, maxArgs: 1, argumentKind: keyAt(0) },
  { name: 'incr', usage: 'incr KEY [BY]', help: 'add BY (default 1) to an integer value: (integer) the new value', minArgs: 1, maxArgs: 2, argumentKind: keyAt(0) },
  { name: 'mget', usage: 'mget KEY [KEY...]', help: 'read many keys', minArgs: 1, maxArgs: Infinity, argumentKind: every('key') },
  {
    name: 'mset',
    usage: 'mset KEY VALUE [KEY VALUE...]',
    help: 'write many keys',
    minArgs: 2,
    maxArgs: Infinity,
    argumentKind: (index: number) => (index % 2 === 0 ? 'key' : undefined),
  },
  { name: 'ring', usage: 'ring', help: 'the ring: epoch, checksum, and each member\'s share of the hash space', minArgs: 0, maxArgs: 0, argumentKind: none },
  { name: 'members', usage: 'members', help: 'every known member with its state and incarnation', minArgs: 0, maxArgs: 0, argumentKind: none },
  { name: 'stats', usage: 'stats [PEER]', help: 'keys and counters of every member, or every counter of one', minArgs: 0, maxArgs: 1, argumentKind: every('peer') },
  { name: 'watch', usage: 'watch on|off', help: 'show or hide cluster events (joins, suspects, deaths, rebalances)', minArgs: 0, maxArgs: 1, argumentKind: every({ words: ['on', 'off'] }) },
  { name: 'connect', usage: 'connect URL', help: 'talk to another peer (ws://HOST:PORT)', minArgs: 1, maxArgs: 1, argumentKind: every('url') },
  { name: 'help', usage: 'help [COMMAND]', help: 'list the commands, or describe one', minArgs: 0, maxArgs: 1, argumentKind: every('command') },
  { name: 'quit', aliases: ['exit'], usage: 'quit', help: 'leave the console', minArgs: 0, maxArgs: 0, argumentKind: none },
] satisfies CommandSpec[]);

/** The built-in command named `name` (lower-case) or one of its aliases. */
export function findBuiltinCommand(name: string): CommandSpec | undefined {
  return BUILTIN_COMMANDS.find((spec) => spec.name === name || spec.aliases?.includes(name));
}

/** Every name a command can be typed as (built-ins, their aliases, the extensions' commands), sorted, without duplicates. */
export function commandNames(extensions: readonly ConsoleExtension[] = []): string[] {
  const names = new Set<string>();
  for (const spec of BUILTIN_COMMANDS) {
    names.add(spec.name);
    for (const alias of spec.aliases ?? []) names.add(alias);
  }
  for (const extension of extensions) for (const command of extension.commands) names.add(command.name);
  return [...names].sort();
}

/**
 * The `help` listing: one `usage  help` line per command, usages padded to one width, built-ins
 * first, then the extensions' commands.
 */
export function helpText(extensions: readonly ConsoleExtension[] = []): string {
  const rows: Array<[string, string]> = BUILTIN_COMMANDS.map((spec) => [spec.usage, spec.help]);
  const builtinNames = new Set(BUILTIN_COMMANDS.map((spec) => spec.name));
  for (const extension of extensions) {
    for (const command of extension.commands) if (!builtinNames.has(command.name)) rows.push([command.usage, command.help]);
  }
  const width = Math.max(...rows.map(([usage]) => usage.length));
  return rows.map(([usage, help]) => `${usage.padEnd(width)}  ${help}`).join('\n');
}
