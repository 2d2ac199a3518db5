/**
 * The flag table: every flag with its help text, its default and the
 * parser that checks and types its value (throwing `Invalid` with the
 * reason). `flags.ts` reads the command line and the environment through
 * it, and `--help` is generated from it.
 *
 * @module
 */

import { DEFAULT_LIMITS } from "../chat/limits.ts";
import type { LogFormat, LogLevel } from "../chat/ports.ts";

/** Why a value is refused; parseConfig adds where it came from. */
export class Invalid extends Error {}

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

/** A name IRC clients read as a server's: letters, digits, dots, dashes. */
function serverName(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(value)) {
    throw new Invalid("expected a host name such as irc.example.org");
  }
  return value;
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

function hostList(value: string): string[] {
  const hosts = value.split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
  for (const host of hosts) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(host)) {
      throw new Invalid(`expected host names like chat.example.com, got "${host}"`);
    }
  }
  return hosts;
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
  "redis-ephemeral": flag({
    arg: "",
    fallback: "false",
    help: "keep accounts in a Redis that keeps nothing on disk (they are lost when it restarts)",
    parse: toggle,
  }),
  "tls-port": flag({
    arg: "N",
    fallback: "",
    help: "also serve the chat over TLS on this port (needs --tls-cert and --tls-key)",
    parse: optionalPort,
  }),
  "irc-port": flag({
    arg: "N",
    fallback: "",
    help: "also serve the chat to IRC clients on this port (6667 by convention)",
    parse: optionalPort,
  }),
  "irc-tls-port": flag({
    arg: "N",
    fallback: "",
    help: "also serve IRC over TLS on this port (6697 by convention; needs the TLS flags)",
    parse: optionalPort,
  }),
  "irc-name": flag({
    arg: "NAME",
    fallback: "marquee",
    help: "the server's name in IRC lines (a host name, say irc.example.org)",
    parse: serverName,
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
  "public-host": flag({
    arg: "NAMES",
    fallback: "",
    help:
      "names the browser page is reached by, comma-separated (besides localhost and IP addresses)",
    parse: hostList,
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
