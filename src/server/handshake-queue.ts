/**
 * Client WebSocket handshakes admitted under the peer's turn budget, so that many clients
 * connecting at once (a load generator's 50 connections, a fleet reconnecting after a network
 * blip) do not hold the event loop in one go.
 *
 * Completing a handshake (`ws`'s `handleUpgrade`: the key's SHA-1, the `101` response written to
 * the socket, the `WebSocket` and its {@link ClientSession}) costs about 0.2 ms. A profile of one
 * peer while a load generator opened 50 connections found 35-45 ms of the event loop's time in
 * those connections, about 9 ms of it in completing their handshakes, most of it in one or two
 * turns, beside the run's longest stalls (15-17 ms on the CPU). Accepting the TCP connections
 * and parsing their HTTP requests happen as the bytes arrive and stay where they are; the
 * handshakes themselves run while the turn's budget ({@link TurnBudget}) lasts, the rest on
 * `setImmediate`, one turn after another, in arrival order. A client waits for its `101` a turn
 * or a few longer; nothing else changes for it. The socket of a waiting handshake is not read
 * (Node leaves an upgraded socket paused), so bytes it sends early wait in it.
 */
import type { TurnBudget } from '../turn-budget.js';

/** A FIFO of handshakes that run while the turn budget lasts. See the module comment. */
export class HandshakeQueue<T> {
  /** Handshakes that waited for a later turn, since creation (stats `clientTraffic.deferredHandshakes`). */
  deferred = 0;
  private readonly waiting: T[] = [];
  private immediate: NodeJS.Immediate | undefined = undefined;

  /**
   * @param budget the peer's turn budget, shared with its sessions and links
   * @param complete completes one handshake (may throw: the error is the caller's to handle inside `complete`)
   * @param abandoned true for a handshake whose client went away while it waited (skipped)
   */
  constructor(
    private readonly budget: TurnBudget,
    private readonly complete: (handshake: T) => void,
    private readonly abandoned: (handshake: T) => boolean,
  ) {}

  /** Handshakes waiting for a later turn. */
  get length(): number {
    return this.waiting.length;
  }

  /** Completes `handshake` now when nothing waits and the turn's budget is not spent, else queues it. */
  offer(handshake: T): void {
    if (this.waiting.length === 0 && !this.budget.exhausted()) {
      this.complete(handshake);
      return;
    }
    this.waiting.push(handshake);
    this.deferred += 1;
    this.schedule();
  }

  /** Drops every waiting handshake (the peer is stopping) and returns them, oldest first. */
  clear(): T[] {
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.immediate = undefined;
    return this.waiting.splice(0);
  }

  private schedule(): void {
    if (this.immediate === undefined) this.immediate = setImmediate(this.drain);
  }

  /** Runs waiting handshakes while the budget lasts (at least one, so a busy peer still admits clients). */
  private readonly drain = (): void => {
    this.immediate = undefined;
    let ran = false;
    while (this.waiting.length > 0) {
      if (ran && this.budget.exhausted()) {
        this.schedule();
        return;
      }
      const handshake = this.waiting.shift()!;
      if (this.abandoned(handshake)) continue;
      ran = true;
      this.complete(handshake);
    }
  };
}
