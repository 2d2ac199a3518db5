/**
 * The write side of a connection: a bounded byte queue with one writer task.
 *
 * The chat server appends the same encoded `Uint8Array` to many outboxes;
 * `push` only stores a reference and adds to a byte count, so fan-out costs
 * no copy, promise or closure per recipient. The writer task starts once the
 * event loop has handled everything that became readable in this turn (an
 * immediate, not a microtask), joins everything queued into a single buffer
 * and issues one `write`, looping on partial writes. While that write is in
 * flight new lines simply queue, so a busy client gets fewer, larger writes.
 * A client whose queue reaches {@linkcode EAGER_WRITE_BYTES} before the
 * writer task starts is written to at once: waiting longer would save no
 * system call and only bring it closer to its budget. Each `write` first
 * takes one of the isolate's write slots ({@linkcode WriteSlots}), so a
 * fan-out to a thousand clients never has a thousand writes in flight.
 *
 * Policy: the byte budget is measured in time. A queue may pass its budget
 * for a moment (a burst from many senders lands in one turn of the event
 * loop, before any write can complete), but a client whose queue stays over
 * budget for {@linkcode DEFAULT_OVER_BUDGET_MS}, or reaches the hard cap of
 * {@linkcode HARD_CAP_FACTOR} times the budget, is disconnected: a reader
 * that far behind for that long is not coming back, and growing the queue
 * without end would let one idle socket exhaust the server's memory.
 *
 * @module
 */

import type { SlotHolder } from "./write_slots.ts";
import { Writes } from "./writes.ts";

/** Bytes queued for one client before we give up on it: about 15,000 chat
 * lines, far more than any reader that is still reading lets pile up. */
export const DEFAULT_MAX_QUEUED_BYTES = 1024 * 1024;

/** Queued bytes that start a write without waiting for the end of the turn:
 * at this size a write's cost is in its bytes, not in the system call, so
 * coalescing more gains nothing. Well under any sensible budget, so a burst
 * read in one turn (hundreds of lines from one socket) cannot get a reader
 * that is keeping up dropped. */
export const EAGER_WRITE_BYTES = 32 * 1024;

/** How long a queue may stay over its budget before the client is
 * dropped: a reader that is reading drains a burst in milliseconds, one that
 * has stopped never does. */
export const DEFAULT_OVER_BUDGET_MS = 2_000;

/** The hard cap, as a multiple of the budget: memory stays bounded even
 * while the over-budget grace runs. */
export const HARD_CAP_FACTOR = 4;

/** Anything with Deno.Conn's `write` and `close`. */
export interface ByteWriter {
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}

/** Why an outbox closed: asked to, over its budget, or the socket failed. */
export type OutboxCloseReason = "closed" | "overflow" | "error";

/** Who is told when an outbox closes: an object, not a closure, so the
 * owner (a session) needs no closure per connection for it. */
export interface CloseListener {
  outboxClosed(reason: OutboxCloseReason): void;
}

/** Options for {@linkcode Outbox}. */
export interface OutboxOptions {
  /** Byte budget (queued plus in flight); over it for `overBudgetMs`, or
   * over {@linkcode HARD_CAP_FACTOR} times it at any moment, and the client
   * is dropped. */
  maxQueuedBytes?: number;
  /** How long the queue may stay over budget (default 2 s). */
  overBudgetMs?: number;
  /** The clock, in ms (tests pass a fake one). */
  now?: () => number;
  /** Line sent, best effort, to a client dropped for being over budget. */
  overflowNotice?: Uint8Array;
  /** The chat's writes: their slots, the end-of-turn start and the backlog
   * mark, shared by every outbox of one chat (default: its own). */
  writes?: Writes;
}

/** Options for {@linkcode Outbox.close}. */
export interface OutboxCloseOptions {
  /** How long queued bytes may take to drain before the socket is closed
   * anyway; 0 closes at once. */
  flushMs?: number;
}

const enum State {
  Open,
  Closing,
  Closed,
}

/**
 * A per-connection bounded write queue.
 *
 * @example
 * ```ts
 * import { Outbox } from "./outbox.ts";
 * const conn = await Deno.connect({ port: 8080 });
 * const outbox = new Outbox(conn);
 * outbox.push(new TextEncoder().encode("hello\n"));
 * await outbox.close({ flushMs: 1000 });
 * ```
 */
