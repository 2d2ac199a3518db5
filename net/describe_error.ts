/**
 * One way to turn a caught value into the text of a log or error line.
 *
 * @module
 */

/**
 * The message of `error` if it is an `Error`, else its string form.
 *
 * @example
 * ```ts
 * import { describeError } from "./describe_error.ts";
 * describeError(new Error("Connection refused")); // "Connection refused"
 * ```
 */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Why a listener could not be opened, in words a user can act on.
 *
 * @example
 * ```ts
 * import { describeListenError } from "./describe_error.ts";
 * describeListenError(new Deno.errors.AddrInUse("os error 98")); // "address already in use"
 * ```
 */
export function describeListenError(error: unknown): string {
  if (error instanceof Deno.errors.AddrInUse) return "address already in use";
  if (error instanceof Deno.errors.AddrNotAvailable) return "address not available on this machine";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  return firstLine(error);
}

/** The first line of an error's message: enough for a one-line report. */
export function firstLine(error: unknown): string {
  return describeError(error).split("\n")[0] as string;
}

/** A failure to start that deserves one line on stderr and exit code 2,
 * never a stack trace: a taken port, an unreachable Redis. */
export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StartupError";
  }
}
