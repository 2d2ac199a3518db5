/**
 * Command-line flags and their environment variables, in one table.
 *
 * Every flag `--some-flag` can also be set as `CHAT_SOME_FLAG`; a flag wins
 * over the environment. `--help` is generated from the same table. Invalid
 * values raise a `ConfigError` whose message is the one line `main.ts`
 * prints before exiting with code 2: a bad flag is the user's mistake and
 * deserves a sentence, not a stack trace.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type ChatLimits, DEFAULT_LIMITS } from "./chat/app.ts";
import type { LogFormat, LogLevel } from "./chat/log.ts";

/** A flag the user got wrong; the message is shown as is. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Everything `main.ts` needs to start the server. */
export interface Config {
  host: string;
  port: number;
  limits: ChatLimits;
  /** Redis URL linking this server to others, or "" for none. */
  redis: string;
  /** Whether to share the port with other processes (SO_REUSEPORT). */
  reusePort: boolean;
  /** TLS: PEM files and the port to serve them on (undefined = no TLS). */
  tls?: { cert: string; key: string; port: number };
  /** The metrics endpoint's address, if served. */
  metrics?: { hostname: string; port: number };
  /** The browser client's address, if served. */
  web?: { hostname: string; port: number };
  logFormat: LogFormat;
  logLevel: LogLevel;
  help: boolean;
}

type Kind =
  | "string"
  | "port"
  | "optional-port"
  | "count"
  | "seconds"
  | "url"
  | "switch"
  | "path"
  | "log-format"
  | "log-level";

interface FlagSpec {
  flag: string;
  kind: Kind;
  help: string;
  fallback: string;
  /** Another environment variable read when the CHAT_ one is unset. */
  alias?: string;
}

/** The flags, in `--help` order. */
export const FLAGS: readonly FlagSpec[] = [
  { flag: "host", kind: "string", fallback: "127.0.0.1", help: "address to listen on" },
  { flag: "port", kind: "port", fallback: "8080", help: "TCP port (0 picks a free one)" },
  {
    flag: "max-line-bytes",
    kind: "count",
    fallback: String(DEFAULT_LIMITS.maxLineBytes),
    help: "longest line a client may send, in bytes",
  },
  {
    flag: "flood-rate",
    kind: "count",
    fallback: String(DEFAULT_LIMITS.floodRate),
    help: "lines per second a client may send, sustained (0 = no limit)",
  },
  {
    flag: "flood-burst",
    kind: "count",
    fallback: String(DEFAULT_LIMITS.floodBurst),
    help: "lines a client may send at once",
  },
  {
    flag: "send-queue-bytes",
    kind: "count",
    fallback: String(DEFAULT_LIMITS.maxQueuedBytes),
    help: "bytes queued for a client before it is disconnected as too slow",
  },
  {
    flag: "max-connections",
    kind: "count",
    fallback: String(DEFAULT_LIMITS.maxConnections),
    help: "connections at once; more get '! server full'",
  },
  {
    flag: "max-per-address",
    kind: "count",
    fallback: String(DEFAULT_LIMITS.maxConnectionsPerAddress),
    help: "connections from one address (loopback is exempt)",
  },
  {
    flag: "idle-timeout",
    kind: "seconds",
    fallback: "0",
    help: "disconnect clients silent this long (0 = never)",
  },
  {
    flag: "shutdown-timeout",
    kind: "seconds",
    fallback: String(DEFAULT_LIMITS.flushMs / 1000),
    help: "how long queued lines may drain on shutdown",
  },
  {
    flag: "redis",
    kind: "url",
    fallback: "",
    alias: "REDIS_URL",
    help: "link with other servers through Redis, e.g. redis://127.0.0.1:6379",
  },
  {
    flag: "tls-port",
    kind: "optional-port",
    fallback: "",
    help: "also serve the chat over TLS on this port (needs --tls-cert and --tls-key)",
  },
  { flag: "tls-cert", kind: "path", fallback: "", help: "TLS certificate chain, PEM file" },
  { flag: "tls-key", kind: "path", fallback: "", help: "TLS private key, PEM file" },
  {
    flag: "http-port",
    kind: "optional-port",
    fallback: "",
    help: "serve the browser client (page and WebSocket) on this port",
  },
  { flag: "http-host", kind: "string", fallback: "127.0.0.1", help: "address for --http-port" },
  {
    flag: "metrics-port",
    kind: "optional-port",
    fallback: "",
    help: "serve Prometheus metrics at /metrics on this port",
  },
  {
    flag: "metrics-host",
    kind: "string",
    fallback: "127.0.0.1",
    help: "address for --metrics-port (loopback: metrics are not for the public)",
  },
  { flag: "log-format", kind: "log-format", fallback: "text", help: "text or json" },
  {
    flag: "log-level",
    kind: "log-level",
    fallback: "info",
    help: "least severe level logged: debug, info, warn or error",
  },
  {
    flag: "reuse-port",
    kind: "switch",
    fallback: "false",
    help: "let several processes listen on the same port (Linux SO_REUSEPORT)",
  },
];

/** `--flood-rate` → `CHAT_FLOOD_RATE`. */
export function envName(flag: string): string {
  return "CHAT_" + flag.toUpperCase().replaceAll("-", "_");
}

