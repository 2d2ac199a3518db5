/**
 * What the Redis adapters share: the keys and channel, the scripts run
 * on the server, the timings of the link, and the helpers that keep a
 * password out of logs and put a deadline on a call.
 *
 * @module
 */

import type { Log } from "../chat/ports.ts";
import type { EventFault } from "./events.ts";
import { HEARTBEAT_MS } from "./presence.ts";

/** How long a name claim lives without being refreshed by its owner. */
export const NAME_TTL_MS = 5 * HEARTBEAT_MS;
/** User numbers reserved per trip to Redis: a join storm costs one INCRBY per
 * 64 joins, and a server can keep accepting users for a while if Redis is
 * briefly away. */
export const USER_NUMBER_BLOCK = 64;
/** Longest pause between reconnect attempts. */
export const RECONNECT_MAX_MS = 2_000;
/** How often the "are we subscribed yet?" echo is resent after a reconnect. */
export const ECHO_RETRY_MS = 100;
/** How long a closing server waits for Redis to take its goodbye. */
export const GOODBYE_TIMEOUT_MS = 500;
/** How long startup waits for Redis before giving up with an error. */
export const CONNECT_TIMEOUT_MS = 3_000;

export const CHANNEL = "marquee:events";

/** The broker's keys: see {@linkcode brokerKeys}. */
export interface BrokerKeys {
  counter: string;
  name: string;
  serverNames: string;
}

/** The broker's keys under `prefix` (see `keyPrefix` in redis_clients.ts):
 * the `userN` counter, each claimed name, and per server the set of name
 * keys it holds (what the others free when it dies, at the moment its users
 * are announced as left). */
export function brokerKeys(prefix: string): BrokerKeys {
  return {
    counter: `${prefix}users`,
    name: `${prefix}name:`,
    serverNames: `${prefix}server-names:`,
  };
}

/** Frees a dead server's names: deletes each key it lists that it still
 * owns (a name since taken by someone else is left alone), then the list. */
export const FREE_NAMES_SCRIPT = `
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return redis.call('DEL', KEYS[1])`;

/** Raises the user counter to at least ARGV[1]: after Redis lost its data
 * (a restart without persistence, FLUSHALL, failover to an empty replica)
 * no number a live user holds may be handed out again. */
export const RAISE_COUNTER_SCRIPT = `
local now = tonumber(redis.call('GET', KEYS[1]) or '0')
local floor = tonumber(ARGV[1])
if now < floor then redis.call('SET', KEYS[1], floor) return floor end
return now`;

/** Keeps one of our name claims alive: refreshes it if it is ours, takes it
 * again if Redis lost it (1), or reports that another server holds it (0). */
export const REASSERT_NAME_SCRIPT = `
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if owner then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], KEYS[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1`;

/**
 * `url` with its password, if any, replaced by `***`: what logs, errors and
 * metrics may show.
 *
 * @example
 * ```ts
 * import { redactUrl } from "./redis_keys.ts";
 * redactUrl("redis://app:hunter2@10.0.0.5:6379/0"); // "redis://app:***@10.0.0.5:6379/0"
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === "") return url;
    parsed.password = "***";
    return parsed.toString();
  } catch {
    return url.replace(/\/\/([^:@/]*):[^@/]*@/, "//$1:***@");
  }
}

export function passwordOf(url: string): string {
  try {
    return new URL(url).password;
  } catch {
    return "";
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Options for `RedisBroker`. */
export interface RedisBrokerOptions {
  /** `redis://host:port` */
  url: string;
  /** This server's id in the cluster (default: a random one). */
  serverId?: string;
  /** Where log lines go. */
  log: Log;
  /** Called for each event dropped as malformed, with its fault. */
  onDropped?: (fault: EventFault) => void;
  /** The clock (ms), for presence; tests pass a fake one. */
  now?: () => number;
  /** PEM certificates to trust for a `rediss://` URL (a private CA);
   * without, the system's roots. */
  ca?: string;
  /** Refuse to start on a Redis that keeps nothing on disk (accounts are
   * kept there). */
  requirePersistence?: boolean;
}

/** How the broker's two connections are made. */
export type ClientOptions = {
  url: string;
  disableOfflineQueue: boolean;
  socket: {
    ca?: string[];
    connectTimeout: number;
    reconnectStrategy: (attempt: number) => number;
  };
};

/** The client library's options for `options.url`. */
export function clientOptions(options: Pick<RedisBrokerOptions, "url" | "ca">): ClientOptions {
  return {
    url: options.url,
    // Fail fast while disconnected: a chat line queued for minutes and
    // replayed later is worse than one that only reached this server.
    disableOfflineQueue: true,
    socket: {
      ...(options.ca === undefined ? {} : { ca: [options.ca] }),
      connectTimeout: CONNECT_TIMEOUT_MS,
      reconnectStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, RECONNECT_MAX_MS),
    },
  };
}

/**
 * Whether a Redis says it keeps nothing on disk: neither an append-only
 * file nor snapshots. One that will not say (CONFIG disabled, as in some
 * managed services) is given the benefit of the doubt, with a warning.
 */
export async function keepsNothing(
  client: { configGet(name: string): Promise<Record<string, string>> } | undefined,
  log: Log,
): Promise<boolean> {
  try {
    if (client === undefined) return false;
    const aof = await client.configGet("appendonly");
    const save = await client.configGet("save");
    return aof.appendonly !== "yes" && (save.save ?? "") === "";
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    log(`[server] cannot tell whether Redis keeps data on disk: ${why}`, {
      level: "warn",
      event: "link",
    });
    return false;
  }
}
