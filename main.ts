/**
 * Entry point: flags, then listeners, then the chat until a signal, then
 * the exit code. Everything else lives in `cli/` and `app/`.
 *
 * Exit codes: 0 after a graceful shutdown; 2 for a bad flag, an address
 * that cannot be listened on, or a Redis that cannot be reached (one line
 * on stderr, never a stack trace).
 *
 * @module
 */

import { createLog } from "./app/log.ts";
import { runServer } from "./app/run.ts";
import { runWorkers } from "./app/workers.ts";
import { ConfigError, parseConfig, usage } from "./cli/flags.ts";
import { bindListeners, readOperators, readRedisCa } from "./cli/listen.ts";
import { firstLine } from "./net/mod.ts";

/** Runs the server with `args`; resolves with the process exit code. */
export async function main(args: string[]): Promise<number> {
  try {
    const config = parseConfig(args, (name) => Deno.env.get(name));
    if (config.help) {
      console.log(usage());
      return 0;
    }
    const log = createLog({ format: config.logFormat, level: config.logLevel });
    const redisCa = await readRedisCa(config);
    const operators = await readOperators(config);
    if (config.workers > 1) await runWorkers(config, log, { redisCa, operators });
    else await runServer(config, await bindListeners(config), log, { redisCa, operators });
    return 0;
  } catch (error) {
    // Bad flags, taken ports, unreachable Redis: the user's to fix, in one line.
    console.error(`marquee: ${error instanceof ConfigError ? error.message : firstLine(error)}`);
    return 2;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
