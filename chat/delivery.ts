/**
 * Fan-out: putting encoded lines into the sinks of the users who should see
 * them. The hot path of the whole server.
 *
 * Each outgoing line is encoded once by the caller and the same bytes are
 * appended to every recipient's sink: no mailbox hop, promise or allocation
 * per recipient. Join and leave lines go through the `Announcer` and wait
 * for its batch; every other line flushes that batch first, so nobody ever
 * sees events out of order.
 *
 * Fairness: a burst from many senders can be read in one turn of the event
 * loop, and fanning it all out before any write completes would put readers
 * who keep up over their budget. So once some reader's queue is backlogged
 * (`Outbox`'s `BACKLOG_BYTES`), `breather()` gives the caller a promise to
 * await: the writes go out before more lines are handled, and meanwhile
 * the senders' sessions wait for room in the server's mailbox and stop
 * reading their sockets (back-pressure to the senders, not loss). Readers
 * who keep up never backlog, so steady traffic never pauses.
 *
 * @module
 */

import { Writes } from "../net/mod.ts";
import { Announcer } from "./announcer.ts";
import { type ChatEvent, isIrc, type Notify } from "./events.ts";
import type { ChatMetrics } from "./ports.ts";
import { Outgoing } from "./render.ts";
import type { Registry, Room, User } from "./registry.ts";

/** Options for {@linkcode Delivery}. */
export interface DeliveryOptions<S> {
  registry: Registry<S>;
  /** Called when a batch of announcements starts: flush in a moment. */
  scheduleFlush: () => void;
  metrics?: ChatMetrics;
  /** The clock, in ms: when events are rendered (`time`, ban lengths). */
  now?: () => number;
  /** The chat's writes, whose backlog mark `breather` reads. */
  writes?: Writes;
  /** The server's name to IRC clients. */
  ircName?: string;
}

/**
 * Sends events to users, each rendered once per face; see the module doc.
 *
 * @example
 * ```ts
 * import { Delivery } from "./delivery.ts";
 * import { Registry } from "./registry.ts";
 * const registry = new Registry();
 * const delivery = new Delivery({ registry, scheduleFlush: () => {} });
 * delivery.broadcast({ type: "shutdown" });
 * ```
 */
export class Delivery<S> {
  readonly #registry: Registry<S>;
  readonly #announcer = new Announcer<User<S>, ChatEvent>();
  readonly #scheduleFlush: () => void;
  readonly #metrics: ChatMetrics | undefined;
  readonly #now: () => number;
  readonly #writes: Writes;
  readonly #ircName: string | undefined;

  constructor(options: DeliveryOptions<S>) {
    this.#ircName = options.ircName;
    this.#writes = options.writes ?? new Writes();
    this.#registry = options.registry;
    this.#scheduleFlush = options.scheduleFlush;
    this.#metrics = options.metrics;
    this.#now = options.now ?? Date.now;
  }

