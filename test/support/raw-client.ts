/**
 * A raw `ws` client speaking the JSON client protocol by hand (not our CacheClient), for
 * integration tests that check the wire contract itself.
 */
import WebSocket from 'ws';

/** A reply frame as received. */
export type Reply = { id: unknown; ok: boolean; error?: { code: string; message: string }; [field: string]: unknown };

/**
 * Sends one raw text frame on `socket` and resolves with the next frame received, parsed (a
 * batch frame's reply array, say).
 * @throws Error when nothing arrives within `timeoutMs`
 */
export function exchangeFrame(socket: WebSocket, text: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply within ${timeoutMs} ms`)), timeoutMs);
    socket.once('message', (data) => {
      clearTimeout(timer);
      resolve(JSON.parse(data.toString()));
    });
    socket.send(text);
  });
}

/** A connected raw client: `call` sends one request and resolves with its reply. */
export class RawClient {
  private nextId = 1;
  private readonly pending = new Map<unknown, (reply: Reply) => void>();
  readonly events: Array<Record<string, unknown>> = [];
  /** Replies that arrived with `id: null` (errors for unparseable frames). */
  readonly orphanReplies: Reply[] = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as Reply & { event?: string };
      if (frame.event) {
        this.events.push(frame);
        return;
      }
      const resolve = this.pending.get(frame.id);
      if (resolve) {
        this.pending.delete(frame.id);
        resolve(frame);
      } else this.orphanReplies.push(frame);
    });
  }

  /** Opens a client socket to `url` (the peer's base URL). */
  static connect(url: string): Promise<RawClient> {
    const socket = new WebSocket(url);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends `{id, op, ...fields}` and resolves with the reply (rejects after `timeoutMs`). */
  call(op: string, fields: Record<string, unknown> = {}, timeoutMs = 10_000): Promise<Reply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no reply to ${op} #${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.socket.send(JSON.stringify({ id, op, ...fields }));
    });
  }

  /** Sends raw text or bytes as one frame. */
  sendRaw(data: string | Buffer): void {
    this.socket.send(data);
  }

  /** Resolves with the next reply that has `id: null`. */
  async nextOrphan(timeoutMs = 5000): Promise<Reply> {
    const until = Date.now() + timeoutMs;
    while (this.orphanReplies.length === 0) {
      if (Date.now() > until) throw new Error('no id-less reply arrived');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.orphanReplies.shift()!;
  }

  /** Closes the socket and waits for the close. */
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
}
