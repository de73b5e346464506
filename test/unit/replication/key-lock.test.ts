import { describe, expect, it } from 'vitest';
import { waitFor } from '../../support/wait-for.js';
import { KeyLock } from '../../../src/replication/key-lock.js';

describe('KeyLock', () => {
  it('runs tasks on one key one at a time, in order, and other keys concurrently', async () => {
    const lock = new KeyLock();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = lock.run('k', async () => {
      log.push('k1 start');
      await gate;
      log.push('k1 end');
      return 1;
    });
    const second = lock.run('k', async () => {
      log.push('k2');
      return 2;
    });
    const other = lock.run('j', async () => {
      log.push('j');
      return 3;
    });
    expect(await other).toBe(3);
    expect(log).toEqual(['k1 start', 'j']);
    release();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(log).toEqual(['k1 start', 'j', 'k1 end', 'k2']);
  });

  it('keeps going after a task fails and forgets idle keys', async () => {
    const lock = new KeyLock();
    await expect(lock.run('k', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await lock.run('k', async () => 'ok')).toBe('ok');
    await waitFor(() => lock.size === 0, 1000, 'the lock to forget idle keys');
  });
});

describe('KeyLock.isHeld', () => {
  it('is true while a task on the key runs or waits, and a synchronous throw is a rejection', async () => {
    const lock = new KeyLock();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = lock.run('k', () => gate);
    const thrower = lock.run('k', () => {
      throw new Error('sync boom');
    });
    expect(lock.isHeld('k')).toBe(true);
    expect(lock.isHeld('j')).toBe(false);
    release();
    await first;
    await expect(thrower).rejects.toThrow('sync boom');
    await waitFor(() => !lock.isHeld('k'), 1000, 'the key to be released');
  });
});
