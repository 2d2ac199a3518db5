/**
 * A limit on how many socket writes one isolate has in flight, with the
 * writers over it served in the order they asked.
 *
 * Why: Deno's runtime does not serve many pending write operations fairly.
 * Measured in scenario B (1,000 clients, every line fanned out to all), with
 * one write per client in flight (about 700 at once) most writes completed
 * within 2 ms but one in a hundred took 100 ms to over a second, though the
 * kernel took every send at once (no `EAGAIN`): the p99 of a line's delivery
 * went to 0.1-2 s. With at most a few dozen in flight, every client's write
 * is issued and done within the turn that queued it, and the p99 came down
 * to about 30 ms. Throughput did not change: a write that waits for a slot
 * still joins everything its client was sent meanwhile.
 *
 * @module
 */

/** Write operations one isolate keeps in flight. Scenario B measured the
 * same tail from 8 to 64 and a worse one at 256; A and D never come near. */
export const MAX_WRITES_IN_FLIGHT = 32;

/** A writer waiting for a slot: told when it has one, and says whether it
 * used it (a writer closed while it waited has nothing left to write). */
export interface SlotWaiter {
  slotGranted(): boolean;
}

/**
 * Counts slots and queues the writers that found none.
 *
 * @example
 * ```ts
 * import { WriteSlots } from "./write_slots.ts";
 * const slots = new WriteSlots(1);
 * const waiter = { slotGranted: () => (console.log("my turn"), true) };
 * slots.take(waiter); // true: a slot was free
 * slots.take(waiter); // false: queued
 * slots.give(); // logs "my turn": the slot passed to the waiter
 * ```
 */
export class WriteSlots {
  #free: number;
  #waiting: (SlotWaiter | undefined)[] = [];
  #head = 0;

  constructor(limit: number = MAX_WRITES_IN_FLIGHT) {
    this.#free = limit;
  }

  /** Takes a slot for `waiter` (true), or queues it to be granted one by a
   * later {@linkcode give} (false). */
  take(waiter: SlotWaiter): boolean {
    if (this.#free > 0) {
      this.#free--;
      return true;
    }
    this.#waiting.push(waiter);
    return false;
  }

  /** Gives a slot back: to the writer that has waited longest and still
   * wants it, if any. A loop, not a recursion, past the writers that no
   * longer do: thousands may close at once. */
  give(): void {
    for (;;) {
      const next = this.#waiting[this.#head];
      if (next === undefined) {
        this.#free++;
        return;
      }
      this.#waiting[this.#head++] = undefined;
      if (this.#head === this.#waiting.length) {
        this.#waiting = [];
        this.#head = 0;
      }
      if (next.slotGranted()) return;
    }
  }

  /** Writers waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }
}

/** The isolate's slots: every outbox shares them unless told otherwise. */
export const sharedWriteSlots: WriteSlots = new WriteSlots();
