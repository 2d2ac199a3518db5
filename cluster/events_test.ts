import assert from "node:assert/strict";
import {
  DROP_LOG_INTERVAL_MS,
  DroppedEvents,
  MAX_BATCH_EVENTS,
  MAX_EVENT_BYTES,
  parseEvent,
  parseMessage,
} from "./events.ts";
import { FakeClock } from "../testing/fake_clock.ts";

const user = { server: "s1", id: 3, name: "alice", rooms: ["lobby"] };
const ircUser = { server: "s1", id: 4, name: "carol", rooms: ["lobby", "games"] };
const VALID = [
  { type: "join", server: "s1", user },
  { type: "join", server: "s1", user: { ...ircUser, rooms: [] } },
  { type: "say", server: "s1", id: 4, text: "hi", room: "games" },
  { type: "say", server: "s1", id: 4, text: "psst", room: "games", notice: true },
  { type: "me", server: "s1", id: 4, action: "waves", room: "games" },
  { type: "enter", server: "s1", id: 4, room: "games" },
  { type: "enter", server: "s1", id: 4, room: "attic", op: true },
  { type: "say", server: "s1", id: 4, text: "hi", room: "games", msgid: "a-4-0", account: "carol" },
  {
    type: "say",
    server: "s1",
    id: 4,
    text: "re",
    room: "games",
    msgid: "a-4-1",
    tags: "+draft/reply=a-4-0",
  },
  { type: "tagmsg", server: "s1", id: 4, room: "games", tags: "+typing=active", msgid: "a-4-2" },
  {
    type: "tagmsg",
    server: "s1",
    id: 4,
    to: "bob",
    tags: "+typing=done",
    msgid: "a-4-3",
    account: "carol",
  },
  { type: "msg", server: "s1", from: "carol", to: "bob", text: "x", msgid: "a-4-4", tags: "+a=b" },
  { type: "move", server: "s1", id: 3, room: "attic", op: true },
  { type: "roster", server: "s1", users: [{ ...ircUser, ops: ["games"] }] },
  {
    type: "act",
    server: "s1",
    act: { kind: "chanop", room: "attic", name: "bob", on: false, by: "al" },
  },
  { type: "part", server: "s1", id: 4, room: "games", reason: "later" },
  { type: "roster", server: "s1", users: [user, ircUser] },
  { type: "news", server: "s1", id: 4, wants: "away-notify", value: "lunch" },
  { type: "news", server: "s1", id: 4, wants: "away-notify", value: "still out", room: "games" },
  { type: "news", server: "s1", id: 4, wants: "account-notify" },
  { type: "leave", server: "s1", id: 3 },
  { type: "leave", server: "s1", id: 3, reason: "bye now" },
  { type: "say", server: "s1", id: 3, text: "hello [x]: * ! é" },
  { type: "me", server: "s1", id: 3, action: "waves" },
  { type: "nick", server: "s1", id: 3, name: "alicia" },
  { type: "move", server: "s1", id: 3, room: "games" },
  { type: "msg", server: "s1", from: "alice", to: "bob", text: "psst" },
  { type: "roster", server: "s1", users: [user] },
  { type: "sync", server: "s1" },
  { type: "heartbeat", server: "s1" },
  { type: "bye", server: "s1" },
  { type: "whois", server: "s1", asker: 3, target: 9, oper: false },
  {
    type: "whois_reply",
    server: "s1",
    to: "s2",
    asker: 9,
    target: 3,
    facts: "alice: registered, in lobby",
  },
];

Deno.test("parseEvent accepts every event type with well-formed fields", () => {
  for (const event of VALID) {
    assert.deepEqual(parseEvent(JSON.stringify(event)), { ok: true, event }, event.type);
  }
});

Deno.test("a user in one room, as a server before IRC sent it, is read as in that room", () => {
  const old = {
    type: "join",
    server: "s1",
    user: { server: "s1", id: 3, name: "al", room: "games" },
  };
  assert.deepEqual(parseEvent(JSON.stringify(old)), {
    ok: true,
    event: {
      type: "join",
      server: "s1",
      user: { server: "s1", id: 3, name: "al", rooms: ["games"] },
    },
  });
});

