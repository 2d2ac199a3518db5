/**
 * Outside programs some tests need (redis-server, Chromium, openssl): found
 * and checked once, so a test that cannot run is skipped with a visible
 * reason on a machine that lacks the program (the README's two commands
 * work with only Node and npm), and fails loudly where it is required.
 *
 * CI sets `MARQUEE_REQUIRE_<NAME>=1` for each: there a missing program, or
 * one that is installed but does not run, is an error, never a skip.
 *
 * @module
 */

/** How to check one program. */
export interface ToolCheck {
  /** Short name, used in `MARQUEE_REQUIRE_<NAME>` (upper-cased). */
  name: string;
  /** The command and arguments that must exit 0 (a version query). */
  command: string;
  args: string[];
  /** What is skipped without it, for the message. */
  needed: string;
}

/**
 * Whether the tool runs here. Throws if it is required (the environment
 * variable is "1") and missing or broken; otherwise prints why the tests
 * that need it are skipped.
 *
 * @example
 * ```ts
 * import { haveTool } from "./tools.ts";
 * const HAVE_OPENSSL = haveTool({
 *   name: "openssl", command: "openssl", args: ["version"], needed: "the TLS tests",
 * });
 * ```
 */
export function haveTool(check: ToolCheck): boolean {
  const required = Deno.env.get(`MARQUEE_REQUIRE_${check.name.toUpperCase()}`) === "1";
  const problem = probe(check);
  if (problem === undefined) return true;
  const message = `Cannot run ${check.needed}: ${problem}`;
  if (required) throw new Error(message);
  console.error(`skipping: ${message}`);
  return false;
}

function probe(check: ToolCheck): string | undefined {
  try {
    const result = new Deno.Command(check.command, {
      args: check.args,
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return result.success ? undefined : `${check.command} is installed but exited ${result.code}`;
  } catch {
    return `${check.command} is not installed`;
  }
}
