/**
 * The Redis adapter of the chat's `Broker` port: it links several processes
 * (on one machine behind `--reuse-port`, or on many) into one chat. The
 * events a server's users cause are published (a room's lines on that
 * room's channel, heard only by servers with users there: see
 * `redis_channels.ts`), every server applies the others' events to its own
 * users, and `userN` numbers come from one cluster-wide counter.
 *
 * Every message heard goes through `parseMessage` (malformed ones are counted
 * and dropped); presence (heartbeats out, silence in) is kept by `Presence`.
 * Chosen names are claimed with `SET NX PX` keys that the owner refreshes
 * with each heartbeat, so a dead server's names free themselves.
 *
 * When Redis goes away, local chat goes on: publishes are dropped (not
 * queued), the broker reports the link down once, the client library
 * reconnects with backoff and resubscribes, and on its return the servers
 * exchange rosters and announce what changed meanwhile.
 *
 * @module
 */

import { RedisChannels } from "./redis_channels.ts";
import { connect, keyPrefix, type RedisClient, type RedisConnections } from "./redis_clients.ts";
import { RedisCommunity } from "./redis_community.ts";
import { RedisNames } from "./redis_names.ts";
import type { Broker, BrokerListener, ClusterEvent, Log } from "../chat/ports.ts";
import { describeError } from "../net/describe_error.ts";
import { DroppedEvents, parseMessage } from "./events.ts";
import { HEARTBEAT_MS, Presence } from "./presence.ts";
import { RedisHistory, type RedisHistoryOptions } from "./redis_history.ts";
import {
  brokerKeys,
  CHANNEL,
  type ClientOptions,
  clientOptions,
  ECHO_RETRY_MS,
  GOODBYE_TIMEOUT_MS,
  keepsNothing,
  passwordOf,
  RAISE_COUNTER_SCRIPT,
  redactUrl,
  type RedisBrokerOptions,
  USER_NUMBER_BLOCK,
  withTimeout,
} from "./redis_keys.ts";

export { redactUrl, type RedisBrokerOptions } from "./redis_keys.ts";
const ENCODER = new TextEncoder();
/** How long a cluster link may go without hearing our own heartbeat. */
const CLUSTER_SILENCE_MS = 2.5 * HEARTBEAT_MS;

/**
 * Links this server to the others through Redis: two connections (a
 * subscribed connection can run no other command), heartbeats, name claims,
 * and a reserve of user numbers.
 *
 * @example
 * ```ts
 * import { RedisBroker } from "./redis_broker.ts";
 * const broker = new RedisBroker({ url: "redis://127.0.0.1:6379", log: console.log });
 * await broker.start({
 *   event: (e) => console.log(e),
 *   link: (up) => console.log(up),
 *   serverLost: (server) => console.log("lost", server),
 *   nameLost: (key) => console.log("name lost", key),
 * });
 * await broker.close();
 * ```
 */
export class RedisBroker implements Broker {
  readonly serverId: string;
  readonly linked = true;
  /** The URL as it may be shown: password replaced by `***`. */
  readonly #url: string;
  /** The password, to scrub from error texts ("" for none). */
  readonly #secret: string;
  /** The client library's last error, for the startup failure message. */
  #lastError: string | undefined;
  readonly #log: Log;
  readonly #now: () => number;
  readonly #presence = new Presence();
  readonly #dropped: DroppedEvents;
  readonly #clientOptions: ClientOptions;
  // Made in start(): only a linked server loads the client (~35 MiB RSS).
  #redis!: RedisConnections;
  #keys = brokerKeys(keyPrefix(false));
  /** When we last heard ourselves (a cluster's client reports no
   * connection events: its link is judged by this). */
  #echoAt = 0;
  readonly #channels: RedisChannels;
  readonly #names: RedisNames;
  #listener: BrokerListener | undefined;
  #numbers: number[] = [];
  /** The highest user number this server has seen anywhere (its own
   * blocks, other servers' joins and rosters): the counter's floor. */
  #highestNumber = 0;
  /** Re-asserting numbers and names after the link came back. */
  #reasserting = false;
  #linkUp = false;
  /** Both connections are ready, but our own echo is not back: until it
   * is, what the others send (rosters after an outage) could be missed. */
  #awaitingEcho = false;
  /** Resends the echo while awaited (one sent before the resubscribe is lost). */
  #echoTimer: ReturnType<typeof setInterval> | undefined;
  /** Set once subscribed; connection events before belong to start(). */
  #subscribed = false;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  readonly #requirePersistence: boolean;
  /** History kept in this Redis, if asked for: flushed before closing. */
  #history: RedisHistory | undefined;

