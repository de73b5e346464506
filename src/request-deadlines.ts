/**
 * Deadlines for many concurrent requests that share a few distinct timeouts (a peer's client
 * requests all use `requestTimeoutMs`; peer-link requests use one or two values), at O(1) per
 * request and one armed timer per distinct timeout, instead of a setTimeout/clearTimeout pair per
 * request (which showed up in the profile of the request path).
 *
 * Requests with the same timeout expire in the order they were added, so each timeout keeps a
 * FIFO queue; a settled request is only marked, and skipped when it reaches the head. The timer
 * of a queue is armed for its head's deadline and re-armed after it fires.
 *
 * Times are `Date.now()` ms (so test fake timers drive it). Timers are unref'd: pending deadlines
 * never keep a process alive on their own.
 */

/** A registered deadline: call {@link Deadline.cancel} when the request settled first. */
export class Deadline {
  /** True once cancelled or expired; the expiry callback then never (again) runs. */
  done = false;

  /** @internal */
  constructor(
    /** ms since the epoch at which `onExpire` runs. */
    readonly at: number,
    /** @internal */
    readonly onExpire: () => void,
  ) {}

  /** Stops the deadline; idempotent. */
  cancel(): void {
    this.done = true;
  }
}

/** The queue of one timeout value. */
class DeadlineQueue {
  private items: Deadline[] = [];
  private head = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly onTimer: (queue: DeadlineQueue) => void) {}

  push(deadline: Deadline): void {
    this.items.push(deadline);
    if (this.timer === undefined) this.arm(deadline.at);
  }

  /** Runs every expired, unsettled deadline at the head; re-arms for the next one. */
  expire(now: number): void {
    this.timer = undefined;
    const items = this.items;
    let head = this.head;
    while (head < items.length) {
      const deadline = items[head]!;
      if (!deadline.done) {
        if (deadline.at > now) break;
        deadline.done = true;
        deadline.onExpire();
      }
      head++;
    }
    if (head >= items.length) {
      this.items = [];
      this.head = 0;
      return;
    }
    if (head > 1024 && head * 2 > items.length) {
      this.items = items.slice(head);
      head = 0;
    }
    this.head = head;
    this.arm(this.items[head]!.at);
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.items = [];
    this.head = 0;
  }

  private arm(at: number): void {
    this.timer = setTimeout(() => this.onTimer(this), Math.max(0, at - Date.now()));
    this.timer.unref?.();
  }
}

/** A set of FIFO deadline queues, one per distinct timeout. */
export class RequestDeadlines {
  private readonly queues = new Map<number, DeadlineQueue>();
  private readonly onTimer = (queue: DeadlineQueue): void => queue.expire(Date.now());

  /**
   * Registers a deadline `timeoutMs` from now.
   * @param timeoutMs ms; each distinct value gets its own queue, so use few distinct values
   * @param onExpire runs once at the deadline unless the returned deadline was cancelled first
   */
  add(timeoutMs: number, onExpire: () => void): Deadline {
    const deadline = new Deadline(Date.now() + timeoutMs, onExpire);
    let queue = this.queues.get(timeoutMs);
    if (queue === undefined) {
      queue = new DeadlineQueue(this.onTimer);
      this.queues.set(timeoutMs, queue);
    }
    queue.push(deadline);
    return deadline;
  }

  /** Drops every pending deadline without running it, and the timers. */
  clear(): void {
    for (const queue of this.queues.values()) queue.clear();
    this.queues.clear();
  }
}
