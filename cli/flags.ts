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
  /** Whether to share the port with other processes (SO_REUSEPORT). */
  reusePort: boolean;
  /** Chat workers (threads) in this process, sharing its ports. */
  workers: number;
  /** TLS: PEM files and the port to serve them on (undefined = no TLS). */
  tls?: { cert: string; key: string; port: number };
  /** The metrics endpoint's address, if served. */
  metrics?: ListenAddress;
  /** The browser client's address, if served. */
  web?: ListenAddress;
  /** Origins whose pages may open /ws besides the page's own. */
  allowedOrigins: string[];
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

/** Why a value is refused; parseConfig adds where it came from. */
class Invalid extends Error {}

/** One flag: how `--help` shows it, its default, and its parser. */
export interface FlagSpec<T = unknown> {
  /** What `--help` shows after the flag, e.g. `N` or `FILE` ("" for a switch). */
  arg: string;
  help: string;
  /** The default, as it would be typed ("" for none). */
  fallback: string;
  /** Another environment variable read when the CHAT_ one is unset. */
  alias?: string;
  /** Turns the text into a value, or throws `Invalid` with the reason. */
  parse: (value: string) => T;
}

const text = (value: string): string => value;

function nonEmpty(value: string): string {
  if (value.trim() === "") throw new Invalid("it cannot be empty");
  return value;
}

function port(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new Invalid("expected a port from 0 to 65535");
  return n;
}

function optionalPort(value: string): number | undefined {
  return value === "" ? undefined : port(value);
}

function count(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new Invalid("expected a whole number");
  return n;
}

/** Most workers: more threads than this machine has cores only cost. */
const MAX_WORKERS = 64;

function workerCount(value: string): number {
  const n = atLeastOne(value);
  if (n > MAX_WORKERS) throw new Invalid(`it must be at most ${MAX_WORKERS}`);
  return n;
}

function atLeastOne(value: string): number {
  const n = count(value);
  if (n < 1) throw new Invalid("it must be at least 1");
  return n;
}

function seconds(value: string): number {
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new Invalid("expected a number of seconds");
  return n;
}

function redisUrl(value: string): string {
  if (value !== "" && !/^rediss?:\/\/[^\s/]+/.test(value)) {
    throw new Invalid("expected redis://host:port");
  }
  return value;
}

function oneOf<T extends string>(...allowed: T[]): (value: string) => T {
  const expected = allowed.length === 2
    ? allowed.join(" or ")
    : `${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}`;
  return (value) => {
    if (!(allowed as string[]).includes(value)) throw new Invalid(`expected ${expected}`);
    return value as T;
  };
}

function toggle(value: string): boolean {
  if (!["true", "false", "1", "0", ""].includes(value)) {
    throw new Invalid("expected true or false");
  }
  return value === "true" || value === "1";
}

function originList(value: string): string[] {
  const origins = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const origin of origins) {
    if (origin !== "*" && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new Invalid(`expected origins like https://chat.example.com, got "${origin}"`);
    }
  }
  return origins;
}

const flag = <T>(spec: FlagSpec<T>): FlagSpec<T> => spec;

