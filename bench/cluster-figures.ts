/**
 * The cluster figures of the core issue's closing note, measured on real `ringcache peer`
 * processes (127.0.0.1, port 0) and on the pure ring:
 *
 * 1. Failure detection at DEFAULT peer settings: kill -9 one of 3 peers, time until every survivor
 *    reported it `suspect` and `dead` (CacheClient `watch` on each survivor), against the
 *    configured formula `suspicionTimeoutMs(defaults, 3) + probeIntervalMs`.
 * 2. Keys moved when a peer joins: (a) on the pure HashRing, 3 -> 4 random ids, against the ideal
 *    1/4 (primaries) and 1/2 (preference lists, replicas 2); (b) on a real cluster, entries sent by
 *    the rebalancer and the new peer's share of the copies, against the ideal 1/4.
 * 3. Balance of ownership with the default vnodes, 3 random ids, against the fair share 1/3 and the
 *    spread documented in src/config.ts (0.82 / sqrt(vnodes)).
 * 4. Round trip of a `get` served locally vs forwarded to the primary, one raw `ws` client with one
 *    request in flight, against a bare `ws` server (bench/bare-ws-server.ts) in a child process,
 *    all three interleaved in the same run.
 *
 * Every figure is a ratio against a baseline or ideal computed in the same run: the machine is a
 * noisy 2-core box. Every load loop is bounded in count and in time; every process and socket it
 * opens is closed, also on error and on Ctrl-C.
 *
 * Run: `npm run bench:cluster [-- --quick]`. Progress goes to stderr,
 * the markdown table to stdout; JSON and markdown land in bench/results/cluster-figures.{json,md}.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { nanoid } from 'nanoid';
import WebSocket from 'ws';
import { CacheClient, type MemberEvent, type MsetEntry } from '../src/client/cache-client.js';
import { defaultPeerConfig, suspicionTimeoutMs } from '../src/config.js';
import { HashRing } from '../src/ring/hash-ring.js';
import { hashKey } from '../src/ring/key-hash.js';
import { ProcessGroup, startBareServer as spawnBareServer, stopOnSignals, startPeer as spawnPeer } from './bench-processes.js';
import { benchStart, progress, runMain, runMeta, runSection, sleep, statAt, withTimeout } from './bench-run.js';

// --- settings -------------------------------------------------------------------------------

const QUICK = process.argv.includes('--quick');

/** Sizes and bounds of each section; quick mode fits in about a minute. */
const SETTINGS = {
  /** Section 1: kill/restart trials. */
  detectionTrials: QUICK ? 2 : 5,
  /** Section 1: longest wait for every survivor to report the victim dead, ms. */
  detectionDeadlineMs: 20_000,
  /** Section 2a: random id sets and keys per set. */
  movementIdSets: QUICK ? 20 : 50,
  movementKeys: 100_000,
  /** Section 2b: keys written before the 4th peer joins, mset chunk, value size (characters). */
  rebalanceKeys: 20_000,
  msetChunk: 500,
  valueChars: 100,
  /** Section 2b: bound of the initial load, and of the wait for the rebalance to settle, ms. */
  loadBudgetMs: 120_000,
  rebalanceDeadlineMs: QUICK ? 45_000 : 90_000,
  /** Section 2b: the rebalance counts as settled after this long without any change, ms. */
  settleQuietMs: 1500,
  /** Section 3: random id sets. */
  balanceIdSets: 200,
  /** Section 4: keys pre-set, warm-up and measured gets per kind, time bound of the measured loop. */
  latencyKeys: 2000,
  latencyWarmup: QUICK ? 200 : 500,
  latencyGets: QUICK ? 1000 : 5000,
  latencyBudgetMs: QUICK ? 10_000 : 30_000,
} as const;

const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const DEFAULTS = defaultPeerConfig();
/** Replication factor of every cluster and ring here (the default). */
const REPLICAS = DEFAULTS.replicas;

// --- small helpers --------------------------------------------------------------------------




