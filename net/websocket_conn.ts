/**
 * A WebSocket (RFC 6455) on a raw connection, seen as a byte connection, so
 * a browser user is a `ClientSession` like any other: same line splitter,
 * same Outbox, same limits, same notices.
 *
 * We own the framing because the platform's WebSocket buffers a whole
 * message (up to 64 MiB) before anyone can look at its size. Here a
 * message is held only while incomplete, up to {@linkcode MAX_MESSAGE_BYTES}
 * (a longer one closes with 1009 from its frame header), and is handed to
 * the line splitter with an LF once complete and valid UTF-8 (else 1007):
 * nothing of a message that never completed, or failed, reaches anyone. A
 * message holding line breaks is several lines, as over TCP. Each write
 * goes out as one text message, as it is or through an encoder (the page
 * gets JSON events). Binary messages are refused (1003); each ping is
 * answered (one pong in flight, then the latest ping only); a close is
 * answered with its code (1002 for a bad one, 1007 for a reason that is
 * not UTF-8) and ends the stream. An idle WebSocket costs what an idle
 * TCP connection costs.
 *
 * @module
 */

import type { Deframer } from "./line_splitter.ts";
import type { ByteWriter } from "./outbox.ts";
import {
  CLOSE,
  closeAnswer,
  frame,
  type Framer,
  framer,
  headerProblem,
  isUtf8,
} from "./websocket_frames.ts";
import { headerNeeded, maskByte, queueLine, Step, unmaskInto, Wire } from "./websocket_wire.ts";

export {
  acceptKey,
  CLOSE,
  type Framer,
  framer,
  isValidKey,
  MAX_MESSAGE_BYTES,
} from "./websocket_frames.ts";

