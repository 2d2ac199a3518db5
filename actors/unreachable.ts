/**
 * The end of every exhaustive `switch` over a message union.
 *
 * Calling `unreachable(message)` in the `default` branch makes a new message
 * type a compile error wherever it is not handled, instead of a message that
 * is silently ignored at run time.
 *
 * @module
 */

/**
 * Marks a branch the type checker proves cannot run; throws if it does
 * (a value from outside the type system, such as a cast).
 *
 * @example
 * ```ts
 * import { unreachable } from "./unreachable.ts";
 * type Msg = { type: "a" } | { type: "b" };
 * function handle(msg: Msg): string {
 *   switch (msg.type) {
 *     case "a": return "A";
 *     case "b": return "B";
 *     default: return unreachable(msg);
 *   }
 * }
 * ```
 */
export function unreachable(value: never): never {
  const kind = typeof value === "object" && value !== null && "type" in value
    ? String((value as { type: unknown }).type)
    : String(value);
  throw new Error(`Cannot handle an unknown case: ${kind}`);
}
