/**
 * What the people a ban, a mute or a kick concerns are shown, here: the
 * room sees it, the target is told, and leaves the room if it must. Each
 * server shows an act to its own users (see `acts.ts`).
 *
 * @module
 */

import type { Effect, Scene } from "./command.ts";
import type { Sanction } from "./community.ts";
import { LOBBY } from "./protocol.ts";
import type { User } from "./registry.ts";
import { isLoopback } from "../net/mod.ts";
import { inManyRooms, leaveRoom } from "./commands/channels.ts";
import { moveTo } from "./commands/join.ts";

/** A ban in `room` ("": the server) as shown. */
export function showBan<S>(scene: Scene<S>, room: string, ban: Sanction): Effect<S>[] {
  if (ban.label !== undefined) return []; // an address kept with a name's ban: no news
  const { by, until, reason } = ban;
  const event = {
    type: "banned",
    room,
    name: shown(scene, ban.target),
    by,
    until,
    reason,
  } as const;
  const effects: Effect<S>[] = room === ""
    ? [{ type: "everyone", event }]
    : toRoom(scene, room, event);
  const place = room === "" ? "this server" : room;
  for (const user of localsMatching(scene, room, ban.target)) {
    effects.push(...keepAddress(room, ban, user));
    if (room === "") {
      const now = scene.clock.now();
      const notice = { refusal: "banned_off", place, by, until, now, reason } as const;
      effects.push({ type: "disconnect", user, notice, reason: `banned by ${by}` });
    } else {
      effects.push({
        type: "reply",
        to: user,
        events: [{ type: "you_are_banned", place, by, until, reason }],
      });
      effects.push(...sendAway(scene, user, room, `banned by ${by}`));
    }
  }
  return effects;
}

/** A name's ban also keeps out the address its holder connected from
 * (recorded by that user's server, the only one that knows it), so a
 * reconnect under a new name does not get round it. */
function keepAddress<S>(room: string, ban: Sanction, user: User<S>): Effect<S>[] {
  const address = user.local?.address;
  // Not a loopback address: behind a local proxy everyone has it.
  if (address === undefined || ban.target === address || isLoopback(address)) return [];
  const sanction = { ...ban, target: address, label: ban.target };
  return [{ type: "act", act: { kind: "ban", room, sanction } }];
}

/** A mute in `room` as shown. */
export function showMute<S>(scene: Scene<S>, room: string, mute: Sanction): Effect<S>[] {
  const { by, until, reason } = mute;
  const effects = toRoom(scene, room, {
    type: "muted",
    room,
    name: shown(scene, mute.target),
    by,
    until,
    reason,
  });
  const target = scene.registry.named(mute.target);
  if (target?.local !== undefined) {
    effects.push({
      type: "reply",
      to: target,
      events: [{ type: "you_are_muted", room, by, until, reason }],
    });
  }
  return effects;
}

/** A kick from `room` as shown. */
export function showKick<S>(
  scene: Scene<S>,
  room: string,
  name: string,
  by: string,
  reason: string,
): Effect<S>[] {
  const effects = toRoom(scene, room, {
    type: "kicked",
    room,
    name: shown(scene, name),
    by,
    reason,
  });
  const target = scene.registry.named(name);
  const from = target === undefined ? undefined : scene.registry.roomOf(target, room);
  if (target === undefined || from === undefined) return effects;
  // Out of the room here and now, quietly: the kick said so, and the leave
  // its server publishes (a part, or a move) then shows nothing more to the
  // room (IRC clients would read a PART after the KICK). Not a line user
  // kicked from the lobby: it is disconnected, and its leave is news (for
  // another server's user, whose kind is not known here, the same holds).
  const quietly = target.local === undefined
    ? from.name !== LOBBY
    : target.room.name !== LOBBY || inManyRooms(target);
  if (quietly) scene.registry.part(target, from);
  if (target.local === undefined) return effects;
  if (inManyRooms(target)) {
    // Out of that channel only; the KICK line tells the client.
    effects.push({
      type: "reply",
      to: target,
      events: [{ type: "you_were_kicked", room, by, reason }],
    });
    effects.push({
      type: "publish",
      event: { type: "part", server: "", id: target.id, room, reason },
    });
    return effects;
  }
  if (target.room.name === LOBBY) {
    const notice = { refusal: "kicked_off", by, reason } as const;
    effects.push({ type: "disconnect", user: target, notice, reason: `kicked by ${by}` });
    return effects;
  }
  effects.push({
    type: "reply",
    to: target,
    events: [{ type: "you_were_kicked", room, by, reason }],
  });
  effects.push(...moveTo(scene, target, LOBBY));
  return effects;
}

/** Local users a ban on `target` (a name or an address) in `room` ("":
 * the server) reaches now. */
function localsMatching<S>(scene: Scene<S>, room: string, target: string): User<S>[] {
  const users = room === "" ? scene.registry.locals() : scene.registry.room(room)?.users;
  return [...(users ?? [])].filter((u) =>
    u.local !== undefined && (u.name.toLowerCase() === target || u.local.address === target)
  );
}

/** `event` to everyone in the room called `name`, if it exists. */
export function toRoom<S>(
  scene: Scene<S>,
  name: string,
  event: Extract<Effect<S>, { type: "room" }>["event"],
): Effect<S>[] {
  const room = scene.registry.room(name);
  return room === undefined ? [] : [{ type: "room", room, event }];
}

/** A name as shown: the online user's spelling, else as given. */
export function shown<S>(scene: Scene<S>, name: string): string {
  return scene.registry.named(name)?.name ?? name;
}

/** A user banned from `room` leaves it: an IRC user parts that channel;
 * anyone else goes to the lobby. */
function sendAway<S>(scene: Scene<S>, user: User<S>, room: string, reason: string): Effect<S>[] {
  if (inManyRooms(user)) return leaveRoom(scene, user, room, reason);
  return moveTo(scene, user, LOBBY);
}