/** Polls `condition` until truthy; rejects with `what` after `deadlineMs` (bounded, like every loop here). */
async function waitFor<T>(condition: () => T | Promise<T>, deadlineMs: number, what: string, intervalMs = 25): Promise<NonNullable<T>> {
  const until = performance.now() + deadlineMs;
  let lastError: unknown;
  for (;;) {
    throwIfInterrupted();
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (performance.now() >= until) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${detail}`);
    }
    await sleep(intervalMs);
  }
}


/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

function ascending(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

function median(values: readonly number[]): number {
  return percentile(ascending(values), 50);
}

function summary(values: readonly number[]): { min: number; median: number; max: number } {
  const sorted = ascending(values);
  return { min: sorted[0] ?? Number.NaN, median: percentile(sorted, 50), max: sorted[sorted.length - 1] ?? Number.NaN };
}

function shuffle<T>(items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const fmt = {
  ratio: (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a'),
  pct: (x: number, digits = 1): string => (Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : 'n/a'),
  ms: (x: number): string => (Number.isFinite(x) ? `${Math.round(x)} ms` : 'n/a'),
  us: (x: number): string => (Number.isFinite(x) ? `${Math.round(x)} µs` : 'n/a'),
  int: (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a'),
};

// --- process and socket bookkeeping: everything started here is stopped here ------------------

const processes = new ProcessGroup();
const clients = new Set<CacheClient>();
const rawSockets = new Set<WebSocket>();
let interrupted: string | undefined;

function throwIfInterrupted(): void {
  if (interrupted) throw new Error(`interrupted by ${interrupted}`);
}

async function cleanup(): Promise<void> {
  for (const socket of rawSockets) socket.terminate();
  rawSockets.clear();
  await Promise.all([...clients].map((client) => withTimeout(client.close(), 1500, 'client close').catch(() => undefined)));
  clients.clear();
  await processes.stopAll();
}

stopOnSignals(processes, cleanup, 'every peer and server started by this run', (signal) => {
  interrupted = signal;
});

// --- peer processes -------------------------------------------------------------------------

/** A warning or error line a peer logged (pino level >= 40). */
interface PeerLogLine {
  section: string;
  /** Seconds since this run began (as in the progress lines), when the line was read. */
  atS: number;
  peer: string;
  level: number;
  msg: string;
  /** The line's own fields besides pino's (e.g. `member`, `incarnation`, `err`). */
  fields?: Record<string, unknown>;
  /** A suspect/dead warning about the peer this run had just killed (section 1): the expected kind. */
  expected: boolean;
}

/** pino's fields of every line, left out of {@link PeerLogLine.fields}. */
const PINO_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'peer']);

const peerLogs: PeerLogLine[] = [];
/** Bound of {@link peerLogs}: a peer stuck in an error loop must not fill the JSON. */
const MAX_PEER_LOG_LINES = 5000;
let currentSection = 'setup';
/** Section 1: the id of the killed peer, from the kill until its replacement is spawned. */
let killedPeer: string | undefined;

/** A running `ringcache peer` and one control client connected to it (no failover). */
interface PeerHandle {
  id: string;
  url: string;
  child: ChildProcess;
  exited: Promise<string>;
  client: CacheClient;
  /** performance.now() when spawned and when the listening line arrived. */
  spawnedAt: number;
  readyAt: number;
}

/**
 * Spawns `ringcache peer --host 127.0.0.1 --port 0 --id <id> [--bootstrap <url>]` at default
 * settings, waits for its listening line (as test/support/peer-process.ts does) and connects a
 * control client to it.
 */
async function startPeer(id: string, bootstrap?: string): Promise<PeerHandle> {
  throwIfInterrupted();
  const section = currentSection;
  const onStderrLine = (line: string): void => {
    const atS = Math.round(performance.now() - benchStart) / 1000;
    try {
      const record = JSON.parse(line) as Record<string, unknown>;
      if (typeof record.level === 'number' && record.level >= 40 && peerLogs.length < MAX_PEER_LOG_LINES) {
        const fields = Object.fromEntries(Object.entries(record).filter(([key]) => !PINO_FIELDS.has(key)));
        const msg = String(record.msg);
        const expected = killedPeer !== undefined && fields.member === killedPeer && (msg === 'member suspect' || msg === 'member dead');
        peerLogs.push({ section, atS, peer: id, level: record.level, msg, fields, expected });
      }
    } catch {
      if (peerLogs.length < MAX_PEER_LOG_LINES) peerLogs.push({ section, atS, peer: id, level: 50, msg: `(not JSON) ${line.slice(0, 200)}`, expected: false });
    }
  };
  const { url, child, exited, spawnedAt, readyAt } = await spawnPeer(processes, id, { bootstrap, onStderrLine });
  const client = await CacheClient.connect(url, { discoverPeers: false, timeoutMs: 10_000, reconnectBaseMs: 50, reconnectMaxMs: 500 });
  clients.add(client);
  return { id, url, child, exited, client, spawnedAt, readyAt };
}

/** Closes the control client and kills the process (SIGKILL), waiting for its exit. */
async function stopPeer(peer: PeerHandle): Promise<void> {
  clients.delete(peer.client);
  await withTimeout(peer.client.close(), 1500, 'client close').catch(() => undefined);
  await processes.stop(peer.child);
}

async function stopPeers(peers: ReadonlyArray<PeerHandle | undefined>): Promise<void> {
  await Promise.all(peers.map((peer) => (peer ? stopPeer(peer) : undefined)));
}

/** What {@link waitForCluster} saw: the ring checksum, and each change of the condition it waited on. */
interface ClusterWait {
  checksum: string;
  /** ms since the wait began -> the first unmet condition, recorded whenever it changed. */
  timeline: Array<{ atMs: number; waitingFor: string }>;
}

/**
 * Waits until every peer sees exactly the given peers alive, with the same ring checksum, and has
 * a link to each of the others.
 */
async function waitForCluster(peers: readonly PeerHandle[], deadlineMs: number): Promise<ClusterWait> {
  const ids = peers.map((p) => p.id).sort().join(',');
  const began = performance.now();
  const timeline: ClusterWait['timeline'] = [];
  const unmet = (waitingFor: string): undefined => {
    if (timeline[timeline.length - 1]?.waitingFor !== waitingFor) timeline.push({ atMs: Math.round(performance.now() - began), waitingFor });
    return undefined;
  };
  const checksum = await waitFor(
    async () => {
      const checksums = new Set<string>();
      for (const peer of peers) {
        const ring = await peer.client.ring({ timeoutMs: 2000 });
        const alive = ring.peers.filter((p) => p.state === 'alive').map((p) => p.id).sort().join(',');
        if (alive !== ids) return unmet(`${peer.id} sees alive [${alive}]`);
        checksums.add(ring.checksum);
        const links = statAt(await peer.client.stats({ timeoutMs: 2000 }), 'links');
        if (links !== peers.length - 1) return unmet(`${peer.id} has ${links} of ${peers.length - 1} links`);
      }
      return checksums.size === 1 ? [...checksums][0] : unmet(`ring checksums differ: ${[...checksums].join(' ')}`);
    },
    deadlineMs,
    `${peers.length} alive, fully linked peers agreeing on the ring`,
    50,
  );
  return { checksum, timeline };
}

/** Writes `entries` through `client` in `SETTINGS.msetChunk` chunks, bounded by `budgetMs`. @returns elapsed ms */
async function loadKeys(client: CacheClient, entries: readonly MsetEntry[], budgetMs: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < entries.length; i += SETTINGS.msetChunk) {
    throwIfInterrupted();
    if (performance.now() - started > budgetMs) throw new Error(`loading ${entries.length} keys took over ${budgetMs} ms (stopped at ${i})`);
    await client.mset(entries.slice(i, i + SETTINGS.msetChunk), { timeoutMs: 30_000 });
  }
  return performance.now() - started;
}

function valueOf(i: number): string {
  const stamp = `v${i}:`;
  return stamp + 'x'.repeat(Math.max(0, SETTINGS.valueChars - stamp.length));
}

// --- a raw ws client, one request in flight -------------------------------------------------

/** One `ws` socket speaking the client protocol by hand; exactly one request in flight. */
class RawClient {
  private nextId = 1;
  private waiting: ((data: WebSocket.RawData) => void) | undefined;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve?.(data);
    });
    socket.on('error', () => undefined);
  }

  static connect(url: string): Promise<RawClient> {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    rawSockets.add(socket);
    return withTimeout(
      new Promise<RawClient>((resolve, reject) => {
        socket.once('open', () => resolve(new RawClient(socket)));
        socket.once('error', reject);
      }),
      5000,
      `connect to ${url}`,
    );
  }

  /**
   * Sends `{id, op, ...fields}`; resolves with the parsed reply and the round trip in µs, timed
   * with process.hrtime.bigint() from just before the send to the reply's arrival (the request
   * is encoded before and the reply decoded after the clock).
   */
  async request(op: string, fields: Record<string, unknown> = {}, timeoutMs = 5000): Promise<{ reply: Record<string, unknown>; micros: number }> {
    if (this.waiting) throw new Error('RawClient: one request at a time');
    const id = this.nextId++;
    const text = JSON.stringify({ id, op, ...fields });
    const arrived = new Promise<WebSocket.RawData>((resolve) => {
      this.waiting = resolve;
    });
    const start = process.hrtime.bigint();
    this.socket.send(text);
    const data = await withTimeout(arrived, timeoutMs, `${op} #${id}`).catch((error: unknown) => {
      this.waiting = undefined;
      throw error;
    });
    const micros = Number(process.hrtime.bigint() - start) / 1000;
    const reply = JSON.parse(data.toString()) as Record<string, unknown>;
    if (reply.id !== id) throw new Error(`reply id ${String(reply.id)} for request ${id} (pushed event or stray reply)`);
    return { reply, micros };
  }

  close(): void {
    rawSockets.delete(this.socket);
    this.socket.terminate();
  }
}

