/**
 * One established link to another peer: a WebSocket after a completed handshake, carrying
 * asynchronous request/response frames correlated by id (many in flight), each with a deadline.
 *
 * Guarantees: a request never hangs. It resolves with the reply, or rejects with `TIMEOUT` when
 * its deadline passes, or with `UNAVAILABLE` at once when the link closes (or was closed before
 * the request could be sent; {@link LinkUnavailableError.sent} tells the two apart, so callers
 * know whether a non-idempotent request may have run).
 *
 * Frames queued in the same event-loop turn (forwarded ops, replication, their replies) leave as
 * one WebSocket message, a JSON array of frames, flushed by `setImmediate`, i.e. after every
 * socket read of this turn's poll phase: the per-message cost (framing, a syscall, a parse) is
 * paid once per turn instead of once per request. (A `process.nextTick` flush would run after
 * each client socket's read and batch only that socket's requests: measured, forwarded GETs cost
 * 1.33x and replicated SETs 1.28x the CPU of the setImmediate flush.) Deadlines are
 * kept in FIFO queues ({@link RequestDeadlines}), not one timer per request. Incoming frames run
 * within the peer's per-turn work budget ({@link TurnBudget}); the rest of a long message waits,
 * in order and with the socket paused, for the next turn.
 */
import { EventEmitter } from 'eventemitter3';
import type WebSocket from 'ws';
import { CacheError, toCacheError } from '../errors.js';
import type { MemberRecord } from '../membership/member.js';
import type { PeerFrame, PeerOpName, PeerOps } from '../protocol/peer-frames.js';
import { encodePeerFrame, isPeerOp, parseLinkFrames } from '../protocol/peer-frames.js';
import type { Deadline } from '../request-deadlines.js';
import { RequestDeadlines } from '../request-deadlines.js';
import type { TurnBudget } from '../turn-budget.js';

/** `UNAVAILABLE` raised by a link; `sent` is false when the request never left this peer. */
export class LinkUnavailableError extends CacheError {
  constructor(
    readonly peerId: string,
    readonly sent: boolean,
    reason: string,
  ) {
    super('UNAVAILABLE', `link to peer ${peerId} ${reason}`);
    this.name = 'LinkUnavailableError';
  }
}

/**
 * Handles one incoming peer request: returns the reply body, or a promise of it (a value returned
 * synchronously is answered in the same tick); a throw or rejection becomes an error reply.
 */
export type PeerRequestHandler = (op: PeerOpName, body: unknown, link: PeerLink) => unknown;

/** Components a link is built with. */
export interface PeerLinkOptions {
  /** The remote peer as it introduced itself in the handshake. */
  remote: MemberRecord;
  /** Id of the peer that dialed this link (decides which of two duplicate links survives). */
  dialerId: string;
  /** Answers incoming requests. */
  handler: PeerRequestHandler;
  /** Receives membership updates piggybacked on any frame. */
  onGossip: (records: MemberRecord[], link: PeerLink) => void;
  /** Membership updates to piggyback on a probe frame (ping request or reply), if any. */
  piggyback: () => MemberRecord[] | undefined;
  /**
   * The work budget of an event-loop turn shared with the peer's other sockets: frames read
   * beyond it wait, in order, for the next turn. Without one, every frame runs as it arrives.
   */
  turnBudget?: TurnBudget;
}

/** Incoming frames between two checks of the turn's budget (a power of two). */
const FRAMES_PER_BUDGET_CHECK = 16;

/** Events of a link: `link:close` once, when the socket is gone. */
export interface PeerLinkEvents {
  'link:close': [code: number, reason: string];
}

interface Pending {
  resolve: (body: unknown) => void;
  reject: (error: Error) => void;
  deadline: Deadline;
}

/**
 * A handshaken peer link. Created by the link manager; the socket must already be open.
 */
