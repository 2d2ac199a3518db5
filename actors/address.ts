/**
 * The handle other code uses to talk to an actor: a typed, send-only view
 * of its mailbox.
 *
 * An `Address` is cheap to copy around and safe to keep after the actor
 * stopped: sending to a stopped actor fails with a clear error instead of
 * silently queuing into memory nobody will read.
 *
 * @module
 */

import { Mailbox } from "./mailbox.ts";

/** How long `ask` waits for a reply by default: long enough for a busy actor,
 * short enough that a lost reply surfaces as an error, not a hang. */
export const DEFAULT_ASK_TIMEOUT_MS = 5_000;

/** Thrown by `ask` when no reply came in time. */
export class AskTimeoutError extends Error {
  constructor(ms: number) {
    super(`Cannot get a reply: none came within ${ms} ms`);
    this.name = "AskTimeoutError";
  }
}

/** Options for {@linkcode Address.ask}. */
export interface AskOptions {
  /** Milliseconds to wait for the reply before rejecting. */
  timeoutMs?: number;
}

/**
 * Send-only handle to an actor's mailbox.
 *
 * @example
 * ```ts
 * import { Mailbox } from "./mailbox.ts";
 * import { Address } from "./address.ts";
 * type Msg = { type: "get"; reply: (n: number) => void };
 * const address = new Address<Msg>(new Mailbox<Msg>());
 * const pending = address.ask<number>((reply) => ({ type: "get", reply }));
 * ```
 */
export class Address<M> {
  readonly #mailbox: Mailbox<M>;

  constructor(mailbox: Mailbox<M>) {
    this.#mailbox = mailbox;
  }

  /** Whether the actor behind this address no longer takes messages. */
  get closed(): boolean {
    return this.#mailbox.closed;
  }

  /** Delivers `message`, waiting for room in the mailbox. */
  send(message: M): Promise<void> {
    return this.#mailbox.send(message);
  }

  /** Delivers `message` if there is room now; returns `false` otherwise. */
  trySend(message: M): boolean {
    return this.#mailbox.trySend(message);
  }

  /**
   * Sends the message built by `build` and resolves with the value the actor
   * passes to `reply`. Rejects on timeout or if the mailbox is closed.
   */
  ask<R>(build: (reply: (value: R) => void) => M, options: AskOptions = {}): Promise<R> {
    const ms = options.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AskTimeoutError(ms)), ms);
      const reply = (value: R): void => {
        clearTimeout(timer);
        resolve(value);
      };
      this.#mailbox.send(build(reply)).catch((error: unknown) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }
}
