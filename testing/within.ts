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

/**
 * Polls `check` every 5 ms until it holds, for state that announces no
 * event (a counter, the kernel's socket table); rejects with `what` after `ms`.
 *
 * @example
 * ```ts
 * import { pollUntil } from "./within.ts";
 * let n = 0;
 * await pollUntil("n reached 3", () => ++n >= 3);
 * ```
 */
export async function pollUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 5_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Cannot wait any longer: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
