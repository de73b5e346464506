/**
 * Auto-pipelining of one socket: the requests issued in the same event-loop turn are written as
 * ONE batch frame, a JSON array of request objects, instead of one frame each (as ioredis's
 * `enableAutoPipelining` gathers the commands of one tick into one write). The peer answers a
 * batch frame with one JSON array of replies, element i answering request i (`docs/protocol.md`,
 * "Batch frames"). A batch of one request is written as the plain request object, so a client
 * issuing one call at a time sends exactly the frames it sent before batching existed.
 *
 * What batching buys is per-frame work: one WebSocket frame, one `message` event, one
 * `JSON.parse` and one reply write on each side for up to {@link MAX_BATCH_REQUESTS} requests.
 */

/** Most requests in one batch frame: the peers' default `maxBatchRequests`. */
export const MAX_BATCH_REQUESTS = 1024;

/** Runs `flush` later, once the code issuing requests has yielded. */
export type FlushScheduler = (flush: () => void) => void;

/**
 * When a batch is written. Each waits until the current synchronous code and the promise
 * continuations it released have run:
 * - `immediate`: `setImmediate` where it exists (Node), which also waits for the other I/O
 *   callbacks of the event-loop turn, so the calls released by replies arriving together on
 *   several sockets share frames; `queueMicrotask` elsewhere (browsers);
 * - `tick`: `process.nextTick` where it exists, which runs once the microtask queue is empty;
 *   `queueMicrotask` elsewhere;
 * - `microtask`: `queueMicrotask`, which runs after the continuations queued before it only, so
 *   calls whose `await` chains are deeper miss the frame.
 */
export type FlushTiming = 'immediate' | 'tick' | 'microtask';

/** The scheduler of a {@link FlushTiming}. */
export function flushScheduler(timing: FlushTiming): FlushScheduler {
  const host = globalThis as { setImmediate?: (callback: () => void) => unknown; process?: { nextTick?: (callback: () => void) => void } };
  const setImmediateFn = host.setImmediate;
  const nextTick = host.process?.nextTick;
  if (timing === 'immediate' && typeof setImmediateFn === 'function') return (flush) => void setImmediateFn(flush);
  if (timing === 'tick' && typeof nextTick === 'function') return (flush) => nextTick(flush);
  return (flush) => queueMicrotask(flush);
}

/** Where a {@link FrameBatcher} takes its frames from and writes its batches to. */
export interface FrameBatcherSink<E> {
  /** The request frame (a JSON object text) of a queued entry, or undefined to drop the entry (settled or moved meanwhile). */
  frameOf(entry: E): string | undefined;
  /** Writes one frame carrying `entries`, in order: a plain object frame for one entry, an array frame for more. */
  write(text: string, entries: readonly E[]): void;
}

/**
 * Encodes request frames (JSON object texts) as one frame: the object itself for one, a JSON
 * array of them for more.
 * @param frames 1..{@link MAX_BATCH_REQUESTS} JSON object texts
 */
export function encodeBatch(frames: readonly string[]): string {
  return frames.length === 1 ? frames[0]! : `[${frames.join(',')}]`;
}

/**
 * The write queue of one socket. {@link add} queues an entry and schedules a flush on the first
 * one of a tick; the flush writes every queued entry still wanted as one frame. A queue that
 * reaches `maxBatch` entries is flushed at once, so a frame never carries more.
 * With `maxBatch` 1 (batching off) every entry is written synchronously by {@link add}.
 * No timers: a flush is an immediate, a `nextTick` or a microtask, none of which outlives the
 * event-loop turn.
 */
export class FrameBatcher<E> {
  private queue: E[] = [];
  private scheduled = false;
  private readonly onScheduled = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /**
   * @param sink where frames come from and go to
   * @param maxBatch most entries in one frame, integer in [1, {@link MAX_BATCH_REQUESTS}]
   * @param schedule runs a flush later in the tick (see {@link flushScheduler})
   */
  constructor(
    private readonly sink: FrameBatcherSink<E>,
    private readonly maxBatch: number,
    private readonly schedule: FlushScheduler,
  ) {}

  /** Entries queued and not yet written. */
  get size(): number {
    return this.queue.length;
  }

  /** Queues `entry`; writes the queue now when it holds `maxBatch` entries. */
  add(entry: E): void {
    this.queue.push(entry);
    if (this.queue.length >= this.maxBatch) {
      this.flush();
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      this.schedule(this.onScheduled);
    }
  }

  /** Writes the queued entries that are still wanted as one frame (nothing when none is). */
  flush(): void {
    if (this.queue.length === 0) return;
    const queue = this.queue;
    this.queue = [];
    const entries: E[] = [];
    const frames: string[] = [];
    for (const entry of queue) {
      const frame = this.sink.frameOf(entry);
      if (frame === undefined) continue;
      entries.push(entry);
      frames.push(frame);
    }
    if (frames.length > 0) this.sink.write(encodeBatch(frames), entries);
  }
}
