/**
 * Room history in SQLite, through Deno's built-in `node:sqlite` (no
 * dependency): one file, `history.db`, in the data directory.
 *
 * Writes never touch the fan-out path: `record` appends to an in-memory
 * batch, and one transaction every {@linkcode FLUSH_MS} writes it. After a
 * `kill -9`, at most that window (50 ms of lines) is lost. A batch that
 * cannot be written (disk full, file gone) is dropped, counted and logged
 * once; a store that falls {@linkcode MAX_PENDING} lines behind drops new
 * lines the same way. Live chat never waits for it.
 *
 * Reads (`recent`) are small indexed queries, run synchronously by the chat
 * actor: at most 200 rows by primary key within one room.
 *
 * The schema is versioned (`PRAGMA user_version`); the database runs in WAL
 * mode; every statement is parameterised.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { openSqlite } from "./sqlite.ts";
import type { HistoryLine, HistoryStore, Log } from "../chat/ports.ts";

/** How often the batch of new lines is written: the most a `kill -9` can
 * lose, and few enough transactions to cost nothing. */
export const FLUSH_MS = 50;
/** Lines kept per room by default. */
export const DEFAULT_HISTORY_KEEP = 10_000;
/** Days lines are kept by default. */
export const DEFAULT_HISTORY_DAYS = 30;
/** Lines waiting to be written beyond which new ones are dropped. */
export const MAX_PENDING = 10_000;

/** The schema this code writes; a newer file is refused, not downgraded. */
const SCHEMA_VERSION = 2;
/** How often lines past `--history-days` are deleted. */
const PRUNE_AGE_EVERY_MS = 60_000;
const DAY_MS = 86_400_000;

/** Options for {@linkcode SqliteHistory.open}. */
export interface SqliteHistoryOptions {
  /** The database file (its directory must exist). */
  path: string;
  /** Lines kept per room. */
  keep?: number;
  /** Days lines are kept. */
  days?: number;
  log: Log;
  /** Called with the number of lines dropped (for metrics). */
  onDropped?: (lines: number) => void;
  /** The clock, in ms (tests pass a fake one). */
  now?: () => number;
  /** Write batches on a timer (default true; tests call `flush`). */
  autoFlush?: boolean;
  /** The workers of one process (`--workers`) share this file: each keeps
   * only its own users' lines, and writes them at once, so a newcomer on
   * another worker finds them (default false: one file per server). */
  shared?: boolean;
}

/** A SQLite-backed {@linkcode HistoryStore}; see the module doc. */
export class SqliteHistory implements HistoryStore {
  /** Whether other workers write this file too (see the option). */
  readonly shared: boolean;
  /** Lines kept per room, and days kept. */
  readonly keep: number;
  readonly days: number;
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #select: StatementSync;
  readonly #pruneRoom: StatementSync;
  readonly #pruneAge: StatementSync;
  readonly #newest: StatementSync;
  readonly #keep: number;
  readonly #maxAgeMs: number;
  readonly #drops: Drops;
  readonly #now: () => number;
  readonly #autoFlush: boolean;
  #pending: HistoryLine[] = [];
  /** The time of the last line kept: times are made strictly increasing
   * (by a millisecond where two lines share one), so a line's time is a
   * cursor that pages neither skip nor repeat. */
  #lastAt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastAgePrune = -Infinity;
  #closed = false;

