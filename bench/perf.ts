/**
 * `npm run bench`: the performance benchmark of issue 5. Starts everything it measures on
 * 127.0.0.1, drives it with one load generator in a separate Node process
 * (bench/load-generator-process.ts) and prints one table of GET and SET figures per scenario:
 * ops/s, p50/p99 latency (µs) and server CPU per operation (µs, from /proc/<pid>/stat, summed over
 * every server process of the scenario), as absolute figures and as ratios to baselines measured
 * in the same run:
 *
 * - `bare ws`: bench/bare-ws-server.ts, JSON frame in, Map lookup, JSON reply: the physical limit
 *   of Node + ws. `bare ws batch`: the same with P requests per array frame.
 * - `bare forwarder`: bench/bare-forwarder.ts in front of a bare ws server: one forwarding hop.
 * - `peer`, `peer batch`, `peer CacheClient`: one `ringcache peer`, raw frames / batch frames /
 *   CacheClient (routing 'ring', batching on).
 * - `3 peers, via non-owner`: three peers `--replicas 2`, raw frames to one peer for keys it is not
 *   the primary of (every request is forwarded). `3 peers, ring client`: CacheClient with routing
 *   'ring' over all keys (requests go straight to the primary; the peers' forward counters show it).
 * - `redis ioredis` and `redis-benchmark -P 16` when redis-server (and redis-benchmark) are on
 *   PATH; skipped with a message otherwise.
 *
 * Then the memory of one peer holding N entries (16-byte keys, 100-byte values, loaded with batch
 * frames) against Redis's `used_memory` for the same data, the peers' event-loop delay
 * (`stats.process.eventLoopDelayMs`), and the issue's targets with PASS/FAIL. Last, the paired
 * section starts every server of the main targets at once and measures each target's two sides
 * in alternating rounds (A B, B A, A B): on a shared machine whose speed drifts over minutes, the
 * median of those ratios is steadier than a ratio of two rows measured minutes apart.
 *
 * Every load loop is bounded in count and time; every process it starts is stopped, also on
 * error and Ctrl-C. A scenario that fails is reported as failed and the run goes on.
 *
 * Run: `npm run bench [-- [--quick] [--profile]]` (quick: under a minute; full: under 10). Progress
 * goes to stderr, the tables to stdout; bench/results/perf.{json,md} (quick: perf-quick.{json,md};
 * with `--profile` the peers run under `node --cpu-prof`, the report adds their hottest functions
 * and its files are named perf[-quick]-profiled.*).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { CacheClient } from '../src/client/cache-client.js';
import type { StallFigures } from '../src/event-loop-stalls.js';
import { HashRing } from '../src/ring/hash-ring.js';
import { HOST, ProcessGroup, stopOnSignals, startBareForwarder, startBareServer, startPeer, type PeerProcess } from './bench-processes.js';
import { progress, runMain, runMeta, runSection, sleep, statAt, withTimeout } from './bench-run.js';
import type { GeneratorCommand } from './load-generator-process.js';
import { keyName, type ClientLoadOptions, type LoadKeys, type LoadResult, type LoadShape, type LoadTarget, type PreloadResult } from './load-generator.js';
import { summarizeCpuProfile } from './cpu-profile-summary.js';
import { processCpuMs } from './process-cpu.js';

// --- settings -------------------------------------------------------------------------------

const QUICK = process.argv.includes('--quick');
/** `--profile`: run every load peer under `node --cpu-prof` and add its hottest functions to the report. */
const PROFILE = process.argv.includes('--profile');

/** Sizes and bounds; quick mode fits in about a minute, full mode in about 6 minutes. */
/** Requests in flight per socket the ring client puts on each of 3 peers at P=16 (16 / 3, rounded). */
const RING_SHARE_PIPELINE = 5;

const SETTINGS = {
  /** Keys preloaded into every server; GET/SET draw uniformly from them. */
  keys: QUICK ? 20_000 : 100_000,
  keyBytes: 16,
  valueBytes: 100,
  /** [connections, requests in flight per connection]. */
  shapes: (QUICK
    ? [
        [1, 1],
        [50, 16],
      ]
    : [
        [1, 1],
        [1, 16],
        [50, 1],
        [50, 16],
      ]) as Array<[number, number]>,
  /** Bounds of each measured phase: requests and ms, whichever is reached first. */
  phaseOps: QUICK ? 100_000 : 1_000_000,
  phaseMs: QUICK ? 500 : 3000,
  /** Warm-up GETs (count and ms bound) on every new set of connections, not measured. */
  warmupOps: QUICK ? 3000 : 20_000,
  warmupMs: QUICK ? 300 : 1000,
  /** Requests of each redis-benchmark run (-n). */
  redisBenchmarkOps: QUICK ? 200_000 : 1_000_000,
  redisBenchmarkBudgetMs: 60_000,
  /** Entries of the memory comparison (the issue asks for 1M; quick mode loads fewer). */
  memoryEntries: QUICK ? 100_000 : 1_000_000,
  /** Bound of every cluster start and preload, ms. */
  setupBudgetMs: 120_000,
  /** Deadline of one call to the load generator (a phase plus slack), ms. */
  generatorCallMs: 180_000,
  /**
   * The paired section: each comparison alternates its two sides (A B, B A, A B, ...) this many
   * rounds, each round a fresh warm-up and one phase, and reports the median of the per-round ratios.
   */
  pairedRounds: 3,
  pairedPhaseMs: QUICK ? 150 : 1500,
  pairedWarmupMs: QUICK ? 50 : 500,
  /** Targets of issue 5. */
  targets: { cpuVsBare: 1.15, cpuVsForwarder: 1.15, replicatedSetVsSingle: 3, ringVsLocal: 1.15, batchedGetUs: 2.5, p50VsBare: 1.1, loopStallMs: 10 },
};

const GENERATOR = fileURLToPath(new URL('./load-generator-process.js', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));
/** Where `--profile` writes `<peer id>.cpuprofile` (git ignores *.cpuprofile). */
const PROFILE_DIR = `${RESULTS_DIR}profiles`;
/** CacheClient options of the ring-aware, auto-batching client (issue 5's API). */
const RING_CLIENT_OPTIONS: ClientLoadOptions = { routing: 'ring', batching: true };
/** The same without batching: one frame per request, like the raw `peer` rows. */
const RING_CLIENT_UNBATCHED_OPTIONS: ClientLoadOptions = { routing: 'ring', batching: false };

// --- bookkeeping ----------------------------------------------------------------------------

const processes = new ProcessGroup();
let interrupted: string | undefined;

stopOnSignals(processes, () => processes.stopAll(), 'every server started by this run', (signal) => {
  interrupted = signal;
});

function throwIfInterrupted(): void {
  if (interrupted) throw new Error(`interrupted by ${interrupted}`);
}



function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// --- the load generator process -------------------------------------------------------------

/** The forked load generator; one call at a time. */
class Generator {
  private constructor(private readonly child: ChildProcess) {}