/** The `--help` text. */
export function usage(): string {
  const argument: Record<Kind, string> = {
    string: " HOST",
    port: " N",
    count: " N",
    seconds: " N",
    url: " URL",
    switch: "",
    "optional-port": " N",
    path: " FILE",
    "log-format": " FORMAT",
    "log-level": " LEVEL",
  };
  const rows = FLAGS.map((f) =>
    `  --${f.flag}${argument[f.kind]}`.padEnd(26) +
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
 * import { parseConfig } from "./config.ts";
 * parseConfig(["--port", "0"], () => undefined).port; // 0
 * ```
 */
export function parseConfig(
  args: string[],
  env: (name: string) => string | undefined,
): Config {
  const options: Record<string, { type: "string" | "boolean" }> = { help: { type: "boolean" } };
  for (const f of FLAGS) options[f.flag] = { type: f.kind === "switch" ? "boolean" : "string" };
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${message.split("\n")[0]} (see --help)`);
  }
  const read = (f: FlagSpec): { value: string; source: string } => {
    const flagValue = values[f.flag];
    if (typeof flagValue === "string") return { value: flagValue, source: `--${f.flag}` };
    if (flagValue === true) return { value: "true", source: `--${f.flag}` };
    const envValue = env(envName(f.flag));
    if (envValue !== undefined) return { value: envValue, source: envName(f.flag) };
    const aliasValue = f.alias === undefined ? undefined : env(f.alias);
    if (aliasValue !== undefined) return { value: aliasValue, source: f.alias as string };
    return { value: f.fallback, source: `--${f.flag}` };
  };
  const get = (flag: string): number | string | undefined => {
    const spec = FLAGS.find((f) => f.flag === flag) as FlagSpec;
    const { value, source } = read(spec);
    return convert(spec.kind, value, source);
  };
  const host = get("host") as string;
  return {
    help: values.help === true,
    host,
    redis: get("redis") as string,
    reusePort: get("reuse-port") === 1,
    tls: tlsConfig(get("tls-port") as number | undefined, get("tls-cert"), get("tls-key")),
    metrics: optionalAddress(get("metrics-host") as string, get("metrics-port")),
    web: optionalAddress(get("http-host") as string, get("http-port")),
    logFormat: get("log-format") as LogFormat,
    logLevel: get("log-level") as LogLevel,
    port: get("port") as number,
    limits: {
      ...DEFAULT_LIMITS,
      maxLineBytes: positive(get("max-line-bytes") as number, "--max-line-bytes"),
      floodRate: get("flood-rate") as number,
      floodBurst: positive(get("flood-burst") as number, "--flood-burst"),
      maxQueuedBytes: positive(get("send-queue-bytes") as number, "--send-queue-bytes"),
      maxConnections: positive(get("max-connections") as number, "--max-connections"),
      maxConnectionsPerAddress: positive(get("max-per-address") as number, "--max-per-address"),
      idleTimeoutMs: (get("idle-timeout") as number) * 1000,
      flushMs: (get("shutdown-timeout") as number) * 1000,
    },
  };
}

function tlsConfig(
  port: number | undefined,
  cert: string | number | undefined,
  key: string | number | undefined,
): Config["tls"] {
  const given = [port !== undefined, cert !== "", key !== ""];
  if (given.every((g) => !g)) return undefined;
  if (!given.every((g) => g)) {
    throw new ConfigError("TLS needs all of --tls-port, --tls-cert and --tls-key");
  }
  return { port: port as number, cert: cert as string, key: key as string };
}

function optionalAddress(
  hostname: string,
  port: string | number | undefined,
): { hostname: string; port: number } | undefined {
  return port === undefined ? undefined : { hostname, port: port as number };
}

function convert(kind: Kind, value: string, source: string): number | string | undefined {
  switch (kind) {
    case "optional-port":
      return value === "" ? undefined : convert("port", value, source);
    case "path":
      return value;
    case "log-format":
      if (value !== "text" && value !== "json") {
        throw new ConfigError(`Invalid ${source} "${value}": expected text or json`);
      }
      return value;
    case "log-level":
      if (!["debug", "info", "warn", "error"].includes(value)) {
        throw new ConfigError(`Invalid ${source} "${value}": expected debug, info, warn or error`);
      }
      return value;
    case "string":
      if (value.trim() === "") throw new ConfigError(`Invalid ${source}: it cannot be empty`);
      return value;
    case "port": {
      const n = /^\d+$/.test(value) ? Number(value) : NaN;
      if (!(n >= 0 && n <= 65535)) {
        throw new ConfigError(`Invalid ${source} "${value}": expected a port from 0 to 65535`);
      }
      return n;
    }
    case "count": {
      const n = /^\d+$/.test(value) ? Number(value) : NaN;
      if (!Number.isSafeInteger(n)) {
        throw new ConfigError(`Invalid ${source} "${value}": expected a whole number`);
      }
      return n;
    }
    case "url":
      if (value !== "" && !/^rediss?:\/\/[^\s/]+/.test(value)) {
        throw new ConfigError(`Invalid ${source} "${value}": expected redis://host:port`);
      }
      return value;
    case "switch":
      if (!["true", "false", "1", "0", ""].includes(value)) {
        throw new ConfigError(`Invalid ${source} "${value}": expected true or false`);
      }
      return value === "true" || value === "1" ? 1 : 0;
    case "seconds": {
      const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
      if (!Number.isFinite(n)) {
        throw new ConfigError(`Invalid ${source} "${value}": expected a number of seconds`);
      }
      return n;
    }
  }
}

function positive(n: number, flag: string): number {
  if (n < 1) throw new ConfigError(`Invalid ${flag} "${n}": it must be at least 1`);
  return n;
}
