/**
 * News about a user for the IRC clients that asked for it: its account
 * (`account-notify`) and its away state (`away-notify`), sent to those
 * who share a channel with it, on every linked server.
 *
 * @module
 */

import type { Effect } from "../command.ts";
import type { ChatEvent, Notify } from "../events.ts";
import type { Room, User } from "../registry.ts";

/** `user` logged in or out: its account as it is now. */
export function accountChanged<S>(user: User<S>): Effect<S>[] {
  return told(user, "account-notify", user.local?.account);
}

/** `user` went away or came back; or (with `room`) came into `room`
 * while away, which that room is told. */
export function awayChanged<S>(user: User<S>, room?: Room<S>): Effect<S>[] {
  return told(user, "away-notify", user.local?.away, room);
}

/** The news to this server's readers, and to the other servers'. */
function told<S>(user: User<S>, wants: Notify, value?: string, room?: Room<S>): Effect<S>[] {
  const event = {
    type: "news" as const,
    server: "",
    id: user.id,
    wants,
    ...(value === undefined ? {} : { value }),
    ...(room === undefined ? {} : { room: room.name }),
  };
  return [news(user, wants, value, room), { type: "publish", event }];
}

/** The news (`value`: the away message or the account; none: back, or
 * logged out) to this server's readers who asked for `wants`. */
export function news<S>(user: User<S>, wants: Notify, value?: string, room?: Room<S>): Effect<S> {
  const name = user.name;
  const event: ChatEvent = wants === "away-notify"
    ? (value === undefined
      ? { type: "away_changed", name }
      : { type: "away_changed", name, text: value })
    : (value === undefined
      ? { type: "account_changed", name }
      : { type: "account_changed", name, account: value });
  return { type: "notify", user, event, wants, room };
}
