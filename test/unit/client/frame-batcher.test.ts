/**
 * The write queue of a client socket: what is added in one tick goes out as one frame, capped at
 * the batch limit, and entries dropped before the flush are skipped.
 */
import { describe, expect, it } from 'vitest';
import { FrameBatcher, MAX_BATCH_REQUESTS, encodeBatch, flushScheduler } from '../../../src/client/frame-batcher.js';

interface Item {
  frame: string;
  dropped?: boolean;
}

/** A batcher over a manual scheduler: `tick()` runs the scheduled flush. */
function harness(maxBatch: number): { batcher: FrameBatcher<Item>; writes: Array<{ text: string; items: readonly Item[] }>; tick: () => void; scheduled: () => number } {
  const writes: Array<{ text: string; items: readonly Item[] }> = [];
  let queued: Array<() => void> = [];
  const batcher = new FrameBatcher<Item>(
    { frameOf: (item) => (item.dropped ? undefined : item.frame), write: (text, items) => writes.push({ text, items }) },
    maxBatch,
    (flush) => queued.push(flush),
  );
  return {
    batcher,
    writes,
    tick: () => {
      const run = queued;
      queued = [];
      for (const flush of run) flush();
    },
    scheduled: () => queued.length,
  };
}

const item = (n: number): Item => ({ frame: JSON.stringify({ id: n, op: 'get', key: `k${n}` }) });

describe('FrameBatcher', () => {
  it('writes the entries of one tick as one array frame, scheduling one flush', () => {
    const { batcher, writes, tick, scheduled } = harness(MAX_BATCH_REQUESTS);
    const items = [1, 2, 3].map(item);
    for (const entry of items) batcher.add(entry);
    expect(writes).toHaveLength(0);
    expect(scheduled()).toBe(1);
    tick();
    expect(writes).toHaveLength(1);
    expect(JSON.parse(writes[0]!.text)).toEqual(items.map((entry) => JSON.parse(entry.frame)));
    expect(writes[0]!.items).toEqual(items);
    expect(batcher.size).toBe(0);
  });

  it('writes a lone entry as a plain object frame', () => {
    const { batcher, writes, tick } = harness(MAX_BATCH_REQUESTS);
    batcher.add(item(1));
    tick();
    expect(writes.map((write) => write.text)).toEqual([item(1).frame]);
  });

  it('never puts more than maxBatch entries in a frame: a full queue is written at once', () => {
    const { batcher, writes, tick } = harness(4);
    for (let n = 0; n < 10; n++) batcher.add(item(n));
    expect(writes.map((write) => write.items.length)).toEqual([4, 4]);
    tick();
    expect(writes.map((write) => write.items.length)).toEqual([4, 4, 2]);
    const ids = writes.flatMap((write) => (JSON.parse(write.text) as Array<{ id: number }>).map((request) => request.id));
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('with maxBatch 1 writes every entry synchronously, unbatched', () => {
    const { batcher, writes, scheduled } = harness(1);
    batcher.add(item(1));
    batcher.add(item(2));
    expect(writes.map((write) => write.text)).toEqual([item(1).frame, item(2).frame]);
    expect(scheduled()).toBe(0);
  });

  it('skips entries dropped before the flush, and writes nothing when all are', () => {
    const { batcher, writes, tick } = harness(MAX_BATCH_REQUESTS);
    const items = [1, 2, 3].map(item);
    for (const entry of items) batcher.add(entry);
    items[1]!.dropped = true;
    tick();
    expect(writes[0]!.items).toEqual([items[0], items[2]]);
    const lone = item(4);
    batcher.add(lone);
    lone.dropped = true;
    tick();
    expect(writes).toHaveLength(1);
  });

  it('encodes one frame as itself and several as a JSON array', () => {
    expect(encodeBatch(['{"id":1}'])).toBe('{"id":1}');
    expect(JSON.parse(encodeBatch(['{"id":1}', '{"id":2}']))).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it.each(['immediate', 'tick', 'microtask'] as const)('the %s scheduler runs after the synchronous code and the continuations queued before it', async (timing) => {
    const order: string[] = [];
    void Promise.resolve().then(() => order.push('continuation'));
    const flushed = new Promise<void>((resolve) => flushScheduler(timing)(() => {
      order.push('flush');
      resolve();
    }));
    order.push('sync');
    await flushed;
    expect(order).toEqual(['sync', 'continuation', 'flush']);
  });

  it('the immediate scheduler also waits for continuations queued after it', async () => {
    const order: string[] = [];
    const flushed = new Promise<void>((resolve) => flushScheduler('immediate')(() => {
      order.push('flush');
      resolve();
    }));
    void Promise.resolve().then(() => Promise.resolve()).then(() => order.push('deep continuation'));
    await flushed;
    expect(order).toEqual(['deep continuation', 'flush']);
  });
});
