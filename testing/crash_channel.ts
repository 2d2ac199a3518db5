/**
 * The broadcast channel a test posts a worker's number on (1 for the first)
 * to make `crashing_worker.ts` in that worker throw. Its own module, so a
 * test can name it without loading the worker's code into the test.
 *
 * @module
 */

export const CRASH_CHANNEL = "marquee-test-crash";
