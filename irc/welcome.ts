/**
 * What a client gets once registered: `001` to `005` (with a truthful
 * `ISUPPORT`), the user counts (`LUSERS`) and the message of the day.
 *
 * @module
 */

import { numeric } from "../chat/render_irc.ts";
import type { LiveFigures } from "../chat/server.ts";
import { lines } from "./replies.ts";

/** The network's name in `005`. */
export const NETWORK = "Marquee";
const VERSION = "marquee-1";

/** `ISUPPORT` tokens: only what the server does. Rooms are `#` channels
 * named like users (24 characters); the one channel prefix is `@` (an op
 * or owner of a registered room); the one list mode is `b`; `n` and `t`
 * always hold (only members speak; only ops set a registered room's
 * topic). */
export const ISUPPORT = [
  "AWAYLEN=200",
  "CASEMAPPING=ascii",
  "CHANLIMIT=#:50",
  "CHANMODES=b,,,nt",
  "CHANNELLEN=25",
  "CHANTYPES=#",
  "CHATHISTORY=200",
  "KICKLEN=200",
  "MAXLIST=b:100",
  "MSGREFTYPES=timestamp",
  "NETWORK=" + NETWORK,
  "NICKLEN=24",
  "PREFIX=(o)@",
  "TOPICLEN=400",
];

/** Who the lines are for, and from which server. */
interface To {
  nick: string;
  server: string;
}

/** `001` to `005`, the `LUSERS` lines given, and the message of the day. */
export function welcome(to: To, counts: string[]): Uint8Array {
  const me = { me: to.nick, server: to.server };
  const { nick, server } = to;
  return lines([
    numeric(me, "001", `Welcome to the ${NETWORK} IRC network, ${nick}`),
    numeric(me, "002", `Your host is ${server}, running version ${VERSION}`),
    numeric(me, "003", "This server speaks IRC to the same chat as nc and the browser"),
    `:${server} 004 ${nick} ${server} ${VERSION} o bnot bo`,
    // At most 13 tokens a line: IRC allows 15 parameters.
    ...Array.from(
      { length: Math.ceil(ISUPPORT.length / 13) },
      (_, i) =>
        numeric(me, "005", ...ISUPPORT.slice(i * 13, i * 13 + 13), "are supported by this server"),
    ),
    ...counts,
    ...motd(to),
  ]);
}

/** `MOTD`. */
export function motd(to: To): string[] {
  const me = { me: to.nick, server: to.server };
  return [
    numeric(me, "375", `- ${to.server} Message of the day -`),
    numeric(me, "372", "- Rooms are channels: #lobby is the lobby. Try /join #lobby."),
    numeric(me, "372", "- Register your nick from the line client or the page; log in with SASL."),
    numeric(me, "376", "End of /MOTD command"),
  ];
}

/** `LUSERS`, from the chat's live figures (none if it did not answer). */
export function lusers(to: To, figures: LiveFigures | undefined): string[] {
  const me = { me: to.nick, server: to.server };
  const users = figures === undefined ? 0 : figures.users + figures.remoteUsers;
  const rooms = figures?.rooms ?? 0;
  return [
    numeric(me, "251", `There are ${users} users and 0 invisible on 1 servers`),
    numeric(me, "254", String(rooms), "channels formed"),
    numeric(me, "255", `I have ${figures?.users ?? 0} clients and 1 servers`),
    numeric(me, "265", `Current local users: ${figures?.users ?? 0}`),
    numeric(me, "266", `Current global users: ${users}`),
  ];
}
