/**
 * Logging: one call shape for the whole server, two formats.
 *
 * `text` prints the message alone, exactly the lines docs/protocol.md shows
 * (`[server] alice left`). `json` prints one object per line with a
 * timestamp, a level, the message, and the structured fields the call site
 * passed (`event`, `user`, `peer`, `reason`), for log collectors. Levels
 * below the chosen minimum are dropped, except the server's own start and
 * stop lines (`event` `start` or `stop`): they say where it listens, which
 * `--port 0` makes impossible to learn otherwise.
 *
 * @module
 */

import type { Log, LogFormat, LogLevel } from "../chat/ports.ts";

export type { Log, LogFields, LogFormat, LogLevel } from "../chat/ports.ts";

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Options for {@linkcode createLog}. */
export interface LogOptions {
  format?: LogFormat;
  /** Lines below this level are dropped (default info). */
  level?: LogLevel;
  /** Where lines go (default console.log). */
  write?: (line: string) => void;
  /** The clock, for tests. */
  now?: () => Date;
}

/**
 * Makes a {@linkcode Log}.
 *
 * @example
 * ```ts
 * import { createLog } from "./log.ts";
 * const log = createLog({ format: "json" });
 * log("[server] alice left", { event: "leave", user: "alice", reason: "quit" });
 * // {"ts":"2026-11-26T12:00:00.000Z","level":"info","msg":"[server] alice left","event":"leave",...}
 * ```
 */
export function createLog(options: LogOptions = {}): Log {
  const write = options.write ?? console.log;
  const min = RANK[options.level ?? "info"];
  const now = options.now ?? (() => new Date());
  if (options.format === "json") {
    return (message, fields = {}) => {
      const level = fields.level ?? "info";
      if (RANK[level] < min && !isLifecycle(fields.event)) return;
      write(JSON.stringify({ ts: now().toISOString(), ...fields, level, msg: message }));
    };
  }
  return (message, fields) => {
    if (RANK[fields?.level ?? "info"] < min && !isLifecycle(fields?.event)) return;
    write(message);
  };
}

function isLifecycle(event: string | undefined): boolean {
  return event === "start" || event === "stop";
}