export class Outbox implements SlotHolder {
  readonly #writer: ByteWriter;
  readonly #writes: Writes;
  readonly #max: number;
  readonly #hardCap: number;
  readonly #overBudgetMs: number;
  readonly #now: () => number;
  /** When the queue last went over budget; undefined while under it. */
  #overSince: number | undefined;
  readonly #notice: Uint8Array | undefined;
  /** Absent while nothing is queued: an idle outbox holds no array. */
  #queue: Uint8Array[] | undefined;
  #queuedBytes = 0;
  #inFlightBytes = 0;
  #highWater = 0;
  /** A write is in flight, or waiting to start at the end of the turn. */
  #writing = false;
  /** The writer task is waiting for the end of the turn. */
  #deferred = false;
  #state = State.Open;
  #flushWaiting = false;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #closedReason: OutboxCloseReason = "closed";
  /** Made only when asked for: an idle outbox holds no promise. */
  #closed: Promise<OutboxCloseReason> | undefined;
  #resolveClosed: ((reason: OutboxCloseReason) => void) | undefined;
  #onClosed: CloseListener | undefined;
  // Bound once per outbox: the write path then allocates no closure, async
  // frame or extra promise per write, only the write's own promise. One
  // callback for both outcomes: a write resolves with a count and rejects
  // with an error.
  readonly #settled = (result: unknown): void => {
    this.#writes.slots.give(this);
    if (typeof result === "number") this.#afterWrite(result);
    else this.#writeFailed();
  };
  #chunk: Uint8Array | undefined;
  #offset = 0;
  /** For {@linkcode WriteSlots} only: the lease of the write slot held. */
  slotLease: number | undefined = undefined;

  constructor(writer: ByteWriter, options: OutboxOptions = {}) {
    this.#writer = writer;
    this.#max = options.maxQueuedBytes ?? DEFAULT_MAX_QUEUED_BYTES;
    this.#hardCap = this.#max * HARD_CAP_FACTOR;
    this.#overBudgetMs = options.overBudgetMs ?? DEFAULT_OVER_BUDGET_MS;
    this.#now = options.now ?? Date.now;
    this.#notice = options.overflowNotice;
    this.#writes = options.writes ?? new Writes();
  }

  /** The end of the turn came: starts the deferred write. For this
   * module's immediate only (a method, not a closure per outbox). */
  startDeferred(): void {
    if (!this.#deferred) return; // started early, or closed meanwhile
    this.#deferred = false;
    this.#writeNext();
  }

  /** Resolves with the reason once the socket is closed. */
  get closed(): Promise<OutboxCloseReason> {
    if (this.#closed !== undefined) return this.#closed;
    if (this.#state === State.Closed) return this.#closed = Promise.resolve(this.#closedReason);
    const { promise, resolve } = Promise.withResolvers<OutboxCloseReason>();
    this.#resolveClosed = resolve;
    return this.#closed = promise;
  }

  /** Tells `listener` the reason once the socket is closed: what `closed`
   * tells, without a promise held for the outbox's whole life. */
  whenClosed(listener: CloseListener): void {
    if (this.#state !== State.Closed) this.#onClosed = listener;
    else queueMicrotask(() => listener.outboxClosed(this.#closedReason));
  }

  /** Bytes accepted but not yet written (queued plus in flight). */
  get pendingBytes(): number {
    return this.#queuedBytes + this.#inFlightBytes;
  }

  /** The most bytes ever pending at once. */
  get highWater(): number {
    return this.#highWater;
  }

  /** Why the outbox closed, once it has begun to (undefined while open). */
  get closedReason(): OutboxCloseReason | undefined {
    return this.#state === State.Open ? undefined : this.#closedReason;
  }

  /** Whether `push` still accepts bytes. */
  get open(): boolean {
    return this.#state === State.Open;
  }

  /**
   * Queues `bytes` (kept by reference: do not modify them afterwards).
   * Returns `false` if the outbox is closed, or if this push found it over
   * budget for too long or at its hard cap, in which case the client is
   * being disconnected.
   */
  push(bytes: Uint8Array): boolean {
    if (this.#state !== State.Open) return false;
    // An event a face shows nothing of (a join or leave to an IRC client)
    // renders to no bytes: no write for it.
    if (bytes.length === 0) return true;
    const pending = this.#queuedBytes + this.#inFlightBytes + bytes.length;
    if (pending > this.#max && this.#overTooLong(pending)) {
      this.#overflow();
      return false;
    }
    (this.#queue ??= []).push(bytes);
    this.#queuedBytes += bytes.length;
    if (pending > this.#highWater) this.#highWater = pending;
    if (pending > BACKLOG_BYTES) this.#writes.backlog();
    if (!this.#writing) {
      this.#writing = true;
      this.#deferred = true;
      this.#writes.defer(this);
    } else if (this.#deferred && this.#queuedBytes >= EAGER_WRITE_BYTES) {
      this.#deferred = false;
      this.#writeNext();
    }
    return true;
  }

  /**
   * Stops accepting bytes, lets queued ones drain for up to `flushMs`, then
   * closes the socket. Safe to call twice; resolves once closed.
   */
  close(options: OutboxCloseOptions = {}): Promise<void> {
    if (this.#state === State.Open) {
      this.#state = State.Closing;
      const flushMs = options.flushMs ?? 0;
      if (!this.#writing || flushMs <= 0) {
        this.#finish("closed");
      } else {
        this.#deadline = setTimeout(() => this.#finish("closed"), flushMs);
        this.#flushWaiting = true;
      }
    }
    return this.closed.then(() => {});
  }

  /** Whether a queue at `pending` bytes (over budget) is past its grace. */
  #overTooLong(pending: number): boolean {
    if (pending > this.#hardCap) return true;
    const now = this.#now();
    this.#overSince ??= now;
    return now - this.#overSince >= this.#overBudgetMs;
  }

  /** Starts the next write once a write slot is free (see write_slots.ts
   * for why writes wait for one), or ends the writer task when nothing is
   * queued. */
  #writeNext(): void {
    if (this.#idle()) return;
    if (this.#writes.slots.take(this)) this.#writeQueued();
  }

  /** Ends the writer task if nothing is left to write (true if it did). */
  #idle(): boolean {
    if (this.#queue !== undefined && this.#state !== State.Closed) return false;
    this.#writing = false;
    if (this.#flushWaiting) this.#finish(this.#closedReason);
    return true;
  }

  /** Writes everything queued, holding a write slot. The queue is taken
   * only now, so lines that came while the outbox waited for the slot go
   * in this same write. */
  #writeQueued(): void {
    this.#chunk = this.#takeQueued();
    this.#offset = 0;
    this.#inFlightBytes = this.#chunk.length;
    this.#issueWrite();
  }

  /** A write slot came free for this outbox's waiting write: false if it
   * closed meanwhile and has nothing to write. For {@linkcode WriteSlots}
   * only. */
  slotGranted(): boolean {
    if (this.#chunk !== undefined && this.#state !== State.Closed) {
      this.#issueWrite();
      return true;
    }
    this.#chunk = undefined;
    this.#inFlightBytes = 0;
    if (this.#idle()) return false;
    this.#writeQueued();
    return true;
  }

  #issueWrite(): void {
    const chunk = this.#chunk as Uint8Array;
    try {
      this.#writer.write(this.#offset === 0 ? chunk : chunk.subarray(this.#offset))
        .then(this.#settled, this.#settled);
    } catch {
      this.#writes.slots.give(this);
      this.#writeFailed();
    }
  }

  #afterWrite(n: number): void {
    this.#offset += n;
    // write() may take only part of the buffer: keep going until done.
    if (this.#state !== State.Closed && this.#offset < (this.#chunk as Uint8Array).length) {
      if (this.#writes.slots.take(this)) this.#issueWrite();
      return;
    }
    this.#chunk = undefined;
    this.#inFlightBytes = 0;
    if (this.#queuedBytes <= this.#max) this.#overSince = undefined;
    this.#writeNext();
  }

  #writeFailed(): void {
    this.#chunk = undefined;
    this.#inFlightBytes = 0;
    this.#writing = false;
    this.#finish("error");
  }

  #takeQueued(): Uint8Array {
    const queue = this.#queue as Uint8Array[];
    this.#queue = undefined;
    const total = this.#queuedBytes;
    this.#queuedBytes = 0;
    if (queue.length === 1) return queue[0] as Uint8Array;
    const joined = new Uint8Array(total);
    let offset = 0;
    for (const part of queue) {
      joined.set(part, offset);
      offset += part.length;
    }
    return joined;
  }

  #overflow(): void {
    this.#queue = undefined;
    this.#queuedBytes = 0;
    if (this.#writing || this.#notice === undefined) {
      // A write is stuck in flight, so a notice could not get past it anyway.
      this.#finish("overflow");
      return;
    }
    this.#state = State.Closing;
    this.#closedReason = "overflow";
    this.#queue = [this.#notice];
    this.#queuedBytes = this.#notice.length;
    this.#writing = true;
    this.#deferred = true;
    this.#deadline = setTimeout(() => this.#finish("overflow"), OVERFLOW_NOTICE_MS);
    this.#flushWaiting = true;
    this.#writes.defer(this);
  }

  #finish(reason: OutboxCloseReason): void {
    if (this.#state === State.Closed) return;
    if (this.#closedReason === "closed") this.#closedReason = reason;
    this.#state = State.Closed;
    this.#deferred = false;
    this.#queue = undefined;
    this.#queuedBytes = 0;
    this.#flushWaiting = false;
    clearTimeout(this.#deadline);
    try {
      this.#writer.close();
    } catch {
      // Already closed by the peer side of the program: nothing left to do.
    }
    this.#resolveClosed?.(this.#closedReason);
    this.#onClosed?.outboxClosed(this.#closedReason);
  }
}

/** How long the best-effort overflow notice may take before we hang up. */
const OVERFLOW_NOTICE_MS = 200;

/** Bytes pending for one client past which the fan-out should pause and
 * let writes go out: twice the eager-write size, so a reader that keeps up
 * (its queue is written at 32 KiB) never trips it, while a burst from many
 * senders into one turn does. */
export const BACKLOG_BYTES = 2 * EAGER_WRITE_BYTES;
