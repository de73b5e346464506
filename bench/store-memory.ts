/**
 * Memory figures of the local store (issue 4), each against a baseline measured in the same run:
 *
 * 1. Per-entry overhead: growth of `heapUsed` + `arrayBuffers` (typed arrays live outside the
 *    heap; after full GCs) divided by N, for N = 200,000 and
 *    1,000,000 entries with 16-character keys and 100-character values, of a plain
 *    `Map<string, string>` (the baseline), `lru-cache` and `createStore` with each policy. The
 *    key and value strings exist before the measurement starts, so the figure is what the
 *    structure itself adds per entry; the store's own charge (`bytes / size`) is set beside the
 *    measured total (overhead + the strings' heap size) to show whether it is an upper bound.
 * 2. Budget of a real peer: `ringcache peer --max-memory 64mb` filled through a raw `ws` client
 *    (pipelined `set` frames, a bounded window in flight) with ten times its budget, as the store
 *    charges entries; at start, 1x, 5x and 10x, the peer's `stats` (store bytes, maxBytes,
 *    entries, evictions) and its RSS (/proc/<pid>/status VmRSS). Checks: store.bytes <= maxBytes
 *    every time, and what the peer keeps stops growing: the smallest heapUsed sampled every
 *    250 ms while writing from 5x to 10x exceeds the smallest from 1x to 5x by under a quarter of
 *    the budget. (A single RSS or heapUsed reading mostly tells when V8 last collected: the RSS
 *    growth from 5x to 10x measured -66, -9.5, +67 and +119 MB in four runs of builds that hold
 *    the same data.)
 * 3. Active expiry: 1,000,000 keys expiring at the same ms in a `LocalStore` (the peer's store)
 *    with the peer's default sweeper settings, and in a `createStore` store when it has a
 *    sweeper: event-loop delay (perf_hooks monitorEventLoopDelay, 1 ms resolution) p99 and max
 *    while the sweeper reclaims them, against the same store idle with the sweeper on, the
 *    duration of each sweep slice (LocalStore: its sweepExpired wrapped), and the time until the
 *    store is empty.
 *
 * 4. Growth: an empty `LocalStore` written with 4.2 million entries (1.1 million in quick
 *    mode) in turns of the peer's turn budget (`setImmediate` between turns, as a peer's event
 *    loop runs), each entry with a 100-character value string of its own (as values parsed off
 *    the wire are), against a plain `Map` written the same way: the longest single write, writes
 *    over 10 ms, and the longest gap between two turns (a GC that fell between them). The store's
 *    per-slot columns are paged, so adding slots copies nothing; the `Map`'s rehash at each
 *    power of two is what V8 itself costs.
 *
 * Every loop is bounded in count and time; the peer process is killed on every exit path.
 *
 * Run: `npm run bench:memory [-- --quick]` (node --expose-gc). Progress on stderr, the markdown
 * tables on stdout, JSON and markdown in bench/results/store-memory.{json,md}.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';
import WebSocket from 'ws';
import { defaultPeerConfig } from '../src/config.js';
import { LocalStore } from '../src/store/local-store.js';
import { loadStoreUnderTest, type BenchStore, type StoreUnderTest } from './store-under-test.js';
import { progress, runMain, runMeta, runSection, sleep, statAt, withTimeout } from './bench-run.js';

// --- settings -------------------------------------------------------------------------------

/** 1-minute load average when the run started: the timings are only as good as the machine was quiet. */
const LOAD_AT_START = os.loadavg()[0].toFixed(1);
const QUICK = process.argv.includes('--quick');

const SETTINGS = {
  /** Section 1: entry counts. */
  overheadCounts: QUICK ? [200_000] : [200_000, 1_000_000],
  keyChars: 16,
  valueChars: 100,
  /** Section 2: the peer's budget, the multiple of it written, and the bounds of the fill. */
  peerMaxMemory: '64mb',
  peerBudgetBytes: 64 * 1024 * 1024,
  fillMultiple: QUICK ? 3 : 10,
  checkpoints: QUICK ? [1, 3] : [1, 5, 10],
  window: 256,
  fillBudgetMs: QUICK ? 45_000 : 180_000,
  /** Section 2: the peer's smallest heapUsed may grow at most this share of the budget between the last two checkpoints. */
  plateauShare: 0.25,
  /** Section 2: how often the peer's heapUsed is sampled while writing, ms. */
  heapSampleMs: 250,
  /** Section 3: keys expiring at the same ms, idle baseline, and bound of the reclaim. */
  expiringKeys: QUICK ? 200_000 : 1_000_000,
  idleBaselineMs: 1000,
  reclaimBudgetMs: 60_000,
  /**
   * Section 4: entries written into an empty store, past a power of two (where a V8 `Map`
   * rehashes and flat slot arrays would double), in turns of the peer's default turn budget.
   */
  growthEntries: QUICK ? 1_100_000 : 4_200_000,
  growthBudgetMs: 120_000,
} as const;

