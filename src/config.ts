/**
 * The one configuration object of a ringcache peer: every default, its unit and the timing
 * formulas live here. CLI flags (`ringcache peer --help`) and `RINGCACHE_*` environment variables
 * map one-to-one onto these fields through {@link PEER_OPTIONS}.
 *
 * Presets derive from one default, as hashicorp/memberlist does with DefaultLANConfig /
 * DefaultLocalConfig: {@link defaultPeerConfig} for real clusters and {@link testPeerConfig}
 * with fast timers for tests.
 */
import bytes from 'bytes';
import { nanoid } from 'nanoid';
import { z } from 'zod';
import { CacheError } from './errors.js';
import { DEFAULT_EVICTION_POLICY } from './store/create-store.js';
import { EVICTION_POLICIES, type EvictionPolicyName } from './store/slot-policy.js';

/** Wire protocol version carried by the peer handshake; peers with another major are refused. */
export const PROTOCOL_VERSION = 3;

/** Log levels understood by the peer's logger (pino levels). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Every setting of a peer. All durations are in milliseconds, all sizes in bytes. */
export interface PeerConfig {
  /** Unique peer id. Default: a fresh nanoid. A restarted peer may reuse its id to rejoin. */
  id: string;
  /** Interface to listen on. Default `127.0.0.1`. */
  host: string;
  /** TCP port to listen on; 0 picks any free port. Default 7000. */
  port: number;
  /** URL other peers and clients use to reach this peer. Default `ws://<host>:<port>` (the bound port). */
  advertise: string | undefined;
  /** URLs of existing members to join through; any live member will do. Default: none (start a new cluster). */
  bootstrap: string[];
  /** Copies of each key, the primary included (the replication factor). Default 2. */
  replicas: number;
  /**
   * Copies (the primary included) that must hold a write before it is acknowledged.
   * 0 means every member of the key's preference list that is alive. Default 0.
   */
  writeAcks: number;
  /**
   * Virtual nodes per peer on the hash ring. Default 1024: with 3 random peer ids the worst
   * share seen in 20,000 trials was 11.4% off fair (256 vnodes: 21.5%; spread ~ 0.82/sqrt(vnodes)).
   */
  vnodes: number;
  /** Memory budget of the local store: keys, values and per-entry overhead, in bytes. Default 256 MiB. */
  maxMemory: number;
  /**
   * Eviction policy of the local store when it is over `maxMemory`: `lru`, `lfu`, `s3-fifo`,
   * `w-tinylfu` or `none` (refuse writes that do not fit with OUT_OF_MEMORY, as Redis
   * `noeviction`). Default: the store's measured default (see docs/architecture.md).
   */
  eviction: EvictionPolicyName;
  /** Largest key, in UTF-8 bytes. Default 1 KiB. */
  maxKeyBytes: number;
  /** Largest value, as JSON text in UTF-8 bytes. Default 1 MiB. */
  maxValueBytes: number;
  /** Largest WebSocket frame accepted from a client or peer; larger frames close the socket with 1009. Default 16 MiB. */
  maxFrameBytes: number;
  /**
   * Requests one client socket may have unanswered; beyond it the socket is not read until half
   * are answered (backpressure on clients that pipeline without reading). Default 4096.
   */
  maxInFlightPerClient: number;
  /** Most requests one batch frame (a JSON array of requests) may carry; a longer one is refused with TOO_LARGE. Default 1024. */
  maxBatchRequests: number;
  /**
   * Time the client sessions and peer links may spend running requests in one event-loop turn;
   * frames already read beyond it wait for the next turn (their sockets are paused meanwhile), so
   * a burst of large batches cannot stall timers, probes and other sockets. Default 2 ms.
   */
  turnBudgetMs: number;
  /** Deadline of a client request at the peer that received it, forwarding included. Default 5000 ms. */
  requestTimeoutMs: number;
  /**
   * Deadline of one request over a peer link (replicate, read, push-pull; probes use
   * probeTimeoutMs). A forwarded operation
   * and a rebalance batch get twice this (they include a replication round). Default 2000 ms.
   */
  peerRequestTimeoutMs: number;
  /** SWIM protocol period: one member is probed every interval. Default 500 ms. */
  probeIntervalMs: number;
  /** How long a direct probe waits for its ack before indirect probes start. Default 300 ms. */
  probeTimeoutMs: number;
  /** Members asked to probe indirectly (SWIM's k) after a failed direct probe. Default 3. */
  indirectProbes: number;
  /**
   * Suspicion timeout multiplier. A suspect is declared dead after
   * `max(suspicionMinMs, suspicionMult * max(1, log10(n)) * probeIntervalMs)` (memberlist's formula), n = members.
   * Default 4.
   */
  suspicionMult: number;
  /** Lower bound of the suspicion timeout. Default 2000 ms. */
  suspicionMinMs: number;
  /**
   * Gossip retransmission multiplier: each membership update is piggybacked
   * `retransmitMult * ceil(log10(n + 1))` times (SWIM, section 4.1). Default 4.
   */
  retransmitMult: number;
  /** Interval of the full member-list exchange (push-pull) with one random member. Default 10000 ms. */
  pushPullIntervalMs: number;
  /** A link that has not completed its handshake by then is closed. Default 3000 ms. */
  handshakeTimeoutMs: number;
  /** First reconnect delay of a dropped link; doubles per attempt with full jitter. Default 100 ms. */
  reconnectBaseMs: number;
  /** Largest reconnect delay. Default 5000 ms. */
  reconnectMaxMs: number;
  /** How long a delete's tombstone is kept so handoff and repair cannot resurrect the key. Default 60000 ms. */
  tombstoneTtlMs: number;
  /** How long dead and left members are remembered (so old gossip cannot revive them). Default 60000 ms. */
  deadMemberRetentionMs: number;
  /**
   * Keys remembered per replica that missed a write (hinted handoff); beyond this a replica keeps
   * its stale copy until the key is written again or moves with a ring change. 0 disables hints.
   * Default 100000.
   */
  maxHintsPerPeer: number;
  /** Entries per rebalance batch sent to a new owner. Default 512. */
  rebalanceBatchEntries: number;
  /** Approximate byte bound of one rebalance batch. Default 1 MiB. */
  rebalanceBatchBytes: number;
  /** Period of the active TTL sweep. Default 100 ms. */
  expirySweepIntervalMs: number;
  /** Longest one TTL sweep slice may hold the event loop. Default 4 ms. */
  expirySweepBudgetMs: number;
  /** Deadline of the graceful leave (announce, hand off, close). Default 15000 ms. */
  leaveTimeoutMs: number;
  /** Log level of the stderr logger. Default `info`. */
  logLevel: LogLevel;
}

