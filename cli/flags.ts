/**
 * Command-line flags and their environment variables, in one typed table.
 *
 * Every flag `--some-flag` can also be set as `CHAT_SOME_FLAG`; a flag wins
 * over the environment. Each entry carries its own parser, so a value is
 * checked and typed in one place, and `--help` is generated from the same
 * table. An invalid value raises a `ConfigError` whose message names where
 * the value came from (the flag, or the environment variable) and is the
 * one line `main.ts` prints before exiting with code 2: a bad flag is the
 * user's mistake and deserves a sentence, not a stack trace.
 *
 * Pure: the arguments and the environment are parameters.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type ChatLimits, DEFAULT_LIMITS } from "../chat/limits.ts";
import type { LogFormat, LogLevel } from "../chat/ports.ts";
import { FLAG_SPECS, type FlagName, FLAGS, type FlagSpec, Invalid } from "./flag_table.ts";

export { FLAG_SPECS, type FlagName, FLAGS, type FlagSpec } from "./flag_table.ts";

/** A flag the user got wrong; the message is shown as is. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** An address to listen on. */
export interface ListenAddress {
  hostname: string;
  port: number;
}

/** Everything `main.ts` needs to start the server. */
export interface Config {
  host: string;
  port: number;
  limits: ChatLimits;
  /** Redis URL linking this server to others, or "" for none. */
  redis: string;
  /** A PEM file of certificates to trust for `rediss://`, or "". */
  redisCa: string;
  /** Keep accounts in a Redis without persistence (`--redis-ephemeral`). */
  redisEphemeral: boolean;
  /** Whether to share the port with other processes (SO_REUSEPORT). */
  reusePort: boolean;
  /** Chat workers (threads) in this process, sharing its ports. */
  workers: number;
  /** TLS: PEM files and the port to serve them on (undefined = no TLS). */
  tls?: { cert: string; key: string; port: number };
  /** IRC's ports: plain, and TLS (with the TLS files above), if served. */
  irc: { port?: number; tlsPort?: number; name: string };
  /** The metrics endpoint's address, if served. */
  metrics?: ListenAddress;
  /** The browser client's address, if served. */
  web?: ListenAddress;
  /** Origins whose pages may open /ws besides the page's own. */
  allowedOrigins: string[];
  /** Names the browser page is reached by (`--public-host`). */
  publicHosts: string[];
  /** Where the databases are kept. */
  dataDir: string;
  /** Whether accounts and rooms are kept (`--accounts`). */
  accounts: boolean;
  /** The server operators file, or "". */
  operators: string;
  /** Room history (undefined: `--history off`, nothing stored). */
  history?: { dataDir: string; onJoin: number; keep: number; days: number };
  logFormat: LogFormat;
  logLevel: LogLevel;
  help: boolean;
}

/** `--flood-rate` → `CHAT_FLOOD_RATE`. */
export function envName(flag: string): string {
  return "CHAT_" + flag.toUpperCase().replaceAll("-", "_");
}

/** The `--help` text. */
export function usage(): string {
  const rows = FLAGS.map((f) =>
    `  --${f.flag}${f.arg ? " " + f.arg : ""}`.padEnd(26) +
    `${f.help} (default ${f.fallback || "none"}; env ${envName(f.flag)}` +
    `${f.alias ? ` or ${f.alias}` : ""})`
  );
  return [
    "Marquee: a multi-user TCP chat server. Join with: nc localhost 8080",
    "",
    "Usage: deno task chat [flags]",
    "",
    ...rows,
    "  --help".padEnd(26) + "show this help",
  ].join("\n");
}

/**
 * Parses flags and environment into a {@linkcode Config}.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./flags.ts";
 * parseConfig(["--port", "0"], () => undefined).port; // 0
 * ```
 */
