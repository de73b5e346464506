/**
 * The baseline of bench/cluster-figures.ts: the least work a JSON-over-WebSocket cache can do per
 * request. One `ws` server on 127.0.0.1 (port 0), no cluster, no routing, no replication: parse
 * the frame, look the key up in a Map, reply. Values are kept as JSON text and spliced into the
 * reply as the peer does, so the difference to a peer's local `get` is the peer's own overhead.
 *
 * Speaks the subset of the client protocol (docs/protocol.md) the benchmark uses:
 * `{"id","op":"get","key"}` -> `{"id","ok":true,"found",value?}`,
 * `{"id","op":"set","key","value"}` -> `{"id","ok":true}`, `{"id","op":"ping"}` -> `{"id","ok":true}`,
 * and batch frames: a JSON array of such requests gets one JSON array of their replies, in order
 * (the batch-frame contract of issue 5; no length limit here).
 *
 * Prints exactly one line on stdout when ready: `bare-ws-server listening on ws://127.0.0.1:<port>`.
 * Exits on SIGINT/SIGTERM and when its stdin closes (the parent went away, even by SIGKILL).
 *
 * Run: `node dist/bench/bare-ws-server.js` (the benchmark starts it as a child process).
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData } from 'ws';

/** Same default as the peer's `maxFrameBytes`. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** key -> the value's JSON text. */
const store = new Map<string, string>();

const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, maxPayload: MAX_FRAME_BYTES });

function failure(id: unknown, code: string, message: string): string {
  return JSON.stringify({ id: id ?? null, ok: false, error: { code, message } });
}

function answer(data: RawData): string {
  let frame: unknown;
  try {
    frame = JSON.parse(data.toString());
  } catch {
    return failure(null, 'BAD_REQUEST', 'frame is not valid JSON');
  }
  if (Array.isArray(frame)) {
    if (frame.length === 0) return failure(null, 'BAD_REQUEST', 'empty batch');
    return `[${frame.map(answerOne).join(',')}]`;
  }
  return answerOne(frame);
}

/** The reply text to one parsed request object. */
function answerOne(frame: unknown): string {
  if (typeof frame !== 'object' || frame === null) return failure(null, 'BAD_REQUEST', 'frame must be a JSON object');
  const { id, op, key, value } = frame as Record<string, unknown>;
  const idText = JSON.stringify(id ?? null);
  switch (op) {
    case 'get': {
      if (typeof key !== 'string') return failure(id, 'BAD_REQUEST', 'key must be a string');
      const text = store.get(key);
      return text === undefined ? `{"id":${idText},"ok":true,"found":false}` : `{"id":${idText},"ok":true,"found":true,"value":${text}}`;
    }
    case 'set':
      if (typeof key !== 'string' || value === undefined) return failure(id, 'BAD_REQUEST', 'set needs a string key and a value');
      store.set(key, JSON.stringify(value));
      return `{"id":${idText},"ok":true}`;
    case 'ping':
      return `{"id":${idText},"ok":true}`;
    default:
      return failure(id, 'UNKNOWN_OP', `unknown op ${JSON.stringify(op)}`);
  }
}

server.on('connection', (socket) => {
  socket.on('message', (data) => socket.send(answer(data)));
  // A client that vanishes must not take the server down with an unhandled 'error'.
  socket.on('error', () => socket.terminate());
});

server.on('listening', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`bare-ws-server listening on ws://127.0.0.1:${port}\n`);
});

server.on('error', (error) => {
  process.stderr.write(`bare-ws-server: ${error.message}\n`);
  process.exit(1);
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  for (const client of server.clients) client.terminate();
  server.close(() => process.exit(0));
  // close() waits for nothing else, but never let a wedged socket keep the process alive.
  setTimeout(() => process.exit(0), 1000).unref();
}

process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// The parent holds our stdin open; EOF means it is gone.
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