/** The defaults for a real cluster on a LAN (or one machine). */
export function defaultPeerConfig(): PeerConfig {
  return {
    id: nanoid(10),
    host: '127.0.0.1',
    port: 7000,
    advertise: undefined,
    bootstrap: [],
    replicas: 2,
    writeAcks: 0,
    vnodes: 1024,
    maxMemory: 256 * 1024 * 1024,
    eviction: DEFAULT_EVICTION_POLICY,
    maxKeyBytes: 1024,
    maxValueBytes: 1024 * 1024,
    maxFrameBytes: 16 * 1024 * 1024,
    maxInFlightPerClient: 4096,
    maxBatchRequests: 1024,
    turnBudgetMs: 2,
    requestTimeoutMs: 5000,
    peerRequestTimeoutMs: 2000,
    probeIntervalMs: 500,
    probeTimeoutMs: 300,
    indirectProbes: 3,
    suspicionMult: 4,
    suspicionMinMs: 2000,
    retransmitMult: 4,
    pushPullIntervalMs: 10_000,
    handshakeTimeoutMs: 3000,
    reconnectBaseMs: 100,
    reconnectMaxMs: 5000,
    tombstoneTtlMs: 60_000,
    deadMemberRetentionMs: 60_000,
    maxHintsPerPeer: 100_000,
    rebalanceBatchEntries: 512,
    rebalanceBatchBytes: 1024 * 1024,
    expirySweepIntervalMs: 100,
    expirySweepBudgetMs: 4,
    leaveTimeoutMs: 15_000,
    logLevel: 'info',
  };
}

/** Fast timers for tests: failure detection in well under a second, short deadlines, port 0. */
export function testPeerConfig(): PeerConfig {
  return {
    ...defaultPeerConfig(),
    port: 0,
    probeIntervalMs: 100,
    probeTimeoutMs: 60,
    suspicionMinMs: 400,
    pushPullIntervalMs: 1000,
    peerRequestTimeoutMs: 1000,
    requestTimeoutMs: 2000,
    reconnectBaseMs: 20,
    reconnectMaxMs: 500,
    tombstoneTtlMs: 5000,
    deadMemberRetentionMs: 5000,
    leaveTimeoutMs: 5000,
    logLevel: 'silent',
  };
}

