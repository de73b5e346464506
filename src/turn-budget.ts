/**
 * The end of an event-loop turn, and a time budget for the work of one turn, shared by a peer's
 * client sessions and peer links (each runs what it has read until the budget is spent, and the
 * rest next turn).
 *
 * One `setImmediate` per turn serves both: the first budget check or end-of-turn callback of a
 * turn schedules it; it runs after the poll phase that delivered the frames, resets the budget
 * and runs the callbacks registered during the turn (the client sockets' uncorks). Work
 * continued in a later `setImmediate` gets a fresh budget, and work deferred again waits a whole
 * loop iteration (timers and I/O run in between). Cost: one `performance.now()` per budget check
 * (~30 ns) and one immediate per turn, however many sockets replied in it.
 */
export class TurnBudget {
  /** When the current turn's first check ran (performance.now() ms), or -1 before it. */
  private startedAt = -1;
  private scheduled = false;
  /** Callbacks for the end of the current turn; swapped with `spare` when they run. */
  private atEnd: Array<() => void> = [];
  private spare: Array<() => void> = [];
  private readonly endTurn = (): void => {
    this.scheduled = false;
    this.startedAt = -1;
    const callbacks = this.atEnd;
    this.atEnd = this.spare;
    for (let i = 0; i < callbacks.length; i++) callbacks[i]!();
    callbacks.length = 0;
    this.spare = callbacks;
  };

  /** @param budgetMs the work one turn may do (ms, > 0; PeerConfig.turnBudgetMs) */
  constructor(readonly budgetMs: number) {}

  /** True once the work of the current turn has run longer than the budget. */
  exhausted(): boolean {
    const now = performance.now();
    if (this.startedAt < 0) {
      this.startedAt = now;
      this.schedule();
      return false;
    }
    return now - this.startedAt > this.budgetMs;
  }

  /**
   * Runs `callback` once at the end of the current turn, with every other callback registered
   * during it (in registration order). A callback registered while they run waits for the next
   * turn's end.
   */
  atTurnEnd(callback: () => void): void {
    this.atEnd.push(callback);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.endTurn);
  }
}
