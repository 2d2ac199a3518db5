/**
 * The other servers' users, as this server sees them: their (already
 * validated) events applied to the registry, and what local users are
 * shown, as effects.
 *
 * Rosters replace, never merge: when a server sends its full roster (on
 * linking, or after an outage), every user we held for it that the roster
 * does not list is shown as left, and every listed one we did not know is
 * shown as joined.
 *
 * @module
 */

import { unreachable } from "../../actors/mod.ts";
import type { Effect, Scene } from "../command.ts";
import { type ChatEvent, type LineTags, noticed } from "../events.ts";
import type { ClusterEvent, RemoteUser } from "../ports.ts";
import type { User } from "../registry.ts";
import { news } from "./notify.ts";

/** Events the chat server answers itself rather than here. */
type Answered = "sync" | "act" | "whois" | "whois_reply";

/** Applies one event from another server. */
export function applyRemote<S>(
  scene: Scene<S>,
  event: Exclude<ClusterEvent, { type: Answered }>,
): Effect<S>[] {
  switch (event.type) {
    case "join":
      return arrived(scene, event.user, true);
    case "leave":
      return withUser(scene, event, (user) => departed(scene, user, event.reason));
    case "say":
      return withUser(scene, event, (user) => said(scene, user, event.text, false, event));
    case "me":
      return withUser(scene, event, (user) => said(scene, user, event.action, true, event));
    case "nick":
      return withUser(scene, event, (user) => renamed(scene, user, event.name));
    case "move":
      return withUser(scene, event, (user) => opped(scene, user, event, moved));
    case "enter":
      return withUser(scene, event, (user) => opped(scene, user, event, entered));
    case "part":
      return withUser(scene, event, (user) => parted(scene, user, event.room, event.reason));
    case "msg":
      return privateMessage(scene, event);
    case "tagmsg":
      return withUser(scene, event, (user) => tagged(scene, user, event));
    case "news":
      return withUser(scene, event, (user) => {
        // Kept, for the 301 to a private message and WHO's H or G.
        if (event.wants === "away-notify") user.away = event.value;
        const room = event.room === undefined ? undefined : scene.registry.room(event.room);
        if (event.room !== undefined && room === undefined) return [];
        return [news(user, event.wants, event.value, room)];
      });
    case "roster":
      return replaceRoster(scene, event.server, event.users);
    case "bye":
      return dropServer(scene, event.server);
    case "conflict":
      return keptName(scene, event.name);
    case "heartbeat":
      return []; // presence is the broker's
    default:
      return unreachable(event);
  }
}

/** Shows every user of `server` as left. */
export function dropServer<S>(scene: Scene<S>, server: string): Effect<S>[] {
  return [...scene.registry.usersOf(server)].flatMap((user) => departed(scene, user));
}

/** Another server gave up a name our user holds too: tell ours it stays. */
function keptName<S>(scene: Scene<S>, name: string): Effect<S>[] {
  const user = scene.registry.named(name);
  if (user?.local === undefined) return [];
  return [{ type: "reply", to: user, events: [noticed({ notice: "name_kept", name })] }];
}

/** Removes a remote user; its leave is announced unless its join is still
 * waiting to be (then neither is: a connection that came and went at once,
 * as its own server shows it). */
function departed<S>(scene: Scene<S>, user: User<S>, reason?: string): Effect<S>[] {
  // A user in no room (an IRC client that joined no channel) goes quietly.
  const rooms = [...user.rooms];
  scene.registry.remove(user);
  if (rooms.length === 0) return [];
  const name = user.name;
  const event = reason
    ? { type: "leave", name, reason } as const
    : { type: "leave", name } as const;
  return [{ type: "farewell", user, event, rooms }];
}

/** Only the user's own server may speak for it. */
function withUser<S>(
  scene: Scene<S>,
  event: { server: string; id: number },
  fn: (user: User<S>) => Effect<S>[],
): Effect<S>[] {
  const user = scene.registry.user(event.id);
  if (user === undefined || user.local !== undefined || user.server !== event.server) return [];
  return fn(user);
}

function arrived<S>(scene: Scene<S>, remote: RemoteUser, announce: boolean): Effect<S>[] {
  const user = scene.registry.add(
    { id: remote.id, name: remote.name, server: remote.server, local: undefined },
    remote.rooms,
  );
  if (user !== undefined) setOps(scene, user, remote.ops);
  // A user in no room (an IRC client before its first JOIN) comes quietly.
  if (user === undefined || !announce || remote.rooms.length === 0) return [];
  return [{ type: "announce", event: { type: "join", name: remote.name }, newcomer: user }];
}

function said<S>(
  scene: Scene<S>,
  user: User<S>,
  text: string,
  action: boolean,
  where: { room?: string; notice?: boolean } & LineTags,
): Effect<S>[] {
  const room = where.room === undefined ? user.room : scene.registry.roomOf(user, where.room);
  if (room === undefined) return [];
  const from = user.name;
  const line = tagsOf(where);
  const event = action
    ? { type: "action", from, text, ...line } as const
    : { type: "say", from, text, ...(where.notice ? { notice: true } : {}), ...line } as const;
  const effects: Effect<S>[] = [{ type: "room", room, event }];
  if (!where.notice) {
    effects.push({ type: "keep", room: room.name, from, text, action, remote: true });
  }
  return effects;
}