/** The flags, in `--help` order. */
export const FLAG_SPECS = {
  "host": flag({
    arg: "HOST",
    fallback: "127.0.0.1",
    help: "address to listen on",
    parse: nonEmpty,
  }),
  "port": flag({ arg: "N", fallback: "8080", help: "TCP port (0 picks a free one)", parse: port }),
  "max-line-bytes": flag({
    arg: "N",
    fallback: String(DEFAULT_LIMITS.maxLineBytes),
    help: "longest line a client may send, in bytes",
    parse: atLeastOne,
  }),
  "flood-rate": flag({
    arg: "N",
    fallback: String(DEFAULT_LIMITS.floodRate),
    help: "lines per second a client may send, sustained (0 = no limit)",
    parse: count,
  }),
  "flood-burst": flag({
    arg: "N",
    fallback: String(DEFAULT_LIMITS.floodBurst),
    help: "lines a client may send at once",
    parse: atLeastOne,
  }),
  "send-queue-bytes": flag({
    arg: "N",
    fallback: String(DEFAULT_LIMITS.maxQueuedBytes),
    help: "a client's send-queue budget: over it for 2 s, or over 4 times it, and it is dropped",
    parse: atLeastOne,
  }),
  "max-connections": flag({
    arg: "N",
    fallback: String(DEFAULT_LIMITS.maxConnections),
    help: "connections at once; more get '! server full'",
    parse: atLeastOne,
  }),
  "max-per-address": flag({
    arg: "N",
    fallback: String(DEFAULT_LIMITS.maxConnectionsPerAddress),
    help: "connections from one address (loopback is exempt)",
    parse: atLeastOne,
  }),
  "connects-per-minute": flag({
    arg: "N",
    fallback: String(DEFAULT_LIMITS.connectsPerMinute),
    help: "new connections per minute from one address, after a burst of 30 (0 = no limit)",
    parse: count,
  }),
  "limit-loopback": flag({
    arg: "",
    fallback: "false",
    help: "apply the per-address limits to loopback clients too (they are exempt by default)",
    parse: toggle,
  }),
  "idle-timeout": flag({
    arg: "N",
    fallback: "0",
    help: "disconnect clients silent this long, in seconds (0 = never)",
    parse: seconds,
  }),
  "shutdown-timeout": flag({
    arg: "N",
    fallback: String(DEFAULT_LIMITS.flushMs / 1000),
    help: "how long queued lines may drain on shutdown, in seconds",
    parse: seconds,
  }),
  "redis": flag({
    arg: "URL",
    fallback: "",
    alias: "REDIS_URL",
    help: "link with other servers through Redis, e.g. redis://127.0.0.1:6379",
    parse: redisUrl,
  }),
  "redis-ca": flag({
    arg: "FILE",
    fallback: "",
    help: "PEM certificates to trust for a rediss:// URL (a private CA)",
    parse: text,
  }),
  "tls-port": flag({
    arg: "N",
    fallback: "",
    help: "also serve the chat over TLS on this port (needs --tls-cert and --tls-key)",
    parse: optionalPort,
  }),
  "tls-cert": flag({
    arg: "FILE",
    fallback: "",
    help: "TLS certificate chain, PEM file",
    parse: text,
  }),
  "tls-key": flag({ arg: "FILE", fallback: "", help: "TLS private key, PEM file", parse: text }),
  "http-port": flag({
    arg: "N",
    fallback: "",
    help: "serve the browser client (page and WebSocket) on this port",
    parse: optionalPort,
  }),
  "http-host": flag({
    arg: "HOST",
    fallback: "127.0.0.1",
    help: "address for --http-port",
    parse: nonEmpty,
  }),
  "ws-origins": flag({
    arg: "LIST",
    fallback: "",
    help: "origins whose pages may open /ws besides the page's own, comma-separated (* for any)",
    parse: originList,
  }),
  "metrics-port": flag({
    arg: "N",
    fallback: "",
    help: "serve Prometheus metrics at /metrics on this port",
    parse: optionalPort,
  }),
  "metrics-host": flag({
    arg: "HOST",
    fallback: "127.0.0.1",
    help: "address for --metrics-port (loopback: metrics are not for the public)",
    parse: nonEmpty,
  }),
  "data-dir": flag({
    arg: "DIR",
    fallback: "./marquee-data",
    help:
      "where the history and account databases are kept (the chat task may use ./marquee-data only)",
    parse: nonEmpty,
  }),
  "accounts": flag({
    arg: "on|off",
    fallback: "on",
    help: "keep accounts, registered rooms and bans (off: /register and room moderation refused)",
    parse: oneOf<"on" | "off">("on", "off"),
  }),
  "operators": flag({
    arg: "FILE",
    fallback: "",
    help: "server operators: one `NAME HASH` per line (hashes from `deno task passwd`)",
    parse: text,
  }),
  "history": flag({
    arg: "on|off",
    fallback: "on",
    help: "keep room lines (off: nothing is stored at all)",
    parse: oneOf<"on" | "off">("on", "off"),
  }),
  "history-on-join": flag({
    arg: "N",
    fallback: "10",
    help: "recent lines a newcomer to a room gets (0 = none)",
    parse: count,
  }),
  "history-keep": flag({
    arg: "N",
    fallback: "10000",
    help: "room lines kept per room",
    parse: atLeastOne,
  }),
  "history-days": flag({
    arg: "N",
    fallback: "30",
    help: "days room lines are kept",
    parse: atLeastOne,
  }),
  "log-format": flag({
    arg: "FORMAT",
    fallback: "text",
    help: "text or json",
    parse: oneOf<LogFormat>("text", "json"),
  }),
  "log-level": flag({
    arg: "LEVEL",
    fallback: "info",
    help: "least severe level logged: debug, info, warn or error",
    parse: oneOf<LogLevel>("debug", "info", "warn", "error"),
  }),
  workers: flag({
    arg: "N",
    fallback: "1",
    help: "chat workers (threads) sharing the ports, one chat: more use more cores",
    parse: workerCount,
  }),
  "reuse-port": flag({
    arg: "",
    fallback: "false",
    help: "let several processes listen on the same port (Linux SO_REUSEPORT)",
    parse: toggle,
  }),
};

/** A flag's name, without the dashes. */
export type FlagName = keyof typeof FLAG_SPECS;

/** The flags as a list, in `--help` order. */
export const FLAGS: readonly ({ flag: FlagName } & FlagSpec)[] = Object.entries(FLAG_SPECS).map((
  [name, spec],
) => ({ flag: name as FlagName, ...spec }));

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
    reusePort: get("reuse-port"),
    workers: get("workers"),
    tls: tlsConfig(get("tls-port"), get("tls-cert"), get("tls-key")),
    metrics: optionalAddress(get("metrics-host"), get("metrics-port")),
    web: optionalAddress(get("http-host"), get("http-port")),
    allowedOrigins: get("ws-origins"),
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

function optionalAddress(hostname: string, port: number | undefined): ListenAddress | undefined {
  return port === undefined ? undefined : { hostname, port };
}