Deno.test("parseEvent keeps only the fields it checked", () => {
  const parsed = parseEvent(JSON.stringify({ type: "sync", server: "s1", extra: "x".repeat(10) }));
  assert.deepEqual(parsed, { ok: true, event: { type: "sync", server: "s1" } });
});

Deno.test("parseEvent drops what is not JSON, too large, or of no known type", () => {
  assert.deepEqual(parseEvent("{not json"), { ok: false, fault: "not_json" });
  assert.deepEqual(parseEvent("x".repeat(MAX_EVENT_BYTES + 1)), { ok: false, fault: "oversized" });
  for (
    const message of ['{"type":"explode","server":"s1"}', "[]", "null", '"say"', '{"server":"a"}']
  ) {
    assert.deepEqual(parseEvent(message), { ok: false, fault: "unknown_type" }, message);
  }
  assert.deepEqual(parseEvent('{"type":"toString","server":"s1"}'), {
    ok: false,
    fault: "unknown_type",
  });
});

Deno.test("parseEvent drops events with a missing or ill-typed field", () => {
  const bad: unknown[] = [
    { type: "say", server: "x", id: 1 }, // no text: reached users as "undefined"
    { type: "say", server: "", id: 1, text: "hi" },
    { type: "say", server: 7, id: 1, text: "hi" },
    { type: "say", server: "x", id: "1", text: "hi" },
    { type: "say", server: "x", id: 0, text: "hi" },
    { type: "say", server: "x", id: 1.5, text: "hi" },
    { type: "say", server: "x", id: 1, text: "two\nlines" },
    { type: "say", server: "x", id: 1, text: "esc \u001b[31m" },
    { type: "say", server: "x", id: 1, text: "x".repeat(70_000) },
    { type: "me", server: "x", id: 1, action: null },
    { type: "nick", server: "x", id: 1, name: "two words" },
    { type: "nick", server: "x", id: 1, name: "n".repeat(25) },
    { type: "move", server: "x", id: 1, room: "" },
    { type: "enter", server: "x", id: 1, room: "#games" },
    { type: "part", server: "x", id: 1, room: "games", reason: "a\nb" },
    { type: "news", server: "x", id: 1, wants: "all-news" },
    { type: "news", server: "x", id: 1, wants: "away-notify", value: "a\r\nQUIT" },
    { type: "news", server: "x", id: 1, wants: "account-notify", room: "#games" },
    { type: "say", server: "x", id: 1, text: "hi", room: "two words" },
    { type: "msg", server: "x", from: "a", to: "b" },
    { type: "say", server: "x", id: 1, text: "hi", msgid: "A B" },
    { type: "say", server: "x", id: 1, text: "hi", account: "Carol" },
    { type: "say", server: "x", id: 1, text: "hi", tags: "+a=b c" }, // a space ends the tags
    { type: "say", server: "x", id: 1, text: "hi", tags: "time=forged" }, // not a client tag
    { type: "tagmsg", server: "x", id: 1, room: "games", msgid: "m" }, // no tags
    { type: "tagmsg", server: "x", id: 1, tags: "+a", msgid: "m" }, // nowhere to go
    { type: "leave", server: "x", id: 1, reason: 5 },
    { type: "join", server: "x" },
    { type: "join", server: "x", user: { ...user, server: "x", id: -1 } },
    { type: "join", server: "x", user }, // speaks for another server's user
    { type: "roster", server: "s1", users: "everyone" },
    { type: "roster", server: "s1", users: [user, { ...user, name: "" }] },
    { type: "heartbeat", server: "s".repeat(65) },
    { type: "whois", server: "x", asker: 1, target: 2, oper: "yes" },
    { type: "whois_reply", server: "x", to: "", asker: 1, target: 2, facts: "bob: here" },
    {
      type: "whois_reply",
      server: "x",
      to: "s2",
      asker: 1,
      target: 2,
      facts: "bob\n* forged line",
    },
    { type: "whois_reply", server: "x", to: "s2", asker: 1, facts: "bob: here" },
  ];
  for (const event of bad) {
    const message = JSON.stringify(event);
    assert.deepEqual(parseEvent(message), { ok: false, fault: "bad_field" }, message.slice(0, 80));
  }
});

