/**
 * Which Redis channel carries each event between linked servers, and this
 * server's subscriptions, so that a server pays only for the rooms its own
 * users are in.
 *
 * - A room's chat lines and actions go on that room's channel
 *   (`marquee:lines:<room>`), which a server hears only while it has a user
 *   in the room.
 * - What is meant for one server (a private message to its user, a
 *   `/whois` question or answer) goes on that server's channel.
 * - Everything else (joins, leaves, moves, renames, rosters, heartbeats,
 *   acts) is small and every server needs it to know who is where: it
 *   stays on the control channel, `marquee:events`.
 *
 * One connection publishes everything, in order, and Redis delivers what one
 * subscriber hears in the order it was published, across channels: so a
 * sender's lines keep their order, and a move published before a line is
 * heard before it.
 *
 * Batches: the events of one turn of the event loop that go on the same
 * channel, one after another, are published as one message
 * (`{"server":ID,"events":[...]}`, at most 256 KiB), so a busy room costs
 * one PUBLISH, one delivery by Redis and one parse per turn rather than per
 * line. A batch ends where the channel changes, which keeps the order
 * above. A server skips its own batches unread (Redis sends them back to
 * it when it hears that room too).
 *
 * The subscribe race: when a user of ours enters a room we had no user in,
 * we subscribe to its channel, and everything we publish waits until Redis
 * has confirmed that subscription (or 2 s have passed). The move into the
 * room is among what waits; so every other server learns of our user in the
 * room only after we hear the room, and any line it sends there once it
 * knows reaches our user.
 *
 * @module
 */

import { clearImmediate, setImmediate } from "node:timers";
import type { ClusterEvent } from "../chat/ports.ts";
import type { RedisConnections } from "./redis_clients.ts";
import { CHANNEL, withTimeout } from "./redis_keys.ts";

/** A room's channel, by its lower-cased name. */
export const ROOM_CHANNEL_PREFIX = "marquee:lines:";
/** One server's channel, by its id. */
export const SERVER_CHANNEL_PREFIX = "marquee:server:";
/** How long publishes wait for a room's subscription to be confirmed. */
const SUBSCRIBE_TIMEOUT_MS = 2_000;
const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
/** A batch is sent once it holds this many characters of JSON. */
const BATCH_CHARS = 256 * 1024;

/**
 * The channel `event` goes on (`to`: the one server it is meant for).
 *
 * @example
 * ```ts
 * import { channelOf } from "./redis_channels.ts";
 * channelOf({ type: "say", server: "a", id: 1, text: "hi", room: "Games" }); // "marquee:lines:games"
 * channelOf({ type: "heartbeat", server: "a" }); // "marquee:events"
 * ```
 */
export function channelOf(event: ClusterEvent, to?: string): string {
  if (to !== undefined) return SERVER_CHANNEL_PREFIX + to;
  const room = event.type === "say" || event.type === "me" || event.type === "tagmsg"
    ? event.room
    : undefined;
  return room === undefined ? CHANNEL : roomChannel(room);
}

/** The channel of the room called `room` (any case). */
export function roomChannel(room: string): string {
  return ROOM_CHANNEL_PREFIX + room.toLowerCase();
}

/** What the channels need of the broker. */
export interface ChannelClients {
  /** The broker's connections (once it has them). */
  redis: () => RedisConnections;
  /** Every message heard from the others, on any of our channels. */
  receive: (message: string) => void;
  /** One of our own batches came back. */
  ours: () => void;
}

/**
 * This server's channels: the two it always hears, the rooms it has users
 * in, and the publishes held while a room's subscription is on its way.
 *
 * @example
 * ```ts ignore
 * const channels = new RedisChannels("a1", { commands, subscriber, receive });
 * await channels.start();
 * channels.listen("games", true);
 * channels.publish({ type: "say", server: "a1", id: 1, text: "hi", room: "games" });
 * ```
 */
export class RedisChannels {
  readonly #clients: ChannelClients;
  /** The channels every server of ours hears. */
  readonly #always: string[];
  /** The room channels we want: rooms with a user of ours. */
  readonly #wanted = new Set<string>();
  /** The room channels Redis confirmed and we have not left. */
  readonly #heard = new Set<string>();
  /** Publishes held (channel, message) while subscriptions are under way. */
  #held: [string, string][] = [];
  #subscribing = 0;
  /** How each of our batches begins: what marks one heard back. */
  readonly #prefix: string;
  /** The batch being gathered: its channel, and its events' JSON. */
  #channel = "";
  #batch: string[] = [];
  #batchChars = 0;
  #flushing: ReturnType<typeof setImmediate> | undefined;
  /** Our batches' first bytes, to know one heard back without decoding it. */
  readonly #prefixBytes: Uint8Array;
  readonly #listener = (message: Uint8Array) => this.#hear(message);

