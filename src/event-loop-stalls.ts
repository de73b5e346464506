/**
 * Event-loop stalls of this process, and where their time went.
 *
 * A stall is a tick of a {@link STALL_SAMPLE_INTERVAL_MS} timer that ran late. Late by d ms can
 * mean three different things, and an operator needs to know which:
 * - the main thread was running JavaScript or a GC pause for d ms: the process's own work;
 * - the thread was runnable but waiting for a CPU (the machine has more busy threads than
 *   cores): the neighbours' fault, not fixable in the process;
 * - the thread was blocked (sleeping) although the timer was due: a synchronous system call,
 *   or a parallel GC pause waiting for its helper threads.
 *
 * On Linux the split comes from the main thread's scheduler statistics,
 * `/proc/self/task/<pid>/schedstat` (run time and run-queue wait in ns, see the kernel's
 * Documentation/scheduler/sched-stats.rst), read at every tick with one `pread` (~3 µs). The
 * kernel brings a running thread's run time up to date at scheduler ticks, so each part is
 * exact to about one tick (1-4 ms): enough to tell a 20 ms stall of our own from a wait for a CPU.
 * GC pauses run on the main thread and count as its own work. Elsewhere only the delays are
 * reported.
 *
 * GC pauses are also told apart from the rest of that work: a `PerformanceObserver` on `gc`
 * entries (Node's `perf_hooks`; one entry per pause, with its start and duration on the clock of
 * `performance.now()`) adds each pause to the stalls whose interval it started in, and counts the
 * pauses. The entries arrive asynchronously, mostly before the tick that records the stall (the
 * last 64 pauses are kept for it), sometimes after (then added to the kept stalls), so a stall's
 * `gcMs` can still grow a little after it was first reported.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { PerformanceObserver, constants as perfConstants, type PerformanceEntry } from 'node:perf_hooks';

/** Period of the sampling timer (ms); a tick later than {@link STALL_THRESHOLD_MS} is a stall. */
export const STALL_SAMPLE_INTERVAL_MS = 10;

/** Lateness of the sampling timer (ms) from which a tick counts as a stall. */
export const STALL_THRESHOLD_MS = 5;

/** How many of the longest stalls {@link StallFigures.worst} lists. */
export const WORST_STALLS_KEPT = 5;

/** GC pauses remembered for stalls recorded after the pauses were reported (a stall spans at most a few dozen). */
const RECENT_GC_PAUSES = 64;

/** One stall: how late the timer ran (ms) and, when known, how that time was spent (ms). */
export interface StallBreakdown {
  /** When the stall ended, ms since the monitor started. */
  atMs: number;
  /** How late the sampling timer ran, ms. */
  delayMs: number;
  /** Of the delay, the time the main thread was on a CPU (JavaScript, GC, I/O callbacks), ms; null off Linux. */
  onCpuMs: number | null;
  /** Of the delay, the time the main thread was runnable but waited for a CPU, ms; null off Linux. */
  waitingForCpuMs: number | null;
  /** The rest: the main thread slept although the timer was due (sync I/O, waiting for GC helper threads), ms; null off Linux. */
  blockedMs: number | null;
  /** GC pauses that started during the stall's sampling interval (the period plus the delay), at most the delay, ms (part of the on-CPU or blocked time). */
  gcMs: number;
}

/** What {@link EventLoopStallMonitor.figures} reports (every duration in ms, rounded to 0.01). */
export interface StallFigures {
  /** Stalls of at least {@link STALL_THRESHOLD_MS} seen since the monitor started. */
  count: number;
  /** Stalls over 10 ms. */
  over10ms: number;
  /** Stalls over 10 ms whose on-CPU part alone was over 10 ms (the process's own long work). */
  over10msOnCpu: number;
  /** The longest stall and its breakdown, or null when there was none. */
  longest: StallBreakdown | null;
  /** The {@link WORST_STALLS_KEPT} longest stalls, longest first. */
  worst: StallBreakdown[];
  /** The largest on-CPU part of any stall: the longest the process's own work held the loop, ms; null off Linux. */
  maxOnCpuMs: number | null;
  /** GC pauses since the monitor started: how many, how many of them were major (mark-compact), their total and the longest, ms. */
  gc: { pauses: number; majorPauses: number; totalMs: number; longestMs: number };
}

