/**
 * RFC 6455's framing, without a connection: the handshake's accept key,
 * building the server's frames, and the checks a client's frame header and
 * close frame must pass (each failure is the close code to answer with).
 *
 * @module
 */

import { createHash } from "node:crypto";

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
  invalidData: 1007,
  tooBig: 1009,
} as const;

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

/** What a frame header said, for {@linkcode headerProblem}. */
export interface FrameHeader {
  b0: number;
  b1: number;
  /** The payload length; Infinity past 2^32 (never accepted). */
  length: number;
  /** A text message is open: a continuation is expected, a new message not. */
  inMessage: boolean;
  /** Bytes of the open message so far. */
  messageBytes: number;
}

/** The close code for a frame header this server will not take, if any:
 * reserved bits, an unmasked frame, an unknown or fragmented control
 * frame, a binary message (the chat is text), a continuation out of place,
 * or a message past {@linkcode MAX_MESSAGE_BYTES}. */
export function headerProblem(h: FrameHeader): number | undefined {
  const opcode = h.b0 & 0x0f;
  if ((h.b0 & 0x70) !== 0 || (h.b1 & 0x80) === 0) return CLOSE.protocolError;
  if (opcode >= 0x8) {
    const known = opcode === 0x8 || opcode === 0x9 || opcode === 0xa;
    return !known || h.length > 125 || (h.b0 & 0x80) === 0 ? CLOSE.protocolError : undefined;
  }
  if (opcode === 0x2) return CLOSE.unsupportedData;
  if (opcode === 0x0 ? !h.inMessage : opcode !== 0x1 || h.inMessage) {
    return CLOSE.protocolError;
  }
  const before = opcode === 0x1 ? 0 : h.messageBytes;
  return before + h.length > MAX_MESSAGE_BYTES ? CLOSE.tooBig : undefined;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Whether `bytes` are valid UTF-8 (RFC 6455 fails a connection whose text
 * is not: section 8.1). */
export function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** How to answer a close frame with `payload`: the code to send back, or
 * the failure (1002 for a bad length or code, 1007 for a reason that is not
 * UTF-8). No payload is answered with 1000. */
export function closeAnswer(payload: Uint8Array): number {
  if (payload.length === 0) return CLOSE.normal;
  if (payload.length === 1) return CLOSE.protocolError;
  const code = ((payload[0] as number) << 8) | (payload[1] as number);
  if (!isValidCloseCode(code)) return CLOSE.protocolError;
  return isUtf8(payload.subarray(2)) ? code : CLOSE.invalidData;
}

/** Codes a peer may send (RFC 6455 section 7.4, and the registry's
 * 1012-1014): 1004, 1005, 1006 and 1015 are never sent on the wire. */
function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999);
}

/** Turns a payload into a ready text frame. */
export type Framer = (payload: Uint8Array) => Uint8Array;

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

/** One unmasked, final frame with `opcode` and `payload`. */
export function frame(opcode: number, payload: Uint8Array): Uint8Array {
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
