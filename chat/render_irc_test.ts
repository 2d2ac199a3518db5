/**
 * The IRC face, event by event: what an IRC client reads for each thing
 * the chat says, and the numerics refusals become.
 */

import assert from "node:assert/strict";
import type { ChatEvent } from "./events.ts";
import { Outgoing } from "./render.ts";
import { ircLines } from "./render_irc.ts";

const NOW = Date.parse("2026-12-04T12:00:00Z");
const IN_GAMES = { me: "ann", room: "games", tags: false, now: NOW, server: "marquee" };

const CASES: [ChatEvent, string[]][] = [
  [{ type: "say", from: "bob", text: "hi" }, [":bob!bob@marquee PRIVMSG #games :hi"]],
  [{ type: "say", from: "bob", text: "hi", notice: true }, [":bob!bob@marquee NOTICE #games :hi"]],
  [{ type: "action", from: "bob", text: "waves" }, [
    ":bob!bob@marquee PRIVMSG #games :\x01ACTION waves\x01",
  ]],
  [{ type: "private", from: "bob", to: "ann", text: "psst" }, [
    ":bob!bob@marquee PRIVMSG ann :psst",
  ]],
  [{ type: "join", name: "bob" }, []],
  [{ type: "leave", name: "bob", reason: "bye" }, []],
  [{ type: "quit", name: "bob", reason: "bye" }, [":bob!bob@marquee QUIT :Quit: bye"]],
  [{ type: "enter", name: "bob", room: "games" }, [":bob!bob@marquee JOIN #games"]],
  [{ type: "exit", name: "bob", room: "games" }, [":bob!bob@marquee PART #games"]],
  [{ type: "rename", from: "bob", to: "rob" }, [":bob!bob@marquee NICK rob"]],
  [{ type: "room", room: "games", users: 2 }, [":ann!ann@marquee JOIN #games"]],
  [
    { type: "who", room: "games", names: ["ann", "olga"], online: 2, stale: false, ops: ["olga"] },
    [":marquee 353 ann = #games :ann @olga", ":marquee 366 ann #games :End of /NAMES list"],
  ],
  [{ type: "topic", room: "games", text: "chess", by: "olga" }, [
    ":marquee 332 ann #games :chess",
    `:marquee 333 ann #games olga :${NOW / 1000}`,
  ]],
  [{ type: "topic_set", room: "games", text: "go", by: "olga" }, [
    ":olga!olga@marquee TOPIC #games :go",
  ]],
  [{ type: "kicked", room: "games", name: "bob", by: "olga", reason: "r" }, [
    ":olga!olga@marquee KICK #games bob :r",
  ]],
  [{
    type: "whois",
    facts: {
      name: "bob",
      registered: false,
      oper: false,
      room: "",
      rooms: ["a", "b"],
      opIn: ["b"],
      idleMs: 5_000,
      since: NOW - 60_000,
    },
  }, [
    ":marquee 311 ann bob bob marquee * :bob",
    ":marquee 312 ann bob marquee :Marquee",
    ":marquee 319 ann bob :#a @#b",
    `:marquee 317 ann bob 5 ${NOW / 1000 - 60} :seconds idle, signon time`,
    ":marquee 318 ann bob :End of /WHOIS list",
  ]],
  [{ type: "kicked", room: "games", name: "bob", by: "olga", reason: "" }, [
    ":olga!olga@marquee KICK #games bob :olga",
  ]],
  [{ type: "banned", room: "games", name: "bob", by: "olga", until: 0, reason: "" }, [
    ":olga!olga@marquee MODE #games +b bob!*@*",
  ]],
  [{ type: "opped", room: "games", name: "bob", by: "olga", on: false }, [
    ":olga!olga@marquee MODE #games -o bob",
  ]],
  [{ type: "you_were_kicked", room: "games", by: "olga", reason: "r" }, [
    ":olga!olga@marquee KICK #games ann :r",
  ]],
  [{ type: "refusal", refusal: { refusal: "no_such_user", name: "zed" } }, [
    ":marquee 401 ann zed :No such nick/channel",
  ]],
  [{ type: "refusal", refusal: { refusal: "name_taken", name: "bob" } }, [
    ":marquee 433 ann bob :name taken: bob",
  ]],
  [{ type: "refusal", refusal: { refusal: "not_on_channel", room: "den" } }, [
    ":marquee 442 ann #den :You're not on that channel",
  ]],
  [{ type: "refusal", refusal: { refusal: "rank_needed", who: "ops of games", what: "kick" } }, [
    ":marquee 482 ann #games :You're not channel operator: only ops of games may kick",
  ]],
  [{ type: "refusal", refusal: { refusal: "flooding" } }, ["ERROR :disconnected: flooding"]],
  [{ type: "notice", notice: { notice: "password_changed" } }, [
    ":marquee NOTICE ann :password changed",
  ]],
  [{ type: "shutdown" }, ["ERROR :server shutting down"]],
  [{
    type: "people",
    mask: "bob olga zed",
    as: "userhost",
    people: [
      { name: "bob", user: "b", away: true, oper: false, op: false },
      { name: "olga", away: false, oper: true, op: false },
    ],
  }, [":marquee 302 ann :bob=-b@marquee olga*=+olga@marquee"]],
  [{
    type: "people",
    mask: "bob zed",
    as: "ison",
    people: [{ name: "bob", away: false, oper: false, op: false }],
  }, [":marquee 303 ann :bob"]],
  [{
    type: "bans",
    room: "games",
    entries: [
      { whom: "bob", what: "banned", by: "olga", until: 0, reason: "" },
      { whom: "192.0.2.7", what: "banned", by: "olga", until: 0, reason: "" },
      { whom: "cy", what: "muted", by: "olga", until: 0, reason: "noise" },
    ],
  }, [
    ":marquee 367 ann #games bob!*@* olga :0",
    ":marquee 367 ann #games *!*@192.0.2.7 olga :0",
    ":marquee 368 ann #games :End of channel ban list",
    ":marquee NOTICE ann :cy is muted in games by olga (noise)",
  ]],
  [{ type: "you_are_banned", place: "games", by: "olga", until: 0, reason: "" }, [
    ":marquee 474 ann #games :Cannot join channel (+b): by olga for good",
  ]],
  [{ type: "away_changed", name: "bob", text: "gone to lunch" }, [
    ":bob!bob@marquee AWAY :gone to lunch",
  ]],
  [{ type: "away_changed", name: "bob" }, [":bob!bob@marquee AWAY"]],
  [{ type: "account_changed", name: "bob", account: "bob" }, [":bob!bob@marquee ACCOUNT bob"]],
  [{ type: "account_changed", name: "bob" }, [":bob!bob@marquee ACCOUNT *"]],
];