Deno.test("DroppedEvents counts every drop and logs each fault at most once a minute", () => {
  const clock = new FakeClock();
  const dropped = new DroppedEvents();
  assert.equal(dropped.record("not_json", clock.now()), true);
  assert.equal(dropped.record("bad_field", clock.now()), true, "each fault has its own minute");
  clock.advance(DROP_LOG_INTERVAL_MS - 1);
  assert.equal(dropped.record("not_json", clock.now()), false);
  clock.advance(1);
  assert.equal(dropped.record("not_json", clock.now()), true);
  assert.equal(dropped.count("not_json"), 3);
  assert.equal(dropped.count("bad_field"), 1);
  assert.equal(dropped.count("oversized"), 0);
});

Deno.test("acts from other servers are rebuilt from checked fields; bad ones are dropped", () => {
  const good = {
    type: "act",
    server: "b",
    act: {
      kind: "ban",
      room: "den",
      sanction: { target: "troll", by: "alice", reason: "spam", until: 0, extra: "dropped" },
    },
  };
  assert.deepEqual(parseEvent(JSON.stringify(good)), {
    ok: true,
    event: {
      type: "act",
      server: "b",
      act: {
        kind: "ban",
        room: "den",
        sanction: { target: "troll", by: "alice", reason: "spam", until: 0 },
      },
    },
  });
  const bad = [
    {
      kind: "ban",
      room: "den",
      sanction: { target: "troll", by: "alice", reason: "x\nforged", until: 0 },
    },
    { kind: "kill", target: "bob", by: "al ice", reason: "" },
    { kind: "op", room: "den", account: "Bob", on: true, by: "alice" },
    { kind: "mute", room: "", sanction: { target: "bob", by: "a", reason: "", until: -1 } },
    { kind: "explode" },
  ];
  for (const act of bad) {
    assert.deepEqual(parseEvent(JSON.stringify({ type: "act", server: "b", act })), {
      ok: false,
      fault: "bad_field",
    }, JSON.stringify(act));
  }
});

Deno.test("parseMessage reads a batch of one server's events, dropping only those that fail their check", () => {
  const say = { type: "say", server: "s1", id: 1, text: "hi", room: "lobby" };
  const forged = { type: "say", server: "s2", id: 2, text: "not s1's user", room: "lobby" };
  const junk = { type: "say", server: "s1", id: 1, text: "a\nforged line", room: "lobby" };
  const message = JSON.stringify({ server: "s1", events: [say, forged, junk, say] });
  assert.deepEqual(parseMessage(message), [
    { ok: true, event: say },
    { ok: false, fault: "bad_field" },
    { ok: false, fault: "bad_field" },
    { ok: true, event: say },
  ]);
  assert.deepEqual(parseMessage(JSON.stringify(say)), [{ ok: true, event: say }], "one event");
});

Deno.test("parseMessage drops a batch whose envelope is wrong, as one fault", () => {
  for (
    const message of [
      '{"server":"s1","events":{}}',
      '{"server":"","events":[]}',
      `{"server":"${"x".repeat(65)}","events":[]}`,
      '{"server":1,"events":[]}',
      JSON.stringify({ server: "s1", events: Array(MAX_BATCH_EVENTS + 1).fill(0) }),
    ]
  ) {
    assert.deepEqual(
      parseMessage(message),
      [{ ok: false, fault: "bad_field" }],
      message.slice(0, 40),
    );
  }
  assert.deepEqual(parseMessage('{"server":"s1",'), [{ ok: false, fault: "not_json" }]);
  assert.deepEqual(parseMessage('{"server":"' + "x".repeat(MAX_EVENT_BYTES) + '"}'), [
    { ok: false, fault: "oversized" },
  ]);
});