  constructor(serverId: string, clients: ChannelClients) {
    this.#clients = clients;
    this.#always = [CHANNEL, SERVER_CHANNEL_PREFIX + serverId];
    this.#prefix = `{"server":${JSON.stringify(serverId)},"events":[`;
    this.#prefixBytes = ENCODER.encode(this.#prefix);
  }

  /** A message heard: one of our batches (skipped unread), or the others'. */
  #hear(message: Uint8Array): void {
    if (startsWith(message, this.#prefixBytes)) return this.#clients.ours();
    this.#clients.receive(DECODER.decode(message));
  }

  /** Subscribes to the control channel and our own. */
  async start(): Promise<void> {
    await this.#clients.redis().subscribe(this.#always, this.#listener);
  }

  /** Publishes `event` on its channel, in a batch sent at the end of this
   * turn, and after the subscriptions under way (see the module doc). */
  publish(event: ClusterEvent, to?: string): void {
    const channel = channelOf(event, to);
    if (channel !== this.#channel) this.flush();
    const json = JSON.stringify(event);
    this.#channel = channel;
    this.#batch.push(json);
    this.#batchChars += json.length;
    if (this.#batchChars >= BATCH_CHARS) this.flush();
    // Not setTimeout: its 1-4 ms would be added to every line between
    // servers; an immediate runs once this turn's input is handled.
    else this.#flushing ??= setImmediate(() => this.flush());
  }

  /** Sends the batch gathered so far (or holds it: see `publish`). */
  flush(): void {
    if (this.#flushing !== undefined) clearImmediate(this.#flushing);
    this.#flushing = undefined;
    if (this.#batch.length === 0) return;
    const message = this.#prefix + this.#batch.join(",") + "]}";
    const channel = this.#channel;
    this.#batch = [];
    this.#batchChars = 0;
    if (this.#subscribing > 0) this.#held.push([channel, message]);
    else this.#send(channel, message);
  }

  /** We have a user in `room` now (`here`), or no longer. */
  listen(room: string, here: boolean): void {
    const channel = roomChannel(room);
    if (here) {
      if (this.#wanted.has(channel)) return;
      this.#wanted.add(channel);
      // While the link is down, `resubscribe` does it when it returns.
      if (this.#clients.redis().ready()) this.#subscribe([channel]);
      return;
    }
    if (!this.#wanted.delete(channel) || !this.#clients.redis().ready()) return;
    this.#unsubscribe([channel]);
  }

  /** After the link returned: hears every room wanted, and leaves any
   * heard that no longer is (a user left while the link was down). The
   * client library resubscribes what it knew; this adds what it missed. */
  async resubscribe(): Promise<void> {
    const gone = [...this.#heard].filter((channel) => !this.#wanted.has(channel));
    if (gone.length > 0) this.#unsubscribe(gone);
    const wanted = [...this.#wanted];
    await this.#clients.redis().subscribe([...this.#always, ...wanted], this.#listener);
    for (const channel of wanted) this.#heard.add(channel);
  }

  /** Subscribes again from scratch: a cluster's node that came back may
   * have lost our subscriptions while its client takes them for whole. */
  async renew(): Promise<void> {
    const all = [...this.#always, ...this.#wanted];
    await this.#clients.redis().unsubscribe(all, this.#listener).catch(() => {});
    await this.#clients.redis().subscribe(all, this.#listener);
  }

  #subscribe(channels: string[]): void {
    // What was gathered before goes first: it does not wait for this room.
    this.flush();
    this.#subscribing++;
    const subscribed = this.#clients.redis().subscribe(channels, this.#listener)
      .then(() => channels.forEach((channel) => this.#heard.add(channel)));
    withTimeout(subscribed, SUBSCRIBE_TIMEOUT_MS).catch(() => {}).finally(() => this.#settled());
  }

  #unsubscribe(channels: string[]): void {
    this.#clients.redis().unsubscribe(channels, this.#listener)
      .then(() => channels.forEach((channel) => this.#heard.delete(channel)))
      .catch(() => {});
  }

  /** A subscription is confirmed (or gave up): once none is under way, the
   * held publishes go, in order. */
  #settled(): void {
    if (--this.#subscribing > 0) return;
    const held = this.#held;
    this.#held = [];
    for (const [channel, message] of held) this.#send(channel, message);
  }

  #send(channel: string, message: string): void {
    // As bytes: the client library's own encoding of a long string costs
    // several times the runtime's (measured: 5% of a linked server's CPU).
    this.#clients.redis().publish(channel, ENCODER.encode(message)).catch(() => {});
  }
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}
