/**
 * IRC's flood control, "fakelag": a client that sends faster than the
 * allowed rate has its lines handled later, not dropped. Each line moves
 * the client's own clock forward by one line's cost; once that clock is
 * more than a burst ahead of real time, the next line waits for the
 * difference (and while it waits, its socket is not read: the client
 * slows itself down, and nothing it sent is lost).
 *
 * @module
 */

/**
 * The wait before each line; see the module doc.
 *
 * @example
 * ```ts
 * import { FakeLag } from "./fakelag.ts";
 * const lag = new FakeLag({ rate: 1, burst: 2 });
 * [lag.delay(0), lag.delay(0), lag.delay(0)]; // [0, 0, 1000]
 * ```
 */
export class FakeLag {
  readonly #costMs: number;
  readonly #aheadMs: number;
  /** The client's clock: when its lines so far would have been on time. */
  #clock = -Infinity;

  /** `rate` lines a second (0: no limit), `burst` of them at once. */
  constructor(options: { rate: number; burst: number }) {
    this.#costMs = options.rate > 0 ? 1000 / options.rate : 0;
    this.#aheadMs = this.#costMs * Math.max(1, options.burst);
  }

  /** How long the line arriving at `now` waits before it is handled, ms. */
  delay(now: number): number {
    if (this.#costMs === 0) return 0;
    this.#clock = Math.max(this.#clock, now) + this.#costMs;
    return Math.max(0, this.#clock - now - this.#aheadMs);
  }
}