/** A recorded stall and the interval it covers (performance.now() ms), to which GC pauses are attributed. */
interface TimedStall {
  stall: StallBreakdown;
  fromMs: number;
  toMs: number;
}

/** Run time and run-queue wait of one thread so far, ns; see {@link readSchedstat}. */
interface SchedTimes {
  runNs: number;
  waitNs: number;
}

/**
 * Watches the event loop of this process for stalls (see the module comment). Start it once;
 * `close()` stops its timer and observer. The timer is unref'd: it never keeps a process alive.
 */
export class EventLoopStallMonitor {
  private timer: NodeJS.Timeout | null = null;
  private fd: number | null = null;
  private readonly buffer = Buffer.alloc(128);
  private last = 0;
  private startedAt = 0;
  private lastSched: SchedTimes | null = null;
  private count = 0;
  private over10ms = 0;
  private over10msOnCpu = 0;
  /** The longest stalls, longest first (at most {@link WORST_STALLS_KEPT}), with their intervals. */
  private readonly worst: TimedStall[] = [];
  private maxOnCpuMs = 0;
  private gcObserver: PerformanceObserver | null = null;
  private readonly gc = { pauses: 0, majorPauses: 0, totalMs: 0, longestMs: 0 };
  /** The last {@link RECENT_GC_PAUSES} pauses (start, duration; performance.now() ms), a ring: a stall recorded after its pauses were reported finds them here. */
  private readonly recentGcStart = new Float64Array(RECENT_GC_PAUSES);
  private readonly recentGcMs = new Float64Array(RECENT_GC_PAUSES);
  private recentGcNext = 0;

  /** Starts sampling. */
  start(): void {
    if (this.timer) return;
    try {
      this.fd = openSync(`/proc/self/task/${process.pid}/schedstat`, 'r');
    } catch {
      this.fd = null; // not Linux (or no schedstat): delays only
    }
    this.lastSched = this.readSchedstat();
    this.last = this.startedAt = performance.now();
    this.gcObserver = new PerformanceObserver((list) => this.onGcEntries(list.getEntries()));
    this.gcObserver.observe({ entryTypes: ['gc'] });
    this.schedule();
  }

  /** Stops sampling; the figures stay readable. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.gcObserver?.disconnect();
    this.gcObserver = null;
  }

  /** The stalls seen so far (see {@link StallFigures}). */
  figures(): StallFigures {
    const onLinux = this.lastSched !== null;
    return {
      count: this.count,
      over10ms: this.over10ms,
      over10msOnCpu: this.over10msOnCpu,
      longest: this.worst.length > 0 ? rounded(this.worst[0]!.stall) : null,
      worst: this.worst.map((timed) => rounded(timed.stall)),
      maxOnCpuMs: onLinux ? round(this.maxOnCpuMs) : null,
      gc: { pauses: this.gc.pauses, majorPauses: this.gc.majorPauses, totalMs: round(this.gc.totalMs), longestMs: round(this.gc.longestMs) },
    };
  }

