/**
 * A WebSocket client on a raw TCP connection, for tests that must send what
 * no well-behaved client sends: odd upgrade requests, half-sent messages,
 * binary frames. Frames it sends are masked, as RFC 6455 requires of
 * clients.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A frame the server sent. */
export interface Frame {
  opcode: number;
  payload: Uint8Array;
}

/** Sends a raw HTTP request head and returns the response head (status
 * line and headers) and the connection. */
export async function rawRequest(
  port: number,
  head: string,
): Promise<{ conn: Deno.TcpConn; status: number; response: string; rest: Uint8Array }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(conn, encoder.encode(head));
  let bytes: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  while (true) {
    const end = indexOfBlankLine(bytes);
    if (end >= 0) {
      const response = decoder.decode(bytes.subarray(0, end));
      const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(response)?.[1] ?? 0);
      return { conn, status, response, rest: bytes.slice(end + 4) };
    }
    const chunk = new Uint8Array(4096);
    const n = await conn.read(chunk);
    if (n === null) {
      throw new Error(`Connection closed before a response: ${decoder.decode(bytes)}`);
    }
    bytes = join(bytes, chunk.subarray(0, n));
  }
}

/** An upgrade request for `/ws` with `headers` added (or overriding). */
export function upgradeHead(
  port: number,
  headers: Record<string, string | undefined> = {},
): string {
  const all: Record<string, string | undefined> = {
    host: `127.0.0.1:${port}`,
    upgrade: "websocket",
    connection: "Upgrade",
    "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
    "sec-websocket-version": "13",
    ...headers,
  };
  const lines = Object.entries(all).filter(([, v]) => v !== undefined).map(([k, v]) =>
    `${k}: ${v}`
  );
  return `GET /ws HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`;
}

/** An upgraded connection to `/ws`. */
export class RawWebSocket {
  readonly conn: Deno.TcpConn;
  #buffer: Uint8Array;

  private constructor(conn: Deno.TcpConn, rest: Uint8Array) {
    this.conn = conn;
    this.#buffer = rest;
  }

  /** Opens `/ws` on `port`; throws unless the server answers 101. */
  static async open(port: number, headers: Record<string, string> = {}): Promise<RawWebSocket> {
    const { conn, status, response, rest } = await rawRequest(port, upgradeHead(port, headers));
    if (status !== 101) throw new Error(`Upgrade refused: ${response}`);
    return new RawWebSocket(conn, rest);
  }

  /** Sends one masked frame; `fin` false leaves the message open. */
  async send(opcode: number, payload: Uint8Array, fin = true): Promise<void> {
    await writeAll(this.conn, frameHead(opcode, payload.length, fin));
    await writeAll(this.conn, mask(payload));
  }

  /** Sends only the header of a frame claiming `length` bytes. */
  async sendHeader(opcode: number, length: number, fin = true): Promise<void> {
    await writeAll(this.conn, frameHead(opcode, length, fin));
  }

  /** Sends payload bytes of a frame whose header was sent (the mask is all
   * zero, so bytes go as they are). */
  async sendPayload(bytes: Uint8Array): Promise<void> {
    await writeAll(this.conn, bytes);
  }

  /** Sends a text message. */
  sendText(text: string): Promise<void> {
    return this.send(0x1, encoder.encode(text));
  }

  /** The next frame, or null once the server closed the connection; fails
   * (closing the connection) if none comes within `timeoutMs`. */
  async next(timeoutMs = FRAME_TIMEOUT_MS): Promise<Frame | null> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const frame = parseFrame(this.#buffer);
      if (frame !== undefined) {
        this.#buffer = this.#buffer.slice(frame.size);
        return { opcode: frame.opcode, payload: frame.payload };
      }
      const n = await this.#read(deadline, timeoutMs);
      if (n === null) return null;
    }
  }

  /** One read into the buffer, by `deadline`; null at the end. */
  async #read(deadline: number, timeoutMs: number): Promise<number | null> {
    const chunk = new Uint8Array(4 * 1024);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      this.close();
    }, Math.max(1, deadline - Date.now()));
    let n: number | null;
    try {
      n = await this.conn.read(chunk);
    } catch {
      n = null;
    } finally {
      clearTimeout(timer);
    }
    if (timedOut) {
      const held = this.#buffer.length;
      throw new Error(`Cannot read a frame: none came within ${timeoutMs} ms (${held} bytes held)`);
    }
    if (n !== null) this.#buffer = join(this.#buffer, chunk.subarray(0, n));
    return n;
  }

  /** Reads frames until a close frame; returns its code (or null if the
   * connection ended without one). */
  async closeCode(timeoutMs = FRAME_TIMEOUT_MS): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const frame = await this.next(Math.max(1, deadline - Date.now()));
      if (frame === null) return null;
      if (frame.opcode === 0x8) return (frame.payload[0]! << 8) | frame.payload[1]!;
    }
  }

  /** Reads text frames until a line matches; returns it. Fails with the
   * lines it saw if none matches within `timeoutMs`. */
  async readUntil(match: (line: string) => boolean, timeoutMs = FRAME_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const seen: string[] = [];
    while (true) {
      let frame: Frame | null;
      try {
        frame = await this.next(Math.max(1, deadline - Date.now()));
      } catch (error) {
        throw new Error(`${(error as Error).message}; lines seen: ${JSON.stringify(seen)}`);
      }
      if (frame === null) throw new Error("Cannot read a line: the connection closed");
      if (frame.opcode !== 0x1) continue;
      const lines = decoder.decode(frame.payload).split("\n");
      const line = lines.find(match);
      if (line !== undefined) return line;
      seen.push(...lines.filter((l) => l !== ""));
    }
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
  }
}

/** How long a read waits for a frame before the test fails: a missing frame
 * must fail the test with what was seen, not hang it. */
const FRAME_TIMEOUT_MS = 5_000;

function frameHead(opcode: number, length: number, fin: boolean): Uint8Array {
  const size = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const head = new Uint8Array(size + 4); // the mask key stays zero
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (length < 126) head[1] = 0x80 | length;
  else if (length < 65536) {
    head[1] = 0x80 | 126;
    head[2] = length >> 8;
    head[3] = length & 0xff;
  } else {
    head[1] = 0x80 | 127;
    new DataView(head.buffer).setUint32(6, length);
  }
  return head;
}

/** With an all-zero mask key, masking leaves the bytes as they are. */
function mask(payload: Uint8Array): Uint8Array {
  return payload;
}

function parseFrame(bytes: Uint8Array):
  | { opcode: number; payload: Uint8Array; size: number }
  | undefined {
  if (bytes.length < 2) return undefined;
  let length = bytes[1]! & 0x7f;
  let at = 2;
  if (length === 126) {
    if (bytes.length < 4) return undefined;
    length = (bytes[2]! << 8) | bytes[3]!;
    at = 4;
  } else if (length === 127) {
    if (bytes.length < 10) return undefined;
    length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(6);
    at = 10;
  }
  if (bytes.length < at + length) return undefined;
  return { opcode: bytes[0]! & 0x0f, payload: bytes.slice(at, at + length), size: at + length };
}

function indexOfBlankLine(bytes: Uint8Array): number {
  for (let i = 0; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}
