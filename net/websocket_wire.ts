/**
 * What a WebSocket tracks while something is under way on it (a frame
 * being read, a message being collected, writes in flight, its close), and
 * the byte work on it: unmasking, and how much of a header has arrived.
 *
 * @module
 */

import { MAX_MESSAGE_BYTES } from "./websocket_frames.ts";

/** A frame header (up to 14 bytes) being read. */
export const enum Step {
  Header,
  Payload,
}

/**
 * What a WebSocket tracks besides its socket: the frame being read, the
 * message it belongs to, the writes in flight, the close. Made when
 * something is under way and dropped once the connection is quiet again,
 * so an idle WebSocket holds nothing but its socket (see `quiet`).
 */
export class Wire {
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
  /** The open message's payload so far (held until it is complete). */
  message: Uint8Array | undefined;
  /** A control frame's payload (at most 125 bytes) being collected. */
  control: number[] | undefined;
  /** Complete messages, each with its LF, not yet handed to the reader. */
  ready: Uint8Array | undefined;
  ended = false;
  closeSent = false;
  pongPending = false;
  /** A ping that came while a pong was in flight: answered next. */
  nextPong: Uint8Array | undefined;
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
      this.leftover === undefined && this.ready === undefined && !this.ended && !this.busy &&
      !this.pongPending && this.done === undefined && !this.socketClosed;
  }
}

/** Unmasks `payload` onto the end of the open message (which the header
 * check keeps under {@linkcode MAX_MESSAGE_BYTES}). */
export function unmaskInto(w: Wire, payload: Uint8Array): void {
  const at = w.messageBytes - w.remaining;
  const needed = at + payload.length;
  if (w.message === undefined || w.message.length < needed) {
    const grown = new Uint8Array(Math.min(MAX_MESSAGE_BYTES, Math.max(needed, w.messageBytes)));
    if (w.message !== undefined) grown.set(w.message.subarray(0, at));
    w.message = grown;
  }
  const message = w.message;
  for (let k = 0; k < payload.length; k++) {
    message[at + k] = (payload[k] as number) ^ maskByte(w);
  }
}

export function maskByte(w: Wire): number {
  const byte = (w.mask >>> (24 - 8 * w.maskAt)) & 0xff;
  w.maskAt = (w.maskAt + 1) & 3;
  return byte;
}

/** Header bytes this frame needs, given what has arrived. */
export function headerNeeded(w: Wire): number {
  if (w.headerLength < 2) return 2;
  const b1 = (w.header as Uint8Array)[1] as number;
  const length7 = b1 & 0x7f;
  // An unmasked frame (refused) has no key: do not wait for one.
  return 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

const LF = 0x0a;

/** Queues a complete message for the reader, with its LF. */
export function queueLine(w: Wire, message: Uint8Array): void {
  const before = w.ready?.length ?? 0;
  const ready = new Uint8Array(before + message.length + 1);
  if (w.ready !== undefined) ready.set(w.ready);
  ready.set(message, before);
  ready[ready.length - 1] = LF;
  w.ready = ready;
}
