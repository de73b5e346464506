/**
 * One-shot client commands of the `ringcache` CLI: `get`, `set`, `del`, `expire`, `ttl`, `incr`,
 * `ring`, `stats`. Each connects to a peer (`--url`), sends one request, prints the reply and
 * exits: 0 on success, 1 with `error CODE: message` on stderr when the request fails, 2 for bad
 * arguments. The parsing and formatting live in `src/client/cli-format.ts`.
 *
 * Arguments are checked in the handlers rather than with yargs `coerce`: a coerce error reaches
 * the root's `fail()` as a thrown error, and these commands own their exit codes.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { CacheClient } from '../../src/client/cache-client.js';
import { defaultUrl, formatError, formatReply, parseCliValue, parseIntegerArg, parseUrls } from '../../src/client/cli-format.js';
import { CacheError } from '../../src/errors.js';

/** Where the commands write; the process's streams by default, replaceable in tests. */
export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Sets the process's exit code (1: the request failed, 2: bad arguments). */
  exit(code: number): void;
}

/** The flags every client command takes. */
export interface ConnectionArgs {
  /** One peer URL, or several separated by commas. */
  url: string;
  /** Deadline in ms of the connection, then of the request (checked by the handler). */
  timeout: number | string;
  /** Print the raw reply frame as JSON. */
  json: boolean;
}

type Args<T = object> = ArgumentsCamelCase<ConnectionArgs & { key: string } & T>;

/** Exit code of a command whose arguments are wrong. */
export const EXIT_USAGE = 2;
/** Exit code of a command whose request failed. */
export const EXIT_FAILURE = 1;

const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  exit: (code) => {
    process.exitCode = code;
  },
};

function withConnectionOptions<T>(yargs: Argv<T>): Argv<T & ConnectionArgs> {
  return yargs
    .option('url', {
      type: 'string',
      default: defaultUrl(process.env),
      defaultDescription: 'RINGCACHE_URL, else ws://127.0.0.1:7000',
      describe: 'URL of any peer (comma-separated URLs to fail over)',
    })
    .option('timeout', { type: 'string', default: 5000, describe: 'deadline of the connection and of the request (ms)' })
    .option('json', { type: 'boolean', default: false, describe: 'print the raw reply as JSON' }) as unknown as Argv<T & ConnectionArgs>;
}

function withKey<T>(yargs: Argv<T>): Argv<T & { key: string }> {
  return yargs.positional('key', { type: 'string', demandOption: true, describe: 'the key' }) as unknown as Argv<T & { key: string }>;
}

/**
 * Runs one command: checks the arguments (`fields()` may throw a BAD_REQUEST CacheError), connects,
 * sends `{op, ...fields}`, prints the reply (`--json`: the raw reply frame) and closes.
 * Never throws: failures are printed as `error CODE: message` and set the exit code.
 */
export async function runClientCommand(args: ConnectionArgs, op: string, fields: () => Record<string, unknown>, io: CommandIo = processIo): Promise<void> {
  let request: { urls: string[]; timeoutMs: number; fields: Record<string, unknown> };
  try {
    request = { urls: parseUrls(args.url), timeoutMs: parseIntegerArg(args.timeout, '--timeout', 1), fields: fields() };
  } catch (error) {
    io.stderr(formatError(error));
    io.exit(EXIT_USAGE);
    return;
  }
  let client: CacheClient | undefined;
  try {
    client = await CacheClient.connect(request.urls, {
      timeoutMs: request.timeoutMs,
      connectTimeoutMs: request.timeoutMs,
      discoverPeers: false,
    });
    const reply = await client.call(op, request.fields, { timeoutMs: request.timeoutMs });
    io.stdout(args.json ? JSON.stringify(reply) : formatReply(op, reply));
  } catch (error) {
    io.stderr(formatError(error));
    // BAD_CONFIG comes from the client's own checks of the URLs, before anything is sent.
    io.exit(error instanceof CacheError && error.code === 'BAD_CONFIG' ? EXIT_USAGE : EXIT_FAILURE);
  } finally {
    await client?.close();
  }
}