// --- section 1: failure detection -----------------------------------------------------------

interface DetectionTrial {
  victim: string;
  /** ms from the kill until this survivor's first `suspect` / `dead` event about the victim. */
  survivors: Record<string, { suspectMs?: number; deadMs?: number; skippedSuspect: boolean }>;
  /** ms until EVERY survivor reported suspect (a survivor that went straight to dead counts at its dead time) / dead. */
  suspectAllMs: number;
  deadAllMs: number;
  timedOut: boolean;
  /** ms from spawning the replacement until its listening line (its join waits, bounded, for links to every member). */
  readyMs: number;
  /** ms from spawning the replacement until all three were alive and linked again. */
  rejoinMs: number;
  /** The peer the replacement bootstrapped through. */
  bootstrap: string;
  /** When the replacement was spawned, in seconds since this run began (the clock of {@link PeerLogLine.atS}). */
  replacementSpawnedAtS: number;
  /** What the rejoin wait was waiting for, over time (ms since the wait began, right after the replacement was ready). */
  rejoinTimeline: ClusterWait['timeline'];
}

interface DetectionResult {
  trials: DetectionTrial[];
  probeIntervalMs: number;
  suspicionTimeoutMs: number;
  formulaMs: number;
  suspect: { min: number; median: number; max: number };
  dead: { min: number; median: number; max: number };
  rejoin: { min: number; median: number; max: number };
}

async function failureDetection(): Promise<DetectionResult> {
  const probeIntervalMs = DEFAULTS.probeIntervalMs;
  const suspicionMs = suspicionTimeoutMs(DEFAULTS, 3);
  const formulaMs = suspicionMs + probeIntervalMs;
  const peers: PeerHandle[] = [];
  try {
    peers.push(await startPeer('fd-1'));
    peers.push(await startPeer('fd-2', peers[0]!.url));
    peers.push(await startPeer('fd-3', peers[0]!.url));
    await waitForCluster(peers, 20_000);
    for (const peer of peers) await peer.client.watch();
    const trials: DetectionTrial[] = [];
    for (let t = 0; t < SETTINGS.detectionTrials; t++) {
      throwIfInterrupted();
      // Rotate the victim: the lowest id dials every link, so its death looks different.
      const victimIndex = t % peers.length;
      const victim = peers[victimIndex]!;
      const survivors = peers.filter((p) => p !== victim);
      const seen: DetectionTrial['survivors'] = {};
      let killedAt = Number.NaN;
      const listeners = survivors.map((survivor) => {
        const record = { skippedSuspect: false } as DetectionTrial['survivors'][string];
        seen[survivor.id] = record;
        const listener = (event: MemberEvent): void => {
          if (event.peer.id !== victim.id || Number.isNaN(killedAt)) return;
          const at = performance.now() - killedAt;
          if (event.state === 'suspect') record.suspectMs ??= at;
          if (event.state === 'dead' && record.deadMs === undefined) {
            record.deadMs = at;
            if (record.suspectMs === undefined) record.skippedSuspect = true;
          }
        };
        survivor.client.on('member', listener);
        return () => survivor.client.off('member', listener);
      });
      clients.delete(victim.client);
      await withTimeout(victim.client.close(), 1500, 'client close').catch(() => undefined);
      killedPeer = victim.id;
      killedAt = performance.now();
      victim.child.kill('SIGKILL');
      let timedOut = false;
      try {
        await waitFor(() => Object.values(seen).every((s) => s.deadMs !== undefined), SETTINGS.detectionDeadlineMs, `every survivor to report ${victim.id} dead`, 5);
      } catch {
        timedOut = true;
      }
      for (const off of listeners) off();
      await withTimeout(victim.exited, 5000, `exit of ${victim.id}`);
      await processes.stop(victim.child);
      const suspectAllMs = Math.max(...Object.values(seen).map((s) => s.suspectMs ?? s.deadMs ?? Number.NaN));
      const deadAllMs = Math.max(...Object.values(seen).map((s) => s.deadMs ?? Number.NaN));
      progress(`detection trial ${t + 1}/${SETTINGS.detectionTrials}: killed ${victim.id}; every survivor: suspect ${fmt.ms(suspectAllMs)}, dead ${fmt.ms(deadAllMs)}${timedOut ? ' (TIMED OUT)' : ''}`);

      // Restart with the same id through a survivor, and wait for all three to be alive again.
      // The survivors log before they push the event, but their stderr may be read a moment
      // after the event: let those lines in before suspicions stop counting as expected.
      await sleep(50);
      killedPeer = undefined;
      const replacement = await startPeer(victim.id, survivors[0]!.url);
      peers[victimIndex] = replacement;
      const { timeline } = await waitForCluster(peers, 30_000);
      const rejoinMs = performance.now() - replacement.spawnedAt;
      await replacement.client.watch();
      trials.push({
        victim: victim.id,
        survivors: seen,
        suspectAllMs,
        deadAllMs,
        timedOut,
        readyMs: replacement.readyAt - replacement.spawnedAt,
        rejoinMs,
        bootstrap: survivors[0]!.id,
        replacementSpawnedAtS: Math.round(replacement.spawnedAt - benchStart) / 1000,
        rejoinTimeline: timeline,
      });
      // Let the rejoin's gossip and (empty) rebalance passes finish before the next kill.
      await sleep(2 * probeIntervalMs);
    }
    return {
      trials,
      probeIntervalMs,
      suspicionTimeoutMs: suspicionMs,
      formulaMs,
      suspect: summary(trials.map((t) => t.suspectAllMs)),
      dead: summary(trials.map((t) => t.deadAllMs)),
      rejoin: summary(trials.map((t) => t.rejoinMs)),
    };
  } finally {
    await stopPeers(peers);
  }
}

// --- section 2a: keys moved on the pure ring --------------------------------------------------

interface MovementResult {
  idSets: number;
  keys: number;
  vnodes: number;
  replicas: number;
  /** Per id set: fraction of keys whose primary moved / whose preference list changed; the newcomer's ownership. */
  sets: Array<{ primaryMoved: number; listChanged: number; newcomerShare: number; movedNotToNewcomer: number }>;
  primaryMoved: { min: number; median: number; max: number };
  listChanged: { min: number; median: number; max: number };
  /** Largest |primaryMoved / newcomerShare - 1|: 0 when exactly the newcomer's share moved. */
  worstMovedVsShare: number;
  movedNotToNewcomer: number;
}