/**
 * Suspicion timeout in ms for a cluster of `members` peers:
 * `max(suspicionMinMs, suspicionMult * max(1, log10(members)) * probeIntervalMs)`.
 * Source: hashicorp/memberlist `suspicionTimeout` (Lifeguard paper, Dadgar et al. 2018).
 */
export function suspicionTimeoutMs(config: Pick<PeerConfig, 'suspicionMult' | 'suspicionMinMs' | 'probeIntervalMs'>, members: number): number {
  const scale = Math.max(1, Math.log10(Math.max(1, members)));
  return Math.max(config.suspicionMinMs, Math.round(config.suspicionMult * scale * config.probeIntervalMs));
}

/**
 * How many times one membership update is piggybacked: `retransmitMult * ceil(log10(members + 1))`.
 * Source: SWIM (Das, Gupta & Motivala, 2002), section 4.1, as in memberlist `retransmitLimit`.
 */
export function retransmitLimit(config: Pick<PeerConfig, 'retransmitMult'>, members: number): number {
  return config.retransmitMult * Math.max(1, Math.ceil(Math.log10(members + 1)));
}

/** The kind of a configurable field, for the CLI and the environment parser. */
export type OptionKind = 'string' | 'integer' | 'bytes' | 'ms' | 'urls' | 'level' | 'policy';

/** Metadata of one configurable field: its flag, environment variable, unit and help text. */
export interface OptionSpec {
  key: keyof PeerConfig;
  flag: string;
  env: string;
  kind: OptionKind;
  describe: string;
}

function option(key: keyof PeerConfig, flag: string, kind: OptionKind, describe: string): OptionSpec {
  return { key, flag, env: `RINGCACHE_${flag.toUpperCase().replace(/-/g, '_')}`, kind, describe };
}

/** The CLI flags and environment variables of `ringcache peer`, one per config field. */
export const PEER_OPTIONS: readonly OptionSpec[] = [
  option('id', 'id', 'string', 'peer id (default: a fresh nanoid)'),
  option('host', 'host', 'string', 'interface to listen on'),
  option('port', 'port', 'integer', 'TCP port to listen on, 0 = any free port'),
  option('advertise', 'advertise', 'string', 'URL other peers use to reach this peer (default ws://HOST:PORT)'),
  option('bootstrap', 'bootstrap', 'urls', 'URL of a member to join through (repeatable)'),
  option('replicas', 'replicas', 'integer', 'copies of each key, primary included'),
  option('writeAcks', 'write-acks', 'integer', 'copies that must hold a write before it is acknowledged, 0 = all alive'),
  option('vnodes', 'vnodes', 'integer', 'virtual nodes per peer on the ring'),
  option('maxMemory', 'max-memory', 'bytes', 'memory budget of the local store (bytes; accepts 256mb)'),
  option('eviction', 'eviction', 'policy', `eviction policy: ${EVICTION_POLICIES.join('|')}`),
  option('maxKeyBytes', 'max-key-bytes', 'bytes', 'largest key (bytes)'),
  option('maxValueBytes', 'max-value-bytes', 'bytes', 'largest value as JSON text (bytes)'),
  option('maxFrameBytes', 'max-frame-bytes', 'bytes', 'largest WebSocket frame (bytes)'),
  option('maxInFlightPerClient', 'max-in-flight-per-client', 'integer', 'unanswered requests per client socket before it is no longer read'),
  option('maxBatchRequests', 'max-batch-requests', 'integer', 'most requests in one batch frame'),
  option('turnBudgetMs', 'turn-budget', 'ms', 'time requests may run in one event-loop turn before the rest waits for the next (ms)'),
  option('requestTimeoutMs', 'request-timeout', 'ms', 'deadline of a client request (ms)'),
  option('peerRequestTimeoutMs', 'peer-request-timeout', 'ms', 'deadline of one peer-link request (ms)'),
  option('probeIntervalMs', 'probe-interval', 'ms', 'SWIM probe period (ms)'),
  option('probeTimeoutMs', 'probe-timeout', 'ms', 'direct probe ack timeout (ms)'),
  option('indirectProbes', 'indirect-probes', 'integer', 'members asked for indirect probes'),
  option('suspicionMult', 'suspicion-mult', 'integer', 'suspicion timeout multiplier'),
  option('suspicionMinMs', 'suspicion-min', 'ms', 'minimum suspicion timeout (ms)'),
  option('retransmitMult', 'retransmit-mult', 'integer', 'gossip retransmission multiplier'),
  option('pushPullIntervalMs', 'push-pull-interval', 'ms', 'full member-list exchange period (ms)'),
  option('handshakeTimeoutMs', 'handshake-timeout', 'ms', 'peer handshake deadline (ms)'),
  option('reconnectBaseMs', 'reconnect-base', 'ms', 'first reconnect delay (ms)'),
  option('reconnectMaxMs', 'reconnect-max', 'ms', 'largest reconnect delay (ms)'),
  option('tombstoneTtlMs', 'tombstone-ttl', 'ms', 'how long delete tombstones are kept (ms)'),
  option('deadMemberRetentionMs', 'dead-member-retention', 'ms', 'how long dead/left members are remembered (ms)'),
  option('maxHintsPerPeer', 'max-hints-per-peer', 'integer', 'keys remembered per unreachable replica (hinted handoff)'),
  option('rebalanceBatchEntries', 'rebalance-batch-entries', 'integer', 'entries per rebalance batch'),
  option('rebalanceBatchBytes', 'rebalance-batch-bytes', 'bytes', 'bytes per rebalance batch'),
  option('expirySweepIntervalMs', 'expiry-sweep-interval', 'ms', 'active TTL sweep period (ms)'),
  option('expirySweepBudgetMs', 'expiry-sweep-budget', 'ms', 'longest TTL sweep slice (ms)'),
  option('leaveTimeoutMs', 'leave-timeout', 'ms', 'graceful leave deadline (ms)'),
  option('logLevel', 'log-level', 'level', 'log level: fatal|error|warn|info|debug|trace|silent'),
];