  static start(): Generator {
    const child = fork(GENERATOR, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    processes.adopt(child);
    return new Generator(child);
  }

  /** @throws Error with the generator's message when it answers `failed`, or when it does not answer in time */
  call(command: GeneratorCommand, timeoutMs = SETTINGS.generatorCallMs): Promise<Record<string, unknown>> {
    return withTimeout(
      new Promise((resolve, reject) => {
        const onMessage = (answer: Record<string, unknown>): void => {
          cleanup();
          if (answer.type === 'failed') reject(new Error(String(answer.message)));
          else resolve(answer);
        };
        const onExit = (code: number | null): void => {
          cleanup();
          reject(new Error(`load generator exited (${code})`));
        };
        const cleanup = (): void => {
          this.child.off('message', onMessage);
          this.child.off('exit', onExit);
        };
        this.child.on('message', onMessage);
        this.child.once('exit', onExit);
        this.child.send(command);
      }),
      timeoutMs,
      `load generator ${command.type}`,
    );
  }

  /** The generator process's pid (its CPU time is the client side's cost). */
  get pid(): number {
    return this.child.pid!;
  }

  async preload(target: LoadTarget, keys: LoadKeys): Promise<PreloadResult> {
    return (await this.call({ type: 'preload', target, keys })).result as PreloadResult;
  }

  async stop(): Promise<void> {
    this.child.disconnect();
    await processes.stop(this.child, 'SIGTERM').catch(() => undefined);
  }
}

// --- figures --------------------------------------------------------------------------------

/** What one measured phase gave. Latencies in µs, CPU in µs per operation. */
interface PhaseFigures {
  ops: number;
  errors: number;
  misses: number;
  elapsedMs: number;
  stoppedByTime: boolean;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  /** Server CPU per operation, summed over the scenario's processes. */
  cpuUsPerOp: number;
  /** The same per process (e.g. forwarder front + back, or each peer), in the order of the scenario's processes. */
  cpuUsPerOpByProcess: number[];
  /**
   * The load generator's CPU per operation: the client side's cost (the raw ws client, the
   * `CacheClient`, ioredis), harness included; NaN where the generator did not drive the load
   * (redis-benchmark).
   */
  clientCpuUsPerOp: number;
  /** Requests the peers forwarded during the phase (peer scenarios only: `coordinator.forwarded` delta). */
  forwarded?: number;
  firstError?: string;
}

type ScenarioKey =
  | 'bare'
  | 'bare-batch'
  | 'forwarder'
  | 'peer'
  | 'peer-batch'
  | 'peer-client'
  | 'cluster-forwarded'
  | 'cluster-ring-client'
  | 'cluster-ring-client-unbatched'
  | 'cluster-ring-raw'
  | 'redis'
  | 'redis-benchmark';

/** Row titles, in table order. */
const SCENARIOS: Record<ScenarioKey, string> = {
  bare: 'bare ws (1 process)',
  'bare-batch': 'bare ws, batch frames',
  forwarder: 'bare forwarder (front + back)',
  peer: 'peer (1 peer)',
  'peer-batch': 'peer, batch frames',
  'peer-client': 'peer, CacheClient (batching)',
  'cluster-forwarded': '3 peers r=2, via non-owner',
  'cluster-ring-client': '3 peers r=2, ring client',
  'cluster-ring-client-unbatched': '3 peers r=2, ring client, batching off',
  'cluster-ring-raw': '3 peers r=2, raw frames to each primary',
  redis: 'redis-server, ioredis',
  'redis-benchmark': 'redis-server, redis-benchmark -P',
};

/** One scenario at one shape: GET and SET figures, or why it failed. */
interface Row {
  scenario: ScenarioKey;
  connections: number;
  pipeline: number;
  get?: PhaseFigures;
  set?: PhaseFigures;
  error?: string;
}

/**
 * A peer's event-loop delay since it started, from `stats.process.eventLoopDelayMs` (the peer
 * subtracts its 10 ms sampling interval, so an idle loop reads about 0 and `max` is the longest
 * stall).
 */
interface LoopDelay {
  deployment: string;
  peer: string;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** `max` read right after the preload: when the final max is larger, the longest stall came during the load phases. */
  maxAfterPreloadMs: number;
  /** Where the longest stall happened: 'preload' (startup included) or 'load phases'. */
  longestStallIn: 'preload' | 'load phases';
  /** `stats.process.stalls` (since the peer joined): the longest stall split by the main thread's schedstat; absent from an older peer. */
  stalls?: StallFigures;
}


interface MemoryFigures {
  entries: number;
  peer?: {
    loadedVia: string;
    loadMs: number;
    /** V8 heap plus ArrayBuffers (the store's typed-array columns are outside the heap). */
    heapAndBuffersBytesPerEntry: number;
    rssBytesPerEntry: number;
    storeBytesPerEntry: number;
    keys: number;
  };
  redis?: { loadMs: number; usedMemoryBytesPerEntry: number; usedMemoryRssBytesPerEntry: number; keys: number };
}

const rows: Row[] = [];
const loopDelays: LoopDelay[] = [];
const notes: string[] = [];

function figuresOf(result: LoadResult, cpuMsByProcess: number[], clientCpuMs: number): PhaseFigures {
  const perOp = (ms: number): number => (result.ops > 0 ? Math.round(((ms * 1000) / result.ops) * 100) / 100 : Number.NaN);
  const cpuUsPerOpByProcess = cpuMsByProcess.map(perOp);
  return {
    ops: result.ops,
    errors: result.errors,
    misses: result.misses,
    elapsedMs: result.elapsedMs,
    stoppedByTime: result.stoppedByTime,
    opsPerSec: result.opsPerSec,
    p50Us: result.latencyUs.p50,
    p99Us: result.latencyUs.p99,
    cpuUsPerOp: perOp(cpuMsByProcess.reduce((sum, ms) => sum + ms, 0)),
    cpuUsPerOpByProcess,
    clientCpuUsPerOp: perOp(clientCpuMs),
    ...(result.firstError === undefined ? {} : { firstError: result.firstError }),
  };
}

/** Sum of `coordinator.forwarded` over the given peers. */
async function forwardedCount(controls: readonly CacheClient[]): Promise<number> {
  const stats = await Promise.all(controls.map((client) => client.stats({ timeoutMs: 5000 })));
  return stats.reduce((sum, s) => sum + statAt(s, 'coordinator', 'forwarded'), 0);
}

/**
 * Measures one scenario at every given shape: opens C x P on the target, warms up with GETs, then
 * a GET phase and a SET phase, each between two readings of the processes' CPU time.
 */
async function measure(
  generator: Generator,
  scenario: ScenarioKey,
  target: LoadTarget,
  pids: readonly number[],
  keys: LoadKeys,
  shapes: ReadonlyArray<[number, number]>,
  controls: readonly CacheClient[] = [],
): Promise<void> {
  for (const [connections, pipeline] of shapes) {
    throwIfInterrupted();
    const row: Row = { scenario, connections, pipeline };
    rows.push(row);
    const shape: LoadShape = { connections, pipeline };
    try {
      await generator.call({ type: 'open', target, shape, keys });
      const warmup = (await generator.call({ type: 'run', phase: { op: 'get', maxOps: SETTINGS.warmupOps, maxMs: SETTINGS.warmupMs } })).result as LoadResult;
      // A scenario the server cannot serve at all (e.g. batch frames before they exist) fails here, not after two full phases.
      if (warmup.ops > 0 && warmup.errors === warmup.ops) throw new Error(`every warm-up GET failed (${warmup.errors}); first: ${warmup.firstError}`);
      for (const op of ['get', 'set'] as const) {
        const forwardedBefore = controls.length > 0 ? await forwardedCount(controls) : 0;
        const before = pids.map(processCpuMs);
        const clientBefore = processCpuMs(generator.pid);
        const answer = await generator.call({ type: 'run', phase: { op, maxOps: SETTINGS.phaseOps, maxMs: SETTINGS.phaseMs } });
        const clientAfter = processCpuMs(generator.pid);
        const after = pids.map(processCpuMs);
        const figures = figuresOf(answer.result as LoadResult, after.map((ms, i) => ms - before[i]!), clientAfter - clientBefore);
        if (controls.length > 0) figures.forwarded = (await forwardedCount(controls)) - forwardedBefore;
        row[op] = figures;
        if (figures.errors > 0 || figures.misses > 0) row.error ??= `${op}: ${figures.errors} errors, ${figures.misses} misses of ${figures.ops}${figures.firstError ? ` (first: ${figures.firstError})` : ''}`;
      }
      progress(`  ${SCENARIOS[scenario]} C=${connections} P=${pipeline}: ${describeRow(row)}`);
    } catch (error) {
      row.error = message(error);
      progress(`  ${SCENARIOS[scenario]} C=${connections} P=${pipeline}: FAILED: ${row.error}`);
    } finally {
      await generator.call({ type: 'close' }, 15_000).catch(() => undefined);
    }
  }
}

function describeRow(row: Row): string {
  const part = (name: string, f: PhaseFigures | undefined): string =>
    f ? `${name} ${fmt.int(f.opsPerSec)} ops/s p50 ${fmt.us(f.p50Us)} CPU ${fmt.cpu(f.cpuUsPerOp)} µs/op${f.errors + f.misses > 0 ? ` (${f.errors} errors, ${f.misses} misses)` : ''}` : `${name} -`;
  return `${part('GET', row.get)}; ${part('SET', row.set)}`;
}

const fmt = {
  int: (x: number | undefined): string => (x !== undefined && Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-'),
  us: (x: number | undefined): string => (x !== undefined && Number.isFinite(x) ? `${Math.round(x)}` : '-'),
  cpu: (x: number | undefined): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(2) : '-'),
  ratio: (x: number | undefined): string => (x !== undefined && Number.isFinite(x) ? x.toFixed(2) : '-'),
};

// --- deployments ----------------------------------------------------------------------------

const keysAll = (): LoadKeys => ({ keyCount: SETTINGS.keys, valueBytes: SETTINGS.valueBytes });
const batchShapes = (): Array<[number, number]> => SETTINGS.shapes.filter(([, p]) => p > 1);

async function bareDeployment(generator: Generator): Promise<void> {
  const server = await startBareServer(processes);
  try {
    const target: LoadTarget = { kind: 'ws', mode: 'raw', urls: [server.url] };
    await generator.preload(target, keysAll());
    const pid = [server.child.pid!];
    await measure(generator, 'bare', target, pid, keysAll(), SETTINGS.shapes);
    await measure(generator, 'bare-batch', { ...target, mode: 'batch' }, pid, keysAll(), batchShapes());
  } finally {
    await processes.stop(server.child, 'SIGTERM');
  }
}

async function forwarderDeployment(generator: Generator): Promise<void> {
  const back = await startBareServer(processes);
  try {
    const front = await startBareForwarder(processes, back.url);
    try {
      await generator.preload({ kind: 'ws', mode: 'raw', urls: [back.url] }, keysAll());
      await measure(generator, 'forwarder', { kind: 'ws', mode: 'raw', urls: [front.url] }, [front.child.pid!, back.child.pid!], keysAll(), SETTINGS.shapes);
    } finally {
      await processes.stop(front.child, 'SIGTERM');
    }
  } finally {
    await processes.stop(back.child, 'SIGTERM');
  }
}

/** Peer flags of every benchmark peer: no per-request logging, and room for every entry; a short leave when profiling (see {@link stopPeer}). */
const PEER_ARGS = ['--log-level', 'warn', '--max-memory', '4gb', ...(PROFILE ? ['--leave-timeout', '2000'] : [])];

/** Profiled peers of this run (ids), in start order. */
const profiledPeers: string[] = [];

/** Starts a benchmark peer; under `--profile` with `node --cpu-prof` writing `<id>.cpuprofile`. */
function startBenchPeer(id: string, options: { bootstrap?: string; args?: readonly string[]; profile?: boolean } = {}): Promise<PeerProcess> {
  const profile = PROFILE && options.profile !== false;
  if (profile) profiledPeers.push(id);
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${id}.cpuprofile`] : [];
  return startPeer(processes, id, { bootstrap: options.bootstrap, args: options.args ?? PEER_ARGS, nodeArgs });
}

/** Stops a benchmark peer: SIGKILL, or under `--profile` SIGTERM (a killed process writes no profile). */
function stopPeer(peer: PeerProcess): Promise<void> {
  return processes.stop(peer.child, PROFILE ? 'SIGTERM' : 'SIGKILL');
}

async function connectControl(url: string): Promise<CacheClient> {
  return CacheClient.connect(url, { discoverPeers: false, timeoutMs: 10_000 });
}

/** Each peer's `process.eventLoopDelayMs.max` so far (NaN when its stats lack it). */
async function loopDelayMax(controls: readonly CacheClient[]): Promise<number[]> {
  return Promise.all(controls.map(async (control) => statAt(await control.stats({ timeoutMs: 5000 }), 'process', 'eventLoopDelayMs', 'max')));
}

async function recordLoopDelays(deployment: string, peers: readonly PeerProcess[], controls: readonly CacheClient[], maxAfterPreload: readonly number[]): Promise<void> {
  for (const [i, control] of controls.entries()) {
    const stats = await control.stats({ timeoutMs: 5000 });
    const p99Ms = statAt(stats, 'process', 'eventLoopDelayMs', 'p99');
    if (Number.isNaN(p99Ms)) {
      notes.push(`${deployment}: peer ${peers[i]!.id} reports no process.eventLoopDelayMs in its stats.`);
      continue;
    }
    const maxMs = statAt(stats, 'process', 'eventLoopDelayMs', 'max');
    const maxAfterPreloadMs = maxAfterPreload[i]!;
    const stalls = (stats as { process?: { stalls?: StallFigures } }).process?.stalls;
    loopDelays.push({
      stalls,
      deployment,
      peer: peers[i]!.id,
      p50Ms: statAt(stats, 'process', 'eventLoopDelayMs', 'p50'),
      p99Ms,
      maxMs,
      maxAfterPreloadMs,
      longestStallIn: maxMs > maxAfterPreloadMs ? 'load phases' : 'preload',
    });
  }
}

async function singlePeerDeployment(generator: Generator): Promise<void> {
  const peer = await startBenchPeer('bench-1');
  const control = await connectControl(peer.url);
  try {
    const target: LoadTarget = { kind: 'ws', mode: 'raw', urls: [peer.url] };
    const loaded = await generator.preload(target, keysAll());
    if (loaded.via !== 'batch') notes.push(`Single peer: preloaded with ${loaded.via} frames (the peer answered a batch frame with an error).`);
    const maxAfterPreload = await loopDelayMax([control]);
    const pid = [peer.child.pid!];
    await measure(generator, 'peer', target, pid, keysAll(), SETTINGS.shapes);
    await measure(generator, 'peer-batch', { ...target, mode: 'batch' }, pid, keysAll(), batchShapes());
    // Also at the per-peer load the ring client puts on each of 3 peers: its 16 in flight spread
    // over a socket per peer, about 5 each (the same-load baseline for the ring-client rows).
    await measure(generator, 'peer-client', { kind: 'client', urls: [peer.url], options: RING_CLIENT_OPTIONS }, pid, keysAll(), [...SETTINGS.shapes, [50, RING_SHARE_PIPELINE]]);
    await recordLoopDelays('single peer', [peer], [control], maxAfterPreload);
  } finally {
    await control.close();
    await stopPeer(peer);
  }
}

/** Polls until each peer sees all of them alive with one ring checksum and a link to each other; returns their ring. */
async function waitForCluster(peers: readonly PeerProcess[], controls: readonly CacheClient[], deadlineMs: number) {
  const until = performance.now() + deadlineMs;
  const ids = peers.map((p) => p.id).sort().join(',');
  let last = '';
  for (;;) {
    throwIfInterrupted();
    const rings = await Promise.all(controls.map((c) => c.ring({ timeoutMs: 2000 })));
    const stats = await Promise.all(controls.map((c) => c.stats({ timeoutMs: 2000 })));
    const alive = rings.map((r) => r.peers.filter((p) => p.state === 'alive').map((p) => p.id).sort().join(','));
    const checksums = new Set(rings.map((r) => r.checksum));
    if (alive.every((a) => a === ids) && checksums.size === 1 && stats.every((s) => statAt(s, 'links') === peers.length - 1)) return rings[0]!;
    last = `alive ${JSON.stringify(alive)}, checksums ${[...checksums].join(' ')}, links ${stats.map((s) => statAt(s, 'links')).join(',')}`;
    if (performance.now() > until) throw new Error(`cluster not formed within ${deadlineMs} ms: ${last}`);
    await sleep(100);
  }
}

/**
 * Starts a `--replicas 2` cluster with `ids` (the first peer alone, the others bootstrapping from
 * it), each peer also pushed to `peers` and a control client for each to `controls` as it starts,
 * so that the caller stops them whatever happens; then waits until the cluster has formed.
 * @param profile false: never under `--profile`
 * @returns the cluster's peers in the order of `ids`, and its ring as they report it
 * @throws Error as {@link startPeer}, or when the cluster does not form within 30 s
 */
async function startBenchCluster(ids: readonly string[], peers: PeerProcess[], controls: CacheClient[], profile?: boolean) {
  const args = [...PEER_ARGS, '--replicas', '2'];
  const cluster: PeerProcess[] = [];
  for (const id of ids) {
    const peer = await startBenchPeer(id, { args, bootstrap: cluster[0]?.url, profile });
    cluster.push(peer);
    peers.push(peer);
  }
  for (const peer of cluster) controls.push(await connectControl(peer.url));
  return { cluster, view: await waitForCluster(cluster, controls, 30_000) };
}

async function clusterDeployment(generator: Generator): Promise<void> {
  const peers: PeerProcess[] = [];
  const controls: CacheClient[] = [];
  try {
    const { view } = await startBenchCluster(['bench-a', 'bench-b', 'bench-c'], peers, controls);
    const entry = peers[0]!;
    const loaded = await generator.preload({ kind: 'ws', mode: 'raw', urls: [entry.url] }, keysAll());
    if (loaded.via !== 'batch') notes.push(`3 peers: preloaded with ${loaded.via} frames.`);
    const maxAfterPreload = await loopDelayMax(controls);
    // The entry peer's non-owned keys, by the cluster's own ring (checked against its checksum), and
    // for ideal ring routing without any client library, the keys of each peer, sent only to it.
    const { nonOwned: indices, primaryKeys } = clusterKeySets(view, peers, entry.id);
    const pids = peers.map((p) => p.child.pid!);
    await measure(generator, 'cluster-forwarded', { kind: 'ws', mode: 'raw', urls: [entry.url] }, pids, { ...keysAll(), indices }, SETTINGS.shapes, controls);
    await measure(generator, 'cluster-ring-client', { kind: 'client', urls: peers.map((p) => p.url), options: RING_CLIENT_OPTIONS }, pids, keysAll(), SETTINGS.shapes, controls);
    await measure(generator, 'cluster-ring-client-unbatched', { kind: 'client', urls: peers.map((p) => p.url), options: RING_CLIENT_UNBATCHED_OPTIONS }, pids, keysAll(), SETTINGS.shapes, controls);
    // C connections in all, spread over the peers (at least one each).
    const rawShapes = SETTINGS.shapes.map(([c, p]): [number, number] => [Math.max(c, peers.length), p]);
    await measure(generator, 'cluster-ring-raw', { kind: 'ws', mode: 'raw', urls: peers.map((p) => p.url), indicesPerUrl: primaryKeys }, pids, keysAll(), rawShapes, controls);
    await recordLoopDelays('3 peers', peers, controls, maxAfterPreload);
  } finally {
    await Promise.all(controls.map((c) => c.close()));
    await Promise.all(peers.map(stopPeer));
  }
}

// --- paired comparisons ---------------------------------------------------------------------

/** One side of a paired comparison: where the load goes and whose CPU counts. */
interface PairSide {
  label: string;
  target: LoadTarget;
  pids: number[];
  keys: LoadKeys;
}

/** A comparison measured by alternating its two sides (see {@link SETTINGS.pairedRounds}). */
interface PairedFigure {
  target: string;
  metric: 'cpu' | 'p50';
  op: 'get' | 'set';
  connections: number;
  pipeline: number;
  aLabel: string;
  bLabel: string;
  /** Per round: CPU µs/op or p50 µs of each side. */
  a: number[];
  b: number[];
  /** Per round: b / a. */
  ratios: number[];
  /** The median of `ratios`. */
  median: number;
  limit: number;
  error?: string;
}

const paired: PairedFigure[] = [];

/** Opens C x P on one side, warms up with GETs, runs one phase of `op` between two CPU readings. */
async function runSide(generator: Generator, side: PairSide, shape: LoadShape, op: 'get' | 'set'): Promise<PhaseFigures> {
  await generator.call({ type: 'open', target: side.target, shape, keys: side.keys });
  try {
    await generator.call({ type: 'run', phase: { op: 'get', maxOps: SETTINGS.warmupOps, maxMs: SETTINGS.pairedWarmupMs } });
    const before = side.pids.map(processCpuMs);
    const clientBefore = processCpuMs(generator.pid);
    const answer = await generator.call({ type: 'run', phase: { op, maxOps: SETTINGS.phaseOps, maxMs: SETTINGS.pairedPhaseMs } });
    const clientAfter = processCpuMs(generator.pid);
    const after = side.pids.map(processCpuMs);
    return figuresOf(answer.result as LoadResult, after.map((ms, i) => ms - before[i]!), clientAfter - clientBefore);
  } finally {
    await generator.call({ type: 'close' }, 15_000).catch(() => undefined);
  }
}

/**
 * Measures B against A in alternating rounds (A B, then B A, ...), so that a machine whose speed
 * drifts over minutes (a shared VM) weighs on both sides alike; records the median ratio.
 */
async function pairedComparison(
  generator: Generator,
  spec: { target: string; metric: 'cpu' | 'p50'; op: 'get' | 'set'; shape: [number, number]; limit: number; a: PairSide; b: PairSide },
): Promise<void> {
  const [connections, pipeline] = spec.shape;
  const figure: PairedFigure = { target: spec.target, metric: spec.metric, op: spec.op, connections, pipeline, aLabel: spec.a.label, bLabel: spec.b.label, a: [], b: [], ratios: [], median: Number.NaN, limit: spec.limit };
  paired.push(figure);
  try {
    for (let round = 0; round < SETTINGS.pairedRounds; round++) {
      throwIfInterrupted();
      for (const which of round % 2 === 0 ? (['a', 'b'] as const) : (['b', 'a'] as const)) {
        const f = await runSide(generator, spec[which], { connections, pipeline }, spec.op);
        if (f.errors > 0 || f.misses > 0) throw new Error(`${spec[which].label}: ${f.errors} errors, ${f.misses} misses of ${f.ops}${f.firstError ? ` (first: ${f.firstError})` : ''}`);
        figure[which][round] = spec.metric === 'cpu' ? f.cpuUsPerOp : f.p50Us;
      }
      figure.ratios.push(figure.b[round]! / figure.a[round]!);
    }
    const sorted = [...figure.ratios].sort((x, y) => x - y);
    figure.median = sorted[Math.floor(sorted.length / 2)]!;
    progress(`  paired: ${spec.target}: median ${figure.median.toFixed(2)}x (rounds ${figure.ratios.map((r) => r.toFixed(2)).join(', ')})`);
  } catch (error) {
    figure.error = message(error);
    progress(`  paired: ${spec.target}: FAILED: ${figure.error}`);
  }
}

/**
 * The keys of a 3-peer ring: those the entry peer is not the primary of (every request through
 * it is forwarded) and each peer's primary keys (ideal ring routing).
 * @throws Error when the ring rebuilt from the peers' view has another checksum than theirs
 */
function clusterKeySets(view: Awaited<ReturnType<typeof waitForCluster>>, peers: readonly PeerProcess[], entryId: string): { nonOwned: number[]; primaryKeys: number[][] } {
  const ring = new HashRing(
    view.peers.filter((p) => p.state === 'alive' || p.state === 'suspect').map((p) => p.id),
    { vnodes: view.vnodes, replicas: view.replicas },
  );
  if (ring.checksum !== view.checksum) throw new Error(`rebuilt ring checksum ${ring.checksum} differs from the peers' ${view.checksum}`);
  const nonOwned: number[] = [];
  const primaryKeys: number[][] = peers.map(() => []);
  for (let i = 0; i < SETTINGS.keys; i++) {
    const primary = ring.primary(keyName(i));
    if (primary !== entryId) nonOwned.push(i);
    const at = peers.findIndex((p) => p.id === primary);
    if (at >= 0) primaryKeys[at]!.push(i);
  }
  return { nonOwned, primaryKeys };
}

/**
 * Every server of the main targets up at once (bare ws, bare forwarder, one peer, 3 peers), each
 * preloaded, then the targets' comparisons in alternating rounds ({@link pairedComparison}).
 */
async function pairedDeployment(generator: Generator): Promise<void> {
  const peers: PeerProcess[] = [];
  const controls: CacheClient[] = [];
  const others: ChildProcess[] = [];
  const t = SETTINGS.targets;
  try {
    const bare = await startBareServer(processes);
    others.push(bare.child);
    const back = await startBareServer(processes);
    others.push(back.child);
    const front = await startBareForwarder(processes, back.url);
    others.push(front.child);
    const single = await startBenchPeer('pair-1', { profile: false });
    peers.push(single);
    const { cluster, view } = await startBenchCluster(['pair-a', 'pair-b', 'pair-c'], peers, controls, false);
    const entry = cluster[0]!;
    for (const url of [bare.url, back.url, single.url, entry.url]) await generator.preload({ kind: 'ws', mode: 'raw', urls: [url] }, keysAll());
    const { nonOwned, primaryKeys } = clusterKeySets(view, cluster, entry.id);
    const clusterPids = cluster.map((p) => p.child.pid!);
    const sides = {
      bare: { label: 'bare ws', target: { kind: 'ws', mode: 'raw', urls: [bare.url] }, pids: [bare.child.pid!], keys: keysAll() },
      forwarder: { label: 'bare forwarder', target: { kind: 'ws', mode: 'raw', urls: [front.url] }, pids: [front.child.pid!, back.child.pid!], keys: keysAll() },
      peer: { label: 'peer', target: { kind: 'ws', mode: 'raw', urls: [single.url] }, pids: [single.child.pid!], keys: keysAll() },
      bareBatch: { label: 'bare ws, batch frames', target: { kind: 'ws', mode: 'batch', urls: [bare.url] }, pids: [bare.child.pid!], keys: keysAll() },
      peerBatch: { label: 'peer, batch frames', target: { kind: 'ws', mode: 'batch', urls: [single.url] }, pids: [single.child.pid!], keys: keysAll() },
      viaNonOwner: { label: '3 peers via non-owner', target: { kind: 'ws', mode: 'raw', urls: [entry.url] }, pids: clusterPids, keys: { ...keysAll(), indices: nonOwned } },
      toPrimaries: { label: '3 peers, raw frames to each primary', target: { kind: 'ws', mode: 'raw', urls: cluster.map((p) => p.url), indicesPerUrl: primaryKeys }, pids: clusterPids, keys: keysAll() },
    } satisfies Record<string, PairSide>;
    await pairedComparison(generator, { target: 'Single peer, unbatched GET CPU vs bare ws (C=50 P=16)', metric: 'cpu', op: 'get', shape: [50, 16], limit: t.cpuVsBare, a: sides.bare, b: sides.peer });
    // Context for the absolute batching target (2.5 µs per GET): how far the peer is from the same
    // batch frames on the bare ws server, whose CPU per GET moves with the machine's load.
    await pairedComparison(generator, { target: 'Batch frames of 16: GET CPU vs the bare ws server given the same frames (C=50 P=16; context for the 2.5 µs target, held to the unbatched 1.15x)', metric: 'cpu', op: 'get', shape: [50, 16], limit: t.cpuVsBare, a: sides.bareBatch, b: sides.peerBatch });
    await pairedComparison(generator, { target: 'Forwarded GET CPU (3 peers, via a non-owner) vs the bare forwarder (C=50 P=16)', metric: 'cpu', op: 'get', shape: [50, 16], limit: t.cpuVsForwarder, a: sides.forwarder, b: sides.viaNonOwner });
    await pairedComparison(generator, { target: 'SET with --replicas 2 via a non-owner vs a single-peer SET, CPU (C=50 P=16)', metric: 'cpu', op: 'set', shape: [50, 16], limit: t.replicatedSetVsSingle, a: sides.peer, b: sides.viaNonOwner });
    await pairedComparison(generator, { target: 'SET with --replicas 2 as raw frames to each primary vs a single-peer SET, CPU (C=50 P=16)', metric: 'cpu', op: 'set', shape: [50, 16], limit: t.replicatedSetVsSingle, a: sides.peer, b: sides.toPrimaries });
    await pairedComparison(generator, { target: 'Ideal ring routing: GET CPU with raw frames to each primary vs the single peer (C=50 P=16)', metric: 'cpu', op: 'get', shape: [50, 16], limit: t.ringVsLocal, a: sides.peer, b: sides.toPrimaries });
    await pairedComparison(generator, { target: 'Latency C=1 P=1: local GET p50 vs bare ws', metric: 'p50', op: 'get', shape: [1, 1], limit: t.p50VsBare, a: sides.bare, b: sides.peer });
    await pairedComparison(generator, { target: 'Latency C=1 P=1: forwarded GET p50 vs the bare forwarder', metric: 'p50', op: 'get', shape: [1, 1], limit: t.p50VsBare, a: sides.forwarder, b: sides.viaNonOwner });
  } finally {
    await Promise.all(controls.map((c) => c.close()));
    await Promise.all(peers.map(stopPeer));
    await Promise.all(others.map((child) => processes.stop(child, 'SIGTERM')));
  }
}

function pairedTable(): string {
  if (paired.length === 0) return '';
  const unit = (f: PairedFigure): string => (f.metric === 'cpu' ? 'µs/op' : 'µs p50');
  return [
    `| Paired comparison (B vs A, ${SETTINGS.pairedRounds} alternating rounds of ${SETTINGS.pairedPhaseMs} ms) | A | B | A per round | B per round | B ÷ A per round | median | limit | verdict |`,
    '|---|---|---|---|---|---|---|---|---|',
    ...paired.map((f) =>
      f.error
        ? `| ${f.target} | ${f.aLabel} | ${f.bLabel} | FAILED: ${f.error} | | | | <= ${f.limit}x | n/a |`
        : `| ${f.target} | ${f.aLabel} | ${f.bLabel} | ${f.a.map((v) => v.toFixed(2)).join(', ')} ${unit(f)} | ${f.b.map((v) => v.toFixed(2)).join(', ')} ${unit(f)} | ${f.ratios.map((r) => r.toFixed(2)).join(', ')} | ${f.median.toFixed(2)}x | <= ${f.limit}x | ${f.median <= f.limit ? 'PASS' : 'FAIL'} |`,
    ),
  ].join('\n');
}

/** Whether an executable `command` is on PATH. */
function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => {
    if (dir === '') return false;
    try {
      accessSync(`${dir}/${command}`, fsConstants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** A free TCP port on 127.0.0.1 (for redis-server, which cannot take port 0). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** `redis-benchmark -P <pipeline> -c <connections> -t <op>` against the running server; figures like a phase's. */
async function redisBenchmark(port: number, pid: number, op: 'get' | 'set', connections: number, pipeline: number): Promise<PhaseFigures> {
  const args = ['-h', HOST, '-p', String(port), '-c', String(connections), '-P', String(pipeline), '-n', String(SETTINGS.redisBenchmarkOps), '-d', String(SETTINGS.valueBytes), '-r', String(SETTINGS.keys), '-t', op, '--csv'];
  const before = processCpuMs(pid);
  const started = performance.now();
  const ready = await processes.spawnReady('redis-benchmark', 'redis-benchmark', args, {
    pattern: new RegExp(`^"${op.toUpperCase()}","([\\d.]+)","([\\d.]+)","([\\d.]+)","([\\d.]+)","([\\d.]+)","([\\d.]+)","([\\d.]+)"`),
    skipOtherLines: true,
    readyTimeoutMs: SETTINGS.redisBenchmarkBudgetMs,
  });
  const elapsedMs = performance.now() - started;
  await withTimeout(ready.exited, 10_000, 'redis-benchmark exit');
  const cpuMs = processCpuMs(pid) - before;
  const [, rps, , , p50Ms, , p99Ms] = ready.match.map(Number);
  const ops = SETTINGS.redisBenchmarkOps;
  const cpuUsPerOp = Math.round(((cpuMs * 1000) / ops) * 100) / 100;
  return { ops, errors: 0, misses: 0, elapsedMs: Math.round(elapsedMs), stoppedByTime: false, opsPerSec: rps!, p50Us: p50Ms! * 1000, p99Us: p99Ms! * 1000, cpuUsPerOp, cpuUsPerOpByProcess: [cpuUsPerOp], clientCpuUsPerOp: Number.NaN };
}

async function redisDeployment(generator: Generator, memory: MemoryFigures): Promise<void> {
  if (!onPath('redis-server')) {
    notes.push('Redis: redis-server is not on PATH: the Redis rows, Redis ratios and the Redis memory figure are skipped (install redis-server to get them).');
    progress('redis-server not on PATH: skipping Redis');
    return;
  }
  const port = await freePort();
  const server = await processes.spawnReady('redis-server', 'redis-server', ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
    pattern: /Ready to accept connections/,
    skipOtherLines: true,
  });
  const pid = server.child.pid!;
  const control = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 1 });
  control.on('error', () => undefined);
  try {
    await control.connect();
    const target: LoadTarget = { kind: 'redis', host: HOST, port };
    await generator.preload(target, keysAll());
    await measure(generator, 'redis', target, [pid], keysAll(), SETTINGS.shapes);
    if (onPath('redis-benchmark')) {
      for (const [connections, pipeline] of batchShapes()) {
        const row: Row = { scenario: 'redis-benchmark', connections, pipeline };
        rows.push(row);
        try {
          row.get = await redisBenchmark(port, pid, 'get', connections, pipeline);
          row.set = await redisBenchmark(port, pid, 'set', connections, pipeline);
          progress(`  ${SCENARIOS['redis-benchmark']} C=${connections} P=${pipeline}: ${describeRow(row)}`);
        } catch (error) {
          row.error = message(error);
          progress(`  redis-benchmark C=${connections} P=${pipeline}: FAILED: ${row.error}`);
        }
      }
    } else notes.push('Redis: redis-benchmark is not on PATH: no pipelined Redis reference.');
    // Memory: used_memory before and after loading the entries into an empty server.
    await control.flushall();
    const usedBefore = await redisMemory(control);
    const loaded = await generator.preload(target, { keyCount: SETTINGS.memoryEntries, valueBytes: SETTINGS.valueBytes });
    const usedAfter = await redisMemory(control);
    const keys = await control.dbsize();
    memory.redis = {
      loadMs: loaded.elapsedMs,
      usedMemoryBytesPerEntry: Math.round((usedAfter.used - usedBefore.used) / SETTINGS.memoryEntries),
      usedMemoryRssBytesPerEntry: Math.round((usedAfter.rss - usedBefore.rss) / SETTINGS.memoryEntries),
      keys,
    };
  } finally {
    control.disconnect();
    await processes.stop(server.child, 'SIGTERM');
  }
}

async function redisMemory(control: Redis): Promise<{ used: number; rss: number }> {
  const info = await control.info('memory');
  const field = (name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return { used: field('used_memory'), rss: field('used_memory_rss') };
}

async function peerMemory(generator: Generator, memory: MemoryFigures): Promise<void> {
  const peer = await startBenchPeer('bench-mem', { profile: false });
  const control = await connectControl(peer.url);
  try {
    const before = await control.stats({ timeoutMs: 5000 });
    const loaded = await generator.preload({ kind: 'ws', mode: 'raw', urls: [peer.url] }, { keyCount: SETTINGS.memoryEntries, valueBytes: SETTINGS.valueBytes });
    // Give the collector an idle moment; heapUsed right after the load still holds the frames' garbage.
    await sleep(1000);
    const after = await control.stats({ timeoutMs: 5000 });
    const per = (...path: string[]): number => Math.round((statAt(after, ...path) - (statAt(before, ...path) || 0)) / SETTINGS.memoryEntries);
    memory.peer = {
      loadedVia: loaded.via,
      loadMs: loaded.elapsedMs,
      heapAndBuffersBytesPerEntry: per('process', 'heapUsedBytes') + per('process', 'arrayBuffersBytes'),
      rssBytesPerEntry: per('process', 'rssBytes'),
      storeBytesPerEntry: per('store', 'bytes'),
      keys: statAt(after, 'keys'),
    };
    if (memory.peer.keys !== SETTINGS.memoryEntries) notes.push(`Memory: the peer holds ${memory.peer.keys} keys after loading ${SETTINGS.memoryEntries} (evictions?).`);
  } finally {
    await control.close();
    await processes.stop(peer.child);
  }
}

// --- report ---------------------------------------------------------------------------------

function findRow(scenario: ScenarioKey, connections: number, pipeline: number): Row | undefined {
  return rows.find((r) => r.scenario === scenario && r.connections === connections && r.pipeline === pipeline);
}

/** The rows a row is compared with: bare (batch rows: bare batch), the forwarder (forwarded rows), Redis (batch rows: redis-benchmark). */
function baselinesOf(row: Row): { bare?: Row; forwarder?: Row; redis?: Row } {
  const batch = row.scenario === 'bare-batch' || row.scenario === 'peer-batch' || row.scenario === 'redis-benchmark';
  return {
    bare: findRow(batch ? 'bare-batch' : 'bare', row.connections, row.pipeline),
    forwarder: row.scenario === 'cluster-forwarded' ? findRow('forwarder', row.connections, row.pipeline) : undefined,
    redis: findRow(batch ? 'redis-benchmark' : 'redis', row.connections, row.pipeline),
  };
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? Math.round((a / b) * 100) / 100 : undefined;
}

/** Per row and op: CPU/op, ops/s and p50 as ratios to the same-shape baselines (for the JSON). */
function ratiosOf(row: Row, op: 'get' | 'set') {
  const { bare, forwarder, redis } = baselinesOf(row);
  const mine = row[op];
  const versus = (base: Row | undefined) =>
    base?.[op] && mine
      ? { cpuPerOp: ratio(mine.cpuUsPerOp, base[op]!.cpuUsPerOp), opsPerSec: ratio(mine.opsPerSec, base[op]!.opsPerSec), p50: ratio(mine.p50Us, base[op]!.p50Us) }
      : undefined;
  return { bare: versus(bare), forwarder: versus(forwarder), redis: versus(redis) };
}

function table(op: 'get' | 'set'): string {
  const head =
    `| ${op.toUpperCase()}: scenario | C | P | ops/s | p50 µs | p99 µs | CPU µs/op | CPU ÷ bare | CPU ÷ fwd | CPU ÷ Redis | ops/s ÷ bare | ops/s ÷ Redis | p50 ÷ bare | p50 ÷ fwd | client CPU µs/op |\n` +
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  const order = Object.keys(SCENARIOS) as ScenarioKey[];
  const sorted = [...rows].sort((a, b) => order.indexOf(a.scenario) - order.indexOf(b.scenario) || a.connections - b.connections || a.pipeline - b.pipeline);
  const lines = sorted.map((row) => {
    const f = row[op];
    if (!f) return `| ${SCENARIOS[row.scenario]} | ${row.connections} | ${row.pipeline} | FAILED: ${(row.error ?? 'no figures').split('\n')[0]!.slice(0, 140).replace(/\|/g, '\\|')} |${' |'.repeat(11)}`;
    const r = ratiosOf(row, op);
    const byProcess = f.cpuUsPerOpByProcess.length > 1 ? ` (${f.cpuUsPerOpByProcess.map(fmt.cpu).join(' + ')})` : '';
    const flag = f.errors + f.misses > 0 ? ` ⚠ ${f.errors} err ${f.misses} miss` : '';
    return `| ${SCENARIOS[row.scenario]}${flag} | ${row.connections} | ${row.pipeline} | ${fmt.int(f.opsPerSec)} | ${fmt.us(f.p50Us)} | ${fmt.us(f.p99Us)} | ${fmt.cpu(f.cpuUsPerOp)}${byProcess} | ${fmt.ratio(r.bare?.cpuPerOp)} | ${fmt.ratio(r.forwarder?.cpuPerOp)} | ${fmt.ratio(r.redis?.cpuPerOp)} | ${fmt.ratio(r.bare?.opsPerSec)} | ${fmt.ratio(r.redis?.opsPerSec)} | ${fmt.ratio(r.bare?.p50)} | ${fmt.ratio(r.forwarder?.p50)} | ${fmt.cpu(f.clientCpuUsPerOp)} |`;
  });
  return [head, ...lines].join('\n');
}

interface TargetCheck {
  target: string;
  measured: string;
  limit: string;
  verdict: 'PASS' | 'FAIL' | 'n/a';
}

function targets(memory: MemoryFigures): TargetCheck[] {
  const t = SETTINGS.targets;
  const checks: TargetCheck[] = [];
  const valid = (row: Row | undefined, op: 'get' | 'set'): PhaseFigures | undefined => (row?.[op] && row[op]!.errors === 0 && row[op]!.misses === 0 ? row[op] : undefined);
  const check = (target: string, value: number | undefined, limit: number, show: (x: number) => string, limitText: string, extra = ''): void => {
    if (value === undefined || !Number.isFinite(value)) checks.push({ target, measured: `not measured${extra}`, limit: limitText, verdict: 'n/a' });
    else checks.push({ target, measured: `${show(value)}${extra}`, limit: limitText, verdict: value <= limit ? 'PASS' : 'FAIL' });
  };
  const x = (v: number): string => `${v.toFixed(2)}x`;
  const cpuRatio = (a: Row | undefined, b: Row | undefined, op: 'get' | 'set'): number | undefined => ratio(valid(a, op)?.cpuUsPerOp, valid(b, op)?.cpuUsPerOp);
  /** A target on the CPU per operation of row `a` over row `b` (op `op`), at most `limit` times. */
  const checkCpuRatio = (target: string, a: Row | undefined, b: Row | undefined, op: 'get' | 'set', limit: number, extra = ''): void =>
    check(target, cpuRatio(a, b, op), limit, x, `<= ${limit}x`, ` (${fmt.cpu(a?.[op]?.cpuUsPerOp)} vs ${fmt.cpu(b?.[op]?.cpuUsPerOp)} µs/op)${extra}`);

  const peer = findRow('peer', 50, 16);
  const bare = findRow('bare', 50, 16);
  checkCpuRatio('Single peer, unbatched: server CPU per GET vs bare ws (C=50 P=16)', peer, bare, 'get', t.cpuVsBare);
  const fwd = findRow('cluster-forwarded', 50, 16);
  const bareFwd = findRow('forwarder', 50, 16);
  checkCpuRatio('Forwarded GET through a non-owner: CPU summed over the 3 peers vs the bare forwarder (front + back)', fwd, bareFwd, 'get', t.cpuVsForwarder);
  checkCpuRatio('SET with --replicas 2 via a non-owner (forward + replicate): CPU summed over the peers vs a single-peer SET', fwd, peer, 'set', t.replicatedSetVsSingle);
  const ringClient = findRow('cluster-ring-client', 50, 16);
  const peerClient = findRow('peer-client', 50, 16);
  checkCpuRatio(
    'SET with --replicas 2 through the ring-aware CacheClient (straight to the primary, which replicates): CPU summed over the peers vs the same client on a single peer',
    ringClient,
    peerClient,
    'set',
    t.replicatedSetVsSingle,
  );
  // Replication alone: raw frames straight to each key's primary (no forward, no client library) vs raw frames to one peer.
  const ringRaw = findRow('cluster-ring-raw', 50, 16);
  checkCpuRatio('SET with --replicas 2 sent as raw frames to each key\'s primary (replication alone): CPU summed over the peers vs the raw single-peer SET', ringRaw, peer, 'set', t.replicatedSetVsSingle);
  const ringGet = valid(ringClient, 'get');
  const forwardedShare = ringGet?.forwarded !== undefined ? ringGet.forwarded / ringGet.ops : undefined;
  checkCpuRatio(
    'Ring-aware CacheClient, 3 peers: GET CPU summed over the peers vs the same client on a single peer (a local GET)',
    ringClient,
    peerClient,
    'get',
    t.ringVsLocal,
    forwardedShare !== undefined ? `; ${(forwardedShare * 100).toFixed(1)}% of GETs forwarded by the peers` : '',
  );
  // The same comparisons at equal load per peer: each of the ring client's sockets carries about a
  // third of the 16 requests in flight, so its frames are a third as full as on one peer.
  const peerClientShare = findRow('peer-client', 50, RING_SHARE_PIPELINE);
  checkCpuRatio(
    `Ring-aware CacheClient, 3 peers: GET CPU summed over the peers vs the same client on a single peer at the same load per peer (C=50, P=${RING_SHARE_PIPELINE}: about 16/3 in flight per socket)`,
    ringClient,
    peerClientShare,
    'get',
    t.ringVsLocal,
  );
  checkCpuRatio(
    `SET with --replicas 2 through the ring-aware CacheClient vs the same client on a single peer at the same load per peer (C=50, P=${RING_SHARE_PIPELINE})`,
    ringClient,
    peerClientShare,
    'set',
    t.replicatedSetVsSingle,
  );
  check('Ring-aware CacheClient: share of GETs the peers had to forward (0 = every GET went to its primary)', forwardedShare, 0.01, (v) => `${(v * 100).toFixed(2)}%`, '<= 1%');
  checkCpuRatio('Ideal ring routing, 3 peers: raw frames sent to each key\'s primary, GET CPU summed over the peers vs the raw `peer` row', ringRaw, peer, 'get', t.ringVsLocal);
  // Batching dilutes with three peers (each socket gets a third of a tick's requests): the unbatched pair isolates the routing.
  const ringUnbatched = findRow('cluster-ring-client-unbatched', 50, 16);
  checkCpuRatio(
    'Ring-aware CacheClient with batching off, 3 peers: GET CPU summed over the peers vs the raw unbatched `peer` row (one request per frame on both sides)',
    ringUnbatched,
    peer,
    'get',
    t.ringVsLocal,
  );
  const peerBatch = findRow('peer-batch', 50, 16);
  const redisP = findRow('redis-benchmark', 50, 16);
  check('Batching, batch frames of 16: server CPU per GET (C=50 P=16)', valid(peerBatch, 'get')?.cpuUsPerOp, t.batchedGetUs, (v) => `${v.toFixed(2)} µs`, `<= ${t.batchedGetUs} µs`, redisP?.get ? ` (redis-benchmark -P 16: ${fmt.cpu(redisP.get.cpuUsPerOp)} µs, ratio ${fmt.ratio(ratio(peerBatch?.get?.cpuUsPerOp, redisP.get.cpuUsPerOp))})` : '');
  check('Batching, CacheClient auto-batching: server CPU per GET (C=50 P=16)', valid(peerClient, 'get')?.cpuUsPerOp, t.batchedGetUs, (v) => `${v.toFixed(2)} µs`, `<= ${t.batchedGetUs} µs`);
  const peer1 = findRow('peer', 1, 1);
  const bare1 = findRow('bare', 1, 1);
  const p50Ratio = (a: Row | undefined, b: Row | undefined): number | undefined => ratio(valid(a, 'get')?.p50Us, valid(b, 'get')?.p50Us);
  check('Latency C=1 P=1: local GET p50 vs bare ws', p50Ratio(peer1, bare1), t.p50VsBare, x, `<= ${t.p50VsBare}x`, ` (${fmt.us(peer1?.get?.p50Us)} vs ${fmt.us(bare1?.get?.p50Us)} µs)`);
  const fwd1 = findRow('cluster-forwarded', 1, 1);
  const bareFwd1 = findRow('forwarder', 1, 1);
  check('Latency C=1 P=1: forwarded GET p50 vs the bare forwarder', p50Ratio(fwd1, bareFwd1), t.p50VsBare, x, `<= ${t.p50VsBare}x`, ` (${fmt.us(fwd1?.get?.p50Us)} vs ${fmt.us(bareFwd1?.get?.p50Us)} µs)`);
  const worst = loopDelays.length > 0 ? loopDelays.reduce((a, b) => (b.maxMs > a.maxMs ? b : a)) : undefined;
  check(
    'No event-loop stall over 10 ms on a peer (max event-loop delay since the peer started; every peer of the load scenarios, preload included)',
    worst?.maxMs,
    t.loopStallMs,
    (v) => `${v.toFixed(1)} ms`,
    `<= ${t.loopStallMs} ms`,
    worst ? ` (worst: ${worst.deployment} ${worst.peer}, during the ${worst.longestStallIn}; p99 over all peers ${Math.max(...loopDelays.map((l) => l.p99Ms)).toFixed(1)} ms)` : '',
  );
  const withStalls = loopDelays.filter((l) => l.stalls?.maxOnCpuMs != null);
  if (withStalls.length > 0) {
    const worstOwn = withStalls.reduce((a, b) => (b.stalls!.maxOnCpuMs! > a.stalls!.maxOnCpuMs! ? b : a));
    const waited = Math.max(...withStalls.map((l) => l.stalls!.longest?.waitingForCpuMs ?? 0));
    check(
      "Event-loop stalls, the peer's own part: the largest on-CPU share of any stall since the peers joined (schedstat split; the rest of a stall is waiting for a CPU or blocked)",
      worstOwn.stalls!.maxOnCpuMs!,
      t.loopStallMs,
      (v) => `${v.toFixed(1)} ms`,
      `<= ${t.loopStallMs} ms`,
      ` (worst: ${worstOwn.deployment} ${worstOwn.peer}; ${withStalls.reduce((n, l) => n + l.stalls!.over10msOnCpu, 0)} stalls over 10 ms on the CPU alone, ${withStalls.reduce((n, l) => n + l.stalls!.over10ms, 0)} over 10 ms in all; up to ${waited.toFixed(1)} ms of a longest stall spent waiting for a CPU)`,
    );
  }
  if (memory.peer && memory.redis) {
    checks.push({
      target: `Memory: bytes per entry of one peer holding ${fmt.int(memory.entries)} entries (heapUsed + arrayBuffers delta) vs Redis used_memory delta (reported, no target)`,
      measured: `${memory.peer.heapAndBuffersBytesPerEntry} vs ${memory.redis.usedMemoryBytesPerEntry} B (${fmt.ratio(ratio(memory.peer.heapAndBuffersBytesPerEntry, memory.redis.usedMemoryBytesPerEntry))}x)`,
      limit: '-',
      verdict: 'n/a',
    });
  }
  return checks;
}

function memoryTable(memory: MemoryFigures): string {
  const lines = [`| Memory, ${fmt.int(memory.entries)} entries (${SETTINGS.keyBytes}-byte keys, ${SETTINGS.valueBytes}-byte values) | bytes/entry | ÷ Redis used_memory | load time |`, '|---|---|---|---|'];
  const redisUsed = memory.redis?.usedMemoryBytesPerEntry;
  if (memory.peer) {
    const p = memory.peer;
    lines.push(`| peer: heapUsed + arrayBuffers delta (loaded via ${p.loadedVia} frames) | ${p.heapAndBuffersBytesPerEntry} | ${fmt.ratio(ratio(p.heapAndBuffersBytesPerEntry, redisUsed))} | ${fmt.int(p.loadMs)} ms |`);
    lines.push(`| peer: RSS delta | ${p.rssBytesPerEntry} | ${fmt.ratio(ratio(p.rssBytesPerEntry, redisUsed))} | |`);
    lines.push(`| peer: store.bytes (its own budget accounting) | ${p.storeBytesPerEntry} | ${fmt.ratio(ratio(p.storeBytesPerEntry, redisUsed))} | |`);
  } else lines.push('| peer | FAILED or not run | | |');
  if (memory.redis) {
    lines.push(`| redis-server: used_memory delta | ${memory.redis.usedMemoryBytesPerEntry} | 1.00 | ${fmt.int(memory.redis.loadMs)} ms |`);
    lines.push(`| redis-server: used_memory_rss delta | ${memory.redis.usedMemoryRssBytesPerEntry} | ${fmt.ratio(ratio(memory.redis.usedMemoryRssBytesPerEntry, redisUsed))} | |`);
  } else lines.push('| redis-server | not measured | | |');
  return lines.join('\n');
}

function loopTable(): string {
  return [
    '| Event-loop delay since the peer started | peer | p50 ms | p99 ms | max ms (longest stall) | max right after the preload ms | longest stall during | stalls > 10 ms (on CPU alone) | longest stall since the join: on CPU / waiting for a CPU / blocked ms | largest on-CPU part of a stall ms | GC: pauses in the longest stall ms / most in one of the 5 longest ms / longest pause ms / pauses (major) |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...loopDelays.map((l) => {
      const st = l.stalls;
      const longest = st?.longest ? `${st.longest.delayMs}: ${st.longest.onCpuMs ?? '-'} / ${st.longest.waitingForCpuMs ?? '-'} / ${st.longest.blockedMs ?? '-'}` : '-';
      const gc = st?.gc ? `${st.longest?.gcMs ?? 0} / ${Math.max(0, ...st.worst.map((w) => w.gcMs))} / ${st.gc.longestMs} / ${st.gc.pauses} (${st.gc.majorPauses})` : '-';
      return `| ${l.deployment} | ${l.peer} | ${l.p50Ms} | ${l.p99Ms} | ${l.maxMs} | ${l.maxAfterPreloadMs} | ${l.longestStallIn} | ${st ? `${st.over10ms} (${st.over10msOnCpu})` : '-'} | ${longest} | ${st?.maxOnCpuMs ?? '-'} | ${gc} |`;
    }),
  ].join('\n');
}