function ringMovement(): MovementResult {
  const { vnodes } = DEFAULTS;
  const keys = SETTINGS.movementKeys;
  const hashes = new Uint32Array(keys);
  for (let i = 0; i < keys; i++) hashes[i] = hashKey(`key:${i}`);
  const sets: MovementResult['sets'] = [];
  for (let s = 0; s < SETTINGS.movementIdSets; s++) {
    throwIfInterrupted();
    const ids = [nanoid(10), nanoid(10), nanoid(10)];
    const newcomer = nanoid(10);
    const before = new HashRing(ids, { vnodes, replicas: REPLICAS });
    const after = new HashRing([...ids, newcomer], { vnodes, replicas: REPLICAS });
    let primaryMoved = 0;
    let listChanged = 0;
    let movedNotToNewcomer = 0;
    for (let i = 0; i < keys; i++) {
      const a = before.preferenceListForHash(hashes[i]!);
      const b = after.preferenceListForHash(hashes[i]!);
      if (a[0] !== b[0]) {
        primaryMoved++;
        if (b[0] !== newcomer) movedNotToNewcomer++;
      }
      if (a.length !== b.length || a.some((id, r) => id !== b[r])) listChanged++;
    }
    sets.push({ primaryMoved: primaryMoved / keys, listChanged: listChanged / keys, newcomerShare: after.ownership().get(newcomer)!, movedNotToNewcomer });
  }
  return {
    idSets: sets.length,
    keys,
    vnodes,
    replicas: REPLICAS,
    sets,
    primaryMoved: summary(sets.map((s) => s.primaryMoved)),
    listChanged: summary(sets.map((s) => s.listChanged)),
    worstMovedVsShare: Math.max(...sets.map((s) => Math.abs(s.primaryMoved / s.newcomerShare - 1))),
    movedNotToNewcomer: sets.reduce((sum, s) => sum + s.movedNotToNewcomer, 0),
  };
}

// --- section 2b: rebalance on a real cluster --------------------------------------------------

interface RebalanceResult {
  keys: number;
  ids: string[];
  newcomer: string;
  loadMs: number;
  copiesBefore: number;
  /** Copies the newcomer must receive, computed with HashRing for these ids (the minimum to send). */
  predictedNewcomerCopies: number;
  entriesSent: number;
  entriesDropped: number;
  failedBatches: number;
  passes: number;
  newcomerKeys: number;
  copiesAfter: number;
  perPeerKeysAfter: Record<string, number>;
  /** ms from spawning the 4th peer until its listening line, and until the last observed change. */
  joinReadyMs: number;
  rebalanceMs: number;
  sampleChecked: number;
  sampleMissing: number;
}

async function rebalance(): Promise<RebalanceResult> {
  const ids = ['rb-1', 'rb-2', 'rb-3'];
  const newcomer = 'rb-4';
  const n = SETTINGS.rebalanceKeys;
  const peers: PeerHandle[] = [];
  try {
    peers.push(await startPeer(ids[0]!));
    peers.push(await startPeer(ids[1]!, peers[0]!.url));
    peers.push(await startPeer(ids[2]!, peers[0]!.url));
    await waitForCluster(peers, 20_000);
    const entries = Array.from({ length: n }, (_, i): MsetEntry => ({ key: `rb:${i}`, value: valueOf(i) }));
    progress(`rebalance: loading ${fmt.int(n)} keys in mset chunks of ${SETTINGS.msetChunk}`);
    const loadMs = await loadKeys(peers[0]!.client, entries, SETTINGS.loadBudgetMs);
    const statsOf = (list: readonly PeerHandle[]): Promise<Array<Record<string, unknown>>> => Promise.all(list.map((p) => p.client.stats({ timeoutMs: 5000 })));
    const copiesBefore = await waitFor(
      async () => {
        const total = (await statsOf(peers)).reduce((sum, s) => sum + statAt(s, 'keys'), 0);
        return total === 2 * n ? total : undefined;
      },
      10_000,
      `${2 * n} copies on the 3 peers`,
      100,
    ).catch(async () => (await statsOf(peers)).reduce((sum, s) => sum + statAt(s, 'keys'), 0));
    const before = await statsOf(peers);
    const sentBefore = before.reduce((sum, s) => sum + statAt(s, 'rebalance', 'entriesSent'), 0);
    const droppedBefore = before.reduce((sum, s) => sum + statAt(s, 'rebalance', 'entriesDropped'), 0);
    const failedBefore = before.reduce((sum, s) => sum + statAt(s, 'rebalance', 'failedBatches'), 0);
    const passesBefore = before.reduce((sum, s) => sum + statAt(s, 'rebalance', 'passes'), 0);

    const ring4 = new HashRing([...ids, newcomer], { vnodes: DEFAULTS.vnodes, replicas: REPLICAS });
    let predictedNewcomerCopies = 0;
    for (const { key } of entries) if (ring4.preferenceList(key).includes(newcomer)) predictedNewcomerCopies++;

    progress(`rebalance: ${fmt.int(copiesBefore)} copies on 3 peers; starting ${newcomer}`);
    const fourth = await startPeer(newcomer, peers[0]!.url);
    peers.push(fourth);
    const spawnedAt = fourth.spawnedAt;
    let last = '';
    let lastChangeAt = performance.now();
    const deadline = spawnedAt + SETTINGS.rebalanceDeadlineMs;
    let stats: Array<Record<string, unknown>> = [];
    for (;;) {
      throwIfInterrupted();
      stats = await statsOf(peers);
      const now = performance.now();
      const snapshot = JSON.stringify(stats.map((s) => [statAt(s, 'keys'), statAt(s, 'rebalance', 'entriesSent'), statAt(s, 'rebalance', 'entriesDropped')]));
      const running = stats.some((s) => (s.rebalance as { running?: unknown } | undefined)?.running === true);
      if (snapshot !== last) {
        last = snapshot;
        lastChangeAt = now;
      } else if (!running && statAt(stats[3]!, 'keys') > 0 && now - lastChangeAt >= SETTINGS.settleQuietMs) break;
      if (now > deadline) throw new Error(`rebalance did not settle within ${SETTINGS.rebalanceDeadlineMs} ms (last stats ${snapshot})`);
      await sleep(100);
    }
    await waitForCluster(peers, 10_000);
    // Every copy the newcomer holds must be readable through it.
    const sample = shuffle(entries.map((e) => e.key)).slice(0, 500);
    const values = await fourth.client.mget(sample, { timeoutMs: 10_000 });
    const sampleMissing = values.filter((v) => !v.found).length;
    const perPeerKeysAfter = Object.fromEntries(peers.map((p, i) => [p.id, statAt(stats[i]!, 'keys')]));
    return {
      keys: n,
      ids,
      newcomer,
      loadMs,
      copiesBefore,
      predictedNewcomerCopies,
      entriesSent: stats.reduce((sum, s) => sum + statAt(s, 'rebalance', 'entriesSent'), 0) - sentBefore,
      entriesDropped: stats.reduce((sum, s) => sum + statAt(s, 'rebalance', 'entriesDropped'), 0) - droppedBefore,
      failedBatches: stats.reduce((sum, s) => sum + statAt(s, 'rebalance', 'failedBatches'), 0) - failedBefore,
      passes: stats.reduce((sum, s) => sum + statAt(s, 'rebalance', 'passes'), 0) - passesBefore,
      newcomerKeys: statAt(stats[3]!, 'keys'),
      copiesAfter: stats.reduce((sum, s) => sum + statAt(s, 'keys'), 0),
      perPeerKeysAfter,
      joinReadyMs: fourth.readyAt - spawnedAt,
      rebalanceMs: lastChangeAt - spawnedAt,
      sampleChecked: sample.length,
      sampleMissing,
    };
  } finally {
    await stopPeers(peers);
  }
}

