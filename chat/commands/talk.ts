/**
 * Talking: a chat line, `/me ACTION`, `/msg NAME TEXT`. The chat line is
 * the hot path of the whole server: one check (mutes, only while anyone is
 * muted), one event for the room, one line kept, one publish when linked.
 *
 * @module
 */

import { type Effect, refuse, type Scene } from "../command.ts";
import type { Sanction } from "../community.ts";
import { SERVER_EVENT } from "../protocol.ts";
import type { User } from "../registry.ts";

/** A chat line: to the others in the room, and to the other servers. */
export function say<S>(scene: Scene<S>, user: User<S>, text: string): Effect<S>[] {
  if (scene.community.anyMutes) {
    const muted = mutedNotice(scene, user);
    if (muted !== undefined) return muted;
  }
  const room = user.room;
  const effects: Effect<S>[] = [
    { type: "room", room, event: { type: "say", from: user.name, text }, except: user },
    { type: "keep", room: room.name, from: user.name, text, action: false },
  ];
  // Checked here, not only in publish, so a lone server builds no event per line.
  if (scene.link.linked) {
    effects.push({ type: "publish", event: { type: "say", server: "", id: user.id, text } });
  }
  return effects;
}

/** `/me ACTION`: refused when it would read like a server line. */
export function act<S>(scene: Scene<S>, user: User<S>, action: string): Effect<S>[] {
  if (scene.community.anyMutes) {
    const muted = mutedNotice(scene, user);
    if (muted !== undefined) return muted;
  }
  if (SERVER_EVENT.test(action)) return refuse(user, { refusal: "action_like_server" });
  const room = user.room;
  return [
    { type: "room", room, event: { type: "action", from: user.name, text: action }, except: user },
    { type: "keep", room: room.name, from: user.name, text: action, action: true },
    { type: "publish", event: { type: "me", server: "", id: user.id, action } },
  ];
}

/** `/msg NAME TEXT`: to a user here, or through the link to its server;
 * nothing comes back on success. */
export function message<S>(scene: Scene<S>, user: User<S>, to: string, text: string): Effect<S>[] {
  const target = scene.registry.named(to);
  if (target === undefined) return refuse(user, { refusal: "no_such_user", name: to });
  const event = { type: "private", from: user.name, to: target.name, text } as const;
  if (target.local) return [{ type: "reply", to: target, events: [event] }];
  if (!scene.link.up) return refuse(user, { refusal: "unreachable_user", name: target.name });
  return [{ type: "publish", event: { ...event, type: "msg", server: "" } }];
}

/** The notice when `user` is muted in its room; undefined if not. */
function mutedNotice<S>(scene: Scene<S>, user: User<S>): Effect<S>[] | undefined {
  const now = scene.clock.now();
  const room = user.room.name;
  // A mute follows the person: the connection's names, and its account.
  const local = user.local;
  const names = [
    user.name,
    ...(local?.pastNames ?? []),
    ...(local?.account ? [local.account] : []),
  ];
  let mute: Sanction | undefined;
  for (const name of names) if ((mute = scene.community.mute(room, name, now))) break;
  if (mute === undefined) return undefined;
  const { by, until, reason } = mute;
  const event = { type: "you_are_muted", room: user.room.name, by, until, reason } as const;
  return [{ type: "reply", to: user, events: [event] }];
}
