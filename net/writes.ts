/**
 * The writes of one chat instance, as an object it is given rather than
 * state hidden in a module: its write slots (`WriteSlots`), the writer
 * tasks deferred to the end of the turn, and whether a fan-out left some
 * reader's queue backlogged. Two chats in one isolate (the test suite's
 * two-worker pass) then share nothing.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { WriteSlots } from "./write_slots.ts";

/** Who can be started at the end of the turn. */
export interface DeferredWriter {
  startDeferred(): void;
}

/**
 * One chat's writes; see the module doc.
 *
 * @example
 * ```ts
 * import { Writes } from "./writes.ts";
 * const writes = new Writes();
 * writes.takeBacklog(); // false: nothing queued yet
 * ```
 */
export class Writes {
  /** The slots every outbox of this chat takes a write from. */
  readonly slots: WriteSlots;
  #pending: DeferredWriter[] = [];
  #backlogged = false;
  /** Bound once: the immediate that starts this turn's writer tasks. */
  readonly #start = (): void => {
    const writers = this.#pending;
    this.#pending = [];
    for (const writer of writers) writer.startDeferred();
  };

  constructor(slots: WriteSlots = new WriteSlots()) {
    this.slots = slots;
  }

  /** Starts `writer` at the end of this turn: one immediate for all the
   * writers touched, not one per writer. An immediate runs after the event
   * loop has delivered every read that completed in this turn, so lines
   * from many senders share each client's write; a microtask would run
   * after the first fan-out and write each line alone. */
  defer(writer: DeferredWriter): void {
    if (this.#pending.push(writer) === 1) setImmediate(this.#start);
  }

  /** Some reader's queue passed the backlog mark. */
  backlog(): void {
    this.#backlogged = true;
  }

  /** Whether some reader's queue passed the backlog mark since the last
   * call (and clears that). */
  takeBacklog(): boolean {
    const was = this.#backlogged;
    this.#backlogged = false;
    return was;
  }

  /**
   * Resolves once the writer tasks started in this turn have been issued
   * and the event loop has polled the sockets again: what a producer awaits
   * after a fan-out that left a queue backlogged, so writes complete before
   * it queues more.
   */
  afterPendingWrites(): Promise<void> {
    return new Promise((resolve) => setImmediate(resolve));
  }
}