export function parseConfig(args: string[], env: (name: string) => string | undefined): Config {
  const values = parseFlags(args);
  const get = <K extends FlagName>(name: K): ReturnType<(typeof FLAG_SPECS)[K]["parse"]> => {
    const spec = FLAG_SPECS[name] as FlagSpec<ReturnType<(typeof FLAG_SPECS)[K]["parse"]>>;
    const { value, source } = lookUp(name, spec, values[name], env);
    try {
      return spec.parse(value);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      const shown = value === "" ? "" : ` "${value}"`;
      throw new ConfigError(`Invalid ${source}${shown}: ${error.message}`);
    }
  };
  return {
    help: values.help === true,
    host: get("host"),
    port: get("port"),
    redis: get("redis"),
    redisCa: get("redis-ca"),
    redisEphemeral: get("redis-ephemeral"),
    reusePort: get("reuse-port"),
    workers: get("workers"),
    tls: tlsConfig(get("tls-port"), get("tls-cert"), get("tls-key")),
    irc: {
      ...ircConfig(get("irc-port"), get("irc-tls-port"), get("tls-cert")),
      name: get("irc-name"),
    },
    metrics: optionalAddress(get("metrics-host"), get("metrics-port")),
    web: optionalAddress(get("http-host"), get("http-port")),
    allowedOrigins: get("ws-origins"),
    publicHosts: get("public-host"),
    dataDir: get("data-dir"),
    accounts: get("accounts") === "on",
    operators: get("operators"),
    history: get("history") === "off" ? undefined : {
      dataDir: get("data-dir"),
      onJoin: get("history-on-join"),
      keep: get("history-keep"),
      days: get("history-days"),
    },
    logFormat: get("log-format"),
    logLevel: get("log-level"),
    limits: {
      ...DEFAULT_LIMITS,
      maxLineBytes: get("max-line-bytes"),
      floodRate: get("flood-rate"),
      floodBurst: get("flood-burst"),
      maxQueuedBytes: get("send-queue-bytes"),
      maxConnections: get("max-connections"),
      maxConnectionsPerAddress: get("max-per-address"),
      connectsPerMinute: get("connects-per-minute"),
      exemptLoopback: !get("limit-loopback"),
      idleTimeoutMs: get("idle-timeout") * 1000,
      flushMs: get("shutdown-timeout") * 1000,
    },
  };
}

/** The flags given on the command line (strings, or true for switches). */
function parseFlags(args: string[]): Record<string, string | boolean | undefined> {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const f of FLAGS) options[f.flag] = { type: f.arg === "" ? "boolean" : "string" };
  args = joinNegativeValues(args, options);
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${message.split("\n")[0]} (see --help)`);
  }
}

/** `--idle-timeout -5` as `--idle-timeout=-5`: parseArgs takes a value
 * that starts with a dash for a flag, and its complaint ("ambiguous") would
 * hide the real one (a negative number where none is allowed). */
function joinNegativeValues(
  args: string[],
  options: Record<string, { type: "string" | "boolean" }>,
): string[] {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const next = args[i + 1];
    const takesValue = arg.startsWith("--") && options[arg.slice(2)]?.type === "string";
    if (takesValue && next !== undefined && /^-\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else {
      joined.push(arg);
    }
  }
  return joined;
}

/** A flag's text and where it came from: the flag, its environment
 * variable, the alias, or the default. */
function lookUp(
  name: FlagName,
  spec: FlagSpec,
  given: string | boolean | undefined,
  env: (name: string) => string | undefined,
): { value: string; source: string } {
  if (typeof given === "string") return { value: given, source: `--${name}` };
  if (given === true) return { value: "true", source: `--${name}` };
  const fromEnv = env(envName(name));
  if (fromEnv !== undefined) return { value: fromEnv, source: envName(name) };
  const fromAlias = spec.alias === undefined ? undefined : env(spec.alias);
  if (fromAlias !== undefined) return { value: fromAlias, source: spec.alias as string };
  return { value: spec.fallback, source: `--${name}` };
}

function tlsConfig(port: number | undefined, cert: string, key: string): Config["tls"] {
  if (port === undefined && cert === "" && key === "") return undefined;
  if (port === undefined || cert === "" || key === "") {
    throw new ConfigError("TLS needs all of --tls-port, --tls-cert and --tls-key");
  }
  return { port, cert, key };
}

function ircConfig(port: number | undefined, tlsPort: number | undefined, cert: string) {
  if (tlsPort !== undefined && cert === "") {
    throw new ConfigError("--irc-tls-port needs --tls-port, --tls-cert and --tls-key");
  }
  return { port, tlsPort };
}

function optionalAddress(hostname: string, port: number | undefined): ListenAddress | undefined {
  return port === undefined ? undefined : { hostname, port };
}
