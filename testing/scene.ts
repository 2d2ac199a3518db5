/**
 * A chat in memory for command tests: a `Scene` with a registry, a
 * community, a fake clock and a link state the test sets, and users made
 * with the rank the test needs. Handlers are called directly and their
 * effects read back; no actor, socket or store is involved.
 *
 * @module
 */

import type { Effect, Scene } from "../chat/command.ts";
import { type Act, Community, FailureLimit } from "../chat/community.ts";
import { type ChatEvent, type Refusal, refusalText } from "../chat/events.ts";
import { Registry, type User } from "../chat/registry.ts";
import { textLines } from "../chat/render.ts";
import type { Task } from "../chat/tasks.ts";
import { FakeClock } from "./fake_clock.ts";
import { FakeSink } from "./fake_sink.ts";

/** The fake clock's start. */
export const T0 = Date.parse("2026-12-04T12:00:00Z");

/** A scene whose link state and store presence a test may change. */
export interface TestScene extends Scene<undefined> {
  clock: FakeClock;
  link: { linked: boolean; up: boolean };
  accounts: boolean;
  history: boolean;
  operators: Map<string, string>;
  /** The last user number given out. */
  lastId: number;
}

/** A fresh chat with nobody in it. */
export function testScene(): TestScene {
  return {
    registry: new Registry<undefined>(),
    community: new Community(),
    link: { linked: false, up: true },
    clock: new FakeClock(T0),
    history: true,
    accounts: true,
    operators: new Map(),
    logins: {
      byAccount: new FailureLimit({ burst: 5, refillMs: 12_000 }),
      byAddress: new FailureLimit({ burst: 20, refillMs: 3_000 }),
      registrations: new FailureLimit({ burst: 3, refillMs: 20 * 60_000 }),
      exemptLoopback: true,
    },
    whois: { asked: new Map(), lastToken: 0 },
    claims: { lastToken: 0 },
    lastId: 0,
  };
}

/** What a test user is: where, logged in as what, an operator or not. */
export interface UserSpec {
  room?: string;
  /** Logged in to this account (registered in the community). */
  account?: string;
  oper?: boolean;
  address?: string;
  secure?: boolean;
  /** An IRC client, in these rooms (and no other: none if empty). */
  irc?: string[];
}

/** Adds a local user named `name`. */
export function addUser(scene: TestScene, name: string, spec: UserSpec = {}): User<undefined> {
  const id = ++scene.lastId;
  const local = {
    sink: new FakeSink(),
    face: spec.irc ? "irc" as const : "text" as const,
    assigned: `user${id}`,
    session: undefined,
    address: spec.address ?? `10.0.0.${id}`,
    secure: spec.secure ?? true,
    activeAt: scene.clock.now(),
    account: spec.account?.toLowerCase(),
    oper: spec.oper,
  };
  if (spec.account !== undefined) scene.community.setRegistered(spec.account, true);
  const user = scene.registry.add({ id, name, server: "here", local }, spec.irc ?? "lobby");
  if (user === undefined) throw new Error(`user ${id} added twice`);
  if (spec.room !== undefined) scene.registry.move(user, spec.room);
  return user;
}

/** Makes `room` registered, owned by `owner` (an account), with `ops`. */
export function ownRoom(scene: TestScene, room: string, owner: string, ops: string[] = []): void {
  scene.community.setRegistered(owner, true);
  scene.community.claim(room, owner.toLowerCase());
  for (const op of ops) {
    scene.community.setRegistered(op, true);
    scene.community.setOp(room, op.toLowerCase(), true);
  }
}

/** The refusals among `effects`, as their kinds. */
export function refusals<S>(effects: Effect<S>[]): Refusal["refusal"][] {
  return repliedEvents(effects).flatMap((e) => e.type === "refusal" ? [e.refusal.refusal] : []);
}

/** The first refusal's sentence, as the user reads it. */
export function refusalLine<S>(effects: Effect<S>[]): string | undefined {
  for (const event of repliedEvents(effects)) {
    if (event.type === "refusal") return refusalText(event.refusal);
  }
  return undefined;
}

/** The acts among `effects`. */
export function acts<S>(effects: Effect<S>[]): Act[] {
  return effects.flatMap((e) => e.type === "act" ? [e.act] : []);
}

/** The tasks among `effects`. */
export function tasks<S>(effects: Effect<S>[]): Task[] {
  return effects.flatMap((e) => e.type === "task" ? [e.task] : []);
}

/** Every event replied to one user, in order. */
export function repliedEvents<S>(effects: Effect<S>[]): ChatEvent[] {
  return effects.flatMap((e) => e.type === "reply" ? e.events : []);
}

/** The text lines `effects` reply, as an nc user reads them. */
export function repliedLines<S>(effects: Effect<S>[], now = T0): string[] {
  return repliedEvents(effects).flatMap((event) => textLines(event, now));
}
