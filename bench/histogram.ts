/**
 * A latency histogram with 1% relative precision and constant memory, so a
 * benchmark can record millions of samples without storing them.
 *
 * @module
 */

/** Bucket growth factor: 1% steps keep percentiles within 1% of truth. */
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** Buckets up to ~100 s in microseconds (1.01^1900 ≈ 1.6e8). */
const BUCKETS = 1900;

/**
 * Records non-negative values (microseconds) and answers percentiles.
 *
 * @example
 * ```ts
 * import { Histogram } from "./histogram.ts";
 * const h = new Histogram();
 * for (const v of [100, 200, 300]) h.record(v);
 * h.percentile(50); // ≈ 200
 * ```
 */
export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #total = 0;
  #max = 0;

  /** Number of recorded values. */
  get count(): number {
    return this.#total;
  }

  /** Largest recorded value. */
  get max(): number {
    return this.#max;
  }

  /** Records one value. */
  record(value: number): void {
    const v = value < 1 ? 1 : value;
    const index = Math.min(BUCKETS - 1, Math.round(Math.log(v) / LOG_GROWTH));
    this.#counts[index]! += 1;
    this.#total++;
    if (value > this.#max) this.#max = value;
  }

  /** The value below which `p` percent of the recorded values fall. */
  percentile(p: number): number {
    if (this.#total === 0) return 0;
    const rank = Math.ceil((p / 100) * this.#total);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(GROWTH ** i, this.#max);
    }
    return this.#max;
  }
}
