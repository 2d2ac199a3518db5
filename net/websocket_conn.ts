/**
 * A WebSocket (RFC 6455) on a raw connection, seen as a byte connection, so
 * a browser user is a `ClientSession` like any other: same line splitter,
 * same Outbox, same limits, same notices.
 *
 * We own the framing because the platform's WebSocket buffers a whole
 * message (up to 64 MiB) before anyone can look at its size. Here nothing
 * is buffered: payload bytes are unmasked in place in the reader's own
 * buffer and handed to the line splitter as they arrive, and a message
 * whose length passes {@linkcode MAX_MESSAGE_BYTES} closes the connection
 * with 1009 from its frame header, before its payload is read. An idle
 * WebSocket therefore costs what an idle TCP connection costs.
 *
 * Each text message is one line (an LF is added at its end); each write is
 * sent as one text message (several lines when the Outbox coalesced them),
 * as it is or through an encoder (the browser page gets JSON events). Binary messages are refused (1003): the chat is
 * text. Pings are answered with one pong at a time (a ping flood cannot
 * queue pongs), pongs are ignored, a close is answered and ends the stream.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Deframer } from "./line_splitter.ts";
import type { ByteWriter } from "./outbox.ts";

/** The largest message a browser may send: sixteen times the default line
 * cap, far more than the page ever sends. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/** The GUID of RFC 6455, section 1.3. */
const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** Close codes used here (RFC 6455, section 7.4.1). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  tooBig: 1009,
} as const;

const LF = 0x0a;
/** How long a close frame may take to go out before the socket is closed
 * anyway. */
const CLOSE_FRAME_MS = 1_000;

/** `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`. Synchronous
 * (`node:crypto`), not WebCrypto: no promise or async op per handshake. */
export function acceptKey(key: string): string {
  return createHash("sha1").update(key + ACCEPT_GUID).digest("base64");
}

/** Whether `key` is a valid `Sec-WebSocket-Key`: 16 bytes in base64. */
export function isValidKey(key: string | undefined): key is string {
  if (key === undefined || !/^[A-Za-z0-9+/]{22}==$/.test(key)) return false;
  return atob(key).length === 16;
}

/** A frame header (up to 14 bytes) being read. */
const enum Step {
  Header,
  Payload,
}

/**
 * What a WebSocket tracks besides its socket: the frame being read, the
 * message it belongs to, the writes in flight, the close. Made when
 * something is under way and dropped once the connection is quiet again,
 * so an idle WebSocket holds nothing but its socket (see `quiet`).
 */
class Wire {
  constructor(readonly conn: Deno.Conn) {}

  /** Raw bytes read but not yet parsed (the upgrade's, or after a message
   * ended mid-read). */
  leftover: Uint8Array | undefined;
  step = Step.Header;
  /** The frame header being read (up to 14 bytes). */
  header: Uint8Array | undefined;
  headerLength = 0;
  /** The frame's mask key, as one 32-bit number. */
  mask = 0;
  maskAt = 0;
  fin = false;
  opcode = 0;
  remaining = 0;
  /** A text message is open (its continuation frames are expected). */
  inMessage = false;
  messageBytes = 0;
  /** A control frame's payload (at most 125 bytes) being collected. */
  control: number[] | undefined;
  /** A message ended where a read did: its LF is the next read. */
  newlinePending = false;
  ended = false;
  closeSent = false;
  pongPending = false;
  /** Frames are written one after another: a pong must not land in the
   * middle of a partly written message. While one is in flight, the next
   * wait here. */
  busy = false;
  waiting: { frame: Uint8Array; resolve: () => void; reject: (e: unknown) => void }[] | undefined;
  /** Made only when someone waits for the close (see `done`). */
  done: Promise<void> | undefined;
  resolveDone: (() => void) | undefined;
  socketClosed = false;

  /** Nothing is under way: every field is back to what a new `Wire` has
   * (or, like the mask and the opcode, is set afresh by the next header
   * before it is read). */
  get quiet(): boolean {
    return this.step === Step.Header && this.headerLength === 0 && !this.inMessage &&
      this.leftover === undefined && !this.newlinePending && !this.ended && !this.busy &&
      !this.pongPending && this.done === undefined && !this.socketClosed;
  }
}

/**
 * The server side of an upgraded WebSocket, as `read` / `write` / `close`.
 * Two fields: the socket, and a `Wire` while something is under way.
 *
 * @example
 * ```ts
 * import { WebSocketConn } from "./websocket_conn.ts";
 * const listener = Deno.listen({ port: 0 });
 * const conn = await listener.accept();
 * // ...after answering the upgrade request on `conn`:
 * const ws = new WebSocketConn(conn, new Uint8Array());
 * await ws.write(new TextEncoder().encode("hello\n"));
 * ws.close();
 * await ws.done;
 * ```
 */
