/**
 * The broker's two connections to Redis, made for what is at the URL: one
 * Redis server, or any node of a Redis Cluster (told apart by its answer to
 * `INFO cluster`). Everything else in `cluster/` uses them through this one
 * shape, whichever it is.
 *
 * In a cluster, pub/sub is sharded (`SPUBLISH`, `SSUBSCRIBE`): each channel
 * lives on the shard that owns its hash slot, so rooms spread over the
 * shards as keys do, and a line goes only to the shard of its room. Keys
 * that a script or a transaction touches together carry one hash tag (see
 * `keyPrefix`). The cluster client follows slots as they move and
 * reconnects to each node on its own; it reports no connection events, so
 * the broker watches its own heartbeats instead (see `redis_broker.ts`).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { createClient } from "redis";
import { type ClientOptions, CONNECT_TIMEOUT_MS, withTimeout } from "./redis_keys.ts";

/** A connection to one Redis server (the cluster's client is used through
 * the same command methods: they route each key to its node). */
export type RedisClient = ReturnType<typeof createClient>;

/** What a message listener is given: the message's bytes (undecoded, so
 * a server's own batches can be skipped unread). */
export type Listener = (message: Uint8Array) => void;

/** The broker's connections. */
export interface RedisConnections {
  /** Runs every command but the subscriptions. */
  readonly commands: RedisClient;
  /** Holds the subscriptions. */
  readonly subscriber: RedisClient;
  /** A Redis Cluster (sharded pub/sub, tagged keys) rather than one server. */
  readonly cluster: boolean;
  /** Whether both connections are usable now. */
  ready(): boolean;
  publish(channel: string, message: Uint8Array): Promise<unknown>;
  subscribe(channels: string[], listener: Listener): Promise<unknown>;
  unsubscribe(channels: string[], listener: Listener): Promise<unknown>;
  /** Closes both: politely if they answer, at once if not. */
  close(timeoutMs: number): Promise<void>;
}

/** What the connections tell the broker. */
export interface ConnectionHooks {
  /** The client library's latest error (it reconnects by itself). */
  error(error: unknown): void;
  /** A connection became ready, or stopped being (one Redis server only). */
  changed(): void;
}

/** The prefix of every key but history's: in a cluster, one hash tag, so
 * that the names a dead server held and the list of them, or a room and
 * the list of rooms, can be changed in one script. */
export function keyPrefix(cluster: boolean): string {
  return cluster ? "{marquee}:" : "marquee:";
}

/**
 * Connects to the Redis at `options.url`, or throws (within the connect
 * timeout). `probe` is run on a first connection to that node before the
 * others are made (the persistence check).
 */
export async function connect(
  options: ClientOptions,
  hooks: ConnectionHooks,
  probe: (client: RedisClient) => Promise<void>,
): Promise<RedisConnections> {
  const redis = await import("redis");
  const first = redis.createClient(options);
  first.on("error", hooks.error);
  let cluster: boolean;
  try {
    await withTimeout(first.connect(), CONNECT_TIMEOUT_MS);
    cluster = /^cluster_enabled:1/m.test(await first.info("cluster"));
    await probe(first);
  } finally {
    await first.disconnect().catch(() => {});
  }
  return cluster
    ? await clusterConnections(options, hooks)
    : await serverConnections(options, hooks);
}

async function serverConnections(
  options: ClientOptions,
  hooks: ConnectionHooks,
): Promise<RedisConnections> {
  const { createClient } = await import("redis");
  const commands = createClient(options);
  const subscriber = createClient(options);
  for (const client of [commands, subscriber]) {
    client.on("error", hooks.error);
    client.on("ready", hooks.changed);
    client.on("reconnecting", hooks.changed);
    client.on("end", hooks.changed);
  }
  const connections: RedisConnections = {
    commands,
    subscriber,
    cluster: false,
    ready: () => commands.isReady && subscriber.isReady,
    publish: (channel, message) => commands.publish(channel, asBuffer(message)),
    subscribe: (channels, listener) => subscriber.subscribe(channels, listener, true),
    unsubscribe: (channels, listener) => subscriber.unsubscribe(channels, listener, true),
    close: (ms) => closeAll([subscriber, commands], ms),
  };
  await opened(Promise.all([commands.connect(), subscriber.connect()]), connections);
  return connections;
}

async function clusterConnections(
  options: ClientOptions,
  hooks: ConnectionHooks,
): Promise<RedisConnections> {
  const { createCluster } = await import("redis");
  const { url, ...defaults } = options;
  const { username, password } = new URL(url);
  const make = () =>
    createCluster({
      rootNodes: [{ url }],
      defaults: {
        ...defaults,
        ...(username === "" ? {} : { username: decodeURIComponent(username) }),
        ...(password === "" ? {} : { password: decodeURIComponent(password) }),
      },
    });
  const commands = make();
  const subscriber = make();
  for (const client of [commands, subscriber]) client.on("error", hooks.error);
  const connections: RedisConnections = {
    // The cluster's client has the same command methods, routed by key.
    commands: commands as unknown as RedisClient,
    subscriber: subscriber as unknown as RedisClient,
    cluster: true,
    ready: () => commands.isOpen && subscriber.isOpen,
    publish: (channel, message) => commands.sPublish(channel, asBuffer(message)),
    // One channel a command: channels in different slots cannot share one.
    subscribe: (channels, listener) =>
      Promise.all(channels.map((channel) => subscriber.sSubscribe(channel, listener, true))),
    unsubscribe: (channels, listener) =>
      Promise.all(channels.map((channel) => subscriber.sUnsubscribe(channel, listener, true))),
    close: async (ms) => {
      for (const client of [subscriber, commands]) {
        await withTimeout(client.quit(), ms).catch(() => client.disconnect().catch(() => {}));
      }
    },
  };
  await opened(Promise.all([commands.connect(), subscriber.connect()]), connections);
  return connections;
}

/** Waits for the connections to open; closes them if they do not in time. */
async function opened(connecting: Promise<unknown>, connections: RedisConnections): Promise<void> {
  try {
    await withTimeout(connecting, CONNECT_TIMEOUT_MS);
  } catch (error) {
    await connections.close(0);
    throw error;
  }
}

/** Closes each client: QUIT if it is ready (within `ms`), else at once: a
 * client that is reconnecting or stuck would hold QUIT forever. */
async function closeAll(clients: RedisClient[], ms: number): Promise<void> {
  for (const client of clients) {
    if (!client.isOpen) continue;
    const polite = client.isReady && ms > 0 ? withTimeout(client.quit(), ms) : undefined;
    await (polite ?? Promise.reject()).catch(() => client.disconnect().catch(() => {}));
  }
}

/** The bytes as the client library takes them, without a copy. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