const CLI = fileURLToPath(new URL('../cli/ringcache.js', import.meta.url));
const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));
const DEFAULTS = defaultPeerConfig();
const MB = 1024 * 1024;

// --- helpers --------------------------------------------------------------------------------





const gcFn = (globalThis as { gc?: () => void }).gc;

/**
 * Full GCs until the heap settles (at most 5).
 * @returns heapUsed plus arrayBuffers: typed arrays (lru-cache's links, a store's slot lists)
 *   keep their contents outside the V8 heap, and an entry's cost includes them
 */
function fullGc(): number {
  if (!gcFn) throw new Error('run with node --expose-gc (npm run bench:memory does)');
  const used = (): number => {
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  let last = Infinity;
  for (let i = 0; i < 5; i++) {
    gcFn();
    const now = used();
    if (Math.abs(now - last) < 64 * 1024) return now;
    last = now;
  }
  return used();
}

/** A flat (sequential) copy of `s`: concatenation makes cons strings, which would skew sizes. */
function flat(s: string): string {
  return Buffer.from(s, 'latin1').toString('latin1');
}

/** Heap size of a one-byte sequential string on 64-bit V8: 16-byte header, rounded up to 8. */
function seqStringBytes(chars: number): number {
  return Math.ceil((16 + chars) / 8) * 8;
}

const fmt = {
  int: (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a'),
  mb: (x: number): string => (Number.isFinite(x) ? `${(x / MB).toFixed(1)} MB` : 'n/a'),
  ratio: (x: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}x` : 'n/a'),
  ms: (x: number): string => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : 'n/a'),
};

// --- 1. per-entry overhead ------------------------------------------------------------------

interface OverheadRow {
  structure: string;
  entries: number;
  /** heapUsed growth / entries, bytes. */
  overheadBytes: number;
  ratioToMap: number;
  /** The store's own charge, bytes / size (createStore only). */
  chargedBytes?: number;
  /** chargedBytes / (overhead + key and value strings): >= 1 means the charge is an upper bound. */
  chargeCoverage?: number;
  error?: string;
}

interface Filler {
  name: string;
  /** Builds the structure with `n` entries; returns it (kept alive until measured) and its charge. */
  fill: (keys: readonly string[], values: readonly string[], n: number) => { held: unknown; charged?: number };
}

function fillers(store: StoreUnderTest): Filler[] {
  const out: Filler[] = [
    {
      name: 'Map<string, string>',
      fill: (keys, values, n) => {
        const map = new Map<string, string>();
        for (let i = 0; i < n; i++) map.set(keys[i]!, values[i]!);
        return { held: map };
      },
    },
    {
      name: 'lru-cache 11',
      fill: (keys, values, n) => {
        const cache = new LRUCache<string, string>({ max: n });
        for (let i = 0; i < n; i++) cache.set(keys[i]!, values[i]!);
        return { held: cache };
      },
    },
  ];
  const create = store.createStore;
  if (create) {
    for (const policy of store.policies) {
      out.push({
        name: `createStore ${policy}`,
        fill: (keys, values, n) => {
          const s = create({ policy, maxEntries: n });
          for (let i = 0; i < n; i++) s.set(keys[i]!, values[i]!);
          if (s.size !== n) throw new Error(`holds ${s.size} of ${n} entries after the fill`);
          return { held: s, charged: s.bytes / n };
        },
      });
    }
  }
  return out;
}

/**
 * One measurement in a frame of its own: a structure left in a caller's (interpreter) register
 * would stay reachable and be counted in the next measurement's baseline.
 */
function measureOne(f: Filler, keys: readonly string[], values: readonly string[], n: number): { overheadBytes: number; charged: number | undefined } {
  const before = fullGc();
  let built: ReturnType<Filler['fill']> | undefined = f.fill(keys, values, n);
  const after = fullGc();
  const charged = built.charged;
  if (built.held === undefined) throw new Error('nothing built');
  built = undefined;
  return { overheadBytes: (after - before) / n, charged };
}

function perEntryOverhead(store: StoreUnderTest): OverheadRow[] {
  const maxN = Math.max(...SETTINGS.overheadCounts);
  const keys: string[] = new Array(maxN);
  const values: string[] = new Array(maxN);
  const filler = 'x'.repeat(SETTINGS.valueChars);
  for (let i = 0; i < maxN; i++) {
    keys[i] = flat(`k${i.toString(36).padStart(SETTINGS.keyChars - 1, '0')}`);
    const stamp = `v${i}:`;
    values[i] = flat(stamp + filler.slice(stamp.length));
  }
  const stringBytes = seqStringBytes(SETTINGS.keyChars) + seqStringBytes(SETTINGS.valueChars);
  const rows: OverheadRow[] = [];
  for (const n of SETTINGS.overheadCounts) {
    let mapOverhead = NaN;
    for (const f of fillers(store)) {
      try {
        const { overheadBytes, charged } = measureOne(f, keys, values, n);
        if (f.name.startsWith('Map')) mapOverhead = overheadBytes;
        const row: OverheadRow = { structure: f.name, entries: n, overheadBytes, ratioToMap: overheadBytes / mapOverhead };
        if (charged !== undefined) {
          row.chargedBytes = charged;
          row.chargeCoverage = charged / (overheadBytes + stringBytes);
        }
        rows.push(row);
        progress(`  ${f.name} @ ${fmt.int(n)}: ${overheadBytes.toFixed(1)} bytes/entry${row.chargedBytes !== undefined ? `, charged ${row.chargedBytes.toFixed(0)}` : ''}`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        progress(`  ${f.name} @ ${fmt.int(n)}: FAILED: ${message}`);
        rows.push({ structure: f.name, entries: n, overheadBytes: NaN, ratioToMap: NaN, error: message });
      }
    }
  }
  return rows;
}

// --- 2. a real peer filled with ten times its budget -----------------------------------------

let peerChild: ChildProcess | undefined;
let peerSocket: WebSocket | undefined;
let interrupted: string | undefined;

function killPeerNow(): void {
  peerSocket?.terminate();
  if (peerChild && peerChild.exitCode === null && peerChild.signalCode === null) peerChild.kill('SIGKILL');
}

process.on('exit', killPeerNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupted = signal;
    progress(`${signal}: stopping the peer started by this run`);
    killPeerNow();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
}

function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** Pipelined JSON requests over one raw socket; replies matched by id. */
class PipelinedClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (reply: Record<string, unknown>) => void; reject: (error: Error) => void }>();

  constructor(private readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const reply = JSON.parse(String(data)) as Record<string, unknown>;
      const waiter = typeof reply.id === 'number' ? this.pending.get(reply.id) : undefined;
      if (!waiter) return;
      this.pending.delete(reply.id as number);
      waiter.resolve(reply);
    });
    socket.on('close', () => {
      for (const waiter of this.pending.values()) waiter.reject(new Error('socket closed'));
      this.pending.clear();
    });
    socket.on('error', () => undefined);
  }

  static async connect(url: string): Promise<PipelinedClient> {
    const socket = new WebSocket(url, { perMessageDeflate: false });
    peerSocket = socket;
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      }),
      5000,
      `connect to ${url}`,
    );
    return new PipelinedClient(socket);
  }

  get inFlight(): number {
    return this.pending.size;
  }

  request(body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.socket.send(JSON.stringify({ id, ...body }));
    });
  }
}

interface PeerCheckpoint {
  label: string;
  /** Entries written so far, and their charge as the store counts it (estimated from its stats). */
  written: number;
  chargedWrittenBytes: number;
  payloadWrittenBytes: number;
  storeBytes: number;
  storeMaxBytes: number;
  storeEntries: number;
  evictions: number;
  rssBytes: number;
  rssGrowthBytes: number;
  rssGrowthToBudget: number;
  /** The peer's V8 heapUsed (its stats' process.heapUsedBytes): live data plus garbage not yet collected. NaN when not reported. */
  heapUsedBytes: number;
  /**
   * The smallest heapUsed sampled (every {@link SETTINGS.heapSampleMs}) since the previous point:
   * after each of the peer's full GCs heapUsed falls to about its live data, so the minimum over a
   * few seconds of writing tracks what the peer keeps, where one reading mostly tracks when V8
   * last collected. NaN when not reported.
   */
  minHeapUsedBytes: number;
  withinBudget: boolean;
  atS: number;
}

interface PeerResult {
  checkpoints: PeerCheckpoint[];
  chargePerEntry: number;
  targetEntries: number;
  written: number;
  errors: Record<string, number>;
  boundHit: boolean;
  fillMs: number;
  writesPerS: number;
  /**
   * Growth between the last two points of the smallest heapUsed sampled (the check), and of RSS
   * (reported: it depends on when V8 collects and returns pages).
   */
  plateau: { growthBytes: number; limitBytes: number; pass: boolean; rssGrowthBytes: number } | undefined;
  /** Largest RSS growth over start at any point, and as a multiple of the budget. */
  peakRssGrowthBytes: number;
  peakRssGrowthToBudget: number;
  pass: boolean;
}

async function startPeer(): Promise<{ url: string; child: ChildProcess }> {
  const args = [CLI, 'peer', '--host', '127.0.0.1', '--port', '0', '--max-memory', SETTINGS.peerMaxMemory, '--log-level', 'warn'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  peerChild = child;
  let tail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 40) tail = tail.slice(-20);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`peer not ready within 15 s; stderr:\n${tail.join('\n')}`)), 15_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`peer exited (${code ?? signal}) before it was ready; stderr:\n${tail.join('\n')}`));
    });
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      const match = /^ringcache peer (\S+) listening on (ws:\/\/\S+)$/.exec(line);
      if (match) resolve(match[2]!);
      else reject(new Error(`unexpected first stdout line: ${line}`));
    });
  });
  return { url, child };
}

async function stopPeer(): Promise<void> {
  peerSocket?.terminate();
  peerSocket = undefined;
  const child = peerChild;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await withTimeout(exited, 5000, 'peer exit').catch(() => {
    child.kill('SIGKILL');
  });
}

async function peerBudget(): Promise<PeerResult> {
  const { url, child } = await startPeer();
  progress(`  peer pid ${child.pid} listening on ${url}`);
  const client = await PipelinedClient.connect(url);
  const pid = child.pid!;
  const filler = 'x'.repeat(SETTINGS.valueChars);
  const keyOf = (i: number): string => `k${i.toString(36).padStart(SETTINGS.keyChars - 1, '0')}`;
  const valueOf = (i: number): string => {
    const stamp = `v${i}:`;
    return stamp + filler.slice(stamp.length);
  };
  const stats = async (): Promise<Record<string, unknown>> => {
    const reply = await withTimeout(client.request({ op: 'stats' }), 10_000, 'stats');
    if (reply.ok !== true) throw new Error(`stats failed: ${JSON.stringify(reply.error)}`);
    return reply.stats as Record<string, unknown>;
  };

  const errors: Record<string, number> = {};
  let written = 0;
  const fillStart = performance.now();
  /** Writes keys [written, upTo) with at most `window` in flight; false when the time bound hit. */
  const writeUpTo = async (upTo: number): Promise<boolean> => {
    const inFlight = new Set<Promise<void>>();
    while (written < upTo) {
      if (interrupted) throw new Error(`interrupted by ${interrupted}`);
      if (performance.now() - fillStart > SETTINGS.fillBudgetMs) break;
      const i = written++;
      const p: Promise<void> = client.request({ op: 'set', key: keyOf(i), value: valueOf(i) }).then(
        (reply) => {
          inFlight.delete(p);
          if (reply.ok !== true) {
            const code = String((reply.error as { code?: string } | undefined)?.code ?? 'unknown');
            errors[code] = (errors[code] ?? 0) + 1;
          }
        },
        (error: unknown) => {
          inFlight.delete(p);
          errors.socket = (errors.socket ?? 0) + 1;
          throw error;
        },
      );
      inFlight.add(p);
      if (inFlight.size >= SETTINGS.window) await Promise.race(inFlight);
    }
    await withTimeout(Promise.all(inFlight), 30_000, 'draining the write window');
    return written >= upTo;
  };

  const startStats = await stats();
  const rss0 = rssBytes(pid);
  // The smallest heapUsed since the last checkpoint, sampled in the background while writing.
  let segmentMinHeap = Infinity;
  let sampling = false;
  const noteHeap = (s: Record<string, unknown>): void => {
    const heap = statAt(s, 'process', 'heapUsedBytes');
    if (Number.isFinite(heap)) segmentMinHeap = Math.min(segmentMinHeap, heap);
  };
  const sampler = setInterval(() => {
    if (sampling) return;
    sampling = true;
    stats()
      .then(noteHeap, () => undefined)
      .finally(() => {
        sampling = false;
      });
  }, SETTINGS.heapSampleMs);
  sampler.unref();
  const maxBytes = statAt(startStats, 'store', 'maxBytes');
  const checkpoints: PeerCheckpoint[] = [];
  let chargePerEntry = NaN;
  const checkpoint = async (label: string): Promise<void> => {
    const s = await stats();
    const rss = rssBytes(pid);
    noteHeap(s);
    const minHeapUsedBytes = Number.isFinite(segmentMinHeap) ? segmentMinHeap : NaN;
    segmentMinHeap = Infinity;
    const storeBytes = statAt(s, 'store', 'bytes');
    checkpoints.push({
      label,
      written,
      chargedWrittenBytes: written * chargePerEntry,
      payloadWrittenBytes: written * (SETTINGS.keyChars + SETTINGS.valueChars),
      storeBytes,
      storeMaxBytes: statAt(s, 'store', 'maxBytes'),
      storeEntries: statAt(s, 'store', 'entries'),
      evictions: statAt(s, 'store', 'evictions'),
      rssBytes: rss,
      rssGrowthBytes: rss - rss0,
      rssGrowthToBudget: (rss - rss0) / SETTINGS.peerBudgetBytes,
      heapUsedBytes: statAt(s, 'process', 'heapUsedBytes'),
      minHeapUsedBytes,
      withinBudget: storeBytes <= statAt(s, 'store', 'maxBytes'),
      atS: (performance.now() - fillStart) / 1000,
    });
    const c = checkpoints[checkpoints.length - 1]!;
    progress(`  ${label}: ${fmt.int(written)} written, store ${fmt.mb(storeBytes)} of ${fmt.mb(c.storeMaxBytes)}, ${fmt.int(c.storeEntries)} entries, ${fmt.int(c.evictions)} evictions, RSS ${fmt.mb(rss)} (+${fmt.mb(rss - rss0)})`);
  };
  await checkpoint('start');

  // The store's charge per entry, from its own count after a first batch (no eviction yet).
  await writeUpTo(2000);
  const probe = await stats();
  chargePerEntry = statAt(probe, 'store', 'bytes') / statAt(probe, 'store', 'entries');
  const targetEntries = Math.ceil((SETTINGS.fillMultiple * maxBytes) / chargePerEntry);
  progress(`  store charges ${chargePerEntry.toFixed(0)} bytes/entry: ${fmt.int(targetEntries)} entries make ${SETTINGS.fillMultiple}x ${fmt.mb(maxBytes)}`);

  let boundHit = false;
  for (const multiple of SETTINGS.checkpoints) {
    const upTo = Math.ceil((multiple * maxBytes) / chargePerEntry);
    const reached = await writeUpTo(upTo);
    await checkpoint(reached ? `${multiple}x` : `${(written * chargePerEntry / maxBytes).toFixed(1)}x (time bound)`);
    if (!reached) {
      boundHit = true;
      break;
    }
  }
  const fillMs = performance.now() - fillStart;
  clearInterval(sampler);
  await stopPeer();

  const last = checkpoints[checkpoints.length - 1]!;
  const prev = checkpoints[checkpoints.length - 2];
  const limitBytes = SETTINGS.plateauShare * SETTINGS.peerBudgetBytes;
  const heapGrowth = last.minHeapUsedBytes - (prev?.minHeapUsedBytes ?? NaN);
  const plateau =
    prev && prev.label !== 'start'
      ? { growthBytes: heapGrowth, limitBytes, pass: heapGrowth <= limitBytes, rssGrowthBytes: last.rssBytes - prev.rssBytes }
      : undefined;
  const pass = checkpoints.every((c) => c.withinBudget) && (plateau?.pass ?? false) && !boundHit;
  const peakRssGrowthBytes = Math.max(...checkpoints.map((c) => c.rssGrowthBytes));
  return {
    checkpoints,
    chargePerEntry,
    targetEntries,
    written,
    errors,
    boundHit,
    fillMs,
    writesPerS: (written * 1000) / fillMs,
    plateau,
    peakRssGrowthBytes,
    peakRssGrowthToBudget: peakRssGrowthBytes / SETTINGS.peerBudgetBytes,
    pass,
  };
}

// --- 3. active expiry of a million keys at the same ms --------------------------------------

interface ExpiryResult {
  store: string;
  keys: number;
  sweeper: { intervalMs: number; budgetMs: number };
  idle: { p99Ms: number; maxMs: number };
  reclaim: { p99Ms: number; maxMs: number; reclaimMs: number; left: number };
  /** Sweep slices timed one by one, when the store lets its sweep call be wrapped. */
  slices?: { count: number; p99Ms: number; maxMs: number };
  fillMs: number;
}

/** The parts of a store the expiry measurement drives. */
interface ExpiringStore {
  fill(n: number, expiresAt: number): void;
  /** Durations (ms) of the sweep slices run so far, when known. */
  slices?: number[];
  readonly size: number;
  start(): void;
  stop(): void;
}

async function measureExpiry(name: string, make: (now: () => number) => ExpiringStore, n: number): Promise<ExpiryResult> {
  let clock = Date.now();
  const store = make(() => clock);
  const t0 = performance.now();
  store.fill(n, clock + 1000);
  const fillMs = performance.now() - t0;
  fullGc();
  store.start();
  try {
    const idleHist = monitorEventLoopDelay({ resolution: 1 });
    idleHist.enable();
    await sleep(SETTINGS.idleBaselineMs);
    idleHist.disable();

    const hist = monitorEventLoopDelay({ resolution: 1 });
    hist.enable();
    clock += 1000; // every key is due now
    const started = performance.now();
    while (store.size > 0 && performance.now() - started < SETTINGS.reclaimBudgetMs) await sleep(5);
    const reclaimMs = performance.now() - started;
    hist.disable();
    const ms = (ns: number): number => ns / 1e6;
    const slices = store.slices ? [...store.slices].sort((a, b) => a - b) : undefined;
    return {
      store: name,
      keys: n,
      sweeper: { intervalMs: DEFAULTS.expirySweepIntervalMs, budgetMs: DEFAULTS.expirySweepBudgetMs },
      idle: { p99Ms: ms(idleHist.percentile(99)), maxMs: ms(idleHist.max) },
      reclaim: { p99Ms: ms(hist.percentile(99)), maxMs: ms(hist.max), reclaimMs, left: store.size },
      ...(slices && slices.length > 0
        ? { slices: { count: slices.length, p99Ms: slices[Math.min(slices.length - 1, Math.ceil(0.99 * slices.length) - 1)]!, maxMs: slices[slices.length - 1]! } }
        : {}),
      fillMs,
    };
  } finally {
    store.stop();
  }
}

function localStoreExpiring(now: () => number): ExpiringStore {
  const store = new LocalStore({ maxBytes: 4 * 1024 * MB, tombstoneTtlMs: DEFAULTS.tombstoneTtlMs, now });
  // Time each slice the sweeper runs: it calls this.sweepExpired, which an own property shadows.
  const slices: number[] = [];
  const sweep = store.sweepExpired.bind(store);
  store.sweepExpired = (budgetMs: number, maxItems?: number): number => {
    const t0 = performance.now();
    const removed = sweep(budgetMs, maxItems);
    if (removed > 0) slices.push(performance.now() - t0);
    return removed;
  };
  return {
    slices,
    fill(n, expiresAt) {
      const wall = now();
      for (let i = 0; i < n; i++) store.apply(`e${i.toString(36).padStart(15, '0')}`, { value: '"x"', version: [wall, i, 'bench'], expiresAt });
    },
    get size() {
      return store.size;
    },
    start: () => store.startExpirySweeper({ intervalMs: DEFAULTS.expirySweepIntervalMs, budgetMs: DEFAULTS.expirySweepBudgetMs }),
    stop: () => store.stopExpirySweeper(),
  };
}

/**
 * createStore's store with its active expiry (`sweepIntervalMs`, `sweepBudgetMs`) at the peer's
 * defaults, each sweep slice timed as LocalStore's are; undefined when createStore has none.
 */
function createStoreExpiring(store: StoreUnderTest, policy: string): ((now: () => number) => ExpiringStore) | undefined {
  const create = store.createStore;
  if (!create) return undefined;
  const probe = create({ policy, maxEntries: 10, now: () => 0 }) as BenchStore & Record<string, unknown>;
  if (typeof probe.sweepExpired !== 'function' || typeof probe.close !== 'function') return undefined;
  return (now) => {
    const s = create({
      policy,
      maxEntries: 2 * SETTINGS.expiringKeys,
      now,
      sweepIntervalMs: DEFAULTS.expirySweepIntervalMs,
      sweepBudgetMs: DEFAULTS.expirySweepBudgetMs,
    }) as BenchStore & { sweepExpired(budgetMs: number): number; close(): void };
    const slices: number[] = [];
    const sweep = s.sweepExpired.bind(s);
    s.sweepExpired = (budgetMs: number): number => {
      const t0 = performance.now();
      const removed = sweep(budgetMs);
      if (removed > 0) slices.push(performance.now() - t0);
      return removed;
    };
    return {
      slices,
      fill(n, expiresAt) {
        const ttl = expiresAt - now();
        for (let i = 0; i < n; i++) s.set(`e${i.toString(36).padStart(15, '0')}`, 'x', ttl);
      },
      get size() {
        return s.size;
      },
      // The sweep runs from creation (its timer is unref'd); nothing is due before the clock moves.
      start: () => {},
      stop: () => s.close(),
    };
  };
}

// --- output ---------------------------------------------------------------------------------

function overheadTable(rows: readonly OverheadRow[]): string {
  const lines = [
    `| structure | entries | overhead bytes/entry | vs Map | store's charge bytes/entry | charge / (overhead + strings) |`,
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    if (r.error) {
      lines.push(`| ${r.structure} | ${fmt.int(r.entries)} | failed: ${r.error} | | | |`);
      continue;
    }
    lines.push(
      `| ${r.structure} | ${fmt.int(r.entries)} | ${r.overheadBytes.toFixed(1)} | ${fmt.ratio(r.ratioToMap)} | ${r.chargedBytes !== undefined ? r.chargedBytes.toFixed(0) : ''} | ${r.chargeCoverage !== undefined ? fmt.ratio(r.chargeCoverage) : ''} |`,
    );
  }
  return lines.join('\n');
}

function peerTable(p: PeerResult): string {
  const lines = [
    '| point | entries written | written (store charge) | store.bytes | store.maxBytes | entries held | evictions | bytes <= max | RSS | RSS growth | growth / 64 MB | peer heapUsed | smallest heapUsed since the last point |',
    '|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const c of p.checkpoints) {
    lines.push(
      `| ${c.label} | ${fmt.int(c.written)} | ${fmt.mb(c.chargedWrittenBytes || 0)} | ${fmt.mb(c.storeBytes)} | ${fmt.mb(c.storeMaxBytes)} | ${fmt.int(c.storeEntries)} | ${fmt.int(c.evictions)} | ${c.withinBudget ? 'yes' : 'NO'} | ${fmt.mb(c.rssBytes)} | ${fmt.mb(c.rssGrowthBytes)} | ${fmt.ratio(c.rssGrowthToBudget)} | ${Number.isFinite(c.heapUsedBytes) ? fmt.mb(c.heapUsedBytes) : 'n/a'} | ${Number.isFinite(c.minHeapUsedBytes) ? fmt.mb(c.minHeapUsedBytes) : 'n/a'} |`,
    );
  }
  const plateau = p.plateau
    ? `growth of the smallest heapUsed between the last two points ${fmt.mb(p.plateau.growthBytes)} (limit ${fmt.mb(p.plateau.limitBytes)}): ${p.plateau.pass ? 'PASS' : 'FAIL'}; ` +
      `RSS growth between them ${fmt.mb(p.plateau.rssGrowthBytes)} and peak RSS growth ${fmt.mb(p.peakRssGrowthBytes)} = ${fmt.ratio(p.peakRssGrowthToBudget)} the budget (reported: RSS follows when V8 collects)`
    : 'plateau not checked (fewer than two fill points)';
  const errors = Object.keys(p.errors).length > 0 ? `; error replies ${JSON.stringify(p.errors)}` : '';
  lines.push(
    '',
    `Store charge ${p.chargePerEntry.toFixed(0)} bytes/entry (16-char key, 100-char value); ${fmt.int(p.written)} of ${fmt.int(p.targetEntries)} entries written in ${(p.fillMs / 1000).toFixed(1)} s ` +
      `(${fmt.int(p.writesPerS)} sets/s, window ${SETTINGS.window})${p.boundHit ? `, STOPPED by the ${SETTINGS.fillBudgetMs / 1000} s bound` : ''}${errors}. ` +
      `store.bytes <= maxBytes at every point: ${p.checkpoints.every((c) => c.withinBudget) ? 'PASS' : 'FAIL'}. ${plateau}.`,
  );
  return lines.join('\n');
}

function expiryTable(rows: readonly ExpiryResult[]): string {
  const lines = [
    '| store | keys expiring at once | sweeper (interval / budget) | idle loop delay p99 / max | during reclaim p99 / max | sweep slices: count, p99 / max | time to reclaim | left |',
    '|---|---:|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.store} | ${fmt.int(r.keys)} | ${r.sweeper.intervalMs} / ${r.sweeper.budgetMs} ms | ${fmt.ms(r.idle.p99Ms)} / ${fmt.ms(r.idle.maxMs)} | ${fmt.ms(r.reclaim.p99Ms)} / ${fmt.ms(r.reclaim.maxMs)} | ${r.slices ? `${r.slices.count}, ${fmt.ms(r.slices.p99Ms)} / ${fmt.ms(r.slices.maxMs)}` : 'n/a'} | ${fmt.ms(r.reclaim.reclaimMs)} | ${fmt.int(r.reclaim.left)} |`,
    );
  }
  return lines.join('\n');
}

