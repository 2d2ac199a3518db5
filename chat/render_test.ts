import assert from "node:assert/strict";
import { type ChatEvent, NOTICES, type Refusal, REFUSALS } from "./events.ts";
import { encodeJson, jsonFrame, jsonObjects, Outgoing, render, textLines } from "./render.ts";

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const NOW = Date.parse("2026-12-04T15:00:00Z");

/** Every kind of event, checked by the compiler (a missing or unknown
 * kind fails to type-check). */
const KINDS = Object.keys(
  {
    say: 1,
    action: 1,
    private: 1,
    join: 1,
    leave: 1,
    enter: 1,
    exit: 1,
    rename: 1,
    roster: 1,
    welcome: 1,
    tagmsg: 1,
    quit: 1,
    room: 1,
    who: 1,
    rooms: 1,
    help: 1,
    topic: 1,
    topic_set: 1,
    kicked: 1,
    banned: 1,
    unbanned: 1,
    muted: 1,
    unmuted: 1,
    opped: 1,
    owned: 1,
    released: 1,
    announcement: 1,
    whois: 1,
    whois_told: 1,
    away: 1,
    people: 1,
    bans: 1,
    history: 1,
    you_are_banned: 1,
    you_are_muted: 1,
    you_were_kicked: 1,
    notice: 1,
    refusal: 1,
    shutdown: 1,
    pong: 1,
    away_changed: 1,
    account_changed: 1,
  } satisfies Record<ChatEvent["type"], 1>,
);