  constructor(options: RedisBrokerOptions) {
    this.serverId = options.serverId ?? crypto.randomUUID().slice(0, 8);
    this.#url = redactUrl(options.url);
    this.#secret = passwordOf(options.url);
    this.#log = options.log;
    this.#requirePersistence = options.requirePersistence ?? false;
    this.#now = options.now ?? Date.now;
    this.#dropped = new DroppedEvents(options.log, options.onDropped);
    this.#names = new RedisNames({
      serverId: this.serverId,
      commands: () => this.#commands,
      keys: () => this.#keys,
      log: this.#log,
      lost: (key) => this.#listener?.nameLost(key),
    });
    this.#channels = new RedisChannels(this.serverId, {
      redis: () => this.#redis,
      receive: (message) => this.#receive(message),
      ours: () => this.#heardOwnEcho(),
    });
    this.#clientOptions = clientOptions(options);
  }

  async start(listener: BrokerListener): Promise<void> {
    this.#listener = listener;
    let volatile = false;
    const hooks = {
      // Errors are reported through the link state; the client reconnects.
      // The last one is kept: it says why a start failed (a wrong password).
      error: (error: unknown) => (this.#lastError = describeError(error)),
      changed: () => this.#linkChanged(),
    };
    const probe = async (client: RedisClient) => {
      volatile = this.#requirePersistence && await keepsNothing(client, this.#log);
    };
    try {
      this.#redis = await connect(this.#clientOptions, hooks, probe);
      this.#keys = brokerKeys(keyPrefix(this.#redis.cluster));
      if (!volatile) await this.#channels.start();
      this.#subscribed = true;
    } catch (error) {
      await this.close();
      const cause = this.#lastError ?? describeError(error);
      const why = this.#secret === "" ? cause : cause.replaceAll(this.#secret, "***");
      throw new Error(`Cannot connect to Redis at ${this.#url}: ${why}`);
    }
    if (volatile) {
      await this.close();
      throw new Error(
        `Redis at ${this.#url} keeps nothing on disk (no appendonly, no save): accounts would be lost when it restarts; run it with --appendonly yes, or start with --redis-ephemeral`,
      );
    }
    this.#linkChanged();
    this.#heartbeat = setInterval(() => this.#beat(), HEARTBEAT_MS);
    this.#log(`[server] linked through ${this.#url} as server ${this.serverId}`, {
      event: "link",
    });
  }

  /** The connection that runs commands. */
  get #commands(): RedisClient {
    return this.#redis.commands;
  }

  /** Room history kept in this Redis, shared by every linked server
   * (usable once `start` has resolved). */
  history(options: Omit<RedisHistoryOptions, "client">): RedisHistory {
    this.#history = new RedisHistory({ ...options, client: () => this.#commands });
    return this.#history;
  }

  /** Accounts and rooms kept in this Redis, shared by every linked server
   * (usable once `start` has resolved). */
  community(): RedisCommunity {
    return new RedisCommunity(() => this.#commands, () => keyPrefix(this.#redis.cluster));
  }

  async nextUserNumber(): Promise<number> {
    if (this.#numbers.length === 0) {
      let last = await this.#commands.incrBy(this.#keys.counter, USER_NUMBER_BLOCK);
      if (last - USER_NUMBER_BLOCK < this.#highestNumber) {
        // The counter went back (Redis lost its data while we were linked):
        // raise it past every number we know of, then take a block.
        await this.#raiseCounter();
        last = await this.#commands.incrBy(this.#keys.counter, USER_NUMBER_BLOCK);
      }
      const first = last - USER_NUMBER_BLOCK + 1;
      this.#numbers = Array.from({ length: USER_NUMBER_BLOCK }, (_, i) => first + i);
      this.#saw(last);
    }
    return this.#numbers.shift() as number;
  }

  publish(event: ClusterEvent, to?: string): void {
    if (this.#linkUp) this.#channels.publish(event, to);
  }

  listen(room: string, here: boolean): void {
    this.#channels.listen(room, here);
  }

  claimName(key: string): Promise<boolean> {
    return this.#linkUp ? this.#names.claim(key) : Promise.resolve(false);
  }

  releaseName(key: string): void {
    this.#names.release(key, this.#linkUp);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    this.#stopEcho();
    if (this.#linkUp && this.#history) {
      await withTimeout(this.#history.close(), GOODBYE_TIMEOUT_MS).catch(() => {});
    }
    this.#channels.flush();
    if (this.#linkUp) await this.#sayGoodbye();
    this.#linkUp = false;
    await this.#redis?.close(GOODBYE_TIMEOUT_MS);
  }

  /** Tells the others we are leaving and frees our names, if Redis answers
   * in time: shutdown never waits on Redis for long. */
  async #sayGoodbye(): Promise<void> {
    const bye = JSON.stringify({ type: "bye", server: this.serverId });
    const goodbye = Promise.all([
      this.#redis.publish(CHANNEL, ENCODER.encode(bye)),
      this.#commands.del(this.#names.ours()),
    ]);
    await withTimeout(goodbye, GOODBYE_TIMEOUT_MS).catch(() => {});
  }

  #receive(message: string): void {
    for (const parsed of parseMessage(message)) {
      if (parsed.ok) this.#heard(parsed.event);
      else this.#dropped.drop(parsed.fault, this.#now());
    }
  }

  #heard(event: ClusterEvent): void {
    if (event.server === this.serverId) return this.#heardOwnEcho();
    if (event.type === "bye") this.#presence.forget(event.server);
    else this.#presence.heard(event.server, this.#now());
    if (event.type === "join") this.#saw(event.user.id);
    if (event.type === "roster") { for (const user of event.users) this.#saw(user.id); }
    this.#listener?.event(event);
  }

  #beat(): void {
    if (this.#redis.cluster) this.#watchClusterLink();
    if (!this.#linkUp) return;
    this.publish({ type: "heartbeat", server: this.serverId });
    this.#names.reassert().catch(() => {});
    // Not while our own link is down: then the silence is ours.
    for (const server of this.#presence.expire(this.#now())) this.#lost(server);
  }

  /** A server fell silent: its names are freed first, then its users are
   * announced as left, so a name is free the moment its owner is gone. */
  #lost(server: string): void {
    withTimeout(this.#names.free(server), GOODBYE_TIMEOUT_MS).catch(() => {}).finally(() =>
      this.#listener?.serverLost(server)
    );
  }

  /** Called on every connection event: the link is up only once both
   * connections are ready and our own echo came back through the channel. */
  #linkChanged(): void {
    if (this.#closed || !this.#subscribed) return;
    const ready = this.#redis.ready();
    if (!ready) {
      this.#stopEcho();
      return this.#setLink(false);
    }
    if (this.#linkUp || this.#awaitingEcho) return;
    this.#awaitingEcho = true;
    this.#sendEcho();
    this.#echoTimer = setInterval(() => this.#sendEcho(), ECHO_RETRY_MS);
  }

  /** A cluster's client reconnects to its nodes by itself and reports no
   * connection events: the link is taken as down once our own heartbeats
   * have not come back for a while, and up again once one does (with the
   * same re-assertions as after any outage). */
  #watchClusterLink(): void {
    if (this.#now() - this.#echoAt > CLUSTER_SILENCE_MS) {
      this.#setLink(false);
      this.#channels.renew().catch(() => {});
    }
    this.#linkChanged();
  }

  #stopEcho(): void {
    this.#awaitingEcho = false;
    clearInterval(this.#echoTimer);
    this.#echoTimer = undefined;
  }

  #sendEcho(): void {
    const echo = JSON.stringify({ type: "heartbeat", server: this.serverId });
    this.#redis.publish(CHANNEL, ENCODER.encode(echo)).catch(() => {});
  }

  /** Our subscription is back. Before the link counts as up (and new
   * numbers or names are handed out), our users' numbers and names are
   * re-asserted, in case Redis lost them; if that fails, the next echo
   * tries again. */
  #heardOwnEcho(): void {
    this.#echoAt = this.#now();
    if (!this.#awaitingEcho || this.#reasserting) return;
    this.#reasserting = true;
    const again = [this.#raiseCounter(), this.#names.reassert(), this.#channels.resubscribe()];
    withTimeout(Promise.all(again), GOODBYE_TIMEOUT_MS)
      .then(() => {
        if (!this.#awaitingEcho) return;
        this.#stopEcho();
        this.#setLink(true);
      }, () => {})
      .finally(() => (this.#reasserting = false));
  }

  /** Remembers the highest user number seen. */
  #saw(id: number): void {
    if (id > this.#highestNumber) this.#highestNumber = id;
  }

  async #raiseCounter(): Promise<void> {
    if (this.#highestNumber === 0) return;
    await this.#commands.eval(RAISE_COUNTER_SCRIPT, {
      keys: [this.#keys.counter],
      arguments: [String(this.#highestNumber)],
    });
  }

  #setLink(up: boolean): void {
    if (up === this.#linkUp) return;
    this.#linkUp = up;
    if (up) this.#presence.restartClocks(this.#now());
    this.#log(`[server] link to other servers ${up ? "up" : "lost"}`, {
      level: up ? "info" : "warn",
      event: "link",
      up,
    });
    this.#listener?.link(up);
  }
}
