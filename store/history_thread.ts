/**
 * Room history in SQLite with its writes on a thread of their own: the
 * {@linkcode HistoryStore} a server keeps its history with.
 *
 * The chat's thread keeps a connection for reading (small indexed queries,
 * at most 200 rows) and for giving each line its time; every
 * {@linkcode FLUSH_MS} it hands the batch of new lines to the writer
 * (`history_writer.ts`, a Worker), which inserts and prunes them in one
 * transaction. So a saturated room costs the chat's thread a message a
 * batch, not SQLite's work for every line. Until the writer says a batch is
 * in the file, its lines are read from memory: a line is history as soon
 * as it is said, and a page never shows it twice. The bounds and the
 * losses are `SqliteHistory`'s: at most {@linkcode MAX_PENDING} lines
 * waiting, and after a `kill -9` at most the lines not yet written.
 *
 * @module
 */

import type { HistoryLine, HistoryStore } from "../chat/ports.ts";
import type { FromWriter, ToWriter } from "./history_writer.ts";
import {
  Drops,
  FLUSH_MS,
  MAX_PENDING,
  SqliteHistory,
  type SqliteHistoryOptions,
} from "./sqlite_history.ts";

/** How long closing waits for the writer to finish what it was given. */
export const CLOSE_DEADLINE_MS = 5_000;

/** A {@linkcode HistoryStore} whose writes run on a Worker; see the module
 * doc. */
export class ThreadedHistory implements HistoryStore {
  readonly shared: boolean;
  /** The chat thread's connection: reads and times, never writes. */
  readonly #reader: SqliteHistory;
  readonly #writer: Worker;
  readonly #drops: Drops;
  #pending: HistoryLine[] = [];
  /** Batches handed to the writer and not yet in the file, by number. */
  readonly #sent = new Map<number, HistoryLine[]>();
  #sentLines = 0;
  #seq = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed: Promise<void> | undefined;
  #dead = false;
  #writerClosed: (() => void) | undefined;

  private constructor(reader: SqliteHistory, options: SqliteHistoryOptions) {
    this.#reader = reader;
    this.shared = reader.shared;
    this.#drops = new Drops(options.log, options.onDropped);
    this.#writer = new Worker(new URL("./history_writer.ts", import.meta.url), { type: "module" });
    this.#writer.onmessage = (event: MessageEvent<FromWriter>) => this.#heard(event.data);
    // A writer that fails outright takes nothing else down: its lines, and
    // every later one, are counted as dropped and the chat goes on.
    this.#writer.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#dead = true;
      this.#drops.dropped(
        this.#sentLines + this.#pending.length,
        `writer failed: ${event.message}`,
      );
      this.#sent.clear();
      this.#sentLines = 0;
      this.#pending = [];
      this.#writerClosed?.();
    };
    this.#tell({
      type: "open",
      path: options.path,
      keep: options.keep ?? reader.keep,
      days: options.days ?? reader.days,
      shared: this.shared,
    });
  }

  /** Opens (creating if needed) the database at `options.path` and starts
   * its writer; throws an `Error` with a one-line message if it cannot. */
  static open(options: Omit<SqliteHistoryOptions, "autoFlush">): ThreadedHistory {
    return new ThreadedHistory(SqliteHistory.open({ ...options, autoFlush: false }), options);
  }

  record(line: HistoryLine): void {
    if (this.#closed !== undefined) return;
    if (this.#dead || this.#pending.length + this.#sentLines >= MAX_PENDING) {
      return this.#drops.dropped(1, "the store fell behind");
    }
    this.#pending.push(this.#reader.stamp(line));
    this.#timer ??= setTimeout(() => this.#send(), this.shared ? 0 : FLUSH_MS);
  }

  recent(room: string, limit: number, before: number): HistoryLine[] {
    const stored = this.#reader.stored(room, limit, before);
    const key = room.toLowerCase();
    const waiting: HistoryLine[] = [];
    for (const batch of [...this.#sent.values(), this.#pending]) {
      for (const line of batch) {
        if (line.room.toLowerCase() === key && line.at < before && !written(line, stored)) {
          waiting.push(line);
        }
      }
    }
    return [...stored, ...waiting].slice(-limit);
  }

  /** Hands what is waiting to the writer, waits until it is in the file
   * (at most `deadlineMs`: a file locked by someone else must not hold up a
   * shutdown; what is not written by then is counted as dropped), and
   * closes both connections. */
  close(deadlineMs = CLOSE_DEADLINE_MS): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    if (this.#dead) {
      this.#writer.terminate();
      this.#reader.close();
      return this.#closed = Promise.resolve();
    }
    this.#send();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const written = new Promise<void>((resolve) => (this.#writerClosed = resolve));
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
    this.#closed = Promise.race([written, late]).then(() => {
      clearTimeout(timer);
      this.#writer.terminate();
      if (this.#sentLines > 0) this.#drops.dropped(this.#sentLines, "not written before closing");
      this.#reader.close();
    });
    this.#tell({ type: "close" });
    return this.#closed;
  }

  #send(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#pending.length === 0) return;
    const seq = ++this.#seq;
    this.#sent.set(seq, this.#pending);
    this.#sentLines += this.#pending.length;
    this.#tell({ type: "write", seq, lines: this.#pending });
    this.#pending = [];
  }

  #heard(message: FromWriter): void {
    if (message.type === "closed") return this.#writerClosed?.();
    const lines = this.#sent.get(message.seq)?.length ?? 0;
    this.#sent.delete(message.seq);
    this.#sentLines -= lines;
    if (message.type === "failed") this.#drops.dropped(lines, message.why);
    else this.#drops.recovered();
  }

  #tell(message: ToWriter): void {
    this.#writer.postMessage(message);
  }
}

/** Whether `line`, handed to the writer, is among the lines read from the
 * file: the same sender and words, at its time or (shared: the writer
 * keeps times increasing past the other workers') a little after. */
function written(line: HistoryLine, stored: readonly HistoryLine[]): boolean {
  return stored.some((s) =>
    s.from === line.from && s.text === line.text && s.at >= line.at && s.at - line.at < 1_000
  );
}