export class WebSocketConn implements Deframer, ByteWriter {
  /** The socket while the connection is quiet; a `Wire` holding it while
   * something is under way. One field, not two: an idle WebSocket then
   * costs no more than an idle TCP connection (whose extra is its telnet
   * filter, also one field). For the same reason the methods below are
   * TypeScript-private, not `#`: a class with `#` methods gives every
   * instance a brand slot. */
  #io: Deno.Conn | Wire;

  constructor(conn: Deno.Conn, leftover: Uint8Array) {
    this.#io = conn;
    if (leftover.length > 0) this.wire().leftover = leftover;
  }

  /** The state if something is under way. */
  private get w(): Wire | undefined {
    const io = this.#io;
    return io instanceof Wire ? io : undefined;
  }

  private get conn(): Deno.Conn {
    const io = this.#io;
    return io instanceof Wire ? io.conn : io;
  }

  /** The state, made if the connection was quiet. */
  private wire(): Wire {
    const io = this.#io;
    return io instanceof Wire ? io : (this.#io = new Wire(io));
  }

  /** Drops the state once nothing is under way. */
  private settle(): void {
    const io = this.#io;
    if (io instanceof Wire && io.quiet) this.#io = io.conn;
  }

  /** Resolves once the underlying connection is closed. */
  get done(): Promise<void> {
    const w = this.wire();
    if (w.socketClosed) return Promise.resolve();
    return w.done ??= new Promise((resolve) => (w.resolveDone = resolve));
  }

  /** A WebSocket's text carries no telnet negotiation to remove (a getter:
   * nothing stored per connection). */
  get telnet(): false {
    return false;
  }

  /** The peer's address. */
  get remoteAddr(): Deno.Addr {
    return this.conn.remoteAddr;
  }

  /** How a payload becomes a text frame: the line as it is. A method, not
   * a field: a connection that frames otherwise is of a subclass (see
   * {@linkcode framedBy}), so no connection stores its framing. */
  protected frameOf(payload: Uint8Array): Uint8Array {
    return textFrame(payload);
  }

  /** For tests and tools: the session's line reader uses `readRaw` and
   * `unwrap`, which hold no callback per read. */
  read(buffer: Uint8Array): Promise<number | null> {
    const w = this.w;
    if (w?.newlinePending) {
      w.newlinePending = false;
      this.settle();
      buffer[0] = LF;
      return Promise.resolve(1);
    }
    if (w?.ended) return Promise.resolve(null);
    const leftover = w?.leftover;
    if (w !== undefined && leftover !== undefined) {
      const n = Math.min(leftover.length, buffer.length);
      buffer.set(leftover.subarray(0, n));
      w.leftover = n < leftover.length ? leftover.subarray(n) : undefined;
      return Promise.resolve(this.parsed(buffer, n));
    }
    // A failed read rejects on to the reader, which ends the session; the
    // session's close then closes the socket.
    return this.conn.read(buffer).then((n) => this.parsed(buffer, n));
  }

  /** The line reader's raw read: undefined while unread bytes or an LF are
   * waiting (then `read`). See `Deframer`. */
  readRaw(buffer: Uint8Array): Promise<number | null> | undefined {
    const w = this.w;
    if (w !== undefined && (w.newlinePending || w.ended || w.leftover !== undefined)) {
      return undefined;
    }
    return this.conn.read(buffer);
  }

  /** `n` raw bytes turned into payload at the front of `buffer`; null at
   * the end. See `Deframer`. */
  unwrap(buffer: Uint8Array, n: number | null): number | null {
    if (n === null) {
      this.wire().ended = true;
      this.closeSocket();
      return null;
    }
    const out = this.parse(buffer, n);
    this.settle();
    return out;
  }

  /** What a read of `n` raw bytes gives the reader: payload bytes, the end,
   * or (when the bytes held only frame headers) the next read. */
  private parsed(buffer: Uint8Array, n: number | null): number | null | Promise<number | null> {
    const out = this.unwrap(buffer, n);
    return out === null || out > 0 ? out : this.read(buffer);
  }

  write(bytes: Uint8Array): Promise<number> {
    const w = this.w;
    if (w !== undefined && (w.closeSent || w.ended)) {
      return Promise.reject(new Error("Cannot write to a closed WebSocket"));
    }
    const n = bytes.length;
    return this.send(this.frameOf(bytes)).then(() => n);
  }

  /** Sends `text` as one message as it is (not through the encoder). */
  sendText(text: string): Promise<void> {
    const w = this.w;
    if (w !== undefined && (w.closeSent || w.ended)) return Promise.resolve();
    return this.send(frame(0x1, new TextEncoder().encode(text)));
  }

  /** Sends a normal close and closes the socket once it is out. */
  close(): void {
    this.fail(CLOSE.normal);
  }

  /** Walks `n` raw bytes: frame headers are taken out, payload bytes are
   * unmasked and moved to the front, and each message's end becomes an LF.
   * Returns how many bytes are now at the front of `buffer`. */
  private parse(buffer: Uint8Array, n: number): number {
    const w = this.wire();
    let out = 0;
    let i = 0;
    while (i < n && !w.ended) {
      if (w.step === Step.Header) {
        (w.header ??= new Uint8Array(14))[w.headerLength++] = buffer[i++] as number;
        if (w.headerLength < headerNeeded(w)) continue;
        this.headerDone(w);
        if (w.ended || w.remaining > 0) continue;
      } else {
        const take = Math.min(w.remaining, n - i);
        if (w.opcode >= 0x8) {
          for (let k = 0; k < take; k++) {
            (w.control ??= []).push((buffer[i + k] as number) ^ maskByte(w));
          }
        } else {
          for (let k = 0; k < take; k++) {
            buffer[out + k] = (buffer[i + k] as number) ^ maskByte(w);
          }
          out += take;
        }
        i += take;
        w.remaining -= take;
        if (w.remaining > 0) continue;
        w.step = Step.Header;
      }
      if (!this.frameEnded(w)) continue;
      // A message ended: its LF goes next, before any later payload.
      if (out < i) {
        buffer[out++] = LF;
      } else {
        w.newlinePending = true;
        if (i < n) keepForLater(w, buffer.slice(i, n));
        return out;
      }
    }
    return out;
  }

  private headerDone(w: Wire): void {
    const h = w.header as Uint8Array;
    w.header = undefined;
    const b0 = h[0] as number;
    const b1 = h[1] as number;
    w.headerLength = 0;
    w.fin = (b0 & 0x80) !== 0;
    w.opcode = b0 & 0x0f;
    const length7 = b1 & 0x7f;
    let length = length7;
    let at = 2;
    if (length7 === 126) {
      length = ((h[2] as number) << 8) | (h[3] as number);
      at = 4;
    } else if (length7 === 127) {
      const high = new DataView(h.buffer).getUint32(2);
      length = high === 0 ? new DataView(h.buffer).getUint32(6) : Infinity;
      at = 10;
    }
    w.mask = (((h[at] as number) << 24) | ((h[at + 1] as number) << 16) |
      ((h[at + 2] as number) << 8) | (h[at + 3] as number)) >>> 0;
    w.maskAt = 0;
    const problem = check(w, b0, b1, length);
    if (problem !== undefined) return this.fail(problem);
    w.remaining = length;
    // Only control frames keep their payload (at most 125 bytes).
    w.control = w.opcode >= 0x8 ? [] : undefined;
    if (w.opcode < 0x8) {
      w.inMessage = !w.fin;
      w.messageBytes += length;
    }
    w.step = length === 0 ? Step.Header : Step.Payload;
  }

  /** A frame is complete (header and payload); true if it ended a text
   * message. */
  private frameEnded(w: Wire): boolean {
    switch (w.opcode) {
      case 0x8:
        this.closeReceived(w);
        return false;
      case 0x9:
        this.pong(w, w.control ?? []);
        return false;
      case 0xa:
        return false;
      default:
        return w.fin;
    }
  }

  private pong(w: Wire, payload: number[]): void {
    if (w.pongPending || w.closeSent) return;
    w.pongPending = true;
    this.send(frame(0xa, new Uint8Array(payload))).finally(() => {
      w.pongPending = false;
      this.settle();
    }).catch(() => {});
  }

  private closeReceived(w: Wire): void {
    const control = w.control ?? [];
    const code = control.length >= 2
      ? ((control[0] as number) << 8) | (control[1] as number)
      : CLOSE.normal;
    w.ended = true;
    this.fail(code === 1005 || code === 1006 || code === 1015 ? CLOSE.normal : code);
  }

  /** Sends a close frame with `code` (once), stops reading, and closes the
   * socket when the frame is out or after {@linkcode CLOSE_FRAME_MS}. */
  private fail(code: number): void {
    const w = this.wire();
    w.ended = true;
    if (w.closeSent) return;
    w.closeSent = true;
    const payload = new Uint8Array([code >> 8, code & 0xff]);
    const timer = setTimeout(() => this.closeSocket(), CLOSE_FRAME_MS);
    this.send(frame(0x8, payload)).catch(() => {}).finally(() => {
      clearTimeout(timer);
      this.closeSocket();
    });
  }

  /** Writes one whole frame after any in flight. */
  private send(frame: Uint8Array): Promise<void> {
    const w = this.wire();
    if (w.busy) {
      return new Promise((resolve, reject) => (w.waiting ??= []).push({ frame, resolve, reject }));
    }
    w.busy = true;
    return this.conn.write(frame).then(
      (n) =>
        n < frame.length
          ? writeAll(this.conn, frame.subarray(n)).then(() => this.next(w))
          : this.next(w),
      (error) => {
        this.next(w);
        throw error;
      },
    );
  }

  /** The frame in flight is out: start the next one waiting, or let the
   * state go if nothing else is under way. A method, not a stored
   * closure: an idle connection holds nothing for it. */
  private next(w: Wire): void {
    w.busy = false;
    const waiting = w.waiting?.shift();
    if (waiting) return void this.send(waiting.frame).then(waiting.resolve, waiting.reject);
    w.waiting = undefined;
    this.settle();
  }

  private closeSocket(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
    const w = this.wire();
    w.socketClosed = true;
    w.resolveDone?.();
  }
}

/** The `WebSocketConn` class whose connections frame payloads through
 * `framer` (the page's JSON events): made once per framing, so no
 * connection stores one. */
export function framedBy(framer: Framer): typeof WebSocketConn {
  return class extends WebSocketConn {
    protected override frameOf(payload: Uint8Array): Uint8Array {
      return framer(payload);
    }
  };
}

/** Puts raw bytes back in front of anything still unread. */
function keepForLater(w: Wire, bytes: Uint8Array): void {
  const rest = w.leftover;
  if (rest === undefined) {
    w.leftover = bytes;
    return;
  }
  const joined = new Uint8Array(bytes.length + rest.length);
  joined.set(bytes);
  joined.set(rest, bytes.length);
  w.leftover = joined;
}

function maskByte(w: Wire): number {
  const byte = (w.mask >>> (24 - 8 * w.maskAt)) & 0xff;
  w.maskAt = (w.maskAt + 1) & 3;
  return byte;
}

/** Header bytes this frame needs, given what has arrived. */
function headerNeeded(w: Wire): number {
  if (w.headerLength < 2) return 2;
  const b1 = (w.header as Uint8Array)[1] as number;
  const length7 = b1 & 0x7f;
  // An unmasked frame (refused) has no key: do not wait for one.
  return 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

/** The close code for a frame this server will not take, if any. */
function check(w: Wire, b0: number, b1: number, length: number): number | undefined {
  const opcode = b0 & 0x0f;
  if ((b0 & 0x70) !== 0 || (b1 & 0x80) === 0) return CLOSE.protocolError;
  if (opcode >= 0x8) {
    const known = opcode === 0x8 || opcode === 0x9 || opcode === 0xa;
    return !known || length > 125 || (b0 & 0x80) === 0 ? CLOSE.protocolError : undefined;
  }
  if (opcode === 0x2) return CLOSE.unsupportedData;
  if (opcode === 0x0 ? !w.inMessage : opcode !== 0x1 || w.inMessage) {
    return CLOSE.protocolError;
  }
  if (opcode === 0x1) w.messageBytes = 0;
  return w.messageBytes + length > MAX_MESSAGE_BYTES ? CLOSE.tooBig : undefined;
}

/**
 * Builds text frames from payloads through `encode` (lines as they are by
 * default). Fan-out hands the same bytes to every recipient's socket, one
 * write after another, so the last frame built is kept and reused while
 * the payload is the same: a frame is built once per line, not once per
 * recipient, and nothing is held per payload (a cache keyed by every
 * payload would grow its table with every connection's own lines).
 */
export function framer(encode?: (payload: Uint8Array) => Uint8Array): Framer {
  let lastPayload: Uint8Array | undefined;
  let lastFrame: Uint8Array = new Uint8Array();
  return (payload) => {
    if (payload !== lastPayload) {
      lastFrame = frame(0x1, encode === undefined ? payload : encode(payload));
      lastPayload = payload;
    }
    return lastFrame;
  };
}

/** Turns a payload into a ready text frame. */
export type Framer = (payload: Uint8Array) => Uint8Array;

const textFrame = framer();

/** One unmasked, final frame with `opcode` and `payload`. */
function frame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length;
  const headerLength = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const bytes = new Uint8Array(headerLength + n);
  bytes[0] = 0x80 | opcode;
  if (n < 126) {
    bytes[1] = n;
  } else if (n < 65536) {
    bytes[1] = 126;
    bytes[2] = n >> 8;
    bytes[3] = n & 0xff;
  } else {
    bytes[1] = 127;
    new DataView(bytes.buffer).setUint32(6, n);
  }
  bytes.set(payload, headerLength);
  return bytes;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}
