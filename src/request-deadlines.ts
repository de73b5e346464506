/**
 * Deadlines for many concurrent requests that share a few distinct timeouts (a peer's client
 * requests all use `requestTimeoutMs`; peer-link requests use one or two values), at O(1) per
 * request and one armed timer per distinct timeout, instead of a setTimeout/clearTimeout pair per
 * request (which showed up in the profile of the request path).
 *
 * Requests with the same timeout expire in the order they were added, so each timeout keeps a
 * queue in insertion order (a doubly linked list: a settled request is unlinked at once, so memory
 * stays proportional to the requests in flight). The timer of a queue is armed for its head's
 * deadline and re-armed after it fires.
 *
 * Times are `performance.now()` ms, a monotonic clock as `setTimeout`'s own: a step of the wall
 * clock (NTP, an operator's `date -s`) neither fires deadlines early nor holds them back (with
 * `Date.now()` a step back of an hour held every request's deadline an hour), and deadlines of one
 * timeout are added in deadline order, as the queues need. Test fake timers drive it.
 *
 * By default timers are unref'd: pending deadlines never keep a process alive on their own (a
 * peer's sockets and server do). With `keepAlive` (the client, whose caller awaits the call) a
 * queue's timer holds the process while the queue holds a deadline, as a `setTimeout` per request
 * would, and lets go once it is empty.
 *
 * A queue whose timer finds it empty is dropped, so a caller passing many distinct timeouts (e.g.
 * each call's remaining budget) keeps only the queues used within the last timeout.
 */

/** The longest delay `setTimeout` arms as given (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A registered deadline: call {@link Deadline.cancel} when the request settled first. */
export class Deadline {
  /** True once cancelled or expired; the expiry callback then never (again) runs. */
  done = false;
  /** @internal neighbours in the queue of its timeout (a doubly linked list, in deadline order). */
  prev: Deadline | undefined = undefined;
  /** @internal */
  next: Deadline | undefined = undefined;

  /** @internal */
  constructor(
    /** When `onExpire` runs: `performance.now()` ms. */
    readonly at: number,
    /** @internal */
    readonly onExpire: () => void,
    private readonly queue: DeadlineQueue,
  ) {}

  /** Stops the deadline and unlinks it (its memory goes at once); idempotent. */
  cancel(): void {
    if (this.done) return;
    this.done = true;
    this.queue.unlink(this);
  }
}

/**
 * The deadlines of one timeout value: a doubly linked list in deadline order (insertion order,
 * since the timeout is the same), so cancelling is an O(1) unlink, and one timer armed for the
 * head.
 */
class DeadlineQueue {
  private head: Deadline | undefined = undefined;
  private tail: Deadline | undefined = undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param timeoutMs the timeout of every deadline in the queue (its key in {@link RequestDeadlines})
   * @param onTimer runs when the timer fires
   * @param keepAlive true: the timer is ref'd while the queue holds a deadline
   */
  constructor(
    readonly timeoutMs: number,
    private readonly onTimer: (queue: DeadlineQueue) => void,
    private readonly keepAlive: boolean,
  ) {}

  /** True when no deadline waits. */
  get empty(): boolean {
    return this.head === undefined;
  }

  push(deadline: Deadline): void {
    if (this.tail === undefined) {
      this.head = this.tail = deadline;
      if (this.keepAlive) this.timer?.ref?.();
    } else {
      deadline.prev = this.tail;
      this.tail.next = deadline;
      this.tail = deadline;
    }
    if (this.timer === undefined) this.arm(deadline.at);
  }

  unlink(deadline: Deadline): void {
    const { prev, next } = deadline;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    deadline.prev = deadline.next = undefined;
    // The timer stays armed for the old head: it finds the queue as it is when it fires (and
    // drops an empty queue then), so a queue emptied and refilled often arms no new timer.
    if (this.keepAlive && this.head === undefined) this.timer?.unref?.();
  }

  /** Runs every deadline due by `now`, in order; re-arms for the next one (none when the queue is empty). */
  expire(now: number): void {
    this.timer = undefined;
    let deadline = this.head;
    while (deadline !== undefined && deadline.at <= now) {
      const next = deadline.next;
      deadline.done = true;
      deadline.prev = deadline.next = undefined;
      this.head = next;
      if (next === undefined) this.tail = undefined;
      else next.prev = undefined;
      deadline.onExpire();
      deadline = this.head;
    }
    if (this.head !== undefined && this.timer === undefined) this.arm(this.head.at);
  }

  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.head = this.tail = undefined;
  }

  private arm(at: number): void {
    // A longer delay than setTimeout holds would fire after 1 ms, and then again every ms; the
    // clamped timer fires early, finds nothing due and re-arms for the rest.
    // Whole ms, rounded up: timers fire on a whole-ms clock, and one that fired a fraction early
    // would find the head not due and wake again a ms later.
    this.timer = setTimeout(() => this.onTimer(this), Math.min(Math.max(0, Math.ceil(at - performance.now())), MAX_TIMER_DELAY_MS));
    if (!this.keepAlive) this.timer.unref?.();
  }
}

/** Settings of a {@link RequestDeadlines}. */
export interface RequestDeadlinesOptions {
  /**
   * True: a pending deadline keeps the process alive (its timer is ref'd while its queue is not
   * empty), as a `setTimeout` per request would. Default false (timers unref'd).
   */
  keepAlive?: boolean;
}

/** A set of deadline queues, one per distinct timeout. */
export class RequestDeadlines {
  private readonly queues = new Map<number, DeadlineQueue>();
  private readonly keepAlive: boolean;
  private readonly onTimer = (queue: DeadlineQueue): void => {
    queue.expire(performance.now());
    if (queue.empty && this.queues.get(queue.timeoutMs) === queue) this.queues.delete(queue.timeoutMs);
  };

  /** @param options see {@link RequestDeadlinesOptions} */
  constructor(options: RequestDeadlinesOptions = {}) {
    this.keepAlive = options.keepAlive ?? false;
  }

  /** Distinct timeouts with a queue (for tests: queues found empty by their timer are dropped). */
  get queueCount(): number {
    return this.queues.size;
  }

  /**
   * Registers a deadline `timeoutMs` from now.
   * @param timeoutMs ms; each distinct value gets its own queue, so use few distinct values
   * @param onExpire runs once at the deadline unless the returned deadline was cancelled first
   */
  add(timeoutMs: number, onExpire: () => void): Deadline {
    let queue = this.queues.get(timeoutMs);
    if (queue === undefined) {
      queue = new DeadlineQueue(timeoutMs, this.onTimer, this.keepAlive);
      this.queues.set(timeoutMs, queue);
    }
    const deadline = new Deadline(performance.now() + timeoutMs, onExpire, queue);
    queue.push(deadline);
    return deadline;
  }

  /** Drops every pending deadline without running it, and the timers. */
  clear(): void {
    for (const queue of this.queues.values()) queue.clear();
    this.queues.clear();
  }
}