/** The hottest functions of each profiled peer (under `--profile`), as markdown. */
async function profileSection(): Promise<string> {
  if (!PROFILE) return '';
  const parts = ['## CPU profiles of the peers (`--profile`: the CPU figures above include the profiler\'s overhead)', ''];
  for (const id of profiledPeers) {
    try {
      const { busyMs, hotspots } = await summarizeCpuProfile(`${PROFILE_DIR}/${id}.cpuprofile`);
      parts.push(`${id}: ${fmt.int(busyMs)} ms busy, top self time (bench/results/profiles/${id}.cpuprofile):`, '');
      parts.push('| self ms | share | function |', '|---|---|---|', ...hotspots.map((h) => `| ${h.selfMs} | ${(h.share * 100).toFixed(1)}% | ${h.where.replace(/\|/g, '\\|')} |`), '');
    } catch (error) {
      parts.push(`${id}: no profile (${message(error)})`, '');
    }
  }
  return parts.join('\n');
}

function targetTable(checks: readonly TargetCheck[]): string {
  return ['| Target (issue 5) | Measured | Limit | Verdict |', '|---|---|---|---|', ...checks.map((c) => `| ${c.target} | ${c.measured} | ${c.limit} | ${c.verdict} |`)].join('\n');
}

// --- main -----------------------------------------------------------------------------------