/** `how` (a move or an entry) into `event.room`, then the op it opened
 * the room with, if it did. */
function opped<S>(
  scene: Scene<S>,
  user: User<S>,
  event: { room: string; op?: boolean },
  how: (scene: Scene<S>, user: User<S>, room: string) => Effect<S>[],
): Effect<S>[] {
  const effects = how(scene, user, event.room);
  if (event.op === true) setOps(scene, user, [event.room]);
  return effects;
}

/** `user` is an op of `rooms` (of its own rooms nobody owns). */
function setOps<S>(scene: Scene<S>, user: User<S>, rooms: readonly string[] = []): void {
  for (const name of rooms) {
    const room = scene.registry.roomOf(user, name);
    if (room !== undefined) scene.registry.setOp(room, user, true);
  }
}

function entered<S>(scene: Scene<S>, user: User<S>, roomName: string): Effect<S>[] {
  if (scene.registry.roomOf(user, roomName) !== undefined) return [];
  const room = scene.registry.enter(user, roomName);
  const event = { type: "enter", name: user.name, room: room.name } as const;
  return [{ type: "room", room, event, except: user }];
}

function parted<S>(scene: Scene<S>, user: User<S>, roomName: string, reason: string): Effect<S>[] {
  const room = scene.registry.roomOf(user, roomName);
  if (room === undefined) return [];
  scene.registry.part(user, room);
  return [{
    type: "room",
    room,
    event: { type: "exit", name: user.name, room: room.name, reason },
  }];
}

function renamed<S>(scene: Scene<S>, user: User<S>, name: string): Effect<S>[] {
  const old = user.name;
  scene.registry.rename(user, name);
  return [{ type: "rooms", user, event: { type: "rename", from: old, to: name } }];
}

function moved<S>(scene: Scene<S>, user: User<S>, roomName: string): Effect<S>[] {
  const from = scene.registry.move(user, roomName);
  const room = user.room;
  return [
    { type: "room", room: from, event: { type: "exit", name: user.name, room: from.name } },
    {
      type: "room",
      room,
      event: { type: "enter", name: user.name, room: room.name },
      except: user,
    },
  ];
}

function privateMessage<S>(
  scene: Scene<S>,
  msg: Extract<ClusterEvent, { type: "msg" }>,
): Effect<S>[] {
  const target = scene.registry.named(msg.to);
  if (target?.local === undefined) return [];
  const event = {
    type: "private",
    from: msg.from,
    to: target.name,
    text: msg.text,
    ...tagsOf(msg),
  };
  return [{ type: "reply", to: target, events: [event as ChatEvent] }];
}

/** A `TAGMSG` from another server's user: to a room's users here, or one. */
function tagged<S>(
  scene: Scene<S>,
  user: User<S>,
  msg: Extract<ClusterEvent, { type: "tagmsg" }>,
): Effect<S>[] {
  const { tags, msgid, account } = msg;
  const event = { type: "tagmsg", from: user.name, tags, msgid, ...tagsOf({ account }) } as const;
  if (msg.room !== undefined) {
    const room = scene.registry.roomOf(user, msg.room);
    return room === undefined ? [] : [{ type: "room", room, event }];
  }
  const target = msg.to === undefined ? undefined : scene.registry.named(msg.to);
  if (target?.local === undefined) return [];
  return [{ type: "reply", to: target, events: [{ ...event, to: target.name }] }];
}

/** The IRCv3 tags of a line from another server, those it has. */
function tagsOf(line: LineTags): LineTags {
  const tags: LineTags = {};
  if (line.msgid !== undefined) tags.msgid = line.msgid;
  if (line.account !== undefined) tags.account = line.account;
  if (line.tags !== undefined) tags.tags = line.tags;
  return tags;
}

/** Makes our view of `server`'s users match its roster, announcing the
 * joins and leaves we missed (after an outage, or when we are new). */
function replaceRoster<S>(scene: Scene<S>, server: string, users: RemoteUser[]): Effect<S>[] {
  const listed = new Set(users.map((u) => u.id));
  const effects: Effect<S>[] = [];
  for (const user of scene.registry.usersOf(server)) {
    if (!listed.has(user.id)) effects.push(...departed(scene, user));
  }
  for (const remote of users) {
    const known = scene.registry.user(remote.id);
    if (known === undefined) {
      effects.push(...arrived(scene, { ...remote, server }, true));
      continue;
    }
    if (known.local !== undefined || known.server !== server) continue;
    if (known.name !== remote.name) scene.registry.rename(known, remote.name);
    const had = [...known.rooms].map((r) => r.name.toLowerCase()).sort().join(" ");
    if (had !== remote.rooms.map((r) => r.toLowerCase()).sort().join(" ")) {
      for (const room of [...known.rooms]) scene.registry.part(known, room);
      for (const room of remote.rooms) scene.registry.enter(known, room);
    }
    setOps(scene, known, remote.ops);
  }
  return effects;
}
