/**
 * The load generator behind `deno task bench`: many real TCP clients that
 * join the chat, some of which send timestamped lines while all of them
 * count what they receive.
 *
 * To keep the generator from being the bottleneck it does per line only
 * what it must: every client counts LF bytes (a native `indexOf`), and only
 * a sample of clients parses payloads for latency. A payload is
 * `m <sender> <seq> <intended send time, µs> ` padded with `x`; latency is
 * measured from the intended send time, so a generator that falls behind
 * its schedule shows up as latency instead of hiding it.
 *
 * @module
 */

import { Histogram } from "./histogram.ts";

const LF = 0x0a;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Microseconds on a monotonic clock shared by every client in this process. */
export function nowMicros(): number {
  return Math.round(performance.now() * 1000);
}

/** Builds one payload line (with LF) of exactly `size` bytes before the LF
 * (after `prefix`: `PRIVMSG #lobby :` for an IRC client). */
export function payload(
  sender: number,
  seq: number,
  intendedMicros: number,
  size: number,
  prefix = "",
): string {
  const head = `m ${sender} ${seq} ${intendedMicros} `;
  return prefix + (head.length >= size ? head : head + "x".repeat(size - head.length)) + "\n";
}

/** What an IRC client of the bench sends each line before its payload. */
export const IRC_PREFIX = "PRIVMSG #lobby :";

/** Shared counters for one run. */
export class LoadStats {
  readonly latency = new Histogram();
  deliveries = 0;
  /** Lines per sender not yet seen by the observer (the send window). */
  inFlight: number[] = [];
  /** Called when the observer sees a line from `sender` (frees window room). */
  onDelivered: ((sender: number) => void) | undefined;
  /** Chat payloads the sampled receivers got, all senders together: the
   * loss figure compares it with what they should have got. */
  sampledPayloads = 0;
  /** Payloads that arrived out of order or twice (a sender's sequence
   * number not above the last one seen from it): should stay 0. */
  outOfOrder = 0;
}

const channel = new MessageChannel();
let pendingYield: (() => void) | undefined;
channel.port1.onmessage = () => {
  const resolve = pendingYield;
  pendingYield = undefined;
  resolve?.();
};

/** Yields to the event loop without a timer (timers have 1 ms granularity). */
function yieldMacrotask(): Promise<void> {
  return new Promise((resolve) => {
    pendingYield = resolve;
    channel.port2.postMessage(0);
  });
}

/** Waits until the monotonic clock reaches `dueMicros`: a timer for the bulk
 * of the wait, then short yields, so sends leave within tens of µs of their
 * schedule instead of up to 2 ms late. */
export async function waitUntil(dueMicros: number): Promise<void> {
  const leftMs = (dueMicros - nowMicros()) / 1000;
  if (leftMs > 2) await new Promise((r) => setTimeout(r, Math.floor(leftMs - 1.5)));
  while (nowMicros() < dueMicros) await yieldMacrotask();
}

/** Releases the generator's message port so the process can exit. */
export function closeLoad(): void {
  channel.port1.close();
  channel.port2.close();
}

/** One benchmark client: reads everything, counts lines, maybe samples. */
export class LoadClient {
  readonly conn: Deno.TcpConn;
  readonly index: number;
  readonly #stats: LoadStats;
  readonly #sampled: boolean;
  readonly #observer: boolean;
  /** An IRC client (joined once it has the names of `#lobby`). */
  readonly #irc: boolean;
  /** The tail of what an IRC client has read before it joined. */
  #head = "";
  #partial = "";
  #joined = false;
  #onJoined: (() => void) | undefined;
  lines = 0;
  lastByteAt = 0;
  /** The last sequence number seen from each sender (sampled receivers). */
  readonly #lastSeq: number[] = [];
  readonly done: Promise<void>;