// --- section 3: balance of ownership ----------------------------------------------------------

interface BalanceResult {
  idSets: number;
  vnodes: number;
  /** |share - 1/3| / (1/3) of every peer of every set. */
  deviation: { median: number; p99: number; max: number };
  /** The worst peer of each set. */
  worstPerSet: { median: number; max: number };
  /** Standard deviation of share / (1/3) - 1, and the spread documented in src/config.ts. */
  spread: number;
  documentedSpread: number;
}

function balance(): BalanceResult {
  const { vnodes } = DEFAULTS;
  const fair = 1 / 3;
  const deviations: number[] = [];
  const signed: number[] = [];
  const worst: number[] = [];
  for (let s = 0; s < SETTINGS.balanceIdSets; s++) {
    const ring = new HashRing([nanoid(10), nanoid(10), nanoid(10)], { vnodes, replicas: REPLICAS });
    let setWorst = 0;
    for (const share of ring.ownership().values()) {
      const relative = share / fair - 1;
      signed.push(relative);
      deviations.push(Math.abs(relative));
      setWorst = Math.max(setWorst, Math.abs(relative));
    }
    worst.push(setWorst);
  }
  const sorted = ascending(deviations);
  const spread = Math.sqrt(signed.reduce((sum, x) => sum + x * x, 0) / signed.length);
  return {
    idSets: SETTINGS.balanceIdSets,
    vnodes,
    deviation: { median: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]! },
    worstPerSet: { median: median(worst), max: Math.max(...worst) },
    spread,
    documentedSpread: 0.82 / Math.sqrt(vnodes),
  };
}

// --- section 4: local vs forwarded get latency ------------------------------------------------

interface LatencyKind {
  count: number;
  /** Round trips in µs. */
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  /** Round trips over 1 ms and over 10 ms. */
  over1ms: number;
  over10ms: number;
  errors: number;
}

interface LatencyResult {
  keys: number;
  localKeys: number;
  forwardedKeys: number;
  rounds: number;
  stoppedByTime: boolean;
  local: LatencyKind;
  forwarded: LatencyKind;
  bare: LatencyKind;
  /** `coordinator.forwarded` of the entry peer during warm-up and measurement, and what the split predicts. */
  forwardsCounted: number;
  forwardsExpected: number;
}

async function latency(): Promise<LatencyResult> {
  const peers: PeerHandle[] = [];
  let bare: ChildProcess | undefined;
  const raws: RawClient[] = [];
  try {
    peers.push(await startPeer('lt-1'));
    peers.push(await startPeer('lt-2', peers[0]!.url));
    peers.push(await startPeer('lt-3', peers[0]!.url));
    await waitForCluster(peers, 20_000);
    throwIfInterrupted();
    const server = await spawnBareServer(processes);
    bare = server.child;

    const entries = Array.from({ length: SETTINGS.latencyKeys }, (_, i): MsetEntry => ({ key: `lt:${i}`, value: valueOf(i) }));
    progress(`latency: loading ${fmt.int(entries.length)} keys into the cluster and the bare server`);
    await loadKeys(peers[0]!.client, entries, SETTINGS.loadBudgetMs);
    const peerClient = await RawClient.connect(peers[0]!.url);
    const bareClient = await RawClient.connect(server.url);
    raws.push(peerClient, bareClient);
    const bareLoadUntil = performance.now() + SETTINGS.loadBudgetMs;
    for (const { key, value } of entries) {
      if (performance.now() > bareLoadUntil) throw new Error(`loading the bare server took over ${SETTINGS.loadBudgetMs} ms`);
      throwIfInterrupted();
      const { reply } = await bareClient.request('set', { key, value });
      if (reply.ok !== true) throw new Error(`bare set failed: ${JSON.stringify(reply)}`);
    }

    // Split the keys with the cluster's own ring, checked against the peer's checksum.
    const { reply: ringReply } = await peerClient.request('ring');
    const view = ringReply.ring as { checksum: string; vnodes: number; replicas: number; self: string; peers: Array<{ id: string; state: string }> };
    const ring = new HashRing(
      view.peers.filter((p) => p.state === 'alive' || p.state === 'suspect').map((p) => p.id),
      { vnodes: view.vnodes, replicas: view.replicas },
    );
    if (ring.checksum !== view.checksum) throw new Error(`ring checksum ${ring.checksum} differs from the peer's ${view.checksum}`);
    const localKeys = entries.map((e) => e.key).filter((key) => ring.primary(key) === view.self);
    const forwardedKeys = entries.map((e) => e.key).filter((key) => ring.primary(key) !== view.self);
    const bareKeys = entries.map((e) => e.key);

    const kinds = [
      { name: 'local' as const, client: peerClient, keys: localKeys, samples: [] as number[], errors: 0 },
      { name: 'forwarded' as const, client: peerClient, keys: forwardedKeys, samples: [] as number[], errors: 0 },
      { name: 'bare' as const, client: bareClient, keys: bareKeys, samples: [] as number[], errors: 0 },
    ];
    const forwardsBefore = statAt(await peers[0]!.client.stats(), 'coordinator', 'forwarded');
    progress(`latency: ${localKeys.length} local / ${forwardedKeys.length} forwarded keys on ${view.self}; warm-up ${SETTINGS.latencyWarmup} per kind`);
    const round = async (i: number, record: boolean): Promise<void> => {
      for (const kind of shuffle(kinds)) {
        const key = kind.keys[i % kind.keys.length]!;
        try {
          const { reply, micros } = await kind.client.request('get', { key });
          if (reply.ok !== true || reply.found !== true) kind.errors++;
          else if (record) kind.samples.push(micros);
        } catch {
          kind.errors++;
        }
      }
    };
    const warmupUntil = performance.now() + SETTINGS.latencyBudgetMs;
    let warmupRounds = 0;
    while (warmupRounds < SETTINGS.latencyWarmup && performance.now() < warmupUntil) {
      throwIfInterrupted();
      await round(warmupRounds, false);
      warmupRounds++;
    }
    progress(`latency: measuring ${SETTINGS.latencyGets} gets per kind (bounded by ${SETTINGS.latencyBudgetMs / 1000} s)`);
    const until = performance.now() + SETTINGS.latencyBudgetMs;
    let rounds = 0;
    while (rounds < SETTINGS.latencyGets && performance.now() < until) {
      throwIfInterrupted();
      await round(SETTINGS.latencyWarmup + rounds, true);
      rounds++;
    }
    const forwardsCounted = statAt(await peers[0]!.client.stats(), 'coordinator', 'forwarded') - forwardsBefore;
    const describe = (kind: (typeof kinds)[number]): LatencyKind => {
      const sorted = ascending(kind.samples);
      return {
        count: sorted.length,
        p50: percentile(sorted, 50),
        p90: percentile(sorted, 90),
        p99: percentile(sorted, 99),
        p999: percentile(sorted, 99.9),
        max: sorted[sorted.length - 1] ?? Number.NaN,
        mean: sorted.reduce((sum, x) => sum + x, 0) / Math.max(1, sorted.length),
        over1ms: sorted.filter((x) => x > 1000).length,
        over10ms: sorted.filter((x) => x > 10_000).length,
        errors: kind.errors,
      };
    };
    return {
      keys: entries.length,
      localKeys: localKeys.length,
      forwardedKeys: forwardedKeys.length,
      rounds,
      stoppedByTime: rounds < SETTINGS.latencyGets,
      local: describe(kinds[0]!),
      forwarded: describe(kinds[1]!),
      bare: describe(kinds[2]!),
      forwardsCounted,
      forwardsExpected: warmupRounds + rounds,
    };
  } finally {
    for (const raw of raws) raw.close();
    await stopPeers(peers);
    if (bare) await processes.stop(bare, 'SIGTERM');
  }
}