/**
 * Parses a byte size: a non-negative integer or a string such as `256mb`, `1.5gb`, `512kb`
 * (binary units: 1kb = 1024 bytes, as the `bytes` package reads them).
 * @throws CacheError BAD_CONFIG when the text is not a size
 */
export function parseByteSize(value: unknown, name = 'size'): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.floor(value);
  if (typeof value === 'string' && value.trim() !== '') {
    const text = value.trim().toLowerCase();
    const parsed = /^\d+$/.test(text) ? Number(text) : bytes.parse(text);
    if (typeof parsed === 'number' && Number.isFinite(parsed) && parsed >= 0) return Math.floor(parsed);
  }
  throw new CacheError('BAD_CONFIG', `${name}: expected a byte size such as 1048576 or 256mb, got ${JSON.stringify(value)}`);
}

const wsUrl = z
  .string()
  .refine((text) => {
    try {
      const url = new URL(text);
      return url.protocol === 'ws:' || url.protocol === 'wss:';
    } catch {
      return false;
    }
  }, 'expected a ws:// or wss:// URL');

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().nonnegative();

const configSchema = z
  .object({
    id: z.string().min(1).max(128).regex(/^[A-Za-z0-9._:-]+$/, 'use letters, digits and . _ : -'),
    host: z.string().min(1),
    port: z.number().int().min(0).max(65535),
    advertise: wsUrl.optional(),
    bootstrap: z.array(wsUrl),
    replicas: z.number().int().min(1).max(16),
    writeAcks: z.number().int().min(0).max(16),
    vnodes: z.number().int().min(1).max(4096),
    maxMemory: z.number().int().min(1024),
    eviction: z.enum(EVICTION_POLICIES),
    maxKeyBytes: positiveInt,
    maxValueBytes: positiveInt,
    maxFrameBytes: z.number().int().min(1024),
    maxInFlightPerClient: positiveInt,
    maxBatchRequests: positiveInt,
    turnBudgetMs: positiveInt,
    requestTimeoutMs: positiveInt,
    peerRequestTimeoutMs: positiveInt,
    probeIntervalMs: positiveInt,
    probeTimeoutMs: positiveInt,
    indirectProbes: nonNegativeInt,
    suspicionMult: positiveInt,
    suspicionMinMs: positiveInt,
    retransmitMult: positiveInt,
    pushPullIntervalMs: positiveInt,
    handshakeTimeoutMs: positiveInt,
    reconnectBaseMs: positiveInt,
    reconnectMaxMs: positiveInt,
    tombstoneTtlMs: positiveInt,
    deadMemberRetentionMs: positiveInt,
    maxHintsPerPeer: nonNegativeInt,
    rebalanceBatchEntries: positiveInt,
    rebalanceBatchBytes: positiveInt,
    expirySweepIntervalMs: positiveInt,
    expirySweepBudgetMs: positiveInt,
    leaveTimeoutMs: positiveInt,
    logLevel: z.enum(LOG_LEVELS),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.probeTimeoutMs >= config.probeIntervalMs) {
      ctx.addIssue({ code: 'custom', path: ['probeTimeoutMs'], message: 'must be shorter than probeIntervalMs' });
    }
    if (config.reconnectMaxMs < config.reconnectBaseMs) {
      ctx.addIssue({ code: 'custom', path: ['reconnectMaxMs'], message: 'must be at least reconnectBaseMs' });
    }
    if (config.writeAcks > config.replicas) {
      ctx.addIssue({ code: 'custom', path: ['writeAcks'], message: 'cannot exceed replicas' });
    }
    // Peer frames carry values as JSON strings inside JSON (escaping can double them), and a
    // rebalance batch may overshoot its byte bound by one entry.
    if (2 * (config.maxKeyBytes + config.maxValueBytes) + 2 * config.rebalanceBatchBytes > config.maxFrameBytes) {
      ctx.addIssue({ code: 'custom', path: ['maxFrameBytes'], message: 'must be at least 2 x (max-key-bytes + max-value-bytes) + 2 x rebalance-batch-bytes' });
    }
  });

