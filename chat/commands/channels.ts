/**
 * Being in several rooms at once, as IRC users are: entering a room
 * (`JOIN #games`) without leaving the others, parting one (`PART`), and
 * the lists IRC asks of one room by name (`NAMES`, `WHO`). Nobody types
 * these on the line protocol; its users `/join`, which moves.
 *
 * @module
 */

import { type Effect, refuse, reply, type Scene } from "../command.ts";
import { atLeast } from "../community.ts";
import type { ServerCommand } from "../commands.ts";
import { type ChatEvent, isIrc, type Person } from "../events.ts";
import type { User } from "../registry.ts";
import { bannedFrom, cameIn, claimIfOpened } from "./join.ts";
import { rankOf } from "./rank.ts";

/** The most rooms one user is in at once (IRC's `CHANLIMIT`). */
export const MAX_ROOMS = 50;

/** `JOIN #room`: in it too, unless already there or banned from it; a
 * logged-in user who opens a new room owns it. */
export function enter<S>(scene: Scene<S>, user: User<S>, roomName: string): Effect<S>[] {
  if (scene.registry.roomOf(user, roomName) !== undefined) return [];
  if (user.rooms.size >= MAX_ROOMS) {
    return refuse(user, { refusal: "too_many_rooms", room: roomName, max: MAX_ROOMS });
  }
  const banned = bannedFrom(scene, user, roomName);
  if (banned !== undefined) return banned;
  const room = scene.registry.enter(user, roomName);
  return [
    ...cameIn(scene, user, room, "enter", () => [names(scene, user)]),
    ...claimIfOpened(scene, user, room),
  ];
}

/** `PART #room [:reason]`: out of the room the command is about. */
export function part<S>(scene: Scene<S>, user: User<S>, reason: string): Effect<S>[] {
  return leaveRoom(scene, user, user.room.name, reason);
}

/** `JOIN 0`: out of every room. */
export function partAll<S>(scene: Scene<S>, user: User<S>): Effect<S>[] {
  return [...user.rooms].flatMap((room) => leaveRoom(scene, user, room.name));
}

/** Takes `user` out of `roomName`: the room (the user included) sees it
 * leave, and so do the other servers. */
export function leaveRoom<S>(
  scene: Scene<S>,
  user: User<S>,
  roomName: string,
  reason = "",
): Effect<S>[] {
  const room = scene.registry.roomOf(user, roomName);
  if (room === undefined) return refuse(user, { refusal: "not_on_channel", room: roomName });
  const event = { type: "exit", name: user.name, room: room.name, reason } as const;
  // The registry changes now and the effects run after: the room hears of
  // it without the user, who is told apart.
  scene.registry.part(user, room);
  const effects: Effect<S>[] = [{ type: "room", room, event }];
  if (user.local !== undefined) effects.push({ type: "reply", to: user, events: [event] });
  effects.push({
    type: "publish",
    event: { type: "part", server: "", id: user.id, room: room.name, reason },
  });
  return effects;
}

/** `NAMES #room` (or `WHO #room`, `detail`): who is in the room the
 * command is about, ops marked. */
export function listNames<S>(scene: Scene<S>, user: User<S>, detail: boolean): Effect<S>[] {
  if (!detail) return reply(user, names(scene, user));
  const room = user.room;
  const people = [...room.users].slice(0, MAX_PEOPLE).map((u) => person(scene, u, room.name));
  return reply(user, { type: "people", mask: channel(room.name), room: room.name, people });
}

/** The most users one `WHO` lists. */
const MAX_PEOPLE = 500;

/** `WHO MASK`: everyone whose name matches `mask` (`*` and `?` wildcards),
 * here and on linked servers. */
export function whoMask<S>(scene: Scene<S>, user: User<S>, mask: string): Effect<S>[] {
  const pattern = new RegExp(
    "^" + mask.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$",
    "i",
  );
  const people: Person[] = [];
  for (const name of scene.registry.names()) {
    if (people.length === MAX_PEOPLE) break;
    const other = pattern.test(name) ? scene.registry.named(name) : undefined;
    if (other !== undefined) people.push(person(scene, other));
  }
  return reply(user, { type: "people", mask, people });
}

/** `USERHOST` and `ISON`: those of `names` who are online, in the order
 * asked. */
export function lookup<S>(
  scene: Scene<S>,
  user: User<S>,
  names: string[],
  as: "userhost" | "ison",
): Effect<S>[] {
  const people = names.flatMap((name) => {
    const found = scene.registry.named(name);
    return found === undefined ? [] : [person(scene, found)];
  });
  return reply(user, { type: "people", mask: names.join(" "), people, as });
}

/** What `WHO` tells of `user` (an op of `room`, if one is asked about). */
function person<S>(scene: Scene<S>, user: User<S>, room?: string): Person {
  const local = user.local;
  return {
    name: user.name,
    ...(local?.ident ?? {}),
    away: (local?.away ?? user.away) !== undefined,
    oper: local?.oper === true,
    op: room !== undefined && atLeast(rankOf(scene, user, room), "op"),
  };
}

function channel(room: string): string {
  return `#${room}`;
}

function names<S>(scene: Scene<S>, user: User<S>) {
  const room = user.room;
  const names: string[] = [];
  const ops: string[] = [];
  for (const other of room.users) {
    names.push(other.name);
    if (atLeast(rankOf(scene, other, room.name), "op")) ops.push(other.name);
  }
  const stale = scene.link.linked && !scene.link.up;
  return {
    type: "who",
    room: room.name,
    names,
    online: scene.registry.size,
    stale,
    ops,
  } as const;
}

/** Makes `name` the room of what an IRC user sent (a line when `command`
 * is undefined): one of its own rooms, but for joining one and for
 * looking at one (its names, its topic). The refusal if it may not. */
export function focus<S>(
  scene: Scene<S>,
  user: User<S>,
  name: string,
  command?: ServerCommand,
): Effect<S>[] | undefined {
  if (command?.name === "enter") return undefined;
  const looking = command?.name === "names" || (command?.name === "topic" && command.text === "");
  const room = looking ? scene.registry.room(name) : scene.registry.roomOf(user, name);
  if (room !== undefined) {
    user.room = room;
    return undefined;
  }
  if (scene.registry.room(name) === undefined) {
    // NAMES of a channel nobody is in lists nobody.
    if (command?.name === "names") return reply(user, emptyNames(scene, name, command.detail));
    return refuse(user, { refusal: "no_such_channel", room: name });
  }
  return refuse(
    user,
    command === undefined ? { refusal: "cannot_send", room: name } : {
      refusal: "not_on_channel",
      room: name,
    },
  );
}

function emptyNames<S>(scene: Scene<S>, room: string, detail: boolean): ChatEvent {
  if (detail) return { type: "people", mask: channel(room), room, people: [] };
  const online = scene.registry.size;
  return { type: "who", room, names: [], online, stale: false, ops: [] };
}

/** Whether `user` is in any number of rooms (an IRC user, or a page that
 * opened more than one) rather than exactly one. */
export function inManyRooms<S>(user: User<S>): boolean {
  const face = user.local?.face;
  return face !== undefined && (isIrc(face) || (face === "json" && user.rooms.size > 1));
}
