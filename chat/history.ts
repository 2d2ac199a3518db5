/**
 * Room history as users see it: what is kept (chat lines and actions of a
 * room, never private messages), the replay a newcomer gets after joining a
 * room, and `/history` pages. The lines live in a `HistoryStore` (SQLite by
 * default, `store/`); this module only decides what to keep and how to show
 * it.
 *
 * Replayed lines are framed so they cannot be taken for live ones: they are
 * server lines (`* `) between a header and a footer, each with its time in
 * UTC, and no user can make a line of that shape (names cannot contain `:`
 * or be all digits, and `recent`, `history`, `end` and `no` are reserved).
 *
 * @module
 */

import { type ChatEvent, noticed, refused } from "./events.ts";
import type { HistoryLine, HistoryStore, Log } from "./ports.ts";

/** Lines a newcomer gets on joining a room, by default. */
export const DEFAULT_HISTORY_ON_JOIN = 10;
/** Lines `/history` shows without a count. */
export const DEFAULT_HISTORY_PAGE = 20;
/** Most lines `/history` shows at once. */
export const MAX_HISTORY_PAGE = 200;

/** "Before" that takes everything kept (stores may nudge a line's time a
 * millisecond ahead to keep times unique, so "now" is not enough). */
const LATEST = Number.MAX_SAFE_INTEGER;

/** Events to send: now, or once a networked store has answered. */
export type Replies = ChatEvent[] | Promise<ChatEvent[]>;

/** Where a viewer's last page or replay in a room began, and its size. */
interface Cursor {
  room: string;
  before: number;
  /** The last page's size; none after a replay on joining. */
  limit?: number;
}

/** What `/history` asked for. */
export interface PageRequest {
  /** How many lines; by default the last page's size for `more`, else
   * {@linkcode DEFAULT_HISTORY_PAGE}. */
  limit?: number;
  /** Lines before this time (ms). */
  before?: number;
  /** Lines before the last page or replay this user saw in this room. */
  more?: boolean;
}

/** Options for {@linkcode RoomHistory}. */
export interface RoomHistoryOptions {
  store: HistoryStore;
  /** Lines replayed on joining a room (0 = none). */
  onJoin: number;
  log: Log;
  /** The clock, in ms (tests pass a fake one). */
  now?: () => number;
}

/** Keeps room lines and shows them back; see the module doc. */
export class RoomHistory {
  readonly #store: HistoryStore;
  readonly #onJoin: number;
  readonly #log: Log;
  readonly #now: () => number;
  #readFailed = false;
  /** Where each user's last page or replay started, per room (a user may
   * be in several, an IRC client's or a page's). */
  readonly #cursors = new WeakMap<object, Map<string, Cursor>>();

  constructor(options: RoomHistoryOptions) {
    this.#store = options.store;
    this.#onJoin = options.onJoin;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
  }

  /** Keeps a line said in `room` now by one of this server's users. */
  keep(room: string, from: string, text: string, action: boolean): void {
    this.#store.record({ at: this.#now(), room, from, text, action });
  }

