/**
 * A bounded, closable FIFO queue: the only way messages reach an actor.
 *
 * The bound is the point. An unbounded mailbox turns a slow consumer into
 * unbounded memory; a bounded one turns it into backpressure (`send` waits
 * for room) or an explicit refusal (`trySend` returns `false`). Senders that
 * wait are served strictly in order: a freed slot goes to the oldest waiting
 * sender, so a `trySend` can never starve them.
 *
 * Storage grows lazily up to the capacity, so an idle mailbox costs a few
 * dozen bytes, not `capacity` slots: this matters with ten thousand idle
 * sessions.
 *
 * @module
 */

/** Default number of messages a mailbox holds before senders wait: deep
 * enough to absorb a burst, shallow enough that a stuck actor pushes back on
 * its senders within a fraction of a second. */
export const DEFAULT_MAILBOX_CAPACITY = 256;

/** Compact the backing array once this many slots at its head are spent:
 * small enough to keep memory tight, large enough to amortise the copy. */
const COMPACT_AFTER = 64;

/** Thrown by `send` / `trySend` when the mailbox no longer accepts messages. */
export class MailboxClosedError extends Error {
  constructor() {
    super("Cannot send to a closed mailbox");
    this.name = "MailboxClosedError";
  }
}

/** Options for {@linkcode Mailbox}. */
export interface MailboxOptions {
  /** How many messages may wait before `send` waits and `trySend` fails. */
  capacity?: number;
}

/** A receiver waiting for a message. `wake` is called inside the sender's
 * call, so it must defer its work (a promise's resolve does). */
export interface Waiter {
  wake(): void;
}

interface WaitingSender<M> {
  message: M;
  resolve: () => void;
  reject: (error: Error) => void;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * A bounded FIFO mailbox. Messages must not be `undefined`.
 *
 * @example
 * ```ts
 * import { Mailbox } from "./mailbox.ts";
 * const box = new Mailbox<string>({ capacity: 2 });
 * box.trySend("a");
 * await box.send("b");
 * box.close();
 * for await (const message of box) console.log(message); // a, b
 * ```
 */
export class Mailbox<M> implements AsyncIterable<M> {
  readonly #capacity: number;
  /** Absent while empty: an idle mailbox holds no array. */
  #items: M[] | undefined;
  #head = 0;
  #closed = false;
  /** Made when a sender first has to wait: most mailboxes never fill. */
  #senders: WaitingSender<M>[] | undefined;
  #waiter: Waiter | undefined;

  constructor(options: MailboxOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_MAILBOX_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `Cannot create a mailbox with capacity ${capacity}: it must be a positive integer`,
      );
    }
    this.#capacity = capacity;
  }

  /** Maximum number of queued messages. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Messages queued now (not counting senders still waiting for room). */
  get size(): number {
    return (this.#items?.length ?? 0) - this.#head;
  }

  /** Whether `close()` has been called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Queues `message` if there is room; never waits. Returns `false` when
   * full (or when senders are already waiting, to keep their order). */
  trySend(message: M): boolean {
    if (this.#closed) throw new MailboxClosedError();
    if (this.size >= this.#capacity || this.#senders?.length) return false;
    this.#push(message);
    return true;
  }

  /** Queues `message`, waiting for room when full. Rejects with
   * {@linkcode MailboxClosedError} if the mailbox is or becomes closed. */
  send(message: M): Promise<void> {
    if (this.#closed) return Promise.reject(new MailboxClosedError());
    if (this.size < this.#capacity && !this.#senders?.length) {
      this.#push(message);
      return RESOLVED;
    }
    return new Promise<void>((resolve, reject) => {
      (this.#senders ??= []).push({ message, resolve, reject });
    });
  }

  /** Takes the oldest message, or `undefined` when empty. */
  tryReceive(): M | undefined {
    const items = this.#items;
    if (items === undefined) return undefined;
    const message = items[this.#head] as M;
    (items as (M | undefined)[])[this.#head] = undefined;
    this.#head++;
    if (this.#head === items.length) {
      this.#items = undefined;
      this.#head = 0;
    } else if (this.#head >= COMPACT_AFTER && this.#head * 2 >= items.length) {
      this.#items = items.slice(this.#head);
      this.#head = 0;
    }
    const waiting = this.#senders?.shift();
    if (waiting) {
      this.#push(waiting.message);
      waiting.resolve();
    }
    return message;
  }

  /** Resolves when a message may be available, the mailbox closes, or
   * `notify()` is called. Only one receiver may wait at a time. */
  wait(): Promise<void> {
    if (this.size > 0 || this.#closed) return RESOLVED;
    return new Promise<void>((resolve) => this.onWake({ wake: resolve }));
  }

  /** Wakes `waiter` once, at the next message, close or `notify()`: a
   * parked receiver then holds no promise. Replaces any earlier one. */
  onWake(waiter: Waiter): void {
    this.#waiter = waiter;
  }

  /** Wakes a receiver blocked in `wait()` without a message: lets the owner
   * react to events that do not travel through the queue (stop requests). */
  notify(): void {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.wake();
  }

  /** Stops accepting messages. Queued messages can still be received; senders
   * still waiting for room are rejected. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const senders = this.#senders ?? [];
    this.#senders = undefined;
    for (const sender of senders) sender.reject(new MailboxClosedError());
    this.notify();
  }

  /** Yields messages until the mailbox is closed and empty. */
  async *[Symbol.asyncIterator](): AsyncIterator<M> {
    while (true) {
      const message = this.tryReceive();
      if (message !== undefined) {
        yield message;
        continue;
      }
      if (this.#closed) return;
      await this.wait();
    }
  }

  #push(message: M): void {
    (this.#items ??= []).push(message);
    this.notify();
  }
}