Deno.test("each event reads as IRC clients expect it", () => {
  for (const [event, expected] of CASES) {
    assert.deepEqual(ircLines(event, IN_GAMES), expected, JSON.stringify(event));
  }
});

Deno.test("with server-time every line carries its time; a replayed line its own", () => {
  const tagged = { ...IN_GAMES, tags: true };
  assert.deepEqual(ircLines({ type: "say", from: "bob", text: "hi" }, tagged), [
    "@time=2026-12-04T12:00:00.000Z :bob!bob@marquee PRIVMSG #games :hi",
  ]);
  const at = Date.parse("2026-12-03T09:30:00Z");
  const replay: ChatEvent = {
    type: "history",
    room: "games",
    kind: "recent",
    lines: [{ room: "games", at, from: "bob", text: "earlier", action: false }],
  };
  assert.deepEqual(ircLines(replay, tagged), [
    "@time=2026-12-03T09:30:00.000Z :bob!bob@marquee PRIVMSG #games :earlier",
  ]);
});

Deno.test("a room's event is encoded once per face, CRLF-ended, naming the room", () => {
  const out = new Outgoing([{ type: "say", from: "bob", text: "hi" }], NOW, "lobby");
  const bytes = out.bytes("irc");
  assert.equal(new TextDecoder().decode(bytes), ":bob!bob@marquee PRIVMSG #lobby :hi\r\n");
  assert.equal(out.bytes("irc"), bytes, "the same bytes for every IRC reader");
  assert.equal(new TextDecoder().decode(out.bytes("text")), "[bob]: hi\n");
});

Deno.test("a message-tags client reads a line's msgid, account and the sender's tags; only it reads TAGMSG", () => {
  const line: ChatEvent = {
    type: "say",
    from: "bob",
    text: "hi",
    msgid: "m1",
    account: "bob",
    tags: "+draft/reply=m0",
  };
  const typing: ChatEvent = { type: "tagmsg", from: "bob", tags: "+typing=active", msgid: "m2" };
  const out = new Outgoing([line, typing], NOW, "games");
  const read = (face: "irc_tags" | "irc_mt" | "irc_mt_batch") =>
    new TextDecoder().decode(out.bytes(face));
  const at = "@time=2026-12-04T12:00:00.000Z";
  assert.equal(read("irc_tags"), `${at} :bob!bob@marquee PRIVMSG #games :hi\r\n`);
  const all = `${at};msgid=m1;account=bob;+draft/reply=m0 :bob!bob@marquee PRIVMSG #games :hi\r\n` +
    `${at};msgid=m2;+typing=active :bob!bob@marquee TAGMSG #games\r\n`;
  assert.equal(read("irc_mt"), all);
  assert.equal(read("irc_mt_batch"), all);
  assert.equal(new TextDecoder().decode(out.bytes("text")), "[bob]: hi\n");
  assert.equal(new TextDecoder().decode(out.bytes("json")).includes("msgid"), false);
});