// --- report ---------------------------------------------------------------------------------

interface Results {
  detection?: DetectionResult;
  movement?: MovementResult;
  rebalance?: RebalanceResult;
  balance?: BalanceResult;
  latency?: LatencyResult;
}

type Row = [section: string, figure: string, measured: string, baseline: string, ratio: string];

function tableRows(r: Results, errors: Record<string, string>): Row[] {
  const rows: Row[] = [];
  const failed = (section: string, name: string): void => {
    if (errors[name]) rows.push([section, `${name}: FAILED`, errors[name]!.split('\n')[0]!.slice(0, 160), '', '']);
  };
  const d = r.detection;
  if (d) {
    const n = d.trials.length;
    rows.push([
      '1',
      `Time until every survivor reported the killed peer suspect (min / median / max, ${n} trials)`,
      `${fmt.ms(d.suspect.min)} / ${fmt.ms(d.suspect.median)} / ${fmt.ms(d.suspect.max)}`,
      `one probe interval: ${d.probeIntervalMs} ms`,
      `${fmt.ratio(d.suspect.median / d.probeIntervalMs)} (max ${fmt.ratio(d.suspect.max / d.probeIntervalMs)})`,
    ]);
    rows.push([
      '1',
      `Time until every survivor reported it dead (min / median / max, ${n} trials)`,
      `${fmt.ms(d.dead.min)} / ${fmt.ms(d.dead.median)} / ${fmt.ms(d.dead.max)}`,
      `suspicionTimeoutMs(3) ${d.suspicionTimeoutMs} + probe interval ${d.probeIntervalMs} = ${d.formulaMs} ms`,
      `${fmt.ratio(d.dead.median / d.formulaMs)} (min ${fmt.ratio(d.dead.min / d.formulaMs)}, max ${fmt.ratio(d.dead.max / d.formulaMs)})`,
    ]);
  } else failed('1', 'detection');
  const m = r.movement;
  if (m) {
    rows.push([
      '2a',
      `Keys whose primary moved, 3 -> 4 peers (median / max over ${m.idSets} id sets, ${fmt.int(m.keys)} keys, vnodes ${m.vnodes})`,
      `${fmt.pct(m.primaryMoved.median, 2)} / ${fmt.pct(m.primaryMoved.max, 2)}`,
      'ideal 1/4 = 25%',
      `${fmt.ratio(m.primaryMoved.median / 0.25)} / ${fmt.ratio(m.primaryMoved.max / 0.25)}`,
    ]);
    rows.push([
      '2a',
      `Keys whose preference list changed at all, replicas ${m.replicas} (median / max)`,
      `${fmt.pct(m.listChanged.median, 2)} / ${fmt.pct(m.listChanged.max, 2)}`,
      `ideal ${m.replicas}/4 = ${fmt.pct(m.replicas / 4, 0)} (the newcomer enters that many lists)`,
      `${fmt.ratio(m.listChanged.median / (m.replicas / 4))} / ${fmt.ratio(m.listChanged.max / (m.replicas / 4))}`,
    ]);
    rows.push([
      '2a',
      'Primaries moved vs the newcomer\'s actual ownership (worst set); primaries moved to another old peer',
      `${fmt.pct(m.worstMovedVsShare, 2)} off; ${m.movedNotToNewcomer} keys`,
      'minimal movement: moved = newcomer\'s share; 0 keys',
      fmt.ratio(1 + m.worstMovedVsShare),
    ]);
  } else failed('2a', 'movement');
  const b = r.rebalance;
  if (b) {
    const copies = 2 * b.keys;
    rows.push([
      '2b',
      `Rebalance entries sent / (2 x ${fmt.int(b.keys)}) when a 4th peer joins`,
      `${fmt.pct(b.entriesSent / copies)} (${fmt.int(b.entriesSent)} entries)`,
      `ideal 1/4 = 25%; minimum for these ids ${fmt.pct(b.predictedNewcomerCopies / copies)} (${fmt.int(b.predictedNewcomerCopies)} copies)`,
      `${fmt.ratio(b.entriesSent / copies / 0.25)} vs ideal, ${fmt.ratio(b.entriesSent / b.predictedNewcomerCopies)} vs minimum`,
    ]);
    rows.push([
      '2b',
      '4th peer\'s share of the copies after the rebalance',
      `${fmt.pct(b.newcomerKeys / b.copiesAfter)} (${fmt.int(b.newcomerKeys)} of ${fmt.int(b.copiesAfter)})`,
      `ideal 1/4; ring for these ids ${fmt.pct(b.predictedNewcomerCopies / copies)}`,
      `${fmt.ratio(b.newcomerKeys / b.copiesAfter / 0.25)} vs ideal, ${fmt.ratio(b.newcomerKeys / b.predictedNewcomerCopies)} vs ring`,
    ]);
    rows.push([
      '2b',
      'Rebalance wall time: spawn of the 4th peer -> last change seen (polled every 100 ms)',
      `${fmt.ms(b.rebalanceMs)} (${fmt.ms(b.rebalanceMs - b.joinReadyMs)} after its listening line)`,
      `loading the ${fmt.int(b.keys)} keys: ${fmt.ms(b.loadMs)}`,
      fmt.ratio(b.rebalanceMs / b.loadMs),
    ]);
  } else failed('2b', 'rebalance');
  const bal = r.balance;
  if (bal) {
    rows.push([
      '3',
      `Ownership deviation from 1/3, 3 peers, vnodes ${bal.vnodes} (median / p99 / max of ${bal.idSets * 3} shares, ${bal.idSets} id sets)`,
      `${fmt.pct(bal.deviation.median, 2)} / ${fmt.pct(bal.deviation.p99, 2)} / ${fmt.pct(bal.deviation.max, 2)}`,
      `documented spread 0.82/sqrt(${bal.vnodes}) = ${fmt.pct(bal.documentedSpread, 2)}; measured ${fmt.pct(bal.spread, 2)}`,
      `${fmt.ratio(bal.spread / bal.documentedSpread)} (spread); max ${fmt.ratio(bal.deviation.max / bal.documentedSpread)} x spread`,
    ]);
  } else failed('3', 'balance');
  const l = r.latency;
  if (l) {
    rows.push([
      '4',
      `Local get, C=1 P=1 (p50 / p99, ${fmt.int(l.local.count)} gets)`,
      `${fmt.us(l.local.p50)} / ${fmt.us(l.local.p99)}`,
      `bare ws server: ${fmt.us(l.bare.p50)} / ${fmt.us(l.bare.p99)}`,
      `${fmt.ratio(l.local.p50 / l.bare.p50)} / ${fmt.ratio(l.local.p99 / l.bare.p99)} (local/bare)`,
    ]);
    rows.push([
      '4',
      `Forwarded get (p50 / p99, ${fmt.int(l.forwarded.count)} gets)`,
      `${fmt.us(l.forwarded.p50)} / ${fmt.us(l.forwarded.p99)}`,
      `local get: ${fmt.us(l.local.p50)} / ${fmt.us(l.local.p99)}`,
      `${fmt.ratio(l.forwarded.p50 / l.local.p50)} / ${fmt.ratio(l.forwarded.p99 / l.local.p99)} (forwarded/local)`,
    ]);
    rows.push([
      '4',
      `Bare ws get, child process (p50 / p99, ${fmt.int(l.bare.count)} gets)`,
      `${fmt.us(l.bare.p50)} / ${fmt.us(l.bare.p99)}`,
      'itself',
      '1.00',
    ]);
  } else failed('4', 'latency');
  return rows;
}

