/**
 * Per-key mutual exclusion for read-modify-write operations at a primary (`incr`, `del`,
 * `expire`, and `set` racing them). The event loop makes each synchronous step atomic; this
 * lock keeps a sequence with awaits in between (a replica read on a local miss, replication)
 * atomic per key. Keys without contention cost one Map lookup.
 */
export class KeyLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `task` after every earlier task on the same key has settled; resolves with its result. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const next = previous ? previous.then(task, task) : task();
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Keys with a task queued or running. */
  get size(): number {
    return this.tails.size;
  }
}
