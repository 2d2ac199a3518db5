/**
 * The data directory of a lone server: made if missing, and held by one
 * process at a time (an advisory lock on its `marquee.lock`, let go when
 * the process ends, even by `kill -9`). Errors are one-line
 * `StartupError`s that say what to do.
 *
 * @module
 */

import { firstLine, StartupError } from "../net/mod.ts";

/**
 * Takes the data directory for this process (an exclusive lock on its
 * `marquee.lock`, held until `close`), or throws a one-line `StartupError`:
 * two servers writing one directory's files would each keep a different
 * copy of accounts and bans in memory. `instead`: the flag that needs no
 * directory, for the error.
 */
export function lockDataDir(
  dataDir: string | undefined,
  instead: string,
): Deno.FsFile | undefined {
  if (dataDir === undefined) return undefined;
  makeDataDir(dataDir, instead);
  const file = Deno.openSync(`${dataDir}/marquee.lock`, { create: true, write: true });
  if (file.tryLockSync(true)) return file;
  file.close();
  throw new StartupError(
    `Cannot use the data directory ${dataDir}: another Marquee server is using it`,
  );
}

/** Creates the data directory, or throws a one-line `StartupError` saying
 * what to do (`instead`: the flag that needs no directory). */
export function makeDataDir(dataDir: string, instead: string): void {
  try {
    Deno.mkdirSync(dataDir, { recursive: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) {
      throw new StartupError(
        `Cannot use the data directory ${dataDir}: run with --allow-read=${dataDir} --allow-write=${dataDir}, or ${instead}`,
      );
    }
    throw new StartupError(`Cannot create the data directory ${dataDir}: ${firstLine(error)}`);
  }
}
