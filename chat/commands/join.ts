/**
 * `/join ROOM`: moving between rooms, and the move itself, which kicks and
 * bans use too (to the lobby).
 *
 * @module
 */

import { type Effect, localOf, refuse, type Scene } from "../command.ts";
import type { ChatEvent } from "../events.ts";
import { atLeast } from "../community.ts";
import { LOBBY } from "../protocol.ts";
import type { Room, User } from "../registry.ts";
import { rankOf } from "./rank.ts";
import { awayChanged } from "./notify.ts";

/** `/join ROOM`: refused if already there or banned from it; a logged-in
 * user who opens a new room owns it. */
export function join<S>(scene: Scene<S>, user: User<S>, roomName: string): Effect<S>[] {
  if (user.room.name.toLowerCase() === roomName.toLowerCase()) {
    return refuse(user, { refusal: "already_in_room", room: user.room.name });
  }
  const banned = bannedFrom(scene, user, roomName);
  if (banned !== undefined) return banned;
  const effects = moveTo(scene, user, roomName);
  return [...effects, ...claimIfOpened(scene, user, user.room)];
}

/** The refusal when `user` is banned from `roomName`; none otherwise. The
 * owner and the server operators are never kept out: they can always come
 * in and lift a ban, whoever set it. */
export function bannedFrom<S>(
  scene: Scene<S>,
  user: User<S>,
  roomName: string,
): Effect<S>[] | undefined {
  const local = localOf(user);
  const ban = scene.community.roomBan(roomName, user.name, local.address, scene.clock.now());
  if (ban === undefined || atLeast(rankOf(scene, user, roomName), "owner")) return undefined;
  const { by, until, reason } = ban;
  const event = { type: "you_are_banned", place: roomName, by, until, reason } as const;
  return [{ type: "reply", to: user, events: [event] }];
}

/** A logged-in user who just opened `room` (it was empty) owns it, unless
 * someone does already. */
export function claimIfOpened<S>(scene: Scene<S>, user: User<S>, room: Room<S>): Effect<S>[] {
  const account = localOf(user).account;
  if (account === undefined || room.creator !== user.id || scene.community.keeps(room.name)) {
    return [];
  }
  const act = { kind: "claim", room: room.name, owner: account, by: user.name } as const;
  return [{ type: "act", act, by: user }];
}

/** Moves a local user to `roomName` and tells everyone concerned (the
 * caller has checked that they may go there). */
export function moveTo<S>(scene: Scene<S>, user: User<S>, roomName: string): Effect<S>[] {
  const from = scene.registry.move(user, roomName);
  const room = user.room;
  return [
    { type: "room", room: from, event: { type: "exit", name: user.name, room: from.name } },
    ...cameIn(scene, user, room, "move"),
  ];
}

/** `user` is in `room` now (moved, or entered as well): the room is told,
 * the user gets the room, its topic (and `extra`, made once the user's op
 * of a room it opened is set) and its recent lines, and the other servers
 * hear of it. */
export function cameIn<S>(
  scene: Scene<S>,
  user: User<S>,
  room: Room<S>,
  how: "move" | "enter",
  extra: () => ChatEvent[] = () => [],
): Effect<S>[] {
  const op = opened(scene, user, room);
  const events: ChatEvent[] = [
    { type: "room", room: room.name, users: room.users.size },
    ...topicOf(scene, room.name),
    ...extra(),
  ];
  return [
    {
      type: "room",
      room,
      event: { type: "enter", name: user.name, room: room.name },
      except: user,
    },
    { type: "reply", to: user, events },
    { type: "history", to: user, room: room.name },
    { type: "publish", event: { type: how, server: "", id: user.id, room: room.name, ...op } },
    // Someone away came in: who follows away states is told, here and
    // (after the move) on the other servers.
    ...(user.local?.away === undefined ? [] : awayChanged(user, room)),
  ];
}

/** `user` just opened `room` (nobody else is in it), which nobody owns:
 * it is the room's op, as on IRC (the lobby is the server operators'). */
function opened<S>(scene: Scene<S>, user: User<S>, room: Room<S>): { op?: true } {
  if (room.users.size !== 1 || room.name === LOBBY || scene.community.keeps(room.name)) return {};
  scene.registry.setOp(room, user, true);
  return { op: true };
}

/** The topic a newcomer to `room` gets, if it has one. */
export function topicOf<S>(scene: Scene<S>, room: string): ChatEvent[] {
  const state = scene.community.room(room);
  if (state === undefined || state.topic === "") return [];
  return [{ type: "topic", room: state.name, text: state.topic, by: state.topicBy }];
}
