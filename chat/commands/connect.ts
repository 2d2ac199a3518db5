/**
 * Arriving and leaving: a connection's user joins the chat (or is turned
 * away, banned from the server), and leaves it.
 *
 * @module
 */

import { type Effect, localOf, type Scene } from "../command.ts";
import { type ChatEvent, type Face, isIrc, noticed } from "../events.ts";
import { ROSTER_LIMIT } from "../protocol.ts";
import type { Sink, User } from "../registry.ts";
import { topicOf } from "./join.ts";

/** A connection that has its number and wants in. */
export interface Arrival<S> {
  id: number;
  name: string;
  sink: Sink;
  face: Face;
  session: S;
  /** Where it comes from (no port), and whether it is TLS. */
  address: string;
  secure: boolean;
  /** An IRC client that wants its own lines back (`echo-message`). */
  echo?: boolean;
  /** An IRC client's `USER` names. */
  ident?: { user: string; realname: string };
}

/** `arrival` joins the lobby: it gets its own join, the roster, the
 * welcome, the topic and the lobby's recent lines; everyone else its join
 * (batched). A connection from an address banned from the server is told
 * why and closed, and nobody hears of it. */
export function arrive<S>(
  scene: Scene<S>,
  serverId: string,
  arrival: Arrival<S>,
  welcome: boolean,
): Effect<S>[] {
  const { id, name, sink, face, session, address, secure } = arrival;
  const now = scene.clock.now();
  const ban = scene.community.serverBan(undefined, address, now);
  if (ban !== undefined) return turnedAway(arrival, ban);
  if (isIrc(face)) return arriveQuietly(scene, serverId, arrival);
  const announcement: ChatEvent = { type: "join", name };
  const events: ChatEvent[] = [announcement, roster(scene)];
  if (welcome) events.push({ type: "welcome", name });
  events.push(...topicOf(scene, scene.registry.lobby.name));
  // Someone arriving during an outage must not take the roster at face value.
  if (scene.link.linked && !scene.link.up) events.push(noticed({ notice: "link_down" }));
  const local = { sink, face, assigned: name, session, address, secure, activeAt: now, since: now };
  const user = scene.registry.add({ id, name, server: serverId, local });
  if (user === undefined) return []; // A number handed out twice: a bug upstream.
  const room = user.room.name;
  return [
    { type: "reply", to: user, events },
    { type: "history", to: user, room },
    { type: "announce", event: announcement, newcomer: user },
    {
      type: "publish",
      event: { type: "join", server: "", user: { server: serverId, id, name, rooms: [room] } },
    },
    { type: "log", line: `[server] ${name} joined`, fields: { event: "join", user: name } },
  ];
}

/** An IRC client arrives in no room, and unannounced: on IRC, being on the
 * server is no news, joining a channel is (its session says welcome). */
function arriveQuietly<S>(scene: Scene<S>, serverId: string, arrival: Arrival<S>): Effect<S>[] {
  const { id, name, sink, face, session, address, secure, echo, ident } = arrival;
  const now = scene.clock.now();
  const local = {
    ...{ sink, face, assigned: name, session, address, secure, activeAt: now, since: now },
    ...{ echo, ident },
  };
  const user = scene.registry.add({ id, name, server: serverId, local }, []);
  if (user === undefined) return [];
  return [
    {
      type: "publish",
      event: { type: "join", server: "", user: { server: serverId, id, name, rooms: [] } },
    },
    { type: "log", line: `[server] ${name} joined (IRC)`, fields: { event: "join", user: name } },
  ];
}

function turnedAway<S>(
  arrival: Arrival<S>,
  ban: { by: string; until: number; reason: string },
): Effect<S>[] {
  const { by, until, reason } = ban;
  const event: ChatEvent = { type: "you_are_banned", place: "this server", by, until, reason };
  const address = arrival.address;
  return [
    { type: "turn_away", sink: arrival.sink, face: arrival.face, event },
    {
      type: "log",
      line: `[server] refused ${address}: banned from the server`,
      fields: { event: "refuse", peer: address, reason: "banned" },
    },
  ];
}

/** The roster a newcomer gets after its own join. */
function roster<S>(scene: Scene<S>): ChatEvent {
  const names: string[] = [];
  for (const name of scene.registry.names()) {
    if (names.length === ROSTER_LIMIT) break;
    names.push(name);
  }
  return { type: "roster", names, more: Math.max(0, scene.registry.size - ROSTER_LIMIT) };
}

/** A local user leaves (`reason` is shown; `cause` is for the log). While
 * the server shuts down, nobody is told: everyone is going. */
export function depart<S>(
  scene: Scene<S>,
  user: User<S>,
  reason: string | undefined,
  cause: string | undefined,
  shuttingDown: boolean,
): Effect<S>[] {
  const { id, name } = user;
  // An IRC client that never joined a channel was never seen: it goes quietly.
  const seen = user.rooms.size > 0 || !isIrc(localOf(user).face);
  const rooms = [...user.rooms];
  scene.registry.remove(user);
  const effects: Effect<S>[] = [{ type: "release", key: name.toLowerCase() }];
  if (!shuttingDown && !seen) {
    effects.push({ type: "publish", event: { type: "leave", server: "", id } });
  } else if (!shuttingDown) {
    const event = reason
      ? { type: "leave", name, reason } as const
      : { type: "leave", name } as const;
    effects.push({ type: "farewell", user, event, rooms }, {
      type: "publish",
      event: { type: "leave", server: "", id, ...(reason ? { reason } : {}) },
    });
  }
  const why = cause ?? (shuttingDown ? "server shutting down" : "unknown");
  effects.push({
    type: "log",
    line: `[server] ${name} left`,
    fields: { event: "leave", user: name, reason: why },
  });
  return effects;
}

/** This server's users, for the other servers (on linking, and after an
 * outage, when rosters are swapped). */
export function publishRoster<S>(scene: Scene<S>): Effect<S>[] {
  const users = [...scene.registry.locals()].map((u) => ({
    server: u.server,
    id: u.id,
    name: u.name,
    rooms: [...u.rooms].map((r) => r.name),
    ops: [...u.rooms].filter((r) => r.ops.has(u)).map((r) => r.name),
  }));
  return [{ type: "publish", event: { type: "roster", server: "", users } }];
}
