/**
 * A clock for tests: time moves only when the test says so, so code that
 * takes the time as a parameter (presence, flood control, event-drop
 * logging) is tested without sleeping.
 *
 * @module
 */

/**
 * Milliseconds that start at `start` and move by `advance`.
 *
 * @example
 * ```ts
 * import { FakeClock } from "./fake_clock.ts";
 * const clock = new FakeClock();
 * clock.advance(1_000);
 * clock.now(); // 1000
 * ```
 */
export class FakeClock {
  #now: number;

  constructor(start = 0) {
    this.#now = start;
  }

  /** The current fake time, in ms; pass `clock.now` where a clock is taken. */
  readonly now = (): number => this.#now;

  /** Moves time forward. */
  advance(ms: number): void {
    this.#now += ms;
  }
}
