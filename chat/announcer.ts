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

/** How long "joined/left the chat" lines may wait to leave together: people
 * do not notice 50 ms on a join, and a storm shares one write per reader. */
export const ANNOUNCE_BATCH_MS = 50;

/** A batch ready to send. `resumeAt` maps each newcomer announced in the
 * batch to the index just past its own join: it already got that and
 * everything before it in its roster, so it gets only the rest. */
export interface Batch<T, E> {
  items: E[];
  resumeAt: Map<T, number>;
}

interface Entry<T, E> {
  item: E | undefined;
  newcomer?: T;
}

/**
 * Collects announcements (join and leave events) until the next flush.
 *
 * @example
 * ```ts
 * import { Announcer } from "./announcer.ts";
 * const announcer = new Announcer<string, string>();
 * const first = announcer.add("bob joined", "bob");
 * // first === true: schedule a flush in ANNOUNCE_BATCH_MS
 * const batch = announcer.take(); // the items, and bob's resume index
 * ```
 */
export class Announcer<T, E> {
  #pending: Entry<T, E>[] = [];
  /** Each newcomer waiting in the batch, and its entry: a withdrawal is a
   * lookup, not a scan (a dead server's thousands of users leave at once). */
  #joins = new Map<T, Entry<T, E>>();
  /** Whether a flush is already scheduled: one timer at a time. */
  #scheduled = false;

  /** Queues `item`; true when the caller must schedule a flush (then call
   * {@linkcode due} when it fires). */
  add(item: E, newcomer?: T): boolean {
    const entry: Entry<T, E> = { item, newcomer };
    this.#pending.push(entry);
    if (newcomer !== undefined) this.#joins.set(newcomer, entry);
    if (this.#scheduled) return false;
    this.#scheduled = true;
    return true;
  }

  /** The scheduled flush fired: takes the batch, if any is left. */
  due(): Batch<T, E> | undefined {
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
    entry.item = undefined;
    entry.newcomer = undefined;
    return true;
  }

  /** Whether anything waits. */
  get pending(): boolean {
    return this.#pending.length > 0;
  }

  /** Takes everything queued as one batch, or undefined if nothing waits;
   * an early flush, before any other line is sent. */
  take(): Batch<T, E> | undefined {
    const pending = this.#pending;
    if (pending.length === 0) return undefined;
    this.#pending = [];
    this.#joins.clear();
    const items: E[] = [];
    const resumeAt = new Map<T, number>();
    for (const entry of pending) {
      if (entry.item === undefined) continue;
      items.push(entry.item);
      if (entry.newcomer !== undefined) resumeAt.set(entry.newcomer, items.length);
    }
    // Everything in it was withdrawn: nothing to send.
    return items.length === 0 ? undefined : { items, resumeAt };
  }
}
