/**
 * `/whois NAME`: what is known of a user. For a user of another server,
 * its own server is asked (idle time, login and address are known only
 * there), and the answer comes back as a `whois_reply` cluster event, or
 * the question runs out (`whois_expired`) and the asker gets what this
 * server knows.
 *
 * @module
 */

import { type Effect, refuse, reply, type Scene } from "../command.ts";
import { noticed, type WhoisFacts } from "../events.ts";
import type { ClusterEvent } from "../ports.ts";
import type { User } from "../registry.ts";
import { atLeast } from "../community.ts";
import { rankOf } from "./rank.ts";
import { whoisText } from "../render.ts";

/** `/whois NAME`. */
export function whois<S>(scene: Scene<S>, user: User<S>, name: string): Effect<S>[] {
  const target = scene.registry.named(name) ?? loggedInAs(scene, name);
  if (target === undefined) {
    return scene.community.registered(name)
      ? reply(user, noticed({ notice: "registered_offline", name }))
      : refuse(user, { refusal: "no_such_user", name, whois: true });
  }
  const oper = user.local?.oper === true;
  if (target.local !== undefined || !scene.link.up) {
    return reply(user, { type: "whois", facts: factsOf(scene, target, oper) });
  }
  const token = ++scene.whois.lastToken;
  scene.whois.asked.set(whoisKey(user.id, target.id), token);
  return [
    {
      type: "publish",
      event: { type: "whois", server: "", asker: user.id, target: target.id, oper },
      to: target.server,
    },
    { type: "whois_timer", asker: user.id, target: target.id, token },
  ];
}

/** A question to another server had its time: if no answer came, the
 * asker gets what this server knows. */
export function whoisExpired<S>(
  scene: Scene<S>,
  asker: number,
  targetId: number,
  token: number,
): Effect<S>[] {
  const key = whoisKey(asker, targetId);
  if (scene.whois.asked.get(key) !== token) return []; // answered, or asked again since
  scene.whois.asked.delete(key);
  const user = scene.registry.user(asker);
  if (user?.local === undefined) return [];
  const target = scene.registry.user(targetId);
  if (target === undefined) return refuse(user, { refusal: "no_such_user_any_more" });
  return reply(user, {
    type: "whois",
    facts: { ...factsOf(scene, target, false), unanswered: true },
  });
}

/** Another server's user asked about one of ours: answer with the facts. */
export function answerWhois<S>(
  scene: Scene<S>,
  event: Extract<ClusterEvent, { type: "whois" }>,
): Effect<S>[] {
  const target = scene.registry.user(event.target);
  if (target?.local === undefined) return [];
  const facts = whoisText(factsOf(scene, target, event.oper));
  const { asker, server: to } = event;
  return [{
    type: "publish",
    event: { type: "whois_reply", server: "", to, asker, target: event.target, facts },
    to,
  }];
}

/** The answer to one of ours; one after its time (the asker was told
 * already) is dropped. */
export function whoisAnswered<S>(
  scene: Scene<S>,
  serverId: string,
  event: Extract<ClusterEvent, { type: "whois_reply" }>,
): Effect<S>[] {
  const asker = scene.registry.user(event.asker);
  if (event.to !== serverId || asker?.local === undefined) return [];
  if (!scene.whois.asked.delete(whoisKey(event.asker, event.target))) return [];
  return reply(asker, { type: "whois_told", text: event.facts });
}

/** What `/whois` says of `target`: everything for a user of this server
 * (the address only to an operator); for another server's user, what this
 * one knows. */
function factsOf<S>(scene: Scene<S>, target: User<S>, oper: boolean): WhoisFacts {
  const local = target.local;
  const facts: WhoisFacts = {
    name: target.name,
    registered: scene.community.registered(target.name),
    account: local?.account,
    oper: local?.oper === true,
    room: target.room.name,
  };
  if (target.rooms.size !== 1) facts.rooms = [...target.rooms].map((r) => r.name);
  const opIn = [...target.rooms].filter((r) => atLeast(rankOf(scene, target, r.name), "op"));
  if (opIn.length > 0) facts.opIn = opIn.map((r) => r.name);
  if (local?.ident !== undefined) Object.assign(facts, local.ident);
  if (local?.away !== undefined) facts.away = local.away;
  if (local !== undefined) facts.idleMs = scene.clock.now() - local.activeAt;
  if (local?.since !== undefined) facts.since = local.since;
  if (local !== undefined && oper) facts.address = local.address;
  return facts;
}

/** A user of this server logged in to the account `name` under another
 * name, if any. */
function loggedInAs<S>(scene: Scene<S>, name: string): User<S> | undefined {
  const key = name.toLowerCase();
  if (!scene.community.registered(key)) return undefined;
  for (const user of scene.registry.locals()) if (user.local?.account === key) return user;
  return undefined;
}

function whoisKey(asker: number, target: number): string {
  return `${asker}:${target}`;
}