/** One of every kind, with the text lines docs/protocol.md gives for it. */
const EXAMPLES: [ChatEvent, string[]][] = [
  [{ type: "say", from: "alice", text: "hi" }, ["[alice]: hi"]],
  [{ type: "action", from: "alice", text: "waves" }, ["* alice waves"]],
  [{ type: "private", from: "bob", to: "alice", text: "psst" }, ["[bob -> alice]: psst"]],
  [{ type: "join", name: "bob" }, ["* bob joined the chat"]],
  [{ type: "leave", name: "bob" }, ["* bob left the chat"]],
  [{ type: "leave", name: "bob", reason: "bye" }, ["* bob left the chat (bye)"]],
  [{ type: "enter", name: "bob", room: "games" }, ["* bob joined the room"]],
  [{ type: "exit", name: "bob", room: "games" }, ["* bob left the room"]],
  [{ type: "rename", from: "user1", to: "alice" }, ["* user1 is now known as alice"]],
  [{ type: "roster", names: ["a", "b"], more: 3 }, [
    "* a joined the chat",
    "* b joined the chat",
    "* and 3 more (/who lists everyone)",
  ]],
  [{ type: "roster", names: [], more: 0 }, []],
  [{ type: "welcome", name: "bob" }, ["* welcome, bob! type /help for commands"]],
  [{ type: "tagmsg", from: "bob", tags: "+typing=active", msgid: "x-1-0" }, []],
  [{ type: "quit", name: "bob", reason: "bye" }, []],
  [{ type: "room", room: "games", users: 1 }, ["* you are in games (1 user)"]],
  [{ type: "who", room: "lobby", names: ["a", "b"], online: 3, stale: false }, [
    "* in lobby: a, b",
    "* 2 in lobby, 3 online in all",
  ]],
  [{ type: "rooms", rooms: [{ name: "lobby", users: 2 }, { name: "games", users: 1 }] }, [
    "* rooms: lobby (2), games (1)",
  ]],
  [{ type: "help", lines: ["commands:", "  /who  list"] }, ["* commands:", "*   /who  list"]],
  [{ type: "topic", room: "games", text: "chess", by: "ann" }, [
    "* topic of games: chess (set by ann)",
  ]],
  [{ type: "topic", room: "games", text: "", by: "" }, ["* games has no topic"]],
  [{ type: "topic_set", room: "games", by: "ann", text: "go" }, ["* ann set the topic: go"]],
  [{ type: "topic_set", room: "games", by: "ann", text: "" }, ["* ann cleared the topic"]],
  [{ type: "kicked", room: "games", name: "bob", by: "ann", reason: "" }, [
    "* bob was kicked by ann",
  ]],
  [{ type: "banned", room: "games", name: "bob", by: "ann", until: NOW + 600_000, reason: "x" }, [
    "* bob was banned from games by ann for 10m (x)",
  ]],
  [{ type: "banned", room: "", name: "bob", by: "op", until: 0, reason: "" }, [
    "* bob was banned from the server by op for good",
  ]],
  [{ type: "unbanned", room: "games", name: "bob", by: "ann" }, [
    "* bob was unbanned from games by ann",
  ]],
  [{ type: "muted", room: "games", name: "bob", by: "ann", until: 0, reason: "" }, [
    "* bob was muted for good by ann",
  ]],
  [{ type: "unmuted", room: "games", name: "bob", by: "ann" }, ["* bob was unmuted by ann"]],
  [{ type: "opped", room: "games", name: "bob", by: "ann", on: true }, [
    "* ann made bob an op of games",
  ]],
  [{ type: "opped", room: "games", name: "bob", by: "ann", on: false }, [
    "* ann took op from bob in games",
  ]],
  [{ type: "owned", room: "games", owner: "ann" }, ["* games is now owned by ann"]],
  [{ type: "released", room: "games" }, ["* games is no longer registered"]],
  [{ type: "announcement", by: "op", text: "hello" }, ["* announcement from op: hello"]],
  [{
    type: "whois",
    facts: {
      name: "bob",
      registered: true,
      account: "bob",
      oper: false,
      room: "lobby",
      idleMs: 180_000,
      address: "127.0.0.1",
    },
  }, ["* bob: registered, logged in, in lobby, idle 3m, from 127.0.0.1"]],
  [{ type: "whois_told", text: "bob: not registered, in lobby, idle 1s" }, [
    "* bob: not registered, in lobby, idle 1s",
  ]],
  [{ type: "away", name: "ann", text: "at lunch" }, ["* ann is away: at lunch"]],
  [{
    type: "whois",
    facts: {
      name: "ann",
      registered: false,
      oper: false,
      room: "games",
      rooms: ["lobby", "games"],
    },
  }, ["* ann: not registered, in lobby and games, on another server"]],
  [{
    type: "people",
    mask: "a*",
    people: [{ name: "ann", away: false, oper: false, op: false }],
  }, ["* matching a*: ann"]],
  [{
    type: "bans",
    room: "games",
    entries: [{ whom: "bob", what: "banned", by: "ann", until: 0, reason: "spam" }],
  }, ["* bans and mutes in games:", "*   bob banned by ann, for good (spam)"]],
  [{
    type: "history",
    room: "lobby",
    kind: "recent",
    lines: [
      { at: NOW - 60_000, room: "lobby", from: "a", text: "hi", action: false },
      {
        at: Date.parse("2026-12-01T10:00:00Z"),
        room: "lobby",
        from: "a",
        text: "waves",
        action: true,
      },
    ],
  }, [
    "* recent in lobby:",
    "* 14:59 [a]: hi",
    "* 2026-12-01 10:00 a waves",
    "* end of recent",
  ]],
  [{ type: "you_are_banned", place: "games", by: "ann", until: 0, reason: "" }, [
    "! you are banned from games by ann for good",
  ]],
  [{ type: "you_are_muted", room: "games", by: "ann", until: 0, reason: "" }, [
    "! you are muted in games for good by ann: you may read but not speak there",
  ]],
  [{ type: "you_were_kicked", room: "games", by: "ann", reason: "x" }, [
    "! you were kicked from games by ann (x)",
  ]],
  [{ type: "notice", notice: { notice: "no_earlier_lines", room: "games" } }, [
    "* no earlier lines in games",
  ]],
  [{ type: "refusal", refusal: { refusal: "no_such_user", name: "zed" } }, [
    "! no such user: zed",
  ]],
  [{ type: "shutdown" }, ["* server shutting down"]],
  [{ type: "pong", token: "t" }, []],
  // Only IRC clients that asked for them are sent these.
  [{ type: "away_changed", name: "bob", text: "lunch" }, []],
  [{ type: "account_changed", name: "bob", account: "bob" }, []],
];

Deno.test("every event kind renders to the text lines of the protocol", () => {
  for (const [event, lines] of EXAMPLES) {
    assert.deepEqual(textLines(event, NOW), lines, event.type);
  }
  const kinds = new Set(EXAMPLES.map(([event]) => event.type));
  assert.deepEqual([...kinds].sort(), [...KINDS].sort(), "one example of each kind");
});

