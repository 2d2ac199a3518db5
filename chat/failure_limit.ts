/**
 * Counting failed attempts per key, to slow down guessing without a lock
 * anyone could keep shut: see `FailureLimit`.
 *
 * @module
 */

/**
 * Failed attempts per key (an account, an address): a bucket of `burst`
 * that refills one attempt every `refillMs`. Checked before any password is
 * hashed, so a guessing script costs a map lookup, not a key derivation.
 * Holds at most `maxKeys` keys (the fullest buckets are the ones to forget).
 *
 * @example
 * ```ts
 * import { FailureLimit } from "./failure_limit.ts";
 * const limit = new FailureLimit({ burst: 1, refillMs: 1_000 });
 * limit.fail("alice", 0);
 * limit.retryIn("alice", 0); // 1000
 * ```
 */
export class FailureLimit {
  readonly #burst: number;
  readonly #refillMs: number;
  readonly #maxKeys: number;
  /** key → time at which the bucket is full again. */
  readonly #fullAt = new Map<string, number>();

  constructor(options: { burst: number; refillMs: number; maxKeys?: number }) {
    this.#burst = options.burst;
    this.#refillMs = options.refillMs;
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  /** How long `key` must wait before trying again, in ms; 0 if it may. */
  retryIn(key: string, now: number): number {
    const fullAt = this.#fullAt.get(key);
    if (fullAt === undefined) return 0;
    // Empty means fullAt is burst refills away; one token is one refill.
    const wait = fullAt - now - (this.#burst - 1) * this.#refillMs;
    return Math.max(0, Math.ceil(wait));
  }

  /** Records a failed attempt by `key` at `now`. */
  fail(key: string, now: number): void {
    const fullAt = Math.max(now, this.#fullAt.get(key) ?? now) + this.#refillMs;
    this.#fullAt.delete(key); // re-inserted last: the map stays in fullAt order, nearly
    this.#fullAt.set(key, fullAt);
    if (this.#fullAt.size > this.#maxKeys) {
      const oldest = this.#fullAt.keys().next().value as string;
      this.#fullAt.delete(oldest);
    }
  }
}
