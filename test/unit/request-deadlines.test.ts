import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RequestDeadlines } from '../../src/request-deadlines.js';

describe('RequestDeadlines', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs each deadline once at its time, never after cancel, per timeout in FIFO order', () => {
    const deadlines = new RequestDeadlines();
    const fired: string[] = [];
    deadlines.add(100, () => fired.push('a100'));
    const b = deadlines.add(100, () => fired.push('b100'));
    vi.advanceTimersByTime(10);
    deadlines.add(100, () => fired.push('c100'));
    deadlines.add(50, () => fired.push('d50'));
    b.cancel();
    vi.advanceTimersByTime(59);
    expect(fired).toEqual(['d50']);
    vi.advanceTimersByTime(31);
    expect(fired).toEqual(['d50', 'a100']);
    vi.advanceTimersByTime(9);
    expect(fired).toEqual(['d50', 'a100']);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['d50', 'a100', 'c100']);
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual(['d50', 'a100', 'c100']);
    expect(b.done).toBe(true);
  });

  it('keeps up with many deadlines, cancelled ones unlinked at once, and clear() drops them all', () => {
    const deadlines = new RequestDeadlines();
    let fired = 0;
    const live = [];
    for (let i = 0; i < 5000; i++) {
      const d = deadlines.add(20, () => fired++);
      if (i % 2 === 0) d.cancel();
      else live.push(d);
      if (i % 100 === 99) vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(100);
    expect(fired).toBe(2500);
    expect(live.every((d) => d.done)).toBe(true);
    deadlines.add(20, () => fired++);
    deadlines.clear();
    vi.advanceTimersByTime(100);
    expect(fired).toBe(2500);
  });
  it('waits out a timeout longer than setTimeout can arm (2^31 - 1 ms) instead of re-arming every ms', () => {
    const deadlines = new RequestDeadlines();
    let fired = 0;
    const timeoutMs = 3_000_000_000;
    deadlines.add(timeoutMs, () => fired++);
    // Node and the fake clock alike fire an overflowing delay after 1 ms: a spin of expiry checks.
    const armed = vi.spyOn(globalThis, 'setTimeout');
    vi.advanceTimersByTime(1000);
    expect(armed.mock.calls.length).toBeLessThanOrEqual(1);
    vi.advanceTimersByTime(timeoutMs - 1001);
    expect(fired).toBe(0);
    vi.advanceTimersByTime(1);
    expect(fired).toBe(1);
    armed.mockRestore();
  });

  it('with keepAlive holds the process while a deadline waits, lets go once its queue is empty, and re-arms no timer for a refilled queue', () => {
    const armed = vi.spyOn(globalThis, 'setTimeout');
    const deadlines = new RequestDeadlines({ keepAlive: true });
    let fired = 0;
    const first = deadlines.add(100, () => fired++);
    expect(armed).toHaveBeenCalledTimes(1);
    const timer = armed.mock.results[0]!.value as ReturnType<typeof setTimeout>;
    expect(timer.hasRef()).toBe(true);
    first.cancel();
    expect(timer.hasRef()).toBe(false);
    vi.advanceTimersByTime(10);
    deadlines.add(100, () => fired++);
    expect(armed).toHaveBeenCalledTimes(1);
    expect(timer.hasRef()).toBe(true);
    vi.advanceTimersByTime(90);
    // The timer armed for the cancelled head fires early, finds the second deadline not yet due and re-arms.
    expect(fired).toBe(0);
    expect(armed).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(10);
    expect(fired).toBe(1);
    armed.mockRestore();

    const plain = vi.spyOn(globalThis, 'setTimeout');
    new RequestDeadlines().add(100, () => undefined);
    expect((plain.mock.results[0]!.value as ReturnType<typeof setTimeout>).hasRef()).toBe(false);
    plain.mockRestore();
  });

  it('drops the queue of a timeout once its timer finds it empty, so distinct timeouts do not pile up', () => {
    const deadlines = new RequestDeadlines({ keepAlive: true });
    let fired = 0;
    for (let timeoutMs = 1; timeoutMs <= 200; timeoutMs++) {
      const deadline = deadlines.add(timeoutMs, () => fired++);
      if (timeoutMs % 2 === 0) deadline.cancel();
    }
    expect(deadlines.queueCount).toBe(200);
    vi.advanceTimersByTime(200);
    expect(fired).toBe(100);
    expect(deadlines.queueCount).toBe(0);
    deadlines.add(50, () => fired++);
    expect(deadlines.queueCount).toBe(1);
    vi.advanceTimersByTime(50);
    expect(fired).toBe(101);
    expect(deadlines.queueCount).toBe(0);
  });

  it('keeps time on the monotonic clock: a step of the wall clock neither fires a deadline early nor holds it back', () => {
    const deadlines = new RequestDeadlines();
    const fired: string[] = [];
    deadlines.add(100, () => fired.push('a'));
    vi.setSystemTime(Date.now() - 3_600_000);
    deadlines.add(100, () => fired.push('b'));
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a', 'b']);
    deadlines.add(100, () => fired.push('c'));
    vi.setSystemTime(Date.now() + 3_600_000);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual(['a', 'b']);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a', 'b', 'c']);
  });
});
