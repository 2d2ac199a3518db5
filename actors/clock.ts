/**
 * Time as a port: the current time and timers, so that an actor's timers
 * (and anything else that waits) run on a fake clock in tests, fired when
 * the test advances it, with no real wait.
 *
 * @module
 */

/** A timer's handle, to cancel it. */
export type TimerHandle = ReturnType<typeof setTimeout> | number;

/** The time, and timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms`. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Runs `fn` every `ms`. */
  setInterval(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer of either kind. */
  clear(handle: TimerHandle): void;
}

/**
 * The machine's clock and timers.
 *
 * @example
 * ```ts
 * import { REAL_CLOCK } from "./clock.ts";
 * const handle = REAL_CLOCK.setTimeout(() => console.log("later"), 10);
 * REAL_CLOCK.clear(handle);
 * ```
 */
export const REAL_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  setInterval: (fn, ms) => setInterval(fn, ms),
  // clearTimeout and clearInterval share one table of ids in Deno.
  clear: (handle) => clearTimeout(handle),
};