  /**
   * Counts GC pauses and adds each to the kept stalls whose interval it started in. Only
   * scavenges and mark-compacts count as pauses: V8 also reports incremental-marking and
   * weak-callback entries, which overlap or follow those and are left out.
   */
  private onGcEntries(entries: PerformanceEntry[]): void {
    for (const entry of entries) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind;
      const major = kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR;
      if (!major && kind !== perfConstants.NODE_PERFORMANCE_GC_MINOR) continue;
      const ms = entry.duration;
      this.gc.pauses++;
      this.gc.totalMs += ms;
      if (ms > this.gc.longestMs) this.gc.longestMs = ms;
      if (major) this.gc.majorPauses++;
      const slot = this.recentGcNext++ % RECENT_GC_PAUSES;
      this.recentGcStart[slot] = entry.startTime;
      this.recentGcMs[slot] = ms;
      // Entries usually arrive before the tick that records their stall (see record), sometimes after.
      for (const timed of this.worst) {
        if (entry.startTime >= timed.fromMs && entry.startTime < timed.toMs) timed.stall.gcMs = Math.min(timed.stall.delayMs, timed.stall.gcMs + ms);
      }
    }
  }

  private schedule(): void {
    this.timer = setTimeout(this.tick, STALL_SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  private readonly tick = (): void => {
    const now = performance.now();
    const sched = this.readSchedstat();
    const delayMs = now - this.last - STALL_SAMPLE_INTERVAL_MS;
    if (delayMs >= STALL_THRESHOLD_MS) this.record(now - this.startedAt, delayMs, sched, this.last, now);
    this.last = now;
    this.lastSched = sched;
    this.schedule();
  };

  /** Records a stall that ended at `toMs` (performance.now()) after a sampling interval that began at `fromMs`. */
  private record(atMs: number, delayMs: number, sched: SchedTimes | null, fromMs: number, toMs: number): void {
    const before = this.lastSched;
    const gcMs = Math.min(delayMs, this.gcPausesBetween(fromMs, toMs));
    let stall: StallBreakdown = { atMs, delayMs, onCpuMs: null, waitingForCpuMs: null, blockedMs: null, gcMs };
    if (sched && before) {
      // Over the whole interval (period + delay) the thread ran, waited for a CPU, or slept; the
      // part of it that is the stall is charged to running first, then to waiting.
      const onCpuMs = Math.min(delayMs, (sched.runNs - before.runNs) / 1e6);
      const waitingForCpuMs = Math.min(delayMs - onCpuMs, (sched.waitNs - before.waitNs) / 1e6);
      stall = { atMs, delayMs, onCpuMs, waitingForCpuMs, blockedMs: delayMs - onCpuMs - waitingForCpuMs, gcMs };
      if (onCpuMs > this.maxOnCpuMs) this.maxOnCpuMs = onCpuMs;
      if (delayMs > 10 && onCpuMs > 10) this.over10msOnCpu++;
    }
    this.count++;
    if (delayMs > 10) this.over10ms++;
    const worst = this.worst;
    if (worst.length < WORST_STALLS_KEPT || delayMs > worst[worst.length - 1]!.stall.delayMs) {
      let i = worst.length;
      while (i > 0 && worst[i - 1]!.stall.delayMs < delayMs) i--;
      worst.splice(i, 0, { stall, fromMs, toMs });
      if (worst.length > WORST_STALLS_KEPT) worst.pop();
    }
  }

  /** The pauses already reported that started in [fromMs, toMs), ms. */
  private gcPausesBetween(fromMs: number, toMs: number): number {
    let ms = 0;
    const known = Math.min(this.recentGcNext, RECENT_GC_PAUSES);
    for (let i = 0; i < known; i++) {
      const start = this.recentGcStart[i]!;
      if (start >= fromMs && start < toMs) ms += this.recentGcMs[i]!;
    }
    return ms;
  }

  /** The main thread's run time and run-queue wait (ns), or null when unavailable. */
  private readSchedstat(): SchedTimes | null {
    if (this.fd === null) return null;
    try {
      const n = readSync(this.fd, this.buffer, 0, this.buffer.length, 0);
      const [run, wait] = this.buffer.toString('latin1', 0, n).split(' ');
      const runNs = Number(run);
      const waitNs = Number(wait);
      return Number.isFinite(runNs) && Number.isFinite(waitNs) ? { runNs, waitNs } : null;
    } catch {
      return null;
    }
  }
}

function rounded(stall: StallBreakdown): StallBreakdown {
  return {
    atMs: Math.round(stall.atMs),
    delayMs: round(stall.delayMs),
    onCpuMs: roundOrNull(stall.onCpuMs),
    waitingForCpuMs: roundOrNull(stall.waitingForCpuMs),
    blockedMs: roundOrNull(stall.blockedMs),
    gcMs: round(stall.gcMs),
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

function roundOrNull(ms: number | null): number | null {
  return ms === null ? null : round(ms);
}