  /** Queues a join or leave for the next batch; `newcomer` already has it
   * (and everything before it) in its roster. */
  announce(event: ChatEvent, newcomer?: User<S>): void {
    if (this.#announcer.add(event, newcomer)) this.#scheduleFlush();
  }

  /** Takes back `newcomer`'s join if nobody has seen it yet; true if so
   * (then its leave need not be announced either). */
  withdraw(newcomer: User<S>): boolean {
    return this.#announcer.withdraw(newcomer);
  }

  /** Sends waiting announcements now, ahead of any other line. */
  flush(): void {
    if (this.#announcer.pending) this.#deliverBatch(this.#announcer.take());
  }

  /** The scheduled flush fired. */
  flushDue(): void {
    this.#deliverBatch(this.#announcer.due());
  }

  /** A promise to await before handling more lines, if some reader's
   * queue is backlogged; undefined otherwise (the common case). */
  breather(): Promise<void> | undefined {
    return this.#writes.takeBacklog() ? this.#writes.afterPendingWrites() : undefined;
  }

  /** To every local user. */
  broadcast(event: ChatEvent): void {
    this.#broadcast(this.#out([event]));
  }

  #broadcast(out: Outgoing): void {
    this.#counted(out, fanOut(this.#registry.locals(), out, undefined));
  }

  /** To the local users in `room`, except `except`. */
  toRoom(room: Room<S>, event: ChatEvent, except?: User<S>): void {
    const out = this.#out([event], room.name);
    this.#counted(out, fanOut(room.users, out, except));
  }

  /** To the local users of every room `user` is in, once each. An IRC
   * client is not among them: its session answers its own `NICK`, also
   * when it is in no channel. */
  toRoomsOf(user: User<S>, event: ChatEvent): void {
    const local = user.local;
    const except = local !== undefined && isIrc(local.face) ? user : undefined;
    if (user.rooms.size === 1) return this.toRoom(user.room, event, except);
    const readers = new Set<User<S>>();
    for (const room of user.rooms) for (const other of room.users) readers.add(other);
    const out = this.#out([event]);
    this.#counted(out, fanOut(readers, out, except));
  }

  /** A leave as IRC shows it, a `QUIT`, to the IRC clients here that
   * shared one of `rooms` with the leaver (the announcement skips them). */
  quit(leave: ChatEvent, rooms: Room<S>[]): void {
    if (leave.type !== "leave") return;
    const readers = this.#registry.ircSharers(rooms);
    if (readers.length > 0) this.toUsers(readers, { ...leave, type: "quit" });
  }

  /** About `user`, to the local users of its rooms (or of `room`) whose
   * clients asked for `wants`, but `user`. */
  notify(user: User<S>, event: ChatEvent, wants: Notify, room?: Room<S>): void {
    const readers = new Set<User<S>>();
    for (const r of room === undefined ? user.rooms : [room]) {
      for (const other of r.users) if (other.local?.wants?.has(wants)) readers.add(other);
    }
    readers.delete(user);
    if (readers.size > 0) this.toUsers(readers, event);
  }

  /** To each local user of `users`. */
  toUsers(users: Iterable<User<S>>, event: ChatEvent): void {
    const out = this.#out([event]);
    this.#counted(out, fanOut(users, out, undefined));
  }

  /** Events to one local user (remote users are reached through their
   * server). */
  reply(user: User<S>, ...events: ChatEvent[]): void {
    const local = user.local;
    if (local === undefined || events.length === 0) return;
    const out = this.#out(events, user.room.name, user.name);
    local.sink.push(out.bytes(local.face));
    this.#counted(out, 1);
  }

  #out(events: readonly ChatEvent[], room?: string, reader?: string): Outgoing {
    return new Outgoing(events, this.#now(), room, reader, this.#ircName);
  }

  #counted(out: Outgoing, recipients: number): void {
    if (this.#metrics !== undefined && recipients > 0) {
      this.#metrics.sent(out.bytes("text"), recipients);
    }
  }

  /** Everyone gets the whole batch but the newcomers in it, who get only
   * what follows their own join. */
  #deliverBatch(batch: { items: ChatEvent[]; resumeAt: Map<User<S>, number> } | undefined): void {
    if (batch === undefined) return;
    const { items, resumeAt } = batch;
    const out = this.#out(items);
    if (resumeAt.size === 0) return this.#broadcast(out);
    let whole = 0;
    for (const user of this.#registry.locals()) {
      const local = user.local;
      if (local === undefined) continue;
      const from = resumeAt.get(user);
      if (from === undefined) {
        local.sink.push(out.bytes(local.face));
        whole++;
      } else if (from < items.length) {
        this.reply(user, ...items.slice(from));
      }
    }
    this.#counted(out, whole);
  }
}

/** Pushes `out` to every local user of `users` but `except`, in its face;
 * returns how many. The hot path: the text bytes (nearly every reader's)
 * are looked up once, not once per recipient. */
function fanOut<S>(users: Iterable<User<S>>, out: Outgoing, except: User<S> | undefined): number {
  let recipients = 0;
  let text: Uint8Array | undefined;
  for (const user of users) {
    const local = user.local;
    if (local === undefined || user === except) continue;
    const face = local.face;
    local.sink.push(face === "text" ? (text ??= out.bytes("text")) : out.bytes(face));
    recipients++;
  }
  return recipients;
}