  private constructor(
    conn: Deno.TcpConn,
    index: number,
    stats: LoadStats,
    options: { sampled: boolean; observer: boolean; irc?: boolean },
  ) {
    this.conn = conn;
    this.index = index;
    this.#stats = stats;
    this.#sampled = options.sampled;
    this.#observer = options.observer;
    this.#irc = options.irc ?? false;
    this.done = this.#read();
  }

  /** Connects and resolves once the client has seen its own join line (an
   * IRC client: registered as `bN` and in `#lobby`). */
  static async join(
    port: number,
    index: number,
    stats: LoadStats,
    options: { sampled: boolean; observer: boolean; irc?: boolean },
  ): Promise<LoadClient> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const client = new LoadClient(conn, index, stats, options);
    if (options.irc) await client.send(`NICK b${index}\r\nUSER b 0 * :b\r\nJOIN #lobby\r\n`);
    await new Promise<void>((resolve) => {
      if (client.#joined) resolve();
      else client.#onJoined = resolve;
    });
    return client;
  }

  /** Whether this client parses chat lines for latency and loss. */
  get sampled(): boolean {
    return this.#sampled;
  }

  /** Sends lines (already LF-terminated) in one write. */
  async send(text: string): Promise<void> {
    const bytes = encoder.encode(text);
    let offset = 0;
    while (offset < bytes.length) offset += await this.conn.write(bytes.subarray(offset));
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // Already closed by the server.
    }
  }

  async #read(): Promise<void> {
    const buffer = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.conn.read(buffer);
        if (n === null) break;
        this.lastByteAt = performance.now();
        const chunk = buffer.subarray(0, n);
        let count = 0;
        for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) count++;
        this.lines += count;
        if (!this.#joined && this.#joinedBy(chunk, count)) {
          this.#joined = true;
          this.#onJoined?.();
        }
        if (this.#sampled || this.#observer) this.#parse(chunk);
      }
    } catch {
      // Reset by the server: the run's loss figure will show it.
    }
  }

  /** Whether `chunk` completes the join: any line for a line client; the
   * end of `#lobby`'s names (`366`) for an IRC one. */
  #joinedBy(chunk: Uint8Array, lines: number): boolean {
    if (!this.#irc) return lines > 0;
    this.#head = (this.#head + decoder.decode(chunk)).slice(-4096);
    return this.#head.includes(" 366 ");
  }

  #parse(chunk: Uint8Array): void {
    const text = this.#partial + decoder.decode(chunk);
    const now = nowMicros();
    const marker = this.#irc ? ` ${IRC_PREFIX}m ` : "]: m ";
    const lead = this.#irc ? 0x3a /* : */ : 0x5b; /* [ */
    let start = 0;
    for (let end = text.indexOf("\n"); end !== -1; end = text.indexOf("\n", start)) {
      if (text.charCodeAt(start) === lead) {
        const at = text.indexOf(marker, start);
        if (at !== -1 && at < end) this.#delivery(text, at + marker.length, now);
      }
      start = end + 1;
    }
    this.#partial = text.slice(start);
  }

  #delivery(text: string, from: number, now: number): void {
    const firstSpace = text.indexOf(" ", from);
    const secondSpace = text.indexOf(" ", firstSpace + 1);
    const thirdSpace = text.indexOf(" ", secondSpace + 1);
    const sender = Number(text.slice(from, firstSpace));
    const seq = Number(text.slice(firstSpace + 1, secondSpace));
    const intended = Number(text.slice(secondSpace + 1, thirdSpace));
    if (this.#sampled) {
      this.#stats.sampledPayloads++;
      if (seq <= (this.#lastSeq[sender] ?? 0)) this.#stats.outOfOrder++;
      this.#lastSeq[sender] = seq;
    }
    if (this.#observer && this.#stats.inFlight[sender] !== undefined) {
      this.#stats.inFlight[sender]--;
      this.#stats.onDelivered?.(sender);
    }
    if (this.#sampled) this.#stats.latency.record(now - intended);
  }
}