/** Checks one module against its own argument types, then erases them so modules fit one array. */
function defineCommand<U>(module: CommandModule<object, U>): CommandModule<object, any> {
  return module as CommandModule<object, any>;
}

/** The client command modules, writing to `io`. */
export function createClientCommands(io: CommandIo = processIo): CommandModule<object, any>[] {
  return [
    defineCommand({
      command: 'get <key>',
      describe: 'print the value of a key ((nil) when missing)',
      builder: (yargs: Argv) => withConnectionOptions(withKey(yargs)),
      handler: (args: Args) => runClientCommand(args, 'get', () => ({ key: args.key }), io),
    }),
    defineCommand({
      command: 'set <key> <value>',
      describe: 'store a value (JSON when it parses, else a string)',
      builder: (yargs: Argv) =>
        withConnectionOptions(
          withKey(yargs)
            .positional('value', { type: 'string', demandOption: true, describe: 'the value: JSON, or any text' })
            .option('ttl', { type: 'string', describe: 'time to live (ms)' }),
        ),
      handler: (args: Args<{ value: string; ttl?: string }>) =>
        runClientCommand(
          args,
          'set',
          () => {
            const fields: Record<string, unknown> = { key: args.key, value: parseCliValue(args.value) };
            if (args.ttl !== undefined) fields.ttl = parseIntegerArg(args.ttl, '--ttl', 1);
            return fields;
          },
          io,
        ),
    }),
    defineCommand({
      command: 'del <key>',
      describe: 'delete a key (prints 1 when it existed, else 0)',
      builder: (yargs: Argv) => withConnectionOptions(withKey(yargs)),
      handler: (args: Args) => runClientCommand(args, 'del', () => ({ key: args.key }), io),
    }),
    defineCommand({
      command: 'expire <key> <ttl>',
      describe: "set a key's time to live (prints 1 when the key exists, else 0)",
      builder: (yargs: Argv) =>
        withConnectionOptions(withKey(yargs).positional('ttl', { type: 'string', demandOption: true, describe: 'time to live (ms)' })),
      handler: (args: Args<{ ttl: string }>) =>
        runClientCommand(args, 'expire', () => ({ key: args.key, ttl: parseIntegerArg(args.ttl, 'TTL', 1) }), io),
    }),
    defineCommand({
      command: 'ttl <key>',
      describe: 'print the ms a key has left (-1: no expiry, -2: missing)',
      builder: (yargs: Argv) => withConnectionOptions(withKey(yargs)),
      handler: (args: Args) => runClientCommand(args, 'ttl', () => ({ key: args.key }), io),
    }),
    defineCommand({
      command: 'incr <key> [by]',
      describe: 'add BY (default 1, may be negative) to an integer value and print the result',
      builder: (yargs: Argv) => withConnectionOptions(withKey(yargs).positional('by', { type: 'string', describe: 'the increment (default 1)' })),
      handler: (args: Args<{ by?: string }>) =>
        runClientCommand(args, 'incr', () => ({ key: args.key, by: args.by === undefined ? 1 : parseIntegerArg(args.by, 'BY') }), io),
    }),
    defineCommand({
      command: 'ring',
      describe: 'print the ring: members, states, incarnations, ownership',
      builder: (yargs: Argv) => withConnectionOptions(yargs),
      handler: (args: ArgumentsCamelCase<ConnectionArgs>) => runClientCommand(args, 'ring', () => ({}), io),
    }),
    defineCommand({
      command: 'stats',
      describe: "print the peer's counters",
      builder: (yargs: Argv) => withConnectionOptions(yargs),
      handler: (args: ArgumentsCamelCase<ConnectionArgs>) => runClientCommand(args, 'stats', () => ({}), io),
    }),
  ];
}

/** The client command modules, writing to the process's stdout and stderr. */
export const clientCommands: CommandModule<object, any>[] = createClientCommands();

/** Adds the client commands to a yargs root. */
export function registerClientCommands(argv: Argv): Argv {
  for (const command of clientCommands) argv.command(command);
  return argv;
}
