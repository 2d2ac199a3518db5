/**
 * A limit on how many socket writes one isolate has in flight, with the
 * writers over it served in the order they asked.
 *
 * Why: the tokio runtime under Deno lets one poll of the isolate's pending
 * operations complete at most 128 socket operations (its cooperative
 * budget); the rest wait for a later poll, which Deno puts off while an
 * immediate is pending, as one always is in a busy server (the Outbox
 * starts its writes from one). Measured with Deno 2.9.6: of 1,000 writes to idle loopback sockets
 * issued at once, 128 completed in the first turn of the event loop, 256 by
 * the second, and the rest only some 20 ms later; in scenario B (1,000
 * clients, every line to all of them, one write per client in flight) one
 * write in a hundred took 100 ms to over a second, though the kernel took
 * every send at once, and the p99 of a line's delivery went to 0.1-2 s.
 * Kept under the budget, every write completes in the turn after it is
 * issued.
 *
 * A slot is lent, not given: a write that has not completed within its
 * lease ({@linkcode SLOT_LEASE_MS}) is waiting for a reader whose socket
 * buffer is full, and its slot goes on, so readers that stop reading cannot
 * hold up everyone else's writes.
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

/** Write operations each worker of `--workers` keeps in flight. With
 * {@linkcode MAX_WRITES_IN_FLIGHT}, two workers on 2 cores joined scenario
 * C's 10,000 clients in 15-21 s, against 3 s for one isolate alone: a
 * worker's turns are longer (a write took 1.2 ms from issue to completion
 * at the median, against 0.5 ms), so as many writes a turn carry fewer
 * lines a second. With 192 they joined in 5.9-7.4 s (three runs). Where 96
 * and 192 ran side by side, B was no worse (two runs), nor A and D (the
 * one run that measured them); docs/performance.md has the figures. One
 * isolate alone with 192 brings back B's stall (p99 3.7 s against 31 ms);
 * why a worker does not stall is not established. */
export const WORKER_WRITES_IN_FLIGHT = 192;

/** How long a write may hold its slot. One that has not completed by then
 * is waiting for a reader whose socket buffer is full, or for a long turn
 * of the event loop, not for a poll: it must not keep others waiting. A
 * lease ends one to two of these after it began. Measured with 5 ms, a
 * slow reader (the bench's own generator) stretched scenario C's joins to
 * 14.6 s; with 2 ms, 11.8 s. B's p99 was 29 ms with leases of 1 and of
 * 2 ms (single runs). */
export const SLOT_LEASE_MS = 2;

/** A writer that takes slots. */
export interface SlotHolder {
  /** A slot it waited for is its own now: false if it no longer wants it
   * (it closed while it waited), and the slot goes on. */
  slotGranted(): boolean;
  /** Set by {@linkcode WriteSlots} only: the lease round of the slot it
   * holds, undefined while it holds none (or its lease ran out). */
  slotLease: number | undefined;
}

/** Options for {@linkcode WriteSlots}. */
export interface WriteSlotsOptions {
  /** Slots (default {@linkcode MAX_WRITES_IN_FLIGHT}). */
  limit?: number;
  /** Lease length in ms (default {@linkcode SLOT_LEASE_MS}); 0: leases run
   * out only when {@linkcode WriteSlots.expireLeases} is called (tests). */
  leaseMs?: number;
}

/**
 * Lends slots and queues the writers that found none.
 *
 * @example
 * ```ts
 * import { type SlotHolder, WriteSlots } from "./write_slots.ts";
 * const slots = new WriteSlots({ limit: 1, leaseMs: 0 });
 * const first: SlotHolder = { slotLease: undefined, slotGranted: () => true };
 * const second: SlotHolder = { slotLease: undefined, slotGranted: () => (console.log("my turn"), true) };
 * slots.take(first); // true: a slot was free
 * slots.take(second); // false: queued
 * slots.give(first); // logs "my turn": the slot passed to the waiter
 * ```
 */
export class WriteSlots {
  #limit: number;
  readonly #leaseMs: number;
  #free: number;
  #waiting: (SlotHolder | undefined)[] = [];
  #head = 0;
  /** Lease rounds: holders lent a slot in this round, and in the last. */
  #round = 0;
  #young: SlotHolder[] = [];
  #old: SlotHolder[] = [];
  #clock: ReturnType<typeof setInterval> | undefined;

  constructor(options: WriteSlotsOptions = {}) {
    this.#limit = options.limit ?? MAX_WRITES_IN_FLIGHT;
    this.#leaseMs = options.leaseMs ?? SLOT_LEASE_MS;
    this.#free = this.#limit;
  }

  /** Lends `holder` a slot (true), or queues it to be granted one when a
   * slot comes back (false). */
  take(holder: SlotHolder): boolean {
    if (this.#free > 0) {
      this.#free--;
      this.#lend(holder);
      return true;
    }
    this.#waiting.push(holder);
    return false;
  }

  /** `holder`'s write completed: its slot, if its lease has not run out,
   * goes to the writer that has waited longest, or back to the free ones. */
  give(holder: SlotHolder): void {
    if (holder.slotLease === undefined) return;
    holder.slotLease = undefined;
    this.#passOn();
  }

  /** Ends the leases lent in the round before this one that are still
   * held, and starts a new round: what the lease clock does. */
  expireLeases(): void {
    const expiring = this.#round - 1;
    for (const holder of this.#old) {
      if (holder.slotLease !== expiring) continue; // given back, or lent again since
      holder.slotLease = undefined;
      this.#passOn();
    }
    this.#old = this.#young;
    this.#young = [];
    this.#round++;
  }

  /** Changes how many slots there are: more go to those waiting at once;
   * fewer take effect as lent ones come back. */
  setLimit(limit: number): void {
    const added = limit - this.#limit;
    this.#limit = limit;
    if (added < 0) this.#free += added;
    for (let i = 0; i < added; i++) this.#passOn();
  }

  /** Writers waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length - this.#head;
  }

  /** Slots lent out. */
  get lent(): number {
    return this.#limit - this.#free;
  }

  #lend(holder: SlotHolder): void {
    holder.slotLease = this.#round;
    this.#young.push(holder);
    if (this.#clock === undefined && this.#leaseMs > 0) {
      this.#clock = setInterval(() => this.expireLeases(), this.#leaseMs);
      Deno.unrefTimer(this.#clock);
    }
  }

  /** A slot came back: to the longest waiter that still wants it. A loop,
   * not a recursion, past those that do not: thousands may close at once. */
  #passOn(): void {
    // Over the limit (it was lowered): this slot is one of those to go.
    if (this.#free < 0) return this.#freed();
    for (;;) {
      const next = this.#waiting[this.#head];
      if (next === undefined) return this.#freed();
      this.#waiting[this.#head++] = undefined;
      if (this.#head === this.#waiting.length) {
        this.#waiting = [];
        this.#head = 0;
      }
      // Lent before it writes, so a write that fails at once can give it back.
      this.#lend(next);
      if (next.slotGranted()) return;
      next.slotLease = undefined;
    }
  }

  #freed(): void {
    this.#free++;
    if (this.#free < this.#limit || this.#clock === undefined) return;
    // Nothing lent: the clock stops, and what it tracked is stale.
    clearInterval(this.#clock);
    this.#clock = undefined;
    this.#young = [];
    this.#old = [];
  }
}