function markdownTable(rows: readonly Row[]): string {
  const head = '| # | Figure | Measured | Baseline / ideal (same run) | Ratio |\n|---|---|---|---|---|';
  return [head, ...rows.map((row) => `| ${row.map((cell) => cell.replace(/\|/g, '\\|')).join(' | ')} |`)].join('\n');
}

/** Observations worth a closer look, derived from the figures (not from expectations about the code). */
function observations(r: Results): string[] {
  const notes: string[] = [];
  const d = r.detection;
  if (d) {
    if (d.trials.some((t) => t.timedOut)) notes.push(`Detection: ${d.trials.filter((t) => t.timedOut).length} trial(s) did not see every survivor report dead within ${SETTINGS.detectionDeadlineMs} ms.`);
    if (d.dead.max / d.formulaMs > 1.2) notes.push(`Detection: the slowest time-to-dead (${fmt.ms(d.dead.max)}) is ${fmt.ratio(d.dead.max / d.formulaMs)}x the formula (${d.formulaMs} ms).`);
    if (d.dead.min / d.formulaMs < 0.9) notes.push(`Detection: the fastest time-to-dead (${fmt.ms(d.dead.min)}) is below the formula (${d.formulaMs} ms): some survivor declared death before its own suspicion timer could have run.`);
    const skipped = d.trials.flatMap((t) => Object.entries(t.survivors).filter(([, s]) => s.skippedSuspect).map(([id]) => `${id} (victim ${t.victim})`));
    if (skipped.length > 0) notes.push(`Detection: survivor(s) reported dead without a suspect event first: ${skipped.join(', ')} (they learnt the death by gossip; counted at their dead time for time-to-suspect).`);
    const spread = d.trials.map((t) => Math.max(...Object.values(t.survivors).map((s) => s.deadMs ?? 0)) - Math.min(...Object.values(t.survivors).map((s) => s.deadMs ?? 0)));
    for (const [i, t] of d.trials.entries()) {
      if (t.rejoinMs <= 2000) continue;
      const last = t.rejoinTimeline[t.rejoinTimeline.length - 1];
      notes.push(
        `Detection: trial ${i + 1}: the restarted ${t.victim} (bootstrap ${t.bootstrap}) printed its listening line ${fmt.ms(t.readyMs)} after spawn ` +
          `and the three peers were alive and fully linked ${fmt.ms(t.rejoinMs)} after spawn; ` +
          `${last ? `the last condition waited on, from ${fmt.ms(last.atMs)} after it was ready: "${last.waitingFor}"` : 'no unmet condition recorded'}.`,
      );
    }
    notes.push(`Detection: rejoin of the restarted peer (spawn -> all three alive and linked) min/median/max ${fmt.ms(d.rejoin.min)} / ${fmt.ms(d.rejoin.median)} / ${fmt.ms(d.rejoin.max)}; gap between the two survivors' dead events median ${fmt.ms(median(spread))}.`);
  }
  const m = r.movement;
  if (m && m.movedNotToNewcomer > 0) notes.push(`Ring: ${m.movedNotToNewcomer} primaries moved to a peer other than the newcomer (consistent hashing should move none).`);
  const b = r.rebalance;
  if (b) {
    const factor = b.entriesSent / b.predictedNewcomerCopies;
    if (factor > 1.05) {
      notes.push(
        `Rebalance: ${fmt.int(b.entriesSent)} entries sent for ${fmt.int(b.predictedNewcomerCopies)} copies the newcomer needed (${fmt.ratio(factor)}x the minimum): ` +
          'more than one holder sends some keys.',
      );
    }
    if (b.newcomerKeys !== b.predictedNewcomerCopies) notes.push(`Rebalance: the newcomer holds ${fmt.int(b.newcomerKeys)} keys, the ring says it owns ${fmt.int(b.predictedNewcomerCopies)}.`);
    if (b.copiesAfter !== 2 * b.keys) notes.push(`Rebalance: ${fmt.int(b.copiesAfter)} copies in the cluster afterwards, expected ${fmt.int(2 * b.keys)} (${b.copiesAfter > 2 * b.keys ? 'unowned copies were not dropped' : 'copies were lost'}).`);
    if (b.copiesBefore !== 2 * b.keys) notes.push(`Rebalance: ${fmt.int(b.copiesBefore)} copies after loading ${fmt.int(b.keys)} keys, expected ${fmt.int(2 * b.keys)}.`);
    if (b.failedBatches > 0) notes.push(`Rebalance: ${b.failedBatches} failed batch(es).`);
    if (b.sampleMissing > 0) notes.push(`Rebalance: ${b.sampleMissing} of ${b.sampleChecked} sampled keys were not found through the newcomer.`);
    notes.push(`Rebalance: ${b.passes} pass(es) over the 4 peers, ${fmt.int(b.entriesDropped)} entries dropped by old holders; keys per peer afterwards ${JSON.stringify(b.perPeerKeysAfter)}.`);
  }
  const l = r.latency;
  if (l) {
    if (l.local.errors + l.forwarded.errors + l.bare.errors > 0) notes.push(`Latency: errors or misses: local ${l.local.errors}, forwarded ${l.forwarded.errors}, bare ${l.bare.errors}.`);
    if (l.stoppedByTime) notes.push(`Latency: stopped by the ${SETTINGS.latencyBudgetMs / 1000} s bound after ${l.rounds} rounds.`);
    if (l.forwardsCounted !== l.forwardsExpected) notes.push(`Latency: the entry peer counted ${l.forwardsCounted} forwards, the key split predicts ${l.forwardsExpected}.`);
  }
  // Warnings and errors the peers logged, besides suspect/dead about the peer section 1 killed.
  const unexpected = peerLogs.filter((line) => !line.expected);
  if (d) {
    // A restarted peer suspected right after it rejoined: a false suspicion of a live process.
    const hits = d.trials.filter((t) =>
      unexpected.some((line) => line.msg === 'member suspect' && line.fields?.member === t.victim && line.atS >= t.replacementSpawnedAtS && line.atS <= t.replacementSpawnedAtS + 2),
    );
    if (hits.length > 0) {
      const delays = hits.map((t) => {
        const first = unexpected.find((line) => line.msg === 'member suspect' && line.fields?.member === t.victim && line.atS >= t.replacementSpawnedAtS)!;
        return Math.round((first.atS - t.replacementSpawnedAtS) * 1000);
      });
      notes.push(
        `Detection: the restarted peer (new process, same id) was itself suspected by survivors in ${hits.length} of ${d.trials.length} trials, ` +
          `${delays.join(' / ')} ms after it was spawned, and refuted it (see the peer logs below).`,
      );
    }
  }
  const groups = new Map<string, string[]>();
  for (const line of unexpected) {
    const key = `${line.section}: ${line.level >= 50 ? 'error' : 'warn'} "${line.msg}"`;
    const about = typeof line.fields?.member === 'string' ? ` about ${line.fields.member}` : '';
    groups.set(key, [...(groups.get(key) ?? []), `${line.peer}${about} at ${line.atS.toFixed(2)} s`]);
  }
  for (const [key, where] of groups) notes.push(`Peer logs: ${key} x ${where.length} (${where.join(', ')}).`);
  return notes;
}


