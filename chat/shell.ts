/**
 * The shell around the chat's pure core: it carries out the `Effect`s
 * that handlers return, in order. Deliveries go through `Delivery`,
 * publishes and name claims through the `Link`, history through
 * `RoomHistory`, slow work through `runTask`, and whatever comes back
 * later (a claim's answer, a task's result, a networked store's lines, a
 * timer) comes back to the chat server as a message, never as a callback
 * into the core.
 *
 * @module
 */

import { type Context, unreachable } from "../actors/mod.ts";
import type { Effect, Scene } from "./command.ts";
import { depart } from "./commands/connect.ts";
import { perform } from "./commands/mod.ts";
import type { Delivery } from "./delivery.ts";
import type { ChatEvent, Refusal } from "./events.ts";
import type { RoomHistory } from "./history.ts";
import type { Link } from "./link.ts";
import type { ChatMetrics, Log } from "./ports.ts";
import type { User } from "./registry.ts";
import { render } from "./render.ts";
import type { ChatServerMessage, SessionAddress } from "./server_api.ts";
import { runTask, type TaskPorts } from "./tasks.ts";

type ChatUser = User<SessionAddress>;
type ChatEffect = Effect<SessionAddress>;

/** What the shell works with. */
export interface ShellParts {
  scene: Scene<SessionAddress>;
  delivery: Delivery<SessionAddress>;
  link: Link;
  history: RoomHistory | undefined;
  tasks: TaskPorts;
  log: Log;
  metrics: ChatMetrics | undefined;
  now: () => number;
  claimTimeoutMs: number;
  whoisTimeoutMs: number;
}

/** Carries out effects; see the module doc. */
export class Shell {
  readonly #p: ShellParts;
  /** Set once the chat server has started: its timers and its mailbox. */
  #ctx: Context<ChatServerMessage> | undefined;
  /** While the server shuts down, leaves are not announced. */
  shuttingDown = false;

  constructor(parts: ShellParts) {
    this.#p = parts;
  }

  /** The chat server's context, for timers and messages to itself. */
  attach(ctx: Context<ChatServerMessage>): void {
    this.#ctx = ctx;
  }

  /** Carries out a handler's effects, in order. */
  run(effects: ChatEffect[]): void {
    for (const effect of effects) this.#carryOut(effect);
  }

  #carryOut(effect: ChatEffect): void {
    switch (effect.type) {
      case "reply":
        return this.#p.delivery.reply(effect.to, ...effect.events);
      case "room":
        return this.#p.delivery.toRoom(effect.room, effect.event, effect.except);
      case "rooms":
        return this.#p.delivery.toRoomsOf(effect.user, effect.event);
      case "everyone":
        return this.#p.delivery.broadcast(effect.event);
      case "notify":
        return this.#p.delivery.notify(effect.user, effect.event, effect.wants, effect.room);
      case "announce":
        return this.#p.delivery.announce(effect.event, effect.newcomer);
      case "farewell":
        this.#p.delivery.quit(effect.event, effect.rooms);
        if (!this.#p.delivery.withdraw(effect.user)) this.#p.delivery.announce(effect.event);
        return;
      case "turn_away":
        effect.sink.push(render(effect.face, [effect.event], this.#p.now()));
        return void effect.sink.close({ flushMs: 1_000 });
      case "publish":
        return this.#p.link.publish(effect.event, effect.to);
      case "keep": {
        const { room, from, text, action } = effect;
        if (effect.remote) return this.#p.history?.keepRemote(room, from, text, action);
        return this.#p.history?.keep(room, from, text, action);
      }
      case "history":
        return this.#replay(effect);
      case "act":
        return this.run(perform(this.#p.scene, effect.act, effect.by, effect.then));
      case "disconnect":
        return this.#disconnect(effect.user, effect.notice, effect.reason);
      case "renamed":
        return void effect.user.local?.session.send({ type: "renamed", name: effect.name })
          .catch(noop);
      case "claim":
        return this.#claim(effect.user, effect.name, effect.token);
      case "release":
        return this.#p.link.release(effect.key);
      case "task":
        return this.#startTask(effect);
      case "whois_timer": {
        const { asker, target, token } = effect;
        return this.#later(this.#p.whoisTimeoutMs, { type: "whois_expired", asker, target, token });
      }
      case "log":
        return this.#p.log(effect.line, effect.fields);
      default:
        return unreachable(effect);
    }
  }

  /** A room's replay on entering it, or a `/history` page: now, or once a
   * networked store answers (through the mailbox: a handler never waits). */
  #replay(effect: Extract<ChatEffect, { type: "history" }>): void {
    const history = this.#p.history;
    if (history === undefined) return;
    const { to, room, page } = effect;
    const events = page === undefined ? history.onJoin(room, to) : history.page(room, to, page);
    if (Array.isArray(events)) return this.#p.delivery.reply(to, ...events);
    this.#deliverLater(to, events);
  }

  /** Sends the claim and carries on: its answer, or its time running out,
   * comes back as a message. If the server is gone, a granted name is
   * given back. */
  #claim(user: ChatUser, name: string, token: number): void {
    const id = user.id;
    const answer = (granted: boolean): void => {
      const self = this.#ctx?.address;
      const giveBack = (): void => {
        if (granted) this.#p.link.release(name.toLowerCase());
      };
      if (self === undefined) return giveBack();
      self.send({ type: "claim_answer", id, token, name, granted }).catch(giveBack);
    };
    this.#p.link.claim(name.toLowerCase()).then(answer, () => answer(false));
    this.#later(this.#p.claimTimeoutMs, { type: "claim_expired", id, token });
  }

  #startTask(effect: Extract<ChatEffect, { type: "task" }>): void {
    const id = effect.user?.id ?? 0;
    runTask(effect.task, this.#p.tasks).then((done) =>
      this.#ctx?.address.send({ type: "task_done", id, done })
    ).catch(noop);
  }

  /** Disconnects a local user on the server's initiative (a kill, a server
   * ban): `notice` to them, then their leave, with `reason`, to everyone. */
  #disconnect(user: ChatUser, notice: Refusal, reason: string): void {
    const sink = user.local?.sink;
    if (sink === undefined) return;
    this.#p.delivery.reply(user, { type: "refusal", refusal: notice });
    this.leave(user.id, reason, `kicked: ${reason}`);
    this.#p.metrics?.kicked(reason.startsWith("killed") ? "killed" : "banned");
    void sink.close({ flushMs: 1_000 });
  }

  leave(id: number, reason: string | undefined, cause: string | undefined): void {
    const user = this.#p.scene.registry.user(id);
    if (user?.local === undefined) return;
    this.run(depart(this.#p.scene, user, reason, cause, this.shuttingDown));
  }

  /** Sends `events` to `user` once they are ready, through the mailbox (a
   * handler never waits for a store). */
  #deliverLater(user: ChatUser, events: Promise<ChatEvent[]>): void {
    const id = user.id;
    events.then((ready) => this.#ctx?.address.send({ type: "deliver", id, events: ready }))
      .catch(noop);
  }

  #later(ms: number, message: ChatServerMessage): void {
    this.#ctx?.runLater(ms, message);
  }
}

function noop(): void {}