/** How long a close frame may take to go out before the socket closes anyway. */
const CLOSE_FRAME_MS = 1_000;

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
  /** The socket while quiet; a `Wire` holding it while something is under
   * way. One field: an idle WebSocket costs what an idle TCP connection
   * does. So are the methods TypeScript-private, not `#`: a class with `#`
   * methods gives every instance a brand slot. */
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

  /** Its text carries no telnet negotiation (a getter: nothing stored). */
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
    if (w?.ready !== undefined) return Promise.resolve(this.handOut(w, buffer));
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

  /** The line reader's raw read: undefined while messages or unread bytes
   * are waiting (then `read`). See `Deframer`. */
  readRaw(buffer: Uint8Array): Promise<number | null> | undefined {
    const w = this.w;
    if (w !== undefined && (w.ready !== undefined || w.ended || w.leftover !== undefined)) {
      return undefined;
    }
    return this.conn.read(buffer);
  }

  /** `n` raw bytes read into `buffer` parsed; the complete messages among
   * them (and before them) put at its front. Returns how many bytes that is
   * (0: no message is complete yet, read again), or null at the end. See
   * `Deframer`. */
  unwrap(buffer: Uint8Array, n: number | null): number | null {
    if (n === null) {
      // An incomplete message is dropped with the connection.
      this.wire().ended = true;
      this.closeSocket();
      return this.w?.ready === undefined ? null : this.handOut(this.wire(), buffer);
    }
    this.parse(buffer, n);
    const w = this.wire();
    const out = w.ready === undefined ? 0 : this.handOut(w, buffer);
    this.settle();
    return out;
  }

  /** What a read of `n` raw bytes gives the reader: message bytes, the end,
   * or (when no message completed) the next read. */
  private parsed(buffer: Uint8Array, n: number | null): number | null | Promise<number | null> {
    const out = this.unwrap(buffer, n);
    return out === null || out > 0 ? out : this.read(buffer);
  }

  /** Moves waiting message bytes to the front of `buffer`; returns how many. */
  private handOut(w: Wire, buffer: Uint8Array): number {
    const ready = w.ready as Uint8Array;
    const n = Math.min(ready.length, buffer.length);
    buffer.set(ready.subarray(0, n));
    w.ready = n < ready.length ? ready.subarray(n) : undefined;
    this.settle();
    return n;
  }

  write(bytes: Uint8Array): Promise<number> {
    const w = this.w;
    if (w !== undefined && (w.closeSent || w.ended)) {
      return Promise.reject(new Error("Cannot write to a closed WebSocket"));
    }
    const n = bytes.length;
    return this.send(this.frameOf(bytes)).then(() => n);
  }

  /** Sends `text` as one message, not through the encoder. */
  sendText(text: string): Promise<void> {
    const w = this.w;
    if (w !== undefined && (w.closeSent || w.ended)) return Promise.resolve();
    return this.send(frame(0x1, new TextEncoder().encode(text)));
  }

  /** Sends a normal close and closes the socket once it is out. */
  close(): void {
    this.fail(CLOSE.normal);
  }

  /** Walks `n` raw bytes: frame headers are read, payload bytes unmasked
   * into the open message (or the control frame), and each message that
   * completes is checked and queued for the reader (`ready`). */
  private parse(buffer: Uint8Array, n: number): void {
    const w = this.wire();
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
          unmaskInto(w, buffer.subarray(i, i + take));
        }
        i += take;
        w.remaining -= take;
        if (w.remaining > 0) continue;
        w.step = Step.Header;
      }
      this.frameEnded(w);
    }
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
      // The most significant bit must be 0 (section 5.2).
      if (high >= 0x80000000) return this.fail(CLOSE.protocolError);
      length = high === 0 ? new DataView(h.buffer).getUint32(6) : Infinity;
      at = 10;
    }
    w.mask = (((h[at] as number) << 24) | ((h[at + 1] as number) << 16) |
      ((h[at + 2] as number) << 8) | (h[at + 3] as number)) >>> 0;
    w.maskAt = 0;
    const { inMessage, messageBytes } = w;
    const problem = headerProblem({ b0, b1, length, inMessage, messageBytes });
    if (problem !== undefined) return this.fail(problem);
    w.remaining = length;
    // Only control frames keep their payload (at most 125 bytes).
    w.control = w.opcode >= 0x8 ? [] : undefined;
    if (w.opcode < 0x8) {
      if (w.opcode === 0x1) w.messageBytes = 0;
      w.inMessage = !w.fin;
      w.messageBytes += length;
    }
    w.step = length === 0 ? Step.Header : Step.Payload;
  }

  /** A frame is complete (header and payload). */
  private frameEnded(w: Wire): void {
    switch (w.opcode) {
      case 0x8:
        return this.closeReceived(w);
      case 0x9:
        return this.pong(w, new Uint8Array(w.control ?? []));
      case 0xa:
        return;
      default:
        if (w.fin) this.messageEnded(w);
    }
  }

  /** A text message is complete: queued for the reader with its LF if it
   * is UTF-8; otherwise the connection fails (1007) and nothing of it is
   * delivered. */
  private messageEnded(w: Wire): void {
    const message = (w.message ?? new Uint8Array()).subarray(0, w.messageBytes);
    w.message = undefined;
    if (!isUtf8(message)) return this.fail(CLOSE.invalidData);
    queueLine(w, message);
  }

  /** Answers a ping; one that comes while a pong is in flight is answered
   * after it (only the latest: a ping flood cannot queue pongs). */
  private pong(w: Wire, payload: Uint8Array): void {
    if (w.closeSent) return;
    if (w.pongPending) {
      w.nextPong = payload;
      return;
    }
    w.pongPending = true;
    this.send(frame(0xa, payload)).finally(() => {
      w.pongPending = false;
      const next = w.nextPong;
      w.nextPong = undefined;
      if (next !== undefined) this.pong(w, next);
      else this.settle();
    }).catch(() => {});
  }

  /** A close: answered with its own code (or the failure it is), and the
   * stream ends. */
  private closeReceived(w: Wire): void {
    const code = closeAnswer(new Uint8Array(w.control ?? []));
    w.ended = true;
    this.fail(code);
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

/** Frames a write's payload as it is: a text message of lines. */
const textFrame = framer();

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

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}