/**
 * Validates and freezes a peer configuration: `overrides` on top of `base` (default: the
 * production defaults). Undefined fields in `overrides` keep the base value.
 * @throws CacheError BAD_CONFIG naming the first offending field
 */
export function resolvePeerConfig(overrides: Partial<PeerConfig> = {}, base: PeerConfig = defaultPeerConfig()): Readonly<PeerConfig> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (value !== undefined) merged[key] = value;
  }
  if (merged.advertise === undefined) delete merged.advertise;
  const result = configSchema.safeParse(merged);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = String(issue.path[0] ?? 'config');
    const spec = PEER_OPTIONS.find((o) => o.key === field);
    const name = spec ? `--${spec.flag}` : field;
    const detail = issue.path.length > 1 ? ` (item ${issue.path.slice(1).join('.')})` : '';
    throw new CacheError('BAD_CONFIG', `${name}${detail}: ${issue.message}`);
  }
  return Object.freeze({ ...(result.data as PeerConfig), advertise: result.data.advertise });
}

/**
 * Reads `RINGCACHE_*` variables (see {@link PEER_OPTIONS}) into a partial config.
 * `RINGCACHE_BOOTSTRAP` takes a comma-separated list.
 * @throws CacheError BAD_CONFIG for a value of the wrong kind
 */
export function peerConfigFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<PeerConfig> {
  const out: Record<string, unknown> = {};
  for (const spec of PEER_OPTIONS) {
    const raw = env[spec.env];
    if (raw === undefined || raw === '') continue;
    out[spec.key] = parseOptionValue(spec, raw);
  }
  return out as Partial<PeerConfig>;
}

/**
 * Converts one raw flag or environment value to its config type.
 * @throws CacheError BAD_CONFIG naming the flag
 */
export function parseOptionValue(spec: OptionSpec, raw: unknown): unknown {
  const name = `--${spec.flag}`;
  switch (spec.kind) {
    case 'string':
    case 'level':
    case 'policy':
      return String(raw);
    case 'integer':
    case 'ms': {
      const n = typeof raw === 'number' ? raw : Number(String(raw).trim());
      if (!Number.isInteger(n)) throw new CacheError('BAD_CONFIG', `${name}: expected an integer${spec.kind === 'ms' ? ' (ms)' : ''}, got ${JSON.stringify(raw)}`);
      return n;
    }
    case 'bytes':
      return parseByteSize(raw, name);
    case 'urls': {
      const list = Array.isArray(raw) ? raw : [raw];
      return list.flatMap((item) => String(item).split(',')).map((s) => s.trim()).filter((s) => s !== '');
    }
  }
}
