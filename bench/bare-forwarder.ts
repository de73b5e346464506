/**
 * The baseline of a forwarded request (issue 5: "the same behind one forwarding hop"): the least
 * work a JSON-over-WebSocket front can do to relay a request to another process and the reply
 * back. One `ws` server on 127.0.0.1 (port 0) in front, ONE `ws` link to a back server
 * (bench/bare-ws-server.ts) shared by every client, requests correlated by id:
 *
 * client frame -> parse -> replace `id` by the link's own sequence number -> stringify -> back;
 * back reply -> parse -> look the number up -> put the client's `id` back -> stringify -> client.
 *
 * That is what a peer does when it forwards to the primary (src/replication/coordinator.ts) minus
 * routing, deadlines and the peer frame envelope. A batch frame (JSON array) is forwarded as one
 * array frame, each element under its own sequence number, and the reply array is relayed as one
 * array frame in the same order.
 *
 * Prints exactly one line on stdout when ready: `bare-forwarder listening on ws://127.0.0.1:<port>`.
 * Exits on SIGINT/SIGTERM, when its stdin closes (the parent went away) and when the back link
 * closes.
 *
 * Run: `node dist/bench/bare-forwarder.js ws://127.0.0.1:<back port>` (the benchmark starts it).
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer, type RawData } from 'ws';

/** Same default as the peer's `maxFrameBytes`. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

const backUrl = process.argv[2];
if (!backUrl) {
  process.stderr.write('usage: bare-forwarder <ws://back-server-url>\n');
  process.exit(2);
}

/** A forwarded request waiting for the back server: the client socket and the client's own id. */
interface Waiting {
  socket: WebSocket;
  id: unknown;
}

/** Link sequence number -> who asked; for a batch, one entry per element. */
const waiting = new Map<number, Waiting>();
let nextSeq = 1;

const back = new WebSocket(backUrl, { perMessageDeflate: false, maxPayload: MAX_FRAME_BYTES });
const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: MAX_FRAME_BYTES });

function failure(id: unknown, code: string, message: string): string {
  return JSON.stringify({ id: id ?? null, ok: false, error: { code, message } });
}

/** Gives `request` (a parsed request object) the next sequence number, remembering the client's id. */
function relabel(socket: WebSocket, request: unknown): unknown {
  if (typeof request !== 'object' || request === null) return request;
  const seq = nextSeq++;
  const object = request as Record<string, unknown>;
  waiting.set(seq, { socket, id: object.id });
  object.id = seq;
  return object;
}

function onClientFrame(socket: WebSocket, data: RawData): void {
  let frame: unknown;
  try {
    frame = JSON.parse(data.toString());
  } catch {
    socket.send(failure(null, 'BAD_REQUEST', 'frame is not valid JSON'));
    return;
  }
  const forwarded = Array.isArray(frame) ? frame.map((request) => relabel(socket, request)) : relabel(socket, frame);
  back.send(JSON.stringify(forwarded));
}

/** Puts the client's id back into one reply object; the client socket it goes to, if still waited for. */
function restore(reply: unknown): WebSocket | undefined {
  if (typeof reply !== 'object' || reply === null) return undefined;
  const object = reply as Record<string, unknown>;
  const entry = typeof object.id === 'number' ? waiting.get(object.id) : undefined;
  if (!entry) return undefined;
  waiting.delete(object.id as number);
  object.id = entry.id;
  return entry.socket;
}

back.on('message', (data) => {
  const reply: unknown = JSON.parse(data.toString());
  if (Array.isArray(reply)) {
    let socket: WebSocket | undefined;
    for (const element of reply) socket = restore(element) ?? socket;
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(reply));
    return;
  }
  const socket = restore(reply);
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(reply));
});

server.on('connection', (socket) => {
  socket.on('message', (data) => onClientFrame(socket, data));
  socket.on('close', () => {
    for (const [seq, entry] of waiting) if (entry.socket === socket) waiting.delete(seq);
  });
  // A client that vanishes must not take the forwarder down with an unhandled 'error'.
  socket.on('error', () => socket.terminate());
});

// The ready line promises a working forwarder: listening AND linked to the back server.
void Promise.all([once(server, 'listening'), once(back, 'open')]).then(() => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`bare-forwarder listening on ws://127.0.0.1:${port}\n`);
});

function fail(error: Error): void {
  process.stderr.write(`bare-forwarder: ${error.message}\n`);
  process.exit(1);
}
server.on('error', fail);
back.on('error', fail);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  for (const client of server.clients) client.terminate();
  back.terminate();
  server.close(() => process.exit(0));
  // close() waits for nothing else, but never let a wedged socket keep the process alive.
  setTimeout(() => process.exit(0), 1000).unref();
}

back.on('close', stop);
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// The parent holds our stdin open; EOF means it is gone.
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
