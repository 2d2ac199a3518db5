/**
 * `/join ROOM`: moving between rooms, and the move itself, which kicks and
 * bans use too (to the lobby).
 *
 * @module
 */

import { type Effect, localOf, refuse, type Scene } from "../command.ts";
import type { ChatEvent } from "../events.ts";
import { atLeast } from "../community.ts";
import type { User } from "../registry.ts";
import { rankOf } from "./rank.ts";

/** `/join ROOM`: refused if already there or banned from it; a logged-in
 * user who opens a new room owns it. */
export function join<S>(scene: Scene<S>, user: User<S>, roomName: string): Effect<S>[] {
  if (user.room.name.toLowerCase() === roomName.toLowerCase()) {
    return refuse(user, { refusal: "already_in_room", room: user.room.name });
  }
  const local = localOf(user);
  const ban = scene.community.roomBan(roomName, user.name, local.address, scene.clock.now());
  // The owner and the server operators are never kept out: they can
  // always come in and lift a ban, whoever set it.
  if (ban !== undefined && !atLeast(rankOf(scene, user, roomName), "owner")) {
    const { by, until, reason } = ban;
    const event = { type: "you_are_banned", place: roomName, by, until, reason } as const;
    return [{ type: "reply", to: user, events: [event] }];
  }
  const effects = moveTo(scene, user, roomName);
  const account = local.account;
  const room = user.room;
  if (account !== undefined && room.creator === user.id && !scene.community.keeps(room.name)) {
    const act = { kind: "claim", room: room.name, owner: account, by: user.name } as const;
    effects.push({ type: "act", act, by: user });
  }
  return effects;
}

/** Moves a local user to `roomName` and tells everyone concerned (the
 * caller has checked that they may go there). */
export function moveTo<S>(scene: Scene<S>, user: User<S>, roomName: string): Effect<S>[] {
  const from = scene.registry.move(user, roomName);
  const room = user.room;
  const name = user.name;
  return [
    { type: "room", room: from, event: { type: "exit", name, room: from.name } },
    { type: "room", room, event: { type: "enter", name, room: room.name }, except: user },
    {
      type: "reply",
      to: user,
      events: [
        { type: "room", room: room.name, users: room.users.size },
        ...topicOf(scene, room.name),
      ],
    },
    { type: "history", to: user, room: room.name },
    { type: "publish", event: { type: "move", server: "", id: user.id, room: room.name } },
  ];
}

/** The topic a newcomer to `room` gets, if it has one. */
export function topicOf<S>(scene: Scene<S>, room: string): ChatEvent[] {
  const state = scene.community.room(room);
  if (state === undefined || state.topic === "") return [];
  return [{ type: "topic", room: state.name, text: state.topic, by: state.topicBy }];
}
