/**
 * Join/leave batching: "joined the chat" and "left the chat" lines wait up
 * to `ANNOUNCE_BATCH_MS` and leave together as one buffer.
 *
 * In a join storm every join goes to everyone: 10,000 joins are 50 million
 * deliveries, and sent one by one they are 50 million writes. Batched, they
 * share one buffer and one write per recipient. The chat server flushes the
 * batch before any other line, so the order people see is never changed.
 * Pure: the caller schedules the flush and delivers the bytes.
 *
 * @module
 */

const EMPTY = new Uint8Array();

/** How long "joined/left the chat" lines may wait to leave together: people
 * do not notice 50 ms on a join, and a storm shares one write per reader. */
export const ANNOUNCE_BATCH_MS = 50;

/** A batch ready to send. `resumeAt` maps each newcomer announced in the
 * batch to the offset just past its own join line: it already got that
 * line and everything before it in its roster, so it gets only the rest. */
export interface Batch<T> {
  bytes: Uint8Array;
  resumeAt: Map<T, number>;
}

/**
 * Collects announcement lines until the next flush.
 *
 * @example
 * ```ts
 * import { Announcer } from "./announcer.ts";
 * const announcer = new Announcer<string>();
 * const first = announcer.add(new TextEncoder().encode("* bob joined the chat\n"), "bob");
 * // first === true: schedule a flush in ANNOUNCE_BATCH_MS
 * const batch = announcer.take(); // the bytes, and bob's resume offset
 * ```
 */
export class Announcer<T> {
  #pending: { line: Uint8Array; newcomer?: T }[] = [];
  /** Each newcomer waiting in the batch, and its entry: a withdrawal is a
   * lookup, not a scan (a dead server's thousands of users leave at once). */
  #joins = new Map<T, { line: Uint8Array; newcomer?: T }>();
  /** Whether a flush is already scheduled: one timer at a time. */
  #scheduled = false;

  /** Queues `line`; true when the caller must schedule a flush (then call
   * {@linkcode due} when it fires). */
  add(line: Uint8Array, newcomer?: T): boolean {
    const entry = { line, newcomer };
    this.#pending.push(entry);
    if (newcomer !== undefined) this.#joins.set(newcomer, entry);
    if (this.#scheduled) return false;
    this.#scheduled = true;
    return true;
  }

  /** The scheduled flush fired: takes the batch, if any is left. */
  due(): Batch<T> | undefined {
    this.#scheduled = false;
    return this.take();
  }

  /** Takes back `newcomer`'s join if it is still waiting (nobody has seen
   * it yet); true if it was. A connection that leaves this quickly is then
   * announced to nobody: reconnect-and-quit loops cannot turn joins, leaves
   * and quit reasons into a broadcast channel. */
  withdraw(newcomer: T): boolean {
    const entry = this.#joins.get(newcomer);
    if (entry === undefined) return false;
    this.#joins.delete(newcomer);
    // Emptied where it stands; the batch skips it.
    entry.line = EMPTY;
    entry.newcomer = undefined;
    return true;
  }

  /** Whether anything waits. */
  get pending(): boolean {
    return this.#pending.length > 0;
  }

  /** Takes everything queued as one batch, or undefined if nothing waits;
   * an early flush, before any other line is sent. */
  take(): Batch<T> | undefined {
    const pending = this.#pending;
    if (pending.length === 0) return undefined;
    this.#pending = [];
    this.#joins.clear();
    let total = 0;
    for (const entry of pending) total += entry.line.length;
    // Everything in it was withdrawn: nothing to send.
    if (total === 0) return undefined;
    const bytes = new Uint8Array(total);
    const resumeAt = new Map<T, number>();
    let offset = 0;
    for (const entry of pending) {
      bytes.set(entry.line, offset);
      offset += entry.line.length;
      if (entry.newcomer !== undefined) resumeAt.set(entry.newcomer, offset);
    }
    return { bytes, resumeAt };
  }
}
