/**
 * Room history for linked servers, in Redis: one stream per room
 * (`marquee:history:<room>`), capped at exactly `--history-keep` entries
 * on each write, trimmed by age now and then, and read only as far back as
 * `--history-days` (so no older line is ever shown, trimmed or not). The server whose user said a line adds it, once; every
 * linked server reads the same streams, so every server replays the same
 * history, including lines said before it started.
 *
 * Writes are batched like the SQLite store's (every 50 ms, pipelined); a
 * batch Redis does not take (link down) is dropped, counted and logged
 * once, and chat goes on. Reads are asynchronous: the chat actor gets the
 * answer as a message.
 *
 * A line's time is its stream id (Redis's clock, the one clock all linked
 * servers share); the id's sequence number rides in the time's fraction, so
 * a page's oldest line is an exact cursor for the page before it.
 *
 * @module
 */

import type { createClient } from "redis";
import type { HistoryLine, HistoryStore, Log } from "../chat/ports.ts";

type RedisClient = ReturnType<typeof createClient>;

const STREAM_PREFIX = "marquee:history:";
/** How often the batch is sent. */
const FLUSH_MS = 50;
/** Lines waiting beyond which new ones are dropped. */
const MAX_PENDING = 10_000;
/** How often each room's stream is trimmed by age. */
const TRIM_AGE_EVERY_MS = 60_000;
const DAY_MS = 86_400_000;
/** Sequence numbers per millisecond that the time's fraction can carry. */
const SEQ_SCALE = 1000;

/** Options for {@linkcode RedisHistory}. */
export interface RedisHistoryOptions {
  /** The command connection (already connected). */
  client: () => RedisClient;
  keep: number;
  days: number;
  log: Log;
  onDropped?: (lines: number) => void;
  now?: () => number;
}

/** A Redis-backed {@linkcode HistoryStore}; see the module doc. */
export class RedisHistory implements HistoryStore {
  /** Every linked server reads and writes these streams. */
  readonly shared = true;
  readonly #options: RedisHistoryOptions;
  readonly #now: () => number;
  #pending: HistoryLine[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #trimmedAt = new Map<string, number>();
  #failing = false;
  #flushing: Promise<void> = Promise.resolve();

  constructor(options: RedisHistoryOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  record(line: HistoryLine): void {
    if (this.#pending.length >= MAX_PENDING) return this.#dropped(1, "Redis fell behind");
    this.#pending.push(line);
    this.#timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  async recent(room: string, limit: number, before: number): Promise<HistoryLine[]> {
    const end = before >= Number.MAX_SAFE_INTEGER ? "+" : `(${idOf(before)}`;
    // Nothing older than --history-days, whatever the stream still holds
    // (it is trimmed by age only now and then).
    const start = idOf(this.#now() - this.#options.days * DAY_MS);
    const entries = await this.#options.client().xRevRange(streamOf(room), end, start, {
      COUNT: limit,
    });
    return entries.reverse().map(({ id, message }) => ({
      at: timeOf(id),
      room,
      from: String(message.from),
      text: String(message.text),
      action: message.action === "1",
    }));
  }

  /** Sends the waiting lines (pipelined), and trims by age now and then. */
  flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return this.#flushing;
    const client = this.#options.client();
    const keep = this.#options.keep;
    const writes = batch.map((line) =>
      client.xAdd(streamOf(line.room), "*", {
        from: line.from,
        text: line.text,
        action: line.action ? "1" : "0",
      }, { TRIM: { strategy: "MAXLEN", strategyModifier: "=", threshold: keep } })
    );
    this.#flushing = Promise.all([...writes, ...this.#trims(batch, client)]).then(() => {
      this.#failing = false;
    }, (error: unknown) => {
      this.#dropped(batch.length, error instanceof Error ? error.message : String(error));
    });
    return this.#flushing;
  }

  /** Sends what is waiting, for a graceful stop. */
  async close(): Promise<void> {
    await this.flush();
  }

  #trims(batch: HistoryLine[], client: RedisClient): Promise<unknown>[] {
    const now = this.#now();
    const oldest = now - this.#options.days * DAY_MS;
    const trims: Promise<unknown>[] = [];
    for (const room of new Set(batch.map((l) => l.room.toLowerCase()))) {
      if (now - (this.#trimmedAt.get(room) ?? -Infinity) < TRIM_AGE_EVERY_MS) continue;
      this.#trimmedAt.set(room, now);
      trims.push(client.xTrim(streamOf(room), "MINID", oldest, { strategyModifier: "~" }));
    }
    return trims;
  }

  #dropped(lines: number, why: string): void {
    this.#options.onDropped?.(lines);
    if (this.#failing) return;
    this.#failing = true;
    this.#options.log(`[server] history store failing, lines dropped (${why}); chat goes on`, {
      level: "error",
      event: "history_error",
    });
  }
}

function streamOf(room: string): string {
  return STREAM_PREFIX + room.toLowerCase();
}

/** `1700000000000-3` as 1700000000000.003. */
function timeOf(id: string): number {
  const [ms, seq] = id.split("-");
  return Number(ms) + Math.min(Number(seq), SEQ_SCALE - 1) / SEQ_SCALE;
}

/** The inverse of {@linkcode timeOf}. */
function idOf(at: number): string {
  const ms = Math.floor(at);
  return `${ms}-${Math.round((at - ms) * SEQ_SCALE)}`;
}
