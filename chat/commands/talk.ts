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
import type { LineTags } from "../events.ts";
import type { User } from "../registry.ts";

/** A chat line: to the others in the room (and back to an IRC client that
 * asked for its own lines, `echo-message`), and to the other servers. An
 * IRC `NOTICE` (`notice`) goes the same way but is not kept. */
export function say<S>(
  scene: Scene<S>,
  user: User<S>,
  text: string,
  notice = false,
  tags?: string,
): Effect<S>[] {
  if (scene.community.anyMutes) {
    const muted = mutedNotice(scene, user);
    if (muted !== undefined) return muted;
  }
  const room = user.room;
  const local = user.local;
  const except = local?.echo ? undefined : user;
  const line = lineTags(user, tags);
  if (notice) return noticeTo(scene, user, text, except, line);
  const effects: Effect<S>[] = [
    { type: "room", room, event: { type: "say", from: user.name, text, ...line }, except },
    { type: "keep", room: room.name, from: user.name, text, action: false },
  ];
  // Checked here, not only in publish, so a lone server builds no event per
  // line. The room is named: it is what routes the line to the servers
  // with users in it.
  if (scene.link.linked) {
    const event = { type: "say", server: "", id: user.id, text, room: room.name, ...line } as const;
    effects.push({ type: "publish", event });
  }
  return effects;
}

/** What a line of `user` (of this server) carries for IRCv3 clients: a new
 * `msgid`, its account, and its own tags (`tags`, client-only, as sent). */
export function lineTags<S>(user: User<S>, tags?: string): LineTags {
  const local = user.local;
  if (local === undefined) return {};
  // Unique across the cluster and restarts: the user's number, and when
  // it connected, then a count.
  const ids = local.lineIds ??= {
    prefix: `${(local.since ?? 0).toString(36)}-${user.id.toString(36)}-`,
    next: 0,
  };
  const line: LineTags = { msgid: ids.prefix + (ids.next++).toString(36) };
  if (local.account !== undefined) line.account = local.account;
  if (tags !== undefined) line.tags = tags;
  return line;
}

/** An IRC `NOTICE` to a room: shown, never kept. */
function noticeTo<S>(
  scene: Scene<S>,
  user: User<S>,
  text: string,
  except: User<S> | undefined,
  line: LineTags,
): Effect<S>[] {
  const room = user.room;
  const event = { type: "say", from: user.name, text, notice: true, ...line } as const;
  const effects: Effect<S>[] = [{ type: "room", room, event, except }];
  if (scene.link.linked) {
    const published = { type: "say", server: "", id: user.id, text, room: room.name } as const;
    effects.push({ type: "publish", event: { ...published, notice: true, ...line } });
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
  const except = user.local?.echo ? undefined : user;
  const line = lineTags(user);
  const event = { type: "action", from: user.name, text: action, ...line } as const;
  const published = { type: "me", server: "", id: user.id, action, room: room.name } as const;
  return [
    { type: "room", room, event, except },
    { type: "keep", room: room.name, from: user.name, text: action, action: true },
    { type: "publish", event: { ...published, ...line } },
  ];
}

/** `/msg NAME TEXT`: to a user here, or through the link to its server;
 * nothing comes back on success (but to an IRC client that asked for its
 * own lines). */
export function message<S>(
  scene: Scene<S>,
  user: User<S>,
  to: string,
  text: string,
  notice = false,
  tags?: string,
): Effect<S>[] {
  const target = scene.registry.named(to);
  // A NOTICE is never answered with an error (RFC 2812 3.3.2).
  if (target === undefined) {
    return notice ? [] : refuse(user, { refusal: "no_such_user", name: to });
  }
  const line = lineTags(user, tags);
  const event = notice
    ? { type: "private", from: user.name, to: target.name, text, notice, ...line } as const
    : { type: "private", from: user.name, to: target.name, text, ...line } as const;
  const echo: Effect<S>[] = user.local?.echo ? [{ type: "reply", to: user, events: [event] }] : [];
  const away = target.local?.away ?? target.away;
  if (away !== undefined && !notice) {
    echo.push({
      type: "reply",
      to: user,
      events: [{ type: "away", name: target.name, text: away }],
    });
  }
  if (target.local) return [{ type: "reply", to: target, events: [event] }, ...echo];
  if (!scene.link.up) return refuse(user, { refusal: "unreachable_user", name: target.name });
  const { from, text: said } = event;
  return [{
    type: "publish",
    event: { type: "msg", server: "", from, to: target.name, text: said, ...line },
    to: target.server,
  }, ...echo];
}

/** IRCv3 `TAGMSG`: only client tags, to the user's room or to the user
 * called `to`, here or on its server; only `message-tags` clients read it,
 * and nothing is kept or refused (it is as quiet as a typing notice). */
export function tagmsg<S>(scene: Scene<S>, user: User<S>, tags: string, to?: string): Effect<S>[] {
  const { msgid = "", account } = lineTags(user);
  const from = { ...(account === undefined ? {} : { account }), tags, msgid };
  const event = { type: "tagmsg", from: user.name, ...from } as const;
  const published = { type: "tagmsg", server: "", id: user.id, ...from } as const;
  if (to === undefined) {
    const room = user.room;
    const except = user.local?.echo ? undefined : user;
    const effects: Effect<S>[] = [{ type: "room", room, event, except }];
    if (scene.link.linked) {
      effects.push({ type: "publish", event: { ...published, room: room.name } });
    }
    return effects;
  }
  const target = scene.registry.named(to);
  if (target === undefined) return [];
  const direct = { ...event, to: target.name };
  const effects: Effect<S>[] = user.local?.echo
    ? [{ type: "reply", to: user, events: [direct] }]
    : [];
  effects.unshift(
    target.local
      ? { type: "reply", to: target, events: [direct] }
      : { type: "publish", event: { ...published, to: target.name }, to: target.server },
  );
  return effects;
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
