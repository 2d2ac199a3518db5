/**
 * The seam between the ChatServer and the outside world.
 *
 * `LocalBroker`, the default, is the whole chat in one process: it hands out
 * user numbers from a counter and publishes nothing. `RedisBroker` links
 * several processes (on one machine behind `--reuse-port`, or on many) into
 * one chat through Redis: every event a server's users cause is published on
 * one channel, every server applies the others' events to its own users, and
 * `userN` numbers come from one cluster-wide counter.
 *
 * Presence survives crashes without scanning keys: each server publishes a
 * heartbeat every `HEARTBEAT_MS`; a server silent for `PRESENCE_TIMEOUT_MS`
 * is taken for dead and its users are shown as left. Chosen names are
 * claimed with `SET NX PX` keys that the owner refreshes with each
 * heartbeat, so a dead server's names free themselves.
 *
 * When Redis goes away, local chat goes on: publishes are dropped (not
 * queued), the broker reports the link down once, the client library
 * reconnects with backoff and resubscribes, and on its return the servers
 * exchange rosters and announce what changed meanwhile.
 *
 * @module
 */

import type { createClient } from "redis";
import type { Log } from "./log.ts";

/** A user as other servers see it. */
export interface RemoteUser {
  /** The server's id, then the user's number: together unique in the cluster. */
  server: string;
  id: number;
  name: string;
  /** Display name of the user's room. */
  room: string;
}

/** What servers tell each other. `server` is always the sender. */
export type ClusterEvent =
  | { type: "join"; server: string; user: RemoteUser }
  | { type: "leave"; server: string; id: number; reason?: string }
  | { type: "say"; server: string; id: number; text: string }
  | { type: "me"; server: string; id: number; action: string }
  | { type: "nick"; server: string; id: number; name: string }
  | { type: "move"; server: string; id: number; room: string }
  | { type: "msg"; server: string; from: string; to: string; text: string }
  | { type: "roster"; server: string; users: RemoteUser[] }
  | { type: "sync"; server: string }
  | { type: "heartbeat"; server: string }
  | { type: "bye"; server: string };

/** Where a broker delivers what it hears. */
export interface BrokerListener {
  /** An event from another server (own echoes are already filtered out). */
  event(event: ClusterEvent): void;
  /** The link to the other servers went down (false) or came back (true). */
  link(up: boolean): void;
}

/** What the ChatServer and the accept loop need from the outside world. */
export interface Broker {
  /** This server's id in the cluster. */
  readonly serverId: string;
  /** Whether other servers exist at all (false for the local broker). */
  readonly distributed: boolean;
  /** Starts listening; resolves once linked (the local broker at once). */
  start(listener: BrokerListener): Promise<void>;
  /** The next `userN` number; cluster-wide with Redis. Rejects when none can
   * be had (Redis down and the local reserve used up). */
  nextUserNumber(): Promise<number>;
  /** Tells the other servers; dropped, not queued, while the link is down. */
  publish(event: ClusterEvent): void;
  /** Claims a lower-cased name cluster-wide; false if another server has it
   * or the link is down. */
  claimName(key: string): Promise<boolean>;
  /** Gives a claimed name back. */
  releaseName(key: string): void;
  /** Says goodbye and disconnects. Safe to call twice. */
  close(): Promise<void>;
}

/** The in-process default: one server is the whole chat. */
export class LocalBroker implements Broker {
  readonly serverId = "local";
  readonly distributed = false;
  #next = 0;

  start(): Promise<void> {
    return Promise.resolve();
  }