interface GrowthResult {
  store: string;
  entries: number;
  /** The longest single write, ms, and the entry count when it ran. */
  longestWriteMs: number;
  longestWriteAt: number;
  writesOver10Ms: number;
  /** The longest time between the end of one turn and the start of the next, ms. */
  longestGapMs: number;
  totalMs: number;
}

/**
 * Writes `n` new entries through `write` in turns of `turnMs` (a `setImmediate` between turns),
 * timing every write; stops early after {@link SETTINGS.growthBudgetMs}.
 */
async function measureGrowth(name: string, write: (key: string, value: string, i: number) => void, n: number, turnMs: number): Promise<GrowthResult> {
  progress(`  ${name}: ${fmt.int(n)} writes`);
  const filler = 'v'.repeat(SETTINGS.valueChars - 2 - SETTINGS.keyChars);
  const result: GrowthResult = { store: name, entries: 0, longestWriteMs: 0, longestWriteAt: 0, writesOver10Ms: 0, longestGapMs: 0, totalMs: 0 };
  const start = performance.now();
  let i = 0;
  let lastTurnEnd = performance.now();
  await new Promise<void>((resolve) => {
    const turn = (): void => {
      const turnStart = performance.now();
      result.longestGapMs = Math.max(result.longestGapMs, turnStart - lastTurnEnd);
      while (i < n && performance.now() - turnStart < turnMs) {
        const key = `g${i.toString(36).padStart(SETTINGS.keyChars - 1, '0')}`;
        // A value string of its own per entry (flat, as one parsed off the wire), made before the clock starts.
        const value = JSON.stringify(key + filler);
        const t = performance.now();
        write(key, value, i);
        const ms = performance.now() - t;
        if (ms > 10) result.writesOver10Ms += 1;
        if (ms > result.longestWriteMs) {
          result.longestWriteMs = ms;
          result.longestWriteAt = i;
        }
        i += 1;
      }
      lastTurnEnd = performance.now();
      if (i < n && lastTurnEnd - start < SETTINGS.growthBudgetMs && !interrupted) setImmediate(turn);
      else resolve();
    };
    setImmediate(turn);
  });
  result.entries = i;
  result.totalMs = performance.now() - start;
  return result;
}