async function main(): Promise<number> {
  const startedAt = new Date();
  const loadavgAtStart = os.loadavg();
  progress(`performance benchmark (${QUICK ? 'quick' : 'full'} mode), node ${process.version}, ${os.cpus().length} CPUs`);
  const errors: Record<string, string> = {};
  const memory: MemoryFigures = { entries: SETTINGS.memoryEntries };
  const generator = Generator.start();
  const section = (name: string, label: string, body: () => Promise<void>): Promise<void | undefined> =>
    runSection(name, () => withTimeout(body(), SETTINGS.setupBudgetMs * 4, label), errors, { label, interrupted: () => interrupted !== undefined });
  try {
    await section('bare', 'bare ws server', () => bareDeployment(generator));
    await section('forwarder', 'bare one-hop forwarder', () => forwarderDeployment(generator));
    await section('peer', 'single peer', () => singlePeerDeployment(generator));
    await section('cluster', '3 peers, --replicas 2', () => clusterDeployment(generator));
    await section('redis', 'redis-server', () => redisDeployment(generator, memory));
    await section('memory', `memory of one peer holding ${fmt.int(SETTINGS.memoryEntries)} entries`, () => peerMemory(generator, memory));
    await section('paired', 'paired comparisons (every server up at once, sides alternated)', () => pairedDeployment(generator));
  } finally {
    await generator.stop();
    await processes.stopAll();
  }
  if (interrupted) return 130;

  const checks = targets(memory);
  const profiles = await profileSection();
  const meta = { ...runMeta(QUICK, startedAt), settings: SETTINGS, loadavgAtStart, loadavgAtEnd: os.loadavg(), totalMemBytes: os.totalmem() };
  const failedRows = rows.filter((r) => r.error).map((r) => `${SCENARIOS[r.scenario]} C=${r.connections} P=${r.pipeline}: ${r.error}`);
  const busiest = Math.max(loadavgAtStart[0]!, meta.loadavgAtEnd[0]!);
  if (busiest > os.cpus().length) {
    notes.push(
      `The machine was busy beyond its ${os.cpus().length} CPUs (1-minute load average up to ${busiest.toFixed(1)}): ops/s, latency and event-loop stalls include time ` +
        'the processes waited for a CPU; CPU per operation is the figure least affected.',
    );
  }
  const allNotes = [...notes, ...failedRows.map((f) => `Failed or wrong answers: ${f}`), ...Object.entries(errors).map(([name, error]) => `Section ${name} FAILED: ${error.split('\n')[0]}`)];
  const body = [
    table('get'),
    '',
    table('set'),
    '',
    memoryTable(memory),
    '',
    loopTable(),
    '',
    targetTable(checks),
    '',
    pairedTable(),
    '',
    ...(allNotes.length > 0 ? ['Notes:', '', ...allNotes.map((n) => `- ${n}`), ''] : []),
    profiles,
  ].join('\n');
  const markdown = [
    '# ringcache performance (issue 5)',
    '',
    `${meta.mode} run of \`npm run bench${QUICK ? ' -- --quick' : ''}\` on ${meta.startedAt}, commit ${meta.commit ?? 'unknown'}` +
      `${meta.uncommitted.length > 0 ? ` plus uncommitted changes to ${meta.uncommitted.join(', ')}` : ''}, node ${meta.node}, ${meta.cpus} x ${meta.cpuModel ?? 'CPU'}, ${meta.durationS} s, ` +
      `load average (1 min) ${loadavgAtStart[0]!.toFixed(1)} at the start and ${meta.loadavgAtEnd[0]!.toFixed(1)} at the end. ` +
      `${fmt.int(SETTINGS.keys)} keys of ${SETTINGS.keyBytes} bytes, ${SETTINGS.valueBytes}-byte values, uniform random keys; each phase bounded by ${fmt.int(SETTINGS.phaseOps)} requests and ${SETTINGS.phaseMs} ms. ` +
      'CPU µs/op = user+system CPU of the server process(es) over the phase / requests (per process in parentheses). Ratios against the same C and P measured in this run; see docs/performance.md.',
    '',
    body,
  ].join('\n');
  // A profiled run is slower: keep it out of the committed results.
  const name = `${QUICK ? 'perf-quick' : 'perf'}${PROFILE ? '-profiled' : ''}`;
  await mkdir(RESULTS_DIR, { recursive: true });
  const detailed = rows.map((row) => ({ ...row, ratios: { get: ratiosOf(row, 'get'), set: ratiosOf(row, 'set') } }));
  await writeFile(`${RESULTS_DIR}${name}.json`, `${JSON.stringify({ meta, errors, rows: detailed, memory, loopDelays, targets: checks, paired, notes: allNotes }, null, 2)}\n`);
  await writeFile(`${RESULTS_DIR}${name}.md`, markdown);
  process.stdout.write(`${body}\n`);
  progress(`wrote bench/results/${name}.json and .md`);
  return Object.keys(errors).length > 0 ? 1 : 0;
}

runMain(main, () => processes.stopAll());
