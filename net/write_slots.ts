/**
 * A limit on how many socket writes one isolate has in flight, with the
 * writers over it served in the order they asked.
 *
 * Why: the tokio runtime under Deno lets one poll of the isolate's pending
 * operations complete at most 128 socket operations (its cooperative
 * budget); the rest wait for a later poll, and under load they can wait
 * long. Measured with Deno 2.9.6: of 1,000 writes to idle loopback sockets
 * issued at once, 128 completed in the first turn of the event loop, 256 by
 * the second, and the rest only some 20 ms later; in scenario B (1,000
 * clients, every line to all of them, one write per client in flight) one
 * write in a hundred took 100 ms to over a second, though the kernel took
 * every send at once, and the p99 of a line's delivery went to 0.1-2 s.
 * Kept under the budget, every write completes in the turn after it is
 * issued.
 *
 * @module
 */

/** Write operations one isolate keeps in flight: under tokio's budget of
 * 128, leaving room for the reads and accepts that complete in the same
 * poll. Fewer starve throughput instead, since at most this many writes
 * complete per turn: with 32 or 64, scenario C's 10,000 joins took 6-12 s
 * against 3-4 s with 96 or no limit. B's p99 was 24-28 ms with 96, 32-41
 * ms with 128. */
export const MAX_WRITES_IN_FLIGHT = 96;

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