  private constructor(db: DatabaseSync, options: SqliteHistoryOptions) {
    this.#db = db;
    this.#keep = this.keep = options.keep ?? DEFAULT_HISTORY_KEEP;
    this.days = options.days ?? DEFAULT_HISTORY_DAYS;
    this.#maxAgeMs = this.days * DAY_MS;
    this.#drops = new Drops(options.log, options.onDropped);
    this.#now = options.now ?? Date.now;
    this.#autoFlush = options.autoFlush ?? true;
    this.shared = options.shared ?? false;
    this.#newest = db.prepare("SELECT max(at) AS at FROM lines");
    this.#insert = db.prepare(
      "INSERT INTO lines (at, room, sender, text, action) VALUES (?, ?, ?, ?, ?)",
    );
    this.#select = db.prepare(RECENT_LINES_SQL);
    this.#pruneRoom = db.prepare(
      "DELETE FROM lines WHERE room = ? AND id <= " +
        "(SELECT id FROM lines WHERE room = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
    );
    this.#pruneAge = db.prepare("DELETE FROM lines WHERE at < ?");
  }

  /** Opens (creating if needed) the database at `options.path`; throws an
   * `Error` with a one-line message if it cannot. */
  static open(options: SqliteHistoryOptions): SqliteHistory {
    return openSqlite({
      path: options.path,
      what: "history store",
      version: SCHEMA_VERSION,
      schema: SCHEMA,
      upgrades: UPGRADES,
      build: (db) => {
        const store = new SqliteHistory(db, options);
        store.#lastAt = store.#newestAt();
        return store;
      },
    });
  }

  record(line: HistoryLine): void {
    if (this.#closed) return;
    if (this.#pending.length >= MAX_PENDING) return this.#drops.dropped(1, "the store fell behind");
    this.#pending.push(this.stamp(line));
    if (this.#autoFlush && this.#timer === undefined) {
      this.#timer = setTimeout(() => this.flush(), this.shared ? 0 : FLUSH_MS);
    }
  }

  /** `line` with a time later than every line before it (see `#lastAt`). */
  stamp(line: HistoryLine): HistoryLine {
    const at = Math.max(line.at, this.#lastAt + 1);
    this.#lastAt = at;
    return at === line.at ? line : { ...line, at };
  }

  recent(room: string, limit: number, before: number): HistoryLine[] {
    const key = room.toLowerCase();
    // Lines not written yet are history too.
    const waiting = this.#pending.filter((l) => l.room.toLowerCase() === key && l.at < before);
    return [...this.stored(room, limit, before), ...waiting].slice(-limit);
  }

  /** Up to `limit` lines of `room` in the file before `before`, oldest
   * first: what `recent` reads, without the lines still waiting. */
  stored(room: string, limit: number, before: number): HistoryLine[] {
    const rows = this.#select.all(room.toLowerCase(), before, limit) as unknown as Row[];
    return rows.reverse().map((row) => ({
      at: row.at,
      room,
      from: row.sender,
      text: row.text,
      action: row.action === 1,
    }));
  }

  /** Writes the waiting lines in one transaction, and prunes. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#pending;
    if (batch.length === 0) return;
    this.#pending = [];
    try {
      this.write(batch);
    } catch (error) {
      this.#drops.dropped(batch.length, error instanceof Error ? error.message : String(error));
    }
  }

  /** Writes `batch` in one transaction, and prunes; throws (having rolled
   * back) if it cannot. */
  write(batch: readonly HistoryLine[]): void {
    try {
      // Shared: take the write lock first, and keep times increasing past
      // what the other workers wrote (a time is a page cursor).
      this.#db.exec(this.shared ? "BEGIN IMMEDIATE" : "BEGIN");
      let last = this.shared ? this.#newestAt() : 0;
      for (const l of batch) {
        last = Math.max(l.at, last + 1);
        this.#insert.run(last, l.room.toLowerCase(), l.from, l.text, l.action ? 1 : 0);
      }
      this.#prune(batch);
      this.#db.exec("COMMIT");
      this.#drops.recovered();
    } catch (error) {
      try {
        this.#db.exec("ROLLBACK");
      } catch {
        // No transaction left to roll back.
      }
      throw error;
    }
  }

  /** Writes what is waiting and closes the file. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#db.close();
  }

  /** The time of the newest line in the file (0 when empty). */
  #newestAt(): number {
    return (this.#newest.get() as { at: number | null }).at ?? 0;
  }

  /** Keeps the newest lines of each room touched, and drops old ones. */
  #prune(batch: readonly HistoryLine[]): void {
    const rooms = new Set(batch.map((l) => l.room.toLowerCase()));
    for (const room of rooms) this.#pruneRoom.run(room, room, this.#keep);
    const now = this.#now();
    if (now - this.#lastAgePrune < PRUNE_AGE_EVERY_MS) return;
    this.#lastAgePrune = now;
    this.#pruneAge.run(now - this.#maxAgeMs);
  }
}

/** Lines a history store could not keep: each counted, and logged once
 * until a write succeeds again (a failing disk is one log line, not one a
 * batch). */
export class Drops {
  readonly #log: Log;
  readonly #onDropped: (lines: number) => void;
  #failing = false;

  constructor(log: Log, onDropped: (lines: number) => void = () => {}) {
    this.#log = log;
    this.#onDropped = onDropped;
  }

  dropped(lines: number, why: string): void {
    this.#onDropped(lines);
    if (this.#failing) return;
    this.#failing = true;
    this.#log(`[server] history store failing, lines dropped (${why}); chat goes on`, {
      level: "error",
      event: "history_error",
    });
  }

  /** A write went through: the next failure is news again. */
  recovered(): void {
    this.#failing = false;
  }
}

interface Row {
  at: number;
  sender: string;
  text: string;
  action: number;
}

/** A room's newest lines before a time. Its index, (room, at), makes it a
 * seek: a page costs its own lines, however old the time asked for and
 * however long the room (times only grow in a file: see `record`). */
export const RECENT_LINES_SQL =
  "SELECT at, sender, text, action FROM lines WHERE room = ? AND at < ? ORDER BY at DESC LIMIT ?";

/** Schema 1 lacked the index a page before a time seeks by. */
const UPGRADES: Record<number, string> = {
  1: "CREATE INDEX IF NOT EXISTS lines_by_room_time ON lines (room, at)",
};

/** The tables of schema version 2. */
const SCHEMA = `
      CREATE TABLE lines (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        room TEXT NOT NULL,
        sender TEXT NOT NULL,
        text TEXT NOT NULL,
        action INTEGER NOT NULL
      );
      CREATE INDEX lines_by_room ON lines (room, id);
      CREATE INDEX lines_by_time ON lines (at);
      CREATE INDEX lines_by_room_time ON lines (room, at)
`;
