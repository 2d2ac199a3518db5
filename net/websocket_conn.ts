/**
 * A WebSocket seen as a byte connection, so a browser user can be a
 * `ClientSession` like any other: same line splitter, same Outbox, same
 * limits. Each text message the browser sends is one line (an LF is added);
 * each write is sent as one text message (several lines at once when the
 * Outbox coalesced them; the page splits on LF).
 *
 * Both directions are bounded. Incoming: more than `MAX_INBOUND_BYTES`
 * waiting to be read closes the socket. Outgoing: `WebSocket.send` never
 * blocks, so `write` fails once the socket's own buffer holds more than
 * `MAX_BUFFERED_BYTES`, and the Outbox treats that as a dead client.
 *
 * @module
 */

import type { ByteReader } from "./line_splitter.ts";
import type { ByteWriter } from "./outbox.ts";

/** Unread bytes from the browser before we give up on it. */
const MAX_INBOUND_BYTES = 64 * 1024;
/** Bytes the WebSocket may buffer toward a browser that is not reading. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Adapts a server-side WebSocket to `read` / `write` / `close`.
 *
 * @example
 * ```ts
 * import { WebSocketConn } from "./websocket_conn.ts";
 * Deno.serve((request) => {
 *   const { socket, response } = Deno.upgradeWebSocket(request);
 *   const conn = new WebSocketConn(socket);
 *   conn.opened.then(() => conn.write(new TextEncoder().encode("hello\n")));
 *   return response;
 * });
 * ```
 */
export class WebSocketConn implements ByteReader, ByteWriter {
  readonly #socket: WebSocket;
  #inbound: Uint8Array[] = [];
  #inboundBytes = 0;
  #ended = false;
  #wake: (() => void) | undefined;
  /** Resolves when the socket is open (or rejects if it never opens). */
  readonly opened: Promise<void>;

  constructor(socket: WebSocket) {
    this.#socket = socket;
    this.opened = new Promise((resolve, reject) => {
      socket.onopen = () => resolve();
      socket.onerror = () => {
        reject(new Error("Cannot open the WebSocket"));
        this.#end();
      };
    });
    this.opened.catch(() => {});
    socket.onmessage = (event) => {
      const bytes = typeof event.data === "string"
        ? encoder.encode(event.data + "\n")
        : new Uint8Array(event.data as ArrayBuffer);
      this.#inbound.push(bytes);
      this.#inboundBytes += bytes.length;
      if (this.#inboundBytes > MAX_INBOUND_BYTES) this.close();
      this.#notify();
    };
    socket.onclose = () => this.#end();
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    while (this.#inbound.length === 0) {
      if (this.#ended) return null;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    const head = this.#inbound[0] as Uint8Array;
    const n = Math.min(head.length, buffer.length);
    buffer.set(head.subarray(0, n));
    if (n === head.length) this.#inbound.shift();
    else this.#inbound[0] = head.subarray(n);
    this.#inboundBytes -= n;
    return n;
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.#socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error("Cannot write to a closed WebSocket"));
    }
    if (this.#socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      return Promise.reject(new Error("Cannot write: the browser is not reading"));
    }
    this.#socket.send(decoder.decode(bytes));
    return Promise.resolve(bytes.length);
  }

  close(): void {
    if (
      this.#socket.readyState === WebSocket.CONNECTING || this.#socket.readyState === WebSocket.OPEN
    ) {
      this.#socket.close();
    }
    this.#end();
  }

  #end(): void {
    this.#ended = true;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