Deno.test("every server line starts with a star, a bang or a bracket", () => {
  for (const [event] of EXAMPLES) {
    for (const line of textLines(event, NOW)) assert.match(line, /^(\* |! |\[)/, line);
  }
});

Deno.test("every notice and refusal has a sentence that is one line", () => {
  const sample = { name: "n", room: "r", count: 2, back: "user1", target: "t", text: "x" };
  for (const kind of Object.keys(NOTICES) as (keyof typeof NOTICES)[]) {
    const text = NOTICES[kind]({ ...sample } as never);
    assert.ok(text.length > 0 && !text.includes("\n"), kind);
  }
  for (const kind of Object.keys(REFUSALS) as (keyof typeof REFUSALS)[]) {
    const refusal = { refusal: kind, ...sample, who: "w", what: "banned", max: 1, waitMs: 1 };
    const text = REFUSALS[kind](refusal as never);
    assert.ok(!text.includes("\n"), kind);
    const rendered = decode(render("text", [{ type: "refusal", refusal: refusal as Refusal }], 0));
    assert.match(rendered, /^! [^\n]*\n$/, kind);
  }
});

Deno.test("a user's text that reads like a server line is still a chat line in both faces", () => {
  const forged = '* bob joined the chat\n! you are banned"},{"type":"join","name":"x"}';
  for (const type of ["say", "action"] as const) {
    const event: ChatEvent = { type, from: "mallory", text: forged };
    const objects = JSON.parse(decode(jsonFrame(encodeJson([event], NOW))));
    assert.equal(objects.length, 1);
    assert.equal(objects[0].type, type);
    assert.equal(objects[0].text, forged, "the text is a field, never markup");
  }
  const dm = JSON.parse(decode(jsonFrame(render("json", [{
    type: "private",
    from: "mallory",
    to: "bob",
    text: forged,
  }], NOW))));
  assert.deepEqual(dm, [{ type: "private", from: "mallory", to: "bob", text: forged, time: NOW }]);
});

Deno.test("the browser's objects carry the events' fields and the time they were sent", () => {
  assert.deepEqual(
    jsonObjects({ type: "who", room: "lobby", names: ["a"], online: 4, stale: false }, NOW),
    [
      { type: "who", room: "lobby", names: ["a"], online: 4, stale: false },
    ],
  );
  assert.deepEqual(jsonObjects({ type: "roster", names: ["a"], more: 0 }, NOW), [
    { type: "join", name: "a" },
  ]);
  assert.deepEqual(jsonObjects({ type: "refusal", refusal: { refusal: "slow_down" } }, NOW), [
    { type: "error", text: "slow down", reason: "slow_down" },
  ]);
  assert.deepEqual(
    jsonObjects({ type: "notice", notice: { notice: "no_earlier_lines", room: "r" } }, NOW),
    [{ type: "info", text: "no earlier lines in r", notice: "no_earlier_lines" }],
  );
  const history = jsonObjects({
    type: "history",
    room: "lobby",
    kind: "page",
    lines: [{ at: NOW - 1000, room: "lobby", from: "a", text: "hi", action: false }],
  }, NOW);
  assert.deepEqual(history, [
    { type: "history_start", room: "lobby", kind: "page" },
    { type: "say", from: "a", text: "hi", at: "14:59:59" },
    { type: "history_end" },
  ]);
  assert.deepEqual(JSON.parse(decode(jsonFrame(render("json", [{ type: "shutdown" }], NOW)))), [
    { type: "info", text: "server shutting down", time: NOW },
  ]);
});

Deno.test("coalesced JSON writes are one array per frame", () => {
  const a = render("json", [{ type: "join", name: "a" }], 1);
  const b = render("json", [{ type: "say", from: "a", text: "hi" }], 2);
  const both = new Uint8Array([...a, ...b]);
  assert.deepEqual(JSON.parse(decode(jsonFrame(both))), [
    { type: "join", name: "a", time: 1 },
    { type: "say", from: "a", text: "hi", time: 2 },
  ]);
  assert.equal(decode(jsonFrame(new Uint8Array())), "[]");
});

Deno.test("an outgoing event is rendered once per face, however many read it", () => {
  const out = new Outgoing([{ type: "say", from: "a", text: "hi" }], NOW);
  assert.equal(out.bytes("text"), out.bytes("text"));
  assert.equal(out.bytes("json"), out.bytes("json"));
  assert.equal(decode(out.bytes("text")), "[a]: hi\n");
});
