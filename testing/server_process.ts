/**
 * Runs `main.ts` as a child process, the way users (and the compiled binary)
 * run it, with the same permission flags as `deno task chat`. Used by tests
 * that need exit codes, signals, or the server's own memory figures.
 *
 * @module
 */

import { TextLineStream } from "./text_lines.ts";

/** The runtime flags of `deno task chat` (permissions and V8 settings), so
 * tests run the server exactly as the task and the compiled binary do. The
 * task runs in the repository, and may read its own modules there (each
 * worker of `--workers` loads them); a test server runs in a directory of
 * its own, so those paths are made absolute. */
export const CHAT_RUN_FLAGS: readonly string[] = JSON.parse(
  Deno.readTextFileSync(new URL("../deno.json", import.meta.url)),
).tasks.chat.split(" ").filter((word: string) =>
  word.startsWith("--allow-") || word.startsWith("--v8-flags=") || word.startsWith("--unstable-")
).map((word: string) =>
  word.startsWith("--allow-read=")
    ? word.replace(
      /(?<=[=,])\.\/(actors|app|chat|cli|cluster|irc|net|store)\b/g,
      (path) => new URL(`../${path}`, import.meta.url).pathname.replace(/\/$/, ""),
    )
    : word
);

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** A fresh working directory per server process: its `./marquee-data`
 * (the only place the task's permissions let it store history) is its
 * own, and nothing lands in the repository. */
function freshWorkDir(): string | undefined {
  try {
    return Deno.makeTempDirSync({ prefix: "marquee-test-" });
  } catch (error) {
    // The bench may not write: its servers run with history off, so they
    // need no directory of their own.
    if (error instanceof Deno.errors.NotCapable) return undefined;
    throw error;
  }
}

/** History is off unless a test asks for it (`--history` or `--data-dir`):
 * most tests assert exact lines after a join, which replays would change. */
function withHistoryDefault(args: string[]): string[] {
  const asked = args.some((a) => a === "--history" || a === "--data-dir");
  return asked ? args : [...args, "--history", "off"];
}

/** The tests' Redis keeps nothing on disk (by design: throwaway), so a
 * linked test server is told that is fine, unless the test checks it. */
function withEphemeralRedis(args: string[], checked: boolean): string[] {
  const linked = args.includes("--redis") && !args.includes("--redis-ephemeral");
  return linked && !checked ? [...args, "--redis-ephemeral"] : args;
}

/** A running server process. */
export interface ServerProcess {
  pid: number;
  port: number;
  /** Stdout lines so far. */
  stdout: string[];
  /** Sends `signal` and resolves with the exit status. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
  /** Sends `signal` and resolves with the exit status, or kills the process
   * and rejects if it has not exited within `ms`: a hang fails the test. */
  stopWithin(ms: number, signal?: Deno.Signal): Promise<Deno.CommandStatus>;
  /** Resolves when a stdout line matches (or rejects after `ms`). */
  waitForLog(match: (line: string) => boolean, ms?: number): Promise<string>;
}

/** The message of a log line, whether text or `--log-format json`. */
export function messageOf(line: string): string {
  if (!line.startsWith("{")) return line;
  try {
    return String(JSON.parse(line).msg ?? "");
  } catch {
    return line;
  }
}

/** Runs main.ts with `args` (and `--port 0` unless a port is given). */
export async function startServerProcess(
  args: string[] = [],
  options: { fdLimit?: number; cwd?: string; redisChecked?: boolean } = {},
): Promise<ServerProcess> {
  const cwd = options.cwd ?? freshWorkDir();
  const child = spawnMain(
    withEphemeralRedis(args, options.redisChecked ?? false),
    cwd,
    options.fdLimit,
  );
  const output = new Output(child);
  let status: Promise<Deno.CommandStatus> | undefined;
  const stop = (signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> => {
    if (status === undefined) {
      try {
        child.kill(signal);
      } catch {
        // Already exited.
      }
      status = output.ended().then((s) => {
        // A directory made here is removed here; one the test passed is its own.
        if (options.cwd === undefined && cwd !== undefined) {
          Deno.removeSync(cwd, { recursive: true });
        }
        return s;
      });
    }
    return status;
  };
  const waitForLog = (match: (line: string) => boolean, ms?: number) => output.waitFor(match, ms);
  try {
    const started = messageOf(
      await waitForLog((l) => messageOf(l).startsWith("Chat server started on ")),
    );
    const port = Number(/:(\d+)$/.exec(started)?.[1]);
    const stopWithin = async (ms: number, signal: Deno.Signal = "SIGTERM") => {
      const outcome = await raceTimer(stop(signal), ms);
      if (outcome !== "late") return outcome;
      child.kill("SIGKILL");
      await status;
      throw new Error(`The server was still running ${ms} ms after ${signal}`);
    };
    return { pid: child.pid, port, stdout: output.lines, stop, stopWithin, waitForLog };
  } catch (error) {
    await stop("SIGKILL");
    throw new Error(`Server did not start: ${await output.stderr}\n${error}`);
  }
}

/** Spawns main.ts in `cwd`; with a descriptor limit, a shell lowers it and
 * then becomes the server. */
function spawnMain(args: string[], cwd: string | undefined, fdLimit?: number): Deno.ChildProcess {
  const finalArgs = withHistoryDefault(args.includes("--port") ? args : ["--port", "0", ...args]);
  const denoArgs = ["run", ...CHAT_RUN_FLAGS, MAIN, ...finalArgs];
  const [command, commandArgs] = fdLimit === undefined
    ? [Deno.execPath(), denoArgs]
    : ["sh", ["-c", `ulimit -n ${fdLimit} && exec "$0" "$@"`, Deno.execPath(), ...denoArgs]];
  return new Deno.Command(command, {
    args: commandArgs,
    cwd,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
}

/** `promise`, or "late" once `ms` have passed. */
async function raceTimer<T>(promise: Promise<T>, ms: number): Promise<T | "late"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A child's stdout as lines, read as they come, and its stderr. */
class Output {
  readonly lines: string[] = [];
  readonly stderr: Promise<string>;
  readonly #child: Deno.ChildProcess;
  readonly #pumping: Promise<void>;
  #notify: (() => void) | undefined;
  #exited = false;

  constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#pumping = this.#pump();
    this.stderr = new Response(child.stderr).text();
    child.status.then(() => {
      this.#exited = true;
      this.#notify?.();
    });
  }

  async #pump(): Promise<void> {
    const lines = this.#child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
      new TextLineStream(),
    );
    for await (const line of lines) {
      this.lines.push(line);
      this.#notify?.();
    }
  }

  /** The exit status, once stdout and stderr are read to their end. */
  ended(): Promise<Deno.CommandStatus> {
    return Promise.all([this.#child.status, this.#pumping, this.stderr]).then(([s]) => s);
  }

  /** Resolves with the first line that matches; rejects after `ms`, or
   * when the process has exited without printing one. */
  async waitFor(match: (line: string) => boolean, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    let seen = 0;
    while (true) {
      for (; seen < this.lines.length; seen++) {
        if (match(this.lines[seen] as string)) return this.lines[seen] as string;
      }
      const left = deadline - Date.now();
      if (left <= 0 || this.#exited) {
        throw new Error(`Cannot find log line; got:\n${this.lines.join("\n")}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 50));
        this.#notify = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#notify = undefined;
    }
  }
}

/** What a run of the server that ended by itself printed, and its code. */
export interface ExitedRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs main.ts with `args` the way `deno task chat` does, for runs that
 * should end by themselves (bad flags, startup errors); killed after
 * `timeoutMs`, so a hang fails the test instead of stalling it. */
export async function runToExit(
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ExitedRun> {
  const cwd = freshWorkDir();
  try {
    return await runToExitIn(cwd, args, options);
  } finally {
    if (cwd !== undefined) Deno.removeSync(cwd, { recursive: true });
  }
}

/** {@linkcode runToExit} in the working directory `cwd`. */
export async function runToExitIn(
  cwd: string | undefined,
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ExitedRun> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...CHAT_RUN_FLAGS, MAIN, ...args],
    cwd,
    env: options.env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // SIGKILL, not SIGTERM: a hung server may not answer SIGTERM.
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 20_000);
  const output = await child.output();
  clearTimeout(timer);
  if (output.signal === "SIGKILL") {
    throw new Error(`The server had not exited after ${args.join(" ")}`);
  }
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}
