/**
 * Flood control: a token bucket per session, refilled lazily from the clock
 * on each line, so an idle client costs no timer.
 *
 * @module
 */

/** Lines per second a client may send, sustained, by default: faster than
 * anyone types or pastes a few lines, slower than a script flooding a room. */
export const DEFAULT_FLOOD_RATE = 10;
/** Lines a client may send at once by default: a pasted paragraph fits. */
export const DEFAULT_FLOOD_BURST = 20;
/** How long a client may keep exceeding the rate before it is disconnected:
 * a burst never trips this, a flooding script does. */
export const DEFAULT_FLOOD_KICK_MS = 30_000;
/** At most one "slow down" notice per this many ms, so the notice is not a
 * flood of its own. */
const NOTICE_INTERVAL_MS = 1_000;

/** The verdict on one line. */
export type FloodVerdict = "ok" | "drop" | "drop_and_warn" | "kick";

/** Options for {@linkcode TokenBucket}. */
export interface TokenBucketOptions {
  /** Tokens per second; 0 switches flood control off. */
  rate: number;
  /** Bucket size. */
  burst: number;
  /** Continuous over-rate time that ends in a disconnect. */
  kickAfterMs?: number;
}

/**
 * Token bucket with a warning throttle and a disconnect for sustained abuse.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./rate_limit.ts";
 * const bucket = new TokenBucket({ rate: 1, burst: 2 });
 * bucket.take(0); // "ok"
 * bucket.take(0); // "ok"
 * bucket.take(0); // "drop_and_warn"
 * ```
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #kickAfterMs: number;
  #tokens: number;
  #last = -Infinity;
  #lastNotice = -Infinity;
  /** When the current run of dropped lines began, or undefined if none. */
  #abuseSince: number | undefined;

  constructor(options: TokenBucketOptions) {
    this.#rate = options.rate;
    this.#burst = options.burst;
    this.#kickAfterMs = options.kickAfterMs ?? DEFAULT_FLOOD_KICK_MS;
    this.#tokens = options.burst;
  }

  /** Charges one line at time `now` (ms) and says what to do with it. */
  take(now: number): FloodVerdict {
    if (this.#rate <= 0) return "ok";
    if (this.#last !== -Infinity) {
      this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.#rate) / 1000);
    }
    this.#last = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      // A client back under its rate with a full bucket has stopped abusing.
      if (this.#tokens >= this.#burst - 1) this.#abuseSince = undefined;
      return "ok";
    }
    this.#abuseSince ??= now;
    if (now - this.#abuseSince >= this.#kickAfterMs) return "kick";
    if (now - this.#lastNotice >= NOTICE_INTERVAL_MS) {
      this.#lastNotice = now;
      return "drop_and_warn";
    }
    return "drop";
  }
}
