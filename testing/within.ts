/**
 * A deadline for tests that wait for an event: a missing event must fail
 * the test with a sentence, not hang it.
 *
 * @module
 */

/**
 * Resolves like `promise`, or rejects with `what` after `ms`.
 *
 * @example
 * ```ts
 * import { within } from "./within.ts";
 * await within(Promise.resolve(1), 1_000, "never came"); // 1
 * ```
 */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
