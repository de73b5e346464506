/**
 * Per-key mutual exclusion for read-modify-write operations at a primary (`incr`, `del`,
 * `expire`, and `set` racing them). The event loop makes each synchronous step atomic; this
 * lock keeps a sequence with awaits in between (a replica read on a local miss, replication)
 * atomic per key. An uncontended key costs one Map entry and one `then` on the task's promise;
 * {@link KeyLock.isHeld} lets a caller whose work is synchronous skip the lock entirely.
 */
export class KeyLock {
  /** Keys with a task running -> tasks waiting their turn, in arrival order. */
  private readonly waiting = new Map<string, Array<() => void>>();

  /**
   * Runs `task` after every earlier task on the same key has settled; resolves (or rejects) as
   * `task`'s promise does. A task that throws synchronously counts as a rejection.
   */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const queue = this.waiting.get(key);
    if (queue === undefined) {
      this.waiting.set(key, []);
      return this.start(key, task);
    }
    return new Promise<T>((resolve, reject) => {
      queue.push(() => {
        this.start(key, task).then(resolve, reject);
      });
    });
  }

  /** True while a task on `key` runs or waits. */
  isHeld(key: string): boolean {
    return this.waiting.has(key);
  }

  /** Keys with a task queued or running. */
  get size(): number {
    return this.waiting.size;
  }

  private start<T>(key: string, task: () => Promise<T>): Promise<T> {
    let promise: Promise<T>;
    try {
      promise = task();
    } catch (error) {
      promise = Promise.reject(error);
    }
    const release = (): void => {
      const queue = this.waiting.get(key);
      const next = queue?.shift();
      if (next) next();
      else this.waiting.delete(key);
    };
    promise.then(release, release);
    return promise;
  }
}
