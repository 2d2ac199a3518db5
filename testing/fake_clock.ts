/**
 * A clock for tests: time moves only when the test says so, and timers set
 * on it fire when it does, in the order they fall due. Code that takes the
 * time or its timers as a port (the actor runtime's `runLater` and
 * `runInterval`, presence, flood control, sessions' idle checks) is tested
 * without sleeping.
 *
 * @module
 */

import type { Clock, TimerHandle } from "../actors/mod.ts";

interface Timer {
  due: number;
  /** 0 for a one-shot timer. */
  every: number;
  fn: () => void;
}

/**
 * Milliseconds that start at `start` and move by `advance`.
 *
 * @example
 * ```ts
 * import { FakeClock } from "./fake_clock.ts";
 * const clock = new FakeClock();
 * let fired = 0;
 * clock.setTimeout(() => fired++, 500);
 * clock.advance(1_000);
 * clock.now(); // 1000, and fired === 1
 * ```
 */
export class FakeClock implements Clock {
  #now: number;
  #last = 0;
  readonly #timers = new Map<number, Timer>();

  constructor(start = 0) {
    this.#now = start;
  }

  /** The current fake time, in ms; pass `clock.now` where a clock is taken. */
  readonly now = (): number => this.#now;

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, 0);
  }

  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, Math.max(1, ms));
  }

  clear(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** How many timers are set. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the
   * way, at its own time, earliest first. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (let next = this.#next(end); next !== undefined; next = this.#next(end)) {
      const [id, timer] = next;
      this.#now = Math.max(this.#now, timer.due);
      if (timer.every === 0) this.#timers.delete(id);
      else timer.due += timer.every;
      timer.fn();
    }
    this.#now = end;
  }

  #add(fn: () => void, ms: number, every: number): number {
    const id = ++this.#last;
    this.#timers.set(id, { due: this.#now + Math.max(0, ms), every, fn });
    return id;
  }

  /** The earliest timer due by `end`. */
  #next(end: number): [number, Timer] | undefined {
    let first: [number, Timer] | undefined;
    for (const entry of this.#timers) {
      if (entry[1].due <= end && (first === undefined || entry[1].due < first[1].due)) {
        first = entry;
      }
    }
    return first;
  }
}