export class PeerLink extends EventEmitter<PeerLinkEvents> {
  readonly remote: MemberRecord;
  readonly dialerId: string;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private retiring = false;
  private closeWhenIdle = false;
  private readonly options: PeerLinkOptions;
  private readonly deadlines = new RequestDeadlines();
  /** Encoded frames waiting for the end of the tick. */
  private outbox: string[] = [];
  private readonly flush = (): void => {
    const outbox = this.outbox;
    if (outbox.length === 0) return;
    this.outbox = [];
    if (this.closed || this.socket.readyState !== 1) return;
    this.socket.send(outbox.length === 1 ? outbox[0]! : `[${outbox.join(',')}]`);
  };

  constructor(
    private readonly socket: WebSocket,
    options: PeerLinkOptions,
  ) {
    super();
    this.options = options;
    this.remote = options.remote;
    this.dialerId = options.dialerId;
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('close', (code, reason) => this.onClose(code, reason.toString()));
    socket.on('error', () => {
      // 'close' follows every 'error'; pending requests are failed there.
    });
  }

  /** Id of the remote peer. */
  get peerId(): string {
    return this.remote.id;
  }

  /** True while requests can be sent. */
  get isOpen(): boolean {
    return !this.closed && !this.retiring && this.socket.readyState === 1;
  }

  /** Requests awaiting their reply. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Bytes queued in the socket but not yet written (for backpressure). */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /**
   * Sends a request and resolves with the reply body.
   * @param timeoutMs deadline in ms
   * @throws LinkUnavailableError (UNAVAILABLE) when the link is or becomes closed
   * @throws CacheError TIMEOUT when no reply arrives in time; the error code of an error reply otherwise
   */
  request<K extends PeerOpName>(op: K, body: PeerOps[K]['req'], timeoutMs: number): Promise<PeerOps[K]['res']> {
    if (!this.isOpen) return Promise.reject(new LinkUnavailableError(this.peerId, false, 'is closed'));
    const id = this.nextId++;
    return new Promise<PeerOps[K]['res']>((resolve, reject) => {
      const deadline = this.deadlines.add(timeoutMs, () => {
        this.pending.delete(id);
        reject(new CacheError('TIMEOUT', `peer ${this.peerId} did not answer ${op} within ${timeoutMs} ms`));
        this.closeIfRetiredAndIdle();
      });
      this.pending.set(id, { resolve: resolve as (body: unknown) => void, reject, deadline });
      const frame: PeerFrame = { t: 'req', id, op, body };
      if (op === 'ping') {
        const g = this.options.piggyback();
        if (g && g.length > 0) frame.g = g;
      }
      this.send(frame);
    });
  }

  /** Sends membership updates as a one-way gossip frame (dropped if the link is closed). */
  gossip(records: MemberRecord[]): void {
    if (records.length > 0 && !this.closed && this.socket.readyState === 1) this.send({ t: 'gossip', g: records });
  }

  /**
   * Stops sending new requests on this link (a duplicate link lost the tie-break). The dialer
   * closes the socket once its pending requests have settled; the other side only stops using it,
   * so requests already on the wire in either direction complete.
   */
  retire(selfId: string): void {
    this.retiring = true;
    this.closeWhenIdle = this.dialerId === selfId;
    this.closeIfRetiredAndIdle();
  }

  /** Closes the socket; every pending request rejects with UNAVAILABLE. */
  close(code = 1000, reason = 'closing'): void {
    if (this.closed) return;
    // Frames queued this tick (replies we owe, a last gossip) go out before the close frame.
    this.flush();
    try {
      this.socket.close(code, reason);
    } catch {
      this.socket.terminate();
    }
    // Fail pending at once: the close handshake may take a while on a stalled peer.
    this.onClose(code, reason);
  }

  /** Drops the socket without a close handshake (used on shutdown deadlines). */
  terminate(): void {
    this.socket.terminate();
    this.onClose(1006, 'terminated');
  }

  private closeIfRetiredAndIdle(): void {
    if (this.closeWhenIdle && this.pending.size === 0) {
      this.close(4000, 'duplicate link');
    }
  }

  /** Writes the frames queued so far at once instead of at the end of the turn. */
  flushNow(): void {
    this.flush();
  }

  /** Queues a frame for the end of this event-loop turn (see the class comment). */
  private send(frame: PeerFrame): void {
    if (this.outbox.push(encodePeerFrame(frame)) === 1) setImmediate(this.flush);
  }

