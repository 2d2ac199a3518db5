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
 * The server side of an upgraded WebSocket, as `read` / `write` / `close`.
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
  readonly #conn: Deno.Conn;
  #leftover: Uint8Array | undefined;
  #step = Step.Header;
  /** The frame header being read (up to 14 bytes): allocated when a frame
   * starts and dropped once its header is read, so an idle connection holds
   * none. */
  #header: Uint8Array | undefined;
  /** The frame's mask key, as one 32-bit number. */
  #mask = 0;
  #headerLength = 0;
  #fin = false;
  #opcode = 0;
  #remaining = 0;
  #maskAt = 0;
  /** A text message is open (its continuation frames are expected). */
  #inMessage = false;
  #messageBytes = 0;
  /** A control frame's payload (at most 125 bytes) being collected. */
  #control: number[] | undefined;
  #newlinePending = false;
  #ended = false;
  #closeSent = false;
  #pongPending = false;
  /** Frames are written one after another: a pong must not land in the
   * middle of a partly written message. While one is in flight, the next
   * wait here. The common case (nothing in flight) costs one promise. */
  #busy = false;
  #waiting: { frame: Uint8Array; resolve: () => void; reject: (e: unknown) => void }[] | undefined;
  /** Made only when someone waits for the close (see `done`). */
  #done: Promise<void> | undefined;
  #resolveDone: (() => void) | undefined;
  #socketClosed = false;

  /** Resolves once the underlying connection is closed. */
  get done(): Promise<void> {
    if (this.#socketClosed) return Promise.resolve();
    return this.#done ??= new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /** A WebSocket's text carries no telnet negotiation to remove (a getter:
   * nothing stored per connection). */
  get telnet(): false {
    return false;
  }

  /** The peer's address. */
  get remoteAddr(): Deno.Addr {
    return this.#conn.remoteAddr;
  }

  /** How payloads become frames: lines as they are, or (for the browser
   * page) as JSON events. */
  readonly #framer: Framer;

  constructor(conn: Deno.Conn, leftover: Uint8Array, framer: Framer = textFrame) {
    this.#conn = conn;
    this.#framer = framer;
    this.#leftover = leftover.length > 0 ? leftover : undefined;
  }

  /** Promise callbacks, not an async loop: an idle WebSocket then holds one
   * pending read, as an idle TCP connection does, and no suspended frames. */
  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#newlinePending) {
      this.#newlinePending = false;
      buffer[0] = LF;
      return Promise.resolve(1);
    }
    if (this.#ended) return Promise.resolve(null);
    const leftover = this.#leftover;
    if (leftover !== undefined) {
      const n = Math.min(leftover.length, buffer.length);
      buffer.set(leftover.subarray(0, n));
      this.#leftover = n < leftover.length ? leftover.subarray(n) : undefined;
      return Promise.resolve(this.#parsed(buffer, n));
    }
    this.#readInto = buffer;
    // A failed read rejects on to the reader, which ends the session; the
    // session's close then closes the socket.
    return this.#conn.read(buffer).then(
      this.#onRead ??= (n) => this.#parsed(this.#readInto as Uint8Array, n),
    );
  }

  /** The line reader's raw read: undefined while unread bytes or an LF are
   * waiting (then `read`). See `Deframer`. */
  readRaw(buffer: Uint8Array): Promise<number | null> | undefined {
    if (this.#newlinePending || this.#ended || this.#leftover !== undefined) return undefined;
    return this.#conn.read(buffer);
  }

  /** `n` raw bytes turned into payload at the front of `buffer`; null at
   * the end. See `Deframer`. */
  unwrap(buffer: Uint8Array, n: number | null): number | null {
    if (n === null) {
      this.#ended = true;
      this.#closeSocket();
      return null;
    }
    return this.#parse(buffer, n);
  }

  /** For `read` (tests, tools): the buffer of the read in flight, and the
   * callback every such read shares, made on first use. */
  #readInto: Uint8Array | undefined;
  #onRead: ((n: number | null) => number | null | Promise<number | null>) | undefined;

  /** What a read of `n` raw bytes gives the reader: payload bytes, the end,
   * or (when the bytes held only frame headers) the next read. */
  #parsed(buffer: Uint8Array, n: number | null): number | null | Promise<number | null> {
    const out = this.unwrap(buffer, n);
    return out === null || out > 0 ? out : this.read(buffer);
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.#closeSent || this.#ended) {
      return Promise.reject(new Error("Cannot write to a closed WebSocket"));
    }
    const n = bytes.length;
    return this.#send(this.#framer(bytes)).then(() => n);
  }

  /** Sends `text` as one message as it is (not through the encoder). */
  sendText(text: string): Promise<void> {
    if (this.#closeSent || this.#ended) return Promise.resolve();
    return this.#send(frame(0x1, new TextEncoder().encode(text)));
  }

  /** Sends a normal close and closes the socket once it is out. */
  close(): void {
    this.#fail(CLOSE.normal);
  }

  /** Walks `n` raw bytes: frame headers are taken out, payload bytes are
   * unmasked and moved to the front, and each message's end becomes an LF.
   * Returns how many bytes are now at the front of `buffer`. */
  #parse(buffer: Uint8Array, n: number): number {
    let out = 0;
    let i = 0;
    while (i < n && !this.#ended) {
      if (this.#step === Step.Header) {
        (this.#header ??= new Uint8Array(14))[this.#headerLength++] = buffer[i++] as number;
        if (this.#headerLength < this.#headerNeeded()) continue;
        this.#headerDone();
        if (this.#ended || this.#remaining > 0) continue;
      } else {
        const take = Math.min(this.#remaining, n - i);
        if (this.#opcode >= 0x8) {
          for (let k = 0; k < take; k++) {
            (this.#control ??= []).push((buffer[i + k] as number) ^ this.#maskByte());
          }
        } else {
          for (let k = 0; k < take; k++) {
            buffer[out + k] = (buffer[i + k] as number) ^ this.#maskByte();
          }
          out += take;
        }
        i += take;
        this.#remaining -= take;
        if (this.#remaining > 0) continue;
        this.#step = Step.Header;
      }
      if (!this.#frameEnded()) continue;
      // A message ended: its LF goes next, before any later payload.
      if (out < i) {
        buffer[out++] = LF;
      } else {
        this.#newlinePending = true;
        if (i < n) this.#keepForLater(buffer.slice(i, n));
        return out;
      }
    }
    return out;
  }

  /** Puts raw bytes back in front of anything still unread. */
  #keepForLater(bytes: Uint8Array): void {
    const rest = this.#leftover;
    if (rest === undefined) {
      this.#leftover = bytes;
      return;
    }
    const joined = new Uint8Array(bytes.length + rest.length);
    joined.set(bytes);
    joined.set(rest, bytes.length);
    this.#leftover = joined;
  }

  #maskByte(): number {
    const byte = (this.#mask >>> (24 - 8 * this.#maskAt)) & 0xff;
    this.#maskAt = (this.#maskAt + 1) & 3;
    return byte;
  }

  /** Header bytes this frame needs, given what has arrived. */
  #headerNeeded(): number {
    if (this.#headerLength < 2) return 2;
    const b1 = (this.#header as Uint8Array)[1] as number;
    const length7 = b1 & 0x7f;
    // An unmasked frame (refused) has no key: do not wait for one.
    return 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
  }

  #headerDone(): void {
    const h = this.#header as Uint8Array;
    this.#header = undefined;
    const b0 = h[0] as number;
    const b1 = h[1] as number;
    this.#headerLength = 0;
    this.#fin = (b0 & 0x80) !== 0;
    this.#opcode = b0 & 0x0f;
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
    this.#mask = (((h[at] as number) << 24) | ((h[at + 1] as number) << 16) |
      ((h[at + 2] as number) << 8) | (h[at + 3] as number)) >>> 0;
    this.#maskAt = 0;
    const problem = this.#check(b0, b1, length);
    if (problem !== undefined) return this.#fail(problem);
    this.#remaining = length;
    // Only control frames keep their payload (at most 125 bytes).
    this.#control = this.#opcode >= 0x8 ? [] : undefined;
    if (this.#opcode < 0x8) {
      this.#inMessage = !this.#fin;
      this.#messageBytes += length;
    }
    this.#step = length === 0 ? Step.Header : Step.Payload;
  }

  /** The close code for a frame this server will not take, if any. */
  #check(b0: number, b1: number, length: number): number | undefined {
    const opcode = b0 & 0x0f;
    if ((b0 & 0x70) !== 0 || (b1 & 0x80) === 0) return CLOSE.protocolError;
    if (opcode >= 0x8) {
      const known = opcode === 0x8 || opcode === 0x9 || opcode === 0xa;
      return !known || length > 125 || (b0 & 0x80) === 0 ? CLOSE.protocolError : undefined;
    }
    if (opcode === 0x2) return CLOSE.unsupportedData;
    if (opcode === 0x0 ? !this.#inMessage : opcode !== 0x1 || this.#inMessage) {
      return CLOSE.protocolError;
    }
    if (opcode === 0x1) this.#messageBytes = 0;
    return this.#messageBytes + length > MAX_MESSAGE_BYTES ? CLOSE.tooBig : undefined;
  }

  /** A frame is complete (header and payload); true if it ended a text
   * message. */
  #frameEnded(): boolean {
    switch (this.#opcode) {
      case 0x8:
        this.#closeReceived();
        return false;
      case 0x9:
        this.#pong(this.#control ?? []);
        return false;
      case 0xa:
        return false;
      default:
        return this.#fin;
    }
  }

  #pong(payload: number[]): void {
    if (this.#pongPending || this.#closeSent) return;
    this.#pongPending = true;
    this.#send(frame(0xa, new Uint8Array(payload))).finally(() => (this.#pongPending = false))
      .catch(() => {});
  }

  #closeReceived(): void {
    const control = this.#control ?? [];
    const code = control.length >= 2
      ? ((control[0] as number) << 8) | (control[1] as number)
      : CLOSE.normal;
    this.#ended = true;
    this.#fail(code === 1005 || code === 1006 || code === 1015 ? CLOSE.normal : code);
  }

  /** Sends a close frame with `code` (once), stops reading, and closes the
   * socket when the frame is out or after {@linkcode CLOSE_FRAME_MS}. */
  #fail(code: number): void {
    this.#ended = true;
    if (this.#closeSent) return;
    this.#closeSent = true;
    const payload = new Uint8Array([code >> 8, code & 0xff]);
    const timer = setTimeout(() => this.#closeSocket(), CLOSE_FRAME_MS);
    this.#send(frame(0x8, payload)).catch(() => {}).finally(() => {
      clearTimeout(timer);
      this.#closeSocket();
    });
  }

  /** Writes one whole frame after any in flight. */
  #send(frame: Uint8Array): Promise<void> {
    if (this.#busy) {
      return new Promise((resolve, reject) =>
        (this.#waiting ??= []).push({ frame, resolve, reject })
      );
    }
    this.#busy = true;
    return this.#conn.write(frame).then(
      (n) =>
        n < frame.length
          ? writeAll(this.#conn, frame.subarray(n)).then(() => this.#next())
          : this.#next(),
      (error) => {
        this.#next();
        throw error;
      },
    );
  }

  /** The frame in flight is out: start the next one waiting. A method, not
   * a stored closure: an idle connection holds nothing for it. */
  #next(): void {
    this.#busy = false;
    const waiting = this.#waiting?.shift();
    if (waiting) this.#send(waiting.frame).then(waiting.resolve, waiting.reject);
  }

  #closeSocket(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
    this.#socketClosed = true;
    this.#resolveDone?.();
  }
}

/** Text frames already built, by payload: fan-out hands the same bytes to
 * every recipient's socket, so the frame is built once per line, not once
 * per recipient (a copy per WebSocket would make every broadcast churn
 * memory). Weak, so a frame goes when its payload does. */
/**
 * Builds text frames from payloads through `encode` (lines as they are by
 * default), each payload once: a cache per encoder, so every connection
 * that encodes the same way shares it.
 */
export function framer(encode?: (payload: Uint8Array) => Uint8Array): Framer {
  const built = new WeakMap<Uint8Array, Uint8Array>();
  return (payload) => {
    let frameBytes = built.get(payload);
    if (frameBytes === undefined) {
      frameBytes = frame(0x1, encode === undefined ? payload : encode(payload));
      built.set(payload, frameBytes);
    }
    return frameBytes;
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
