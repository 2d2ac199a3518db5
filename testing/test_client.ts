/**
 * A line-reading TCP client for tests: it talks to the server exactly as
 * `nc` does, and every read has a deadline, so a missing line fails the
 * test with a sentence instead of hanging it.
 *
 * @module
 */

/** How long a test waits for an expected line before failing. */
export const LINE_TIMEOUT_MS = 5_000;

const encoder = new TextEncoder();

/** A line-reading TCP client. */
export class TestClient {
  readonly conn: Deno.TcpConn;
  readonly #decoder = new TextDecoder();
  readonly #lines: string[] = [];
  #partial = "";
  #waiter: (() => void) | undefined;
  #eof = false;
  readonly #reading: Promise<void>;

  private constructor(conn: Deno.TcpConn, read: boolean) {
    this.conn = conn;
    this.#reading = read ? this.#readLoop() : Promise.resolve();
  }

  /** Connects to 127.0.0.1:`port`. With `read: false` the client never reads
   * (a deliberately slow reader). */
  static async connect(port: number, options: { read?: boolean } = {}): Promise<TestClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    return new TestClient(conn, options.read ?? true);
  }

  /** Wraps an already open connection (a TLS one, say). */
  static wrap(conn: Deno.Conn): TestClient {
    return new TestClient(conn as Deno.TcpConn, true);
  }

  /** Connects and consumes the join line, returning the assigned name. */
  static async join(port: number): Promise<{ client: TestClient; name: string }> {
    const client = await TestClient.connect(port);
    const first = await client.readLine();
    const match = /^\* (\S+) joined the chat$/.exec(first);
    if (!match) throw new Error(`Cannot join: first line was ${JSON.stringify(first)}`);
    return { client, name: match[1] as string };
  }

  /** Whether the server closed the connection. */
  get eof(): boolean {
    return this.#eof && this.#lines.length === 0;
  }

  /** Whether the server closed the connection, lines still unread or not. */
  get closedByServer(): boolean {
    return this.#eof;
  }

  /** Lines received and not yet read. */
  get buffered(): readonly string[] {
    return this.#lines;
  }

  /** Sends `text` plus LF. */
  async send(text: string): Promise<void> {
    await this.writeAll(encoder.encode(text + "\n"));
  }

  /** Writes raw bytes, all of them. */
  async writeAll(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) offset += await this.conn.write(bytes.subarray(offset));
  }

  /** The next line, or an error after `timeoutMs` or at EOF. */
  async readLine(timeoutMs = LINE_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.#lines.length === 0) {
      if (this.#eof) throw new Error("Cannot read a line: the server closed the connection");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Cannot read a line: none came within ${timeoutMs} ms`);
      await this.#wait(left);
    }
    return this.#lines.shift() as string;
  }

  /** Reads lines until one matches, returning it (lines before it are skipped). */
  async readUntil(match: (line: string) => boolean, timeoutMs = LINE_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const line = await this.readLine(Math.max(1, deadline - Date.now()));
      if (match(line)) return line;
    }
  }

  /** Resolves true once the server has closed the connection (false on timeout). */
  async waitForEof(timeoutMs = LINE_TIMEOUT_MS): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#eof) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await this.#wait(left);
    }
    return true;
  }

  /**
   * The lines that arrive before the answer to a probe. Sends `/msg` to a
   * unique name nobody has and reads up to the refusal that names it
   * (private, logged nowhere). The chat server handles this client's lines in
   * order and flushes waiting announcements first, so everything it had
   * queued for this client by then arrives before the reply. Replaces
   * "wait a while and see that nothing came" with an event.
   */
  async linesBeforeProbe(timeoutMs = LINE_TIMEOUT_MS): Promise<string[]> {
    const nobody = `probe-${crypto.randomUUID().slice(0, 8)}`;
    await this.send(`/msg ${nobody} are you there?`);
    const reply = `! no such user: ${nobody}`;
    return await this.readThrough((l) => l === reply, timeoutMs, false);
  }

  /** Reads lines until one matches; returns the lines before it (and the
   * matching one too unless `includeMatch` is false). */
  async readThrough(
    match: (line: string) => boolean,
    timeoutMs = LINE_TIMEOUT_MS,
    includeMatch = true,
  ): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    const lines: string[] = [];
    while (true) {
      const line = await this.readLine(Math.max(1, deadline - Date.now()));
      if (match(line)) return includeMatch ? [...lines, line] : lines;
      lines.push(line);
    }
  }

  /** Half-closes: sends FIN, keeps reading. */
  async closeWrite(): Promise<void> {
    await this.conn.closeWrite();
  }

  /** Closes the socket and waits for the read loop to end. */
  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // Already closed.
    }
    await this.#reading;
  }

  async #readLoop(): Promise<void> {
    const buffer = new Uint8Array(16 * 1024);
    try {
      while (true) {
        const n = await this.conn.read(buffer);
        if (n === null) break;
        const text = this.#partial + this.#decoder.decode(buffer.subarray(0, n), { stream: true });
        const parts = text.split("\n");
        this.#partial = parts.pop() as string;
        this.#lines.push(...parts);
        this.#notify();
      }
    } catch {
      // Reset or closed locally: either way, the stream is over.
    }
    this.#eof = true;
    this.#notify();
  }

  #notify(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.();
  }

  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = undefined;
        resolve();
      }, ms);
      this.#waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