  /** Handles one frame from the socket (also used to replay frames that arrived with the handshake). */
  receive(data: WebSocket.RawData, isBinary: boolean): void {
    if (isBinary) {
      this.close(1003, 'binary frames are not part of the peer protocol');
      return;
    }
    const frames = parseLinkFrames(data.toString());
    if (!frames) {
      // A malformed frame from a peer is a bug or an intruder: drop the link, never crash.
      this.close(1008, 'malformed peer frame');
      return;
    }
    if (this.backlog.length > 0) {
      // Frames already read while earlier ones wait for the next turn: in order, behind them.
      for (const frame of frames) this.backlog.push(frame);
      return;
    }
    this.run(frames, 0);
  }

  /** Dispatches `frames` from `from` on; when the turn's budget runs out, the rest waits for the next turn. */
  private run(frames: readonly PeerFrame[], from: number): void {
    const budget = this.options.turnBudget;
    for (let i = from; i < frames.length; i++) {
      if (this.closed) return;
      if (budget && i > from && (i & (FRAMES_PER_BUDGET_CHECK - 1)) === 0 && budget.exhausted()) {
        for (let j = i; j < frames.length; j++) this.backlog.push(frames[j]!);
        this.socket.pause();
        setImmediate(this.drain);
        return;
      }
      this.dispatch(frames[i]!);
    }
  }

  /** Frames read but not yet dispatched (the turn's budget ran out), oldest first. */
  private backlog: PeerFrame[] = [];
  private readonly drain = (): void => {
    const frames = this.backlog;
    this.backlog = [];
    if (this.closed) return;
    // The first frame always runs, so a drain makes progress however the budget stands.
    this.run(frames, 0);
    if (this.backlog.length === 0 && !this.closed) this.socket.resume();
  };

  private dispatch(frame: PeerFrame): void {
    switch (frame.t) {
      case 'req':
        if (frame.g) this.options.onGossip(frame.g, this);
        this.answer(frame.id, frame.op, frame.body);
        break;
      case 'res': {
        if (frame.g) this.options.onGossip(frame.g, this);
        const pending = this.pending.get(frame.id);
        if (!pending) return; // late reply after a timeout
        this.pending.delete(frame.id);
        pending.deadline.cancel();
        if (frame.ok) pending.resolve(frame.body);
        else pending.reject(CacheError.fromWire(frame.error));
        this.closeIfRetiredAndIdle();
        break;
      }
      case 'gossip':
        this.options.onGossip(frame.g, this);
        break;
      default:
        this.close(1008, `unexpected ${frame.t} frame after handshake`);
    }
  }

  /** Runs the handler; replies in this tick when it returned synchronously. */
  private answer(id: number, op: string, body: unknown): void {
    if (!isPeerOp(op)) {
      this.reply({ t: 'res', id, ok: false, error: { code: 'UNKNOWN_OP', message: `unknown peer op ${JSON.stringify(op.slice(0, 64))}` } });
      return;
    }
    let result: unknown;
    try {
      result = this.options.handler(op, body, this);
    } catch (error) {
      this.reply({ t: 'res', id, ok: false, error: toCacheError(error).toWire() });
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (value: unknown) => this.replyOk(id, op, value),
        (error: unknown) => this.reply({ t: 'res', id, ok: false, error: toCacheError(error).toWire() }),
      );
    } else {
      this.replyOk(id, op, result);
    }
  }

  private replyOk(id: number, op: PeerOpName, result: unknown): void {
    const reply: PeerFrame = { t: 'res', id, ok: true, body: result ?? {} };
    if (op === 'ping') {
      const g = this.options.piggyback();
      if (g && g.length > 0) reply.g = g;
    }
    this.reply(reply);
  }

  private reply(frame: PeerFrame): void {
    if (!this.closed && this.socket.readyState === 1) this.send(frame);
  }

  private onClose(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.outbox = [];
    this.deadlines.clear();
    for (const [id, pending] of this.pending) {
      pending.reject(new LinkUnavailableError(this.peerId, true, `closed (${code}${reason ? ` ${reason}` : ''})`));
      this.pending.delete(id);
    }
    this.emit('link:close', code, reason);
  }
}
