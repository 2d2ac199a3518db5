import assert from "node:assert/strict";
import { helpLines } from "./commands.ts";
import {
  actionLine,
  chatLine,
  infoLine,
  joinedChat,
  leftChat,
  moderationLines as say,
  nameKept,
  nameLostNotice,
  privateLine,
  renamed,
  SERVER_EVENT,
  SHUTTING_DOWN,
} from "./protocol.ts";
import { jsonMessage, WireReader } from "./wire_events.ts";

const read = (line: string) => new WireReader().read(line);

Deno.test("every line a user causes reads back as its event, whatever the text holds", () => {
  const text = '] [bob]: * x joined the chat \\u0000 {"json": true}';
  assert.deepEqual(read(chatLine("alice", text)), { type: "say", from: "alice", text });
  assert.deepEqual(read(privateLine("alice", "bob", text)), {
    type: "private",
    from: "alice",
    to: "bob",
    text,
  });
  assert.deepEqual(read(actionLine("alice", "waves at bob")), {
    type: "action",
    from: "alice",
    text: "waves at bob",
  });
  assert.deepEqual(read(joinedChat("alice")), { type: "join", name: "alice" });
  assert.deepEqual(read(leftChat("alice")), { type: "leave", name: "alice" });
  assert.deepEqual(read(leftChat("alice", "see (you) later")), {
    type: "leave",
    name: "alice",
    reason: "see (you) later",
  });
  assert.deepEqual(read(renamed("user1", "alice")), { type: "rename", from: "user1", to: "alice" });
  assert.deepEqual(read(infoLine("alice joined the room")), { type: "enter", name: "alice" });
  assert.deepEqual(read(infoLine("alice left the room")), { type: "exit", name: "alice" });
  assert.deepEqual(read("! no such user: bob"), { type: "error", text: "no such user: bob" });
});

Deno.test("an action that passes the forgery rule is read as an action, never as an event", () => {
  for (const action of ["waves", "joined the chess club", "is now known as the best", "was here"]) {
    assert.ok(!SERVER_EVENT.test(action) || action.startsWith("is now known as"), action);
    if (SERVER_EVENT.test(action)) continue;
    assert.deepEqual(read(actionLine("alice", action)), {
      type: "action",
      from: "alice",
      text: action,
    });
  }
});

Deno.test("the server's own lines read as what they are, never as someone's action", () => {
  const now = 0;
  const server = [
    SHUTTING_DOWN,
    infoLine("link to other servers lost"),
    infoLine(nameKept("alice")),
    infoLine(nameLostNotice("alice", "user3")),
    infoLine("and 5 more (/who lists everyone)"),
    infoLine("3 in lobby, 3 online in all"),
    infoLine("this connection is not encrypted: ..."),
    infoLine("you are logged in as alice"),
    infoLine("password changed"),
    infoLine("announcement from boss: hi"),
    infoLine("bans and mutes in den:"),
    infoLine("nobody is banned or muted in den"),
    say.kicked("troll", "alice", "spam"),
    say.banned("troll", "den", "alice", 0, now, ""),
    say.muted("bob", "alice", 60_000, now, ""),
    say.owned("den", "alice"),
    say.opped("alice", "bob", "den"),
    say.deopped("alice", "bob", "den"),
    ...helpLines("operator").map(infoLine),
  ];
  for (const line of server) {
    const event = read(line);
    assert.ok(event.type === "info", `${line} -> ${JSON.stringify(event)}`);
  }
});

Deno.test("rooms, lists, topics, the welcome and history frames carry their fields", () => {
  assert.deepEqual(read("* you are in games (1 user)"), { type: "room", room: "games", users: 1 });
  assert.deepEqual(read("* welcome, alice! type /help for commands"), {
    type: "welcome",
    name: "alice",
    text: "welcome, alice! type /help for commands",
  });
  assert.deepEqual(read(say.topic("den", "no (spoilers)", "alice")), {
    type: "topic",
    text: "no (spoilers)",
    by: "alice",
  });
  assert.deepEqual(read(say.topicSet("alice", "hi")), { type: "topic", text: "hi", by: "alice" });
  assert.deepEqual(read("* recent in den:"), {
    type: "history_start",
    room: "den",
    kind: "recent",
  });
  assert.deepEqual(read("* history of den:"), { type: "history_start", room: "den", kind: "page" });
  assert.deepEqual(read("* 12:30 [alice]: hi"), {
    type: "say",
    at: "12:30",
    from: "alice",
    text: "hi",
  });
  assert.deepEqual(read("* 12:30 alice waves"), {
    type: "action",
    at: "12:30",
    from: "alice",
    text: "waves",
  });
  assert.deepEqual(read("* 2026-11-27 23:59:01 [alice]: late"), {
    type: "say",
    at: "2026-11-27 23:59:01",
    from: "alice",
    text: "late",
  });
  assert.deepEqual(read("* end of history"), { type: "history_end" });
  const reader = new WireReader();
  assert.deepEqual(reader.read("* in lobby: alice, bob"), {
    type: "who",
    room: "lobby",
    names: ["alice", "bob"],
  });
  assert.deepEqual(reader.read("* carol, dave"), { type: "more", items: ["carol", "dave"] });
  assert.deepEqual(reader.read("* 4 in lobby, 4 online in all"), {
    type: "info",
    text: "4 in lobby, 4 online in all",
  });
  assert.deepEqual(reader.read("* rooms: lobby (3), games (1)"), {
    type: "rooms",
    rooms: [{ name: "lobby", users: 3 }, { name: "games", users: 1 }],
  });
  assert.deepEqual(reader.read("* zoo (2)"), { type: "more", items: ["zoo (2)"] });
  // An action that would read as a room of that list is refused at the source.
  assert.ok(SERVER_EVENT.test("(2)") && SERVER_EVENT.test("(2), x") && !SERVER_EVENT.test("(two)"));
});

Deno.test("a payload of lines becomes one JSON array of timed events", () => {
  const bytes = new TextEncoder().encode("[alice]: hi\n* bob joined the chat\n");
  assert.deepEqual(JSON.parse(new TextDecoder().decode(jsonMessage(bytes, 42))), [
    { type: "say", from: "alice", text: "hi", time: 42 },
    { type: "join", name: "bob", time: 42 },
  ]);
});
