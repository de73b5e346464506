/**
 * A time budget for the work of one event-loop turn, shared by a peer's client sessions and
 * peer links (each runs what it has read until the budget is spent, and the rest next turn).
 *
 * The first check in a turn starts the clock and schedules its reset with `setImmediate`, which
 * runs after the poll phase that delivered the frames: work continued in a later `setImmediate`
 * gets a fresh budget, and work deferred again waits a whole loop iteration (timers and I/O run
 * in between). Cost: one `performance.now()` per check (~30 ns).
 */
export class TurnBudget {
  /** When the current turn's first check ran (performance.now() ms), or -1 before it. */
  private startedAt = -1;
  private readonly reset = (): void => {
    this.startedAt = -1;
  };

  /** @param budgetMs the work one turn may do (ms, > 0; PeerConfig.turnBudgetMs) */
  constructor(readonly budgetMs: number) {}

  /** True once the work of the current turn has run longer than the budget. */
  exhausted(): boolean {
    const now = performance.now();
    if (this.startedAt < 0) {
      this.startedAt = now;
      setImmediate(this.reset);
      return false;
    }
    return now - this.startedAt > this.budgetMs;
  }
}