  /** Keeps a line said by a user of another server, unless the store is
   * shared (then that server keeps it, once). */
  keepRemote(room: string, from: string, text: string, action: boolean): void {
    if (!this.#store.shared) this.keep(room, from, text, action);
  }

  /** The framed replay a newcomer to `room` gets (none if nothing was said
   * or the store cannot be read: joining never fails for history), now or
   * later. Where it starts is `viewer`'s cursor: `/history more` continues
   * before it. */
  onJoin(room: string, viewer: object): Replies {
    // Until a replay or a page moves it: what is said from now on is seen
    // live, so `/history more` starts before the join, never after it.
    this.#setCursor(viewer, { room, before: this.#now() });
    if (this.#onJoin === 0) return [];
    return this.#read(room, this.#onJoin, LATEST, (lines) => {
      if (lines === undefined || lines.length === 0) return [];
      return [this.#framed(viewer, room, lines, "recent")];
    });
  }

  /** A `/history` page for `viewer` in `room`: up to `limit` lines before
   * `before` (ms), before the viewer's last page or replay (`more`), or the
   * latest; now or later. */
  page(room: string, viewer: object, request: PageRequest): Replies {
    const here = this.#cursors.get(viewer)?.get(room.toLowerCase());
    const before = request.more ? here?.before ?? LATEST : request.before ?? LATEST;
    // `/history more` goes on in steps of the page before it.
    const wanted = request.limit ?? (request.more ? here?.limit : undefined) ??
      DEFAULT_HISTORY_PAGE;
    const limit = Math.max(1, Math.min(wanted, MAX_HISTORY_PAGE));
    return this.#read(room, limit, before, (lines) => {
      if (lines === undefined) return [refused({ refusal: "history_unavailable" })];
      if (lines.length === 0) return [noticed({ notice: "no_earlier_lines", room })];
      return [this.#framed(viewer, room, lines, "page", limit)];
    });
  }

  /** Kept lines between a header and a footer; the oldest becomes
   * `viewer`'s cursor for `/history more`. */
  #framed(
    viewer: object,
    room: string,
    lines: HistoryLine[],
    kind: "recent" | "page",
    limit?: number,
  ): ChatEvent {
    this.#setCursor(viewer, { room, before: (lines[0] as HistoryLine).at, limit });
    return { type: "history", room, kind, lines };
  }

  #setCursor(viewer: object, cursor: Cursor): void {
    let rooms = this.#cursors.get(viewer);
    if (rooms === undefined) this.#cursors.set(viewer, rooms = new Map());
    rooms.set(cursor.room.toLowerCase(), cursor);
  }

  /** Reads from the store and shapes the result, synchronously when the
   * store answers at once; `undefined` means the store failed. */
  #read(
    room: string,
    limit: number,
    before: number,
    shape: (lines: HistoryLine[] | undefined) => ChatEvent[],
  ): Replies {
    let answer: HistoryLine[] | Promise<HistoryLine[]>;
    try {
      answer = this.#store.recent(room, limit, before);
    } catch (error) {
      return shape(this.#failed(error));
    }
    if (Array.isArray(answer)) return shape(this.#succeeded(answer));
    return answer.then((lines) => shape(this.#succeeded(lines)), (e) => shape(this.#failed(e)));
  }

  #succeeded(lines: HistoryLine[]): HistoryLine[] {
    this.#readFailed = false;
    return lines;
  }

  #failed(error: unknown): undefined {
    if (!this.#readFailed) {
      this.#log(`[server] cannot read history: ${error instanceof Error ? error.message : error}`, {
        level: "error",
        event: "history_error",
      });
    }
    this.#readFailed = true;
    return undefined;
  }
}

/**
 * Reads the `before` of `/history N before WHEN`: `HH:MM[:SS]` (today,
 * UTC) or `YYYY-MM-DDTHH:MM[:SS]` (UTC). Returns ms, or undefined.
 */
export function parseBefore(text: string, now: number): number | undefined {
  const time = /^(\d\d):(\d\d)(?::(\d\d))?$/.exec(text);
  if (time) {
    const [h, m, s] = [Number(time[1]), Number(time[2]), Number(time[3] ?? 0)];
    if (h > 23 || m > 59 || s > 59) return undefined;
    const day = new Date(now).toISOString().slice(0, 10);
    return Date.parse(`${day}T${time[1]}:${time[2]}:${time[3] ?? "00"}Z`);
  }
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d)?$/.test(text)) return undefined;
  const at = Date.parse(`${text}Z`);
  // Date.parse rolls 2024-02-30 over to March 1st: a date that does not
  // read back the same did not exist.
  if (Number.isNaN(at) || new Date(at).toISOString().slice(0, text.length) !== text) {
    return undefined;
  }
  return at;
}
