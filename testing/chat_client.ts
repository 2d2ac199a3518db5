/**
 * Test helpers: a real chat server on port 0 and real TCP clients that read
 * lines, so tests talk to the server exactly as `nc` does.
 *
 * Every helper cleans up after itself (timers cleared, sockets closed, read
 * loops awaited), so Deno's op and resource sanitizers stay on in every test.
 *
 * @module
 */

import { type ChatLimits, type ReadyInfo, runChat } from "../app/app.ts";
import { Metrics } from "../app/metrics.ts";
import { SqliteHistory } from "../store/sqlite_history.ts";
import { DEFAULT_HISTORY_ON_JOIN } from "../chat/history.ts";
import { RedisBroker } from "../cluster/redis_broker.ts";
import { SqliteCommunity } from "../store/sqlite_community.ts";
import { type ScryptCost, ScryptPasswords } from "../store/passwords.ts";

/** scrypt's cost in in-process tests: the real function, 16 times cheaper
 * than the server's default. */
export const TEST_COST: ScryptCost = { N: 1024, r: 8, p: 1 };
import { pollUntil } from "./within.ts";

/** How long a test waits for an expected line before failing: generous for a
 * loaded CI machine, short enough that a missing line fails fast. */
export const LINE_TIMEOUT_MS = 5_000;

const encoder = new TextEncoder();

/** A running in-process server. */
export interface TestServer {
  port: number;
  /** Every log line so far. */
  logs: string[];
  /** Aborts the server and waits for its graceful shutdown to finish. */
  stop(): Promise<void>;
  /** Resolves once a log line matches. */
  waitForLog(match: (line: string) => boolean, ms?: number): Promise<void>;
  /** Resolves once the chat accepts users, with the HTTP ports it serves. */
  ready: Promise<ReadyInfo>;
  /** The TLS port, when started with `tls`. */
  tlsPort?: number;
  /** The counters, when started with `metrics: true`. */
  metrics?: Metrics;
}

/** Starts the chat on 127.0.0.1, port 0, with `limits` over the defaults. */
export function startServer(
  limits: Partial<ChatLimits> = {},
  options: {
    welcome?: boolean;
    redis?: string;
    /** PEM certificates to trust for a `rediss://` URL. */
    redisCa?: string;
    metrics?: boolean;
    web?: boolean;
    tls?: { cert: string; key: string };
    allowedOrigins?: string[];
    /** Keep room history, in a fresh SQLite file, as `deno task chat` does. */
    history?: boolean;
    httpTimeouts?: { headerTimeoutMs?: number; idleTimeoutMs?: number };
    /** Keep accounts and rooms: in Redis when linked, else in a SQLite
     * file in `dir` (a fresh temporary one if not given). */
    accounts?: { dir?: string; operators?: Map<string, string> };
    /** The chat's clock (to expire bans in tests). */
    now?: () => number;
    /** Keep debug lines in `logs` too. */
    debug?: boolean;
  } = {},
): TestServer {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const tlsListener = options.tls
    ? Deno.listenTls({ hostname: "127.0.0.1", port: 0, ...options.tls })
    : undefined;
  const controller = new AbortController();
  const logs: string[] = [];
  const metrics = options.metrics ? new Metrics() : undefined;
  const loopback = { hostname: "127.0.0.1", port: 0 };
  let ready!: (info: ReadyInfo) => void;
  const readyInfo = new Promise<ReadyInfo>((resolve) => (ready = resolve));
  const broker = options.redis === undefined ? undefined : new RedisBroker({
    url: options.redis,
    ca: options.redisCa,
    log: (line) => logs.push(line),
    onDropped: metrics && ((fault) => Metrics.bump(metrics.droppedEvents, fault)),
  });
  // Linked servers keep history in Redis, as `deno task chat` does.
  const historyDir = options.history && !broker ? Deno.makeTempDirSync() : undefined;
  const log = (line: string) => logs.push(line);
  const store = !options.history
    ? undefined
    : broker
    ? broker.history({ keep: 10_000, days: 30, log })
    : SqliteHistory.open({ path: `${historyDir}/history.db`, log });
  const accountsDir = options.accounts && !broker
    ? options.accounts.dir ?? Deno.makeTempDirSync()
    : undefined;
  const community = accountsDir === undefined
    ? undefined
    : SqliteCommunity.open(`${accountsDir}/community.db`);
  const people = options.accounts && {
    store: broker ? broker.community() : community,
    // Real scrypt at a low cost: the same code, a fraction of the time.
    passwords: new ScryptPasswords(TEST_COST),
    operators: options.accounts.operators,
  };
  const running = runChat({
    people,
    now: options.now,
    history: store && { store, onJoin: DEFAULT_HISTORY_ON_JOIN },
    tlsListener,
    metrics,
    metricsAddress: metrics ? loopback : undefined,
    webAddress: options.web ? loopback : undefined,
    onReady: ready,
    allowedOrigins: options.allowedOrigins,
    httpTimeouts: options.httpTimeouts,
    listener,
    signal: controller.signal,
    limits: { flushMs: 1_000, ...limits },
    log: (line, fields) => {
      // As `deno task chat` does by default: debug lines only when asked.
      if (fields?.level !== "debug" || options.debug) logs.push(line);
    },
    welcome: options.welcome ?? false,
    broker,
  });
  const done = running.finally(async () => {
    await store?.close();
    await community?.close();
    if (historyDir !== undefined) Deno.removeSync(historyDir, { recursive: true });
    if (accountsDir !== undefined && options.accounts?.dir === undefined) {
      Deno.removeSync(accountsDir, { recursive: true });
    }
  });
  return {
    port: (listener.addr as Deno.NetAddr).port,
    tlsPort: tlsListener ? (tlsListener.addr as Deno.NetAddr).port : undefined,
    metrics,
    ready: readyInfo,
    logs,
    stop: async () => {
      controller.abort();
      await done;
    },
    waitForLog: async (match, ms = LINE_TIMEOUT_MS) => {
      const deadline = Date.now() + ms;
      while (!logs.some(match)) {
        if (Date.now() > deadline) throw new Error(`No such log line:\n${logs.join("\n")}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

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

/** Resident set size of process `pid`, in bytes. Read through `cat`
 * because Deno treats /proc as a special file that needs --allow-all. */
export async function rssBytes(pid: number): Promise<number> {
  const output = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stdout: "piped" })
    .output();
  const match = /VmRSS:\s+(\d+) kB/.exec(new TextDecoder().decode(output.stdout));
  if (!match) throw new Error(`Cannot read the RSS of process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Waits until `server` knows exactly `n` users of other servers (a roster
 * or join event has arrived): polls the live figures, fails after 5 s. */
export async function waitForRemoteUsers(server: TestServer, n: number): Promise<void> {
  const { figures } = await server.ready;
  await pollUntil(`${n} remote users`, async () => (await figures()).remoteUsers === n);
}

/** Two fresh clients exchange a message: proof the server still serves. */
export async function assertChatWorks(port: number): Promise<void> {
  const a = await TestClient.join(port);
  const b = await TestClient.join(port);
  try {
    await a.client.readUntil((l) => l === `* ${b.name} joined the chat`);
    const token = `still alive ${crypto.randomUUID()}`;
    await a.client.send(token);
    await b.client.readUntil((l) => l === `[${a.name}]: ${token}`);
  } finally {
    await a.client.close();
    await b.client.close();
  }
}