/** Section 4: a LocalStore and a plain Map, each filled from empty (see the module comment). */
async function growthStalls(): Promise<GrowthResult[]> {
  const n = SETTINGS.growthEntries;
  const turnMs = DEFAULTS.turnBudgetMs;
  const rows: GrowthResult[] = [];
  {
    const map = new Map<string, string>();
    rows.push(await measureGrowth('Map<string, string> (baseline)', (key, value) => map.set(key, value), n, turnMs));
  }
  fullGc();
  {
    const store = new LocalStore({ maxBytes: 64 * 1024 * MB, tombstoneTtlMs: DEFAULTS.tombstoneTtlMs });
    const wall = Date.now();
    rows.push(await measureGrowth('LocalStore (peer store)', (key, value, i) => store.apply(key, { value, version: [wall, i, 'bench'], expiresAt: 0 }), n, turnMs));
  }
  fullGc();
  return rows;
}

function growthTable(rows: readonly GrowthResult[]): string {
  const map = rows.find((r) => r.store.startsWith('Map'));
  const lines = [
    '| store | entries written | longest write ms (at entry) | ÷ Map | writes > 10 ms | longest gap between turns ms | total s |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const ratio = map && map.longestWriteMs > 0 ? (r.longestWriteMs / map.longestWriteMs).toFixed(2) : 'n/a';
    lines.push(`| ${r.store} | ${fmt.int(r.entries)} | ${fmt.ms(r.longestWriteMs)} (${fmt.int(r.longestWriteAt)}) | ${ratio} | ${r.writesOver10Ms} | ${fmt.ms(r.longestGapMs)} | ${(r.totalMs / 1000).toFixed(1)} |`);
  }
  return lines.join('\n');
}

