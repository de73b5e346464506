/**
 * `ringcache peer`: starts one peer in the foreground. Flags map one-to-one onto PeerConfig
 * (src/config.ts); each has a RINGCACHE_* environment variable. Flags beat the environment,
 * which beats the defaults. Prints exactly one line to stdout when ready:
 * `ringcache peer <id> listening on ws://<host>:<port>`; logs go to stderr.
 * SIGINT/SIGTERM leave gracefully and exit 0.
 */
import type { Argv, CommandModule } from 'yargs';
import type { PeerConfig } from '../../src/config.js';
import { defaultPeerConfig, PEER_OPTIONS, parseOptionValue, peerConfigFromEnv, resolvePeerConfig } from '../../src/config.js';
import { CacheError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { Peer } from '../../src/peer.js';

/** Exit code for bad flags or config. */
export const EXIT_BAD_CONFIG = 2;

function describeDefault(key: keyof PeerConfig): string {
  const value = defaultPeerConfig()[key];
  if (key === 'id') return 'a fresh nanoid';
  if (key === 'advertise') return 'ws://HOST:PORT';
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(',');
  return String(value);
}

/** Adds every PeerConfig flag to a yargs instance, with its env variable, default and unit in --help. */
export function addPeerOptions<T>(argv: Argv<T>): Argv<T> {
  let out = argv;
  for (const spec of PEER_OPTIONS) {
    out = out.option(spec.flag, {
      describe: `${spec.describe} [env ${spec.env}]`,
      type: spec.kind === 'urls' ? 'array' : spec.kind === 'integer' || spec.kind === 'ms' ? 'string' : 'string',
      defaultDescription: describeDefault(spec.key),
      requiresArg: true,
    }) as Argv<T>;
  }
  return out;
}

/**
 * Builds the peer config from the environment and the parsed flags.
 * @throws CacheError BAD_CONFIG naming the offending flag
 */
export function peerConfigFromArgs(args: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Readonly<PeerConfig> {
  const overrides: Record<string, unknown> = { ...peerConfigFromEnv(env) };
  for (const spec of PEER_OPTIONS) {
    const raw = args[spec.flag];
    if (raw === undefined) continue;
    overrides[spec.key] = parseOptionValue(spec, raw);
  }
  return resolvePeerConfig(overrides as Partial<PeerConfig>);
}

export const peerCommand: CommandModule = {
  command: 'peer',
  describe: 'start a cache peer (joins a cluster through --bootstrap, or starts a new one)',
  builder: (argv) =>
    addPeerOptions(argv).example('$0 peer --port 7001 --bootstrap ws://127.0.0.1:7000 --id p2', 'join the cluster of the peer on port 7000'),
  handler: async (args) => {
    let config: Readonly<PeerConfig>;
    try {
      config = peerConfigFromArgs(args as Record<string, unknown>);
    } catch (error) {
      process.stderr.write(`ringcache peer: ${(error as Error).message}\n`);
      process.exit(EXIT_BAD_CONFIG);
    }
    const logger = createLogger(config.logLevel, { peer: config.id });
    process.on('uncaughtException', (error) => logger.error({ err: error }, 'uncaught exception (peer keeps running)'));
    process.on('unhandledRejection', (error) => logger.error({ err: error }, 'unhandled rejection (peer keeps running)'));
    let peer: Peer;
    try {
      peer = await Peer.start(config, { base: config, logger });
    } catch (error) {
      logger.fatal({ err: error }, 'peer failed to start');
      process.stderr.write(`ringcache peer: ${(error as Error).message}\n`);
      process.exit(error instanceof CacheError && error.code === 'BAD_CONFIG' ? EXIT_BAD_CONFIG : 1);
    }
    // Whoever reads the listening line may close the pipe afterwards; that must not hurt the peer.
    process.stdout.on('error', () => {});
    process.stdout.write(`ringcache peer ${peer.id} listening on ${peer.advertisedUrl}\n`);
    let leaving = false;
    const leave = (signal: string): void => {
      if (leaving) {
        logger.warn({ signal }, 'second signal: exiting without finishing the handoff');
        process.exit(1);
      }
      leaving = true;
      logger.info({ signal }, 'leaving the cluster');
      peer.leave().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'graceful leave failed');
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => leave('SIGINT'));
    process.on('SIGTERM', () => leave('SIGTERM'));
  },
};