  nextUserNumber(): Promise<number> {
    return Promise.resolve(++this.#next);
  }

  publish(): void {}

  claimName(): Promise<boolean> {
    return Promise.resolve(true);
  }

  releaseName(): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** How often a linked server says it is alive. */
export const HEARTBEAT_MS = 2_000;
/** Silence after which a server is taken for dead: three missed heartbeats,
 * so one slow beat on a busy machine does not drop a whole server's users. */
export const PRESENCE_TIMEOUT_MS = 3 * HEARTBEAT_MS;
/** How long a name claim lives without being refreshed by its owner. */
const NAME_TTL_MS = 5 * HEARTBEAT_MS;
/** User numbers reserved per trip to Redis: a join storm costs one INCRBY per
 * 64 joins, and a server can keep accepting users for a while if Redis is
 * briefly away. */
const USER_NUMBER_BLOCK = 64;
/** Longest pause between reconnect attempts. */
const RECONNECT_MAX_MS = 2_000;
/** How long startup waits for Redis before giving up with an error. */
const CONNECT_TIMEOUT_MS = 3_000;

const CHANNEL = "marquee:events";
const USER_COUNTER = "marquee:users";
const NAME_PREFIX = "marquee:name:";

type RedisClient = ReturnType<typeof createClient>;

/** Options for {@linkcode RedisBroker}. */
export interface RedisBrokerOptions {
  /** `redis://host:port` */
  url: string;
  /** Where log lines go. */
  log: Log;
}

/**
 * Links this server to the others through Redis: two connections (a
 * subscribed connection can run no other command), heartbeats, name claims,
 * and a reserve of user numbers.
 *
 * @example
 * ```ts
 * import { RedisBroker } from "./broker.ts";
 * const broker = new RedisBroker({ url: "redis://127.0.0.1:6379", log: console.log });
 * await broker.start({ event: (e) => console.log(e), link: (up) => console.log(up) });
 * await broker.close();
 * ```
 */
export class RedisBroker implements Broker {
  readonly serverId: string = crypto.randomUUID().slice(0, 8);
  readonly distributed = true;
  readonly #url: string;
  readonly #log: Log;
  readonly #clientOptions: Parameters<typeof createClient>[0];
  // Created in start(): the Redis client library is loaded only by servers
  // that link, so a plain server does not pay its ~35 MiB of RSS.
  #commands!: RedisClient;
  #subscriber!: RedisClient;
  readonly #claimed = new Set<string>();
  #listener: BrokerListener | undefined;
  #numbers: number[] = [];
  #up = false;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: RedisBrokerOptions) {
    this.#url = options.url;
    this.#log = options.log;
    this.#clientOptions = {
      url: options.url,
      // Fail fast while disconnected: a chat line queued for minutes and
      // replayed later is worse than one that only reached this server.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        reconnectStrategy: (attempt: number) => Math.min(100 * 2 ** attempt, RECONNECT_MAX_MS),
      },
    };
  }

  async start(listener: BrokerListener): Promise<void> {
    this.#listener = listener;
    const { createClient } = await import("redis");
    this.#commands = createClient(this.#clientOptions);
    this.#subscriber = createClient(this.#clientOptions);
    for (const client of [this.#commands, this.#subscriber]) {
      // Errors are reported through the link state; the client reconnects.
      client.on("error", () => {});
      client.on("ready", () => this.#linkChanged());
      client.on("reconnecting", () => this.#linkChanged());
      client.on("end", () => this.#linkChanged());
    }
    try {
      await withTimeout(
        Promise.all([this.#commands.connect(), this.#subscriber.connect()]),
        CONNECT_TIMEOUT_MS,
      );
      await this.#subscriber.subscribe(CHANNEL, (message) => this.#receive(message));
    } catch (error) {
      await this.close();
      throw new Error(`Cannot connect to Redis at ${this.#url}: ${describe(error)}`);
    }
    this.#linkChanged();
    this.#heartbeat = setInterval(() => this.#beat(), HEARTBEAT_MS);
    this.#log(`[server] linked through ${this.#url} as server ${this.serverId}`);
  }

  async nextUserNumber(): Promise<number> {
    if (this.#numbers.length === 0) {
      const last = await this.#commands.incrBy(USER_COUNTER, USER_NUMBER_BLOCK);
      const first = last - USER_NUMBER_BLOCK + 1;
      this.#numbers = Array.from({ length: USER_NUMBER_BLOCK }, (_, i) => first + i);
    }
    return this.#numbers.shift() as number;
  }

  publish(event: ClusterEvent): void {
    if (!this.#up) return;
    this.#commands.publish(CHANNEL, JSON.stringify(event)).catch(() => {});
  }

  async claimName(key: string): Promise<boolean> {
    if (!this.#up) return false;
    try {
      const owner = `${this.serverId}`;
      const result = await this.#commands.set(NAME_PREFIX + key, owner, {
        NX: true,
        PX: NAME_TTL_MS,
      });
      if (result === "OK") {
        this.#claimed.add(key);
        return true;
      }
      // Ours already (a case change of our own name): keep it.
      return (await this.#commands.get(NAME_PREFIX + key)) === owner && this.#claimed.has(key);
    } catch {
      return false;
    }
  }

  releaseName(key: string): void {
    if (!this.#claimed.delete(key) || !this.#up) return;
    this.#commands.del(NAME_PREFIX + key).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    if (this.#up) {
      const bye = JSON.stringify({ type: "bye", server: this.serverId });
      await this.#commands.publish(CHANNEL, bye).catch(() => {});
      const keys = [...this.#claimed].map((key) => NAME_PREFIX + key);
      if (keys.length > 0) await this.#commands.del(keys).catch(() => {});
    }
    this.#up = false;
    for (const client of [this.#subscriber, this.#commands]) {
      if (client?.isOpen) {
        await client.quit().catch(() => client.disconnect().catch(() => {}));
      }
    }
  }

  #receive(message: string): void {
    let event: ClusterEvent;
    try {
      event = JSON.parse(message);
    } catch {
      return; // Not ours: someone else publishing on our channel.
    }
    if (event.server === this.serverId) return; // our own echo
    this.#listener?.event(event);
  }

  #beat(): void {
    if (!this.#up) return;
    this.publish({ type: "heartbeat", server: this.serverId });
    for (const key of this.#claimed) {
      this.#commands.pExpire(NAME_PREFIX + key, NAME_TTL_MS).catch(() => {});
    }
  }

  #linkChanged(): void {
    if (this.#closed || this.#commands === undefined || this.#subscriber === undefined) return;
    const up = this.#commands.isReady && this.#subscriber.isReady;
    if (up === this.#up) return;
    this.#up = up;
    this.#log(`[server] link to other servers ${up ? "up" : "lost"}`, {
      level: up ? "info" : "warn",
      event: "link",
      up,
    });
    this.#listener?.link(up);
    if (up) {
      // Names claimed before the outage may have expired meanwhile.
      for (const key of this.#claimed) {
        this.#commands.set(NAME_PREFIX + key, this.serverId, { PX: NAME_TTL_MS }).catch(() => {});
      }
    }
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