// --- main -----------------------------------------------------------------------------------

function section<T>(name: string, body: () => T | Promise<T>, errors: Record<string, string>): Promise<T | undefined> {
  return runSection(name, body, errors, { interrupted: () => interrupted !== undefined });
}

async function main(): Promise<number> {
  const startedAt = new Date();
  progress(`store memory (${QUICK ? 'quick' : 'full'} mode), node ${process.version}, ${os.cpus().length} CPUs`);
  fullGc(); // fails early without --expose-gc
  const store = await loadStoreUnderTest();
  progress(store.createStore ? `createStore from ${store.source}` : 'no createStore found: measuring Map, lru-cache and LocalStore only');
  const errors: Record<string, string> = {};

  const overhead = await section('1. per-entry overhead', () => perEntryOverhead(store), errors);
  const peer = await section('2. peer with --max-memory 64mb filled with 10x', peerBudget, errors);
  await stopPeer();
  const expiry = await section(
    '3. active expiry of keys expiring at the same ms',
    async () => {
      const rows: ExpiryResult[] = [];
      rows.push(await measureExpiry('LocalStore (peer store)', localStoreExpiring, SETTINGS.expiringKeys));
      fullGc();
      const policy = store.defaultPolicy?.name ?? 'lru';
      const make = createStoreExpiring(store, policy);
      if (make) rows.push(await measureExpiry(`createStore ${policy}`, make, SETTINGS.expiringKeys));
      else progress('  createStore has no startExpirySweeper: measured LocalStore only');
      return rows;
    },
    errors,
  );
  const growth = await section('4. growth of an empty store', growthStalls, errors);
  if (interrupted) return 130;

  const parts = [
    '## Per-entry overhead ((heapUsed + arrayBuffers) growth / N after GC; 16-char keys and 100-char values allocated beforehand)',
    '',
    overhead ? overheadTable(overhead) : `failed: ${errors['1. per-entry overhead']}`,
    '',
    `## Peer \`--max-memory ${SETTINGS.peerMaxMemory}\` filled with ${SETTINGS.fillMultiple}x its budget`,
    '',
    peer ? peerTable(peer) : `failed: ${errors['2. peer with --max-memory 64mb filled with 10x']}`,
    '',
    '## Active expiry (event-loop delay, 1 ms resolution)',
    '',
    expiry ? expiryTable(expiry) : `failed: ${errors['3. active expiry of keys expiring at the same ms']}`,
    '',
    `## Growth from empty (writes in turns of ${DEFAULTS.turnBudgetMs} ms, setImmediate between turns)`,
    '',
    growth ? growthTable(growth) : `failed: ${errors['4. growth of an empty store']}`,
  ];
  const text = parts.join('\n');
  const meta = {
    ...runMeta(QUICK, startedAt),
    settings: SETTINGS,
    createStoreFrom: store.createStore ? store.source : undefined,
    policies: store.policies,
    defaultPolicy: store.defaultPolicy,
  };
  const markdown = [
    '# ringcache store: memory and expiry',
    '',
    `${meta.mode} run of \`node --expose-gc dist/bench/store-memory.js${QUICK ? ' --quick' : ''}\` on ${meta.startedAt}, commit ${meta.commit ?? 'unknown'}` +
      `${meta.uncommitted.length > 0 ? ` plus uncommitted changes to ${meta.uncommitted.join(', ')}` : ''}, node ${meta.node}, ${meta.cpus} x ${meta.cpuModel ?? 'CPU'}, ${meta.durationS} s, load average ${LOAD_AT_START} at the start and ${os.loadavg()[0].toFixed(1)} at the end (other processes share the machine).`,
    '',
    text,
    '',
  ].join('\n');
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(`${RESULTS_DIR}store-memory.json`, `${JSON.stringify({ meta, errors, overhead, peer, expiry, growth }, null, 2)}\n`);
  await writeFile(`${RESULTS_DIR}store-memory.md`, markdown);
  process.stdout.write(`${text}\n`);
  progress('wrote bench/results/store-memory.json and .md');
  return Object.keys(errors).length > 0 ? 1 : 0;
}

runMain(main, () => stopPeer());
