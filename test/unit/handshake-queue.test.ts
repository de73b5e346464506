import { describe, expect, it } from 'vitest';
import { HandshakeQueue } from '../../src/server/handshake-queue.js';
import { TurnBudget } from '../../src/turn-budget.js';

/** Spends the current turn's budget for real: a busy wait of a little more than `ms` (bounded). */
function spend(budget: TurnBudget, ms: number): void {
  budget.exhausted();
  const end = performance.now() + ms + 0.5;
  while (performance.now() < end && !budget.exhausted()) {
    // busy: the budget is measured with performance.now()
  }
  expect(budget.exhausted()).toBe(true);
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('HandshakeQueue', () => {
  it('completes a handshake at once while the turn has budget and nothing waits', () => {
    const done: number[] = [];
    const queue = new HandshakeQueue<number>(new TurnBudget(50), (n) => done.push(n), () => false);
    queue.offer(1);
    queue.offer(2);
    expect(done).toEqual([1, 2]);
    expect(queue.deferred).toBe(0);
  });

  it('queues handshakes once the budget is spent and completes them in later turns, in order', async () => {
    const budget = new TurnBudget(1);
    const done: number[] = [];
    const queue = new HandshakeQueue<number>(budget, (n) => done.push(n), () => false);
    spend(budget, 1);
    for (let n = 0; n < 5; n++) queue.offer(n);
    expect(done).toEqual([]);
    expect(queue.deferred).toBe(5);
    expect(queue.length).toBe(5);
    for (let turn = 0; turn < 20 && done.length < 5; turn++) await nextTurn();
    expect(done).toEqual([0, 1, 2, 3, 4]);
    // A handshake offered while others wait queues behind them, budget or not.
    spend(budget, 1);
    queue.offer(5);
    queue.offer(6);
    await nextTurn();
    expect(done.slice(5)).toEqual([5, 6]);
  });

  it('runs at least one waiting handshake per turn however busy the turn, and skips abandoned ones', async () => {
    const budget = new TurnBudget(1);
    const done: number[] = [];
    // Each completion spends the whole budget: one handshake per turn.
    const queue = new HandshakeQueue<number>(budget, (n) => {
      done.push(n);
      spend(budget, 1);
    }, (n) => n === 2);
    spend(budget, 1);
    for (let n = 0; n < 4; n++) queue.offer(n);
    await nextTurn();
    expect(done).toEqual([0]);
    for (let turn = 0; turn < 20 && done.length < 3; turn++) await nextTurn();
    expect(done).toEqual([0, 1, 3]);
  });

  it('hands back what waits when cleared, and runs nothing after', async () => {
    const budget = new TurnBudget(1);
    const done: number[] = [];
    const queue = new HandshakeQueue<number>(budget, (n) => done.push(n), () => false);
    spend(budget, 1);
    queue.offer(1);
    queue.offer(2);
    expect(queue.clear()).toEqual([1, 2]);
    await nextTurn();
    await nextTurn();
    expect(done).toEqual([]);
  });
});