// --- main -----------------------------------------------------------------------------------

/** A section of this run; it also tells the interrupt handler which section was running. */
function section<T>(name: string, label: string, body: () => T | Promise<T>, errors: Record<string, string>): Promise<T | undefined> {
  if (!interrupted) currentSection = name;
  return runSection(name, body, errors, { label, interrupted: () => interrupted !== undefined });
}

async function main(): Promise<number> {
  const startedAt = new Date();
  progress(`cluster figures (${QUICK ? 'quick' : 'full'} mode), node ${process.version}, ${os.cpus().length} CPUs`);
  const errors: Record<string, string> = {};
  const results: Results = {};
  results.detection = await section('detection', '1. failure detection at default settings', failureDetection, errors);
  results.movement = await section('movement', '2a. keys moved on the ring, 3 -> 4 peers', ringMovement, errors);
  results.rebalance = await section('rebalance', '2b. rebalance on a real cluster, 3 -> 4 peers', rebalance, errors);
  results.balance = await section('balance', '3. balance of ownership', balance, errors);
  results.latency = await section('latency', '4. local vs forwarded get latency', latency, errors);
  await cleanup();
  if (interrupted) return 130;

  const rows = tableRows(results, errors);
  const table = markdownTable(rows);
  const notes = observations(results);
  const meta = {
    ...runMeta(QUICK, startedAt),
    settings: SETTINGS,
    peerDefaults: { probeIntervalMs: DEFAULTS.probeIntervalMs, probeTimeoutMs: DEFAULTS.probeTimeoutMs, suspicionMult: DEFAULTS.suspicionMult, suspicionMinMs: DEFAULTS.suspicionMinMs, vnodes: DEFAULTS.vnodes, replicas: DEFAULTS.replicas },
  };
  const markdown = [
    '# ringcache cluster figures',
    '',
    `${meta.mode} run of \`node dist/bench/cluster-figures.js${QUICK ? ' --quick' : ''}\` on ${meta.startedAt}, commit ${meta.commit ?? 'unknown'}` +
      `${meta.uncommitted.length > 0 ? ` plus uncommitted changes to ${meta.uncommitted.join(', ')}` : ''}, ` +
      `node ${meta.node}, ${meta.cpus} x ${meta.cpuModel ?? 'CPU'}, ${meta.durationS} s. Peers at default settings on 127.0.0.1; ratios against baselines measured in the same run.`,
    '',
    table,
    '',
    ...(notes.length > 0 ? ['Observations:', '', ...notes.map((note) => `- ${note}`), ''] : []),
  ].join('\n');

  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(`${RESULTS_DIR}cluster-figures.json`, `${JSON.stringify({ meta, errors, results, notes, peerLogs }, null, 2)}\n`);
  await writeFile(`${RESULTS_DIR}cluster-figures.md`, markdown);
  process.stdout.write(`${table}\n`);
  if (notes.length > 0) process.stdout.write(`\n${notes.map((note) => `- ${note}`).join('\n')}\n`);
  progress(`wrote bench/results/cluster-figures.json and .md`);
  return Object.keys(errors).length > 0 ? 1 : 0;
}

runMain(main, () => cleanup());
