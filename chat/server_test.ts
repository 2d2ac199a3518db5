/**
 * The chat server actor in memory: fake sinks instead of sockets, a fake
 * broker whose name claims the test answers by hand. What users see over
 * real sockets is tested in e2e/.
 */

import assert from "node:assert/strict";
import { Address, Mailbox, spawn } from "../actors/mod.ts";
import { FakeBroker } from "../testing/fake_broker.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { FakeSink } from "../testing/fake_sink.ts";
import { pollUntil } from "../testing/within.ts";
import { LocalBroker } from "../cluster/local_broker.ts";
import type { Broker } from "./ports.ts";
import { ChatServer, type ChatServerMessage } from "./server.ts";
import type { ClientSessionMessage } from "./session.ts";

interface TestUser {
  id: number;
  sink: FakeSink;
  session: Mailbox<ClientSessionMessage>;
  say(text: string): Promise<void>;
  command(command: Extract<ChatServerMessage, { type: "command" }>["command"]): Promise<void>;
}

function startChat(
  options: {
    broker?: Broker;
    claimTimeoutMs?: number;
    whoisTimeoutMs?: number;
    clock?: FakeClock;
  } = {},
) {
  const logs: string[] = [];
  const ref = spawn(
    new ChatServer({
      log: (line) => logs.push(line),
      broker: options.broker ?? new LocalBroker(),
      claimTimeoutMs: options.claimTimeoutMs,
      whoisTimeoutMs: options.whoisTimeoutMs,
      now: options.clock?.now,
    }),
    { supervision: { directive: "resume" }, clock: options.clock },
  );
  const server = ref.address;
  const join = async (id: number): Promise<TestUser> => {
    const sink = new FakeSink();
    const session = new Mailbox<ClientSessionMessage>({ capacity: 8 });
    await server.send({
      type: "join",
      id,
      name: `user${id}`,
      sink,
      face: "text",
      session: new Address(session),
      address: "127.0.0.1",
      secure: false,
    });
    assert.equal(await sink.nextLine(), `* user${id} joined the chat`);
    return {
      id,
      sink,
      session,
      say: (text) => server.send({ type: "say", id, text }),
      command: (command) => server.send({ type: "command", id, command }),
    };
  };
  const stop = async (): Promise<void> => {
    await server.ask<void>((reply) => ({ type: "shutdown", flushMs: 10, reply }));
    ref.stop();
    await ref.done;
  };
  return { server, join, stop, logs };
}

/** Reads lines until `line` arrives (roster and announcements before it). */
async function skipTo(sink: FakeSink, line: string): Promise<void> {
  while ((await sink.nextLine()) !== line);
}

Deno.test("ChatServer keeps the chat going while a rename waits for the other servers", async () => {
  const broker = new FakeBroker();
  const chat = startChat({ broker });
  await chat.server.send({ type: "link", up: true });
  const a = await chat.join(1);
  const b = await chat.join(2);
  const c = await chat.join(3);
  await skipTo(b.sink, "* user3 joined the chat");
  await a.command({ name: "nick", nick: "alice" });
  await b.say("still here");
  assert.equal(await c.sink.nextLine(), "* user1 joined the chat");
  await skipTo(c.sink, "[user2]: still here");
  assert.deepEqual(broker.pendingClaims, ["alice"]);
  broker.answerClaim("alice", true);
  assert.equal(await c.sink.nextLine(), "* user1 is now known as alice");
  await skipTo(a.sink, "* user1 is now known as alice");
  assert.deepEqual(a.session.tryReceive(), { type: "renamed", name: "alice" });
  assert.ok(broker.published.some((e) => e.type === "nick" && e.name === "alice"));
  await chat.stop();
});

Deno.test("ChatServer tells its broker which rooms have its users, and routes every line it publishes", async () => {
  const broker = new FakeBroker();
  const chat = startChat({ broker });
  const roomsAre = (rooms: string[], why: string) =>
    pollUntil(why, () => [...broker.rooms].join() === rooms.join());
  await chat.server.send({ type: "link", up: true });
  const sam = { server: "there", id: 50, name: "sam", rooms: ["attic"] };
  await chat.server.send({ type: "remote", event: { type: "join", server: "there", user: sam } });
  const a = await chat.join(1);
  const b = await chat.join(2);
  await roomsAre(["lobby"], "lobby only: another server's user in attic is not ours");
  await a.command({ name: "join", room: "Games" });
  await roomsAre(["lobby", "games"], "games too: b is still in lobby");
  await b.command({ name: "join", room: "games" });
  await roomsAre(["games"], "lobby has nobody of ours left");
  await a.say("hi");
  await a.command({ name: "msg", to: "sam", text: "psst" });
  await pollUntil("both published", () => broker.published.some((e) => e.type === "msg"));
  const say = broker.published.findIndex((e) => e.type === "say");
  const { msgid, ...line } = broker.published[say] as { msgid?: string };
  assert.deepEqual(line, {
    type: "say",
    server: "here",
    id: 1,
    text: "hi",
    room: "Games",
  }, "a line names its room: the one channel it goes on");
  assert.match(msgid!, /^[a-z0-9]+-1-0$/, "and carries its id, for IRCv3 clients");
  assert.equal(broker.routes[say], undefined);
  const msg = broker.published.findIndex((e) => e.type === "msg");
  assert.equal(broker.routes[msg], "there", "a private message goes to its server only");
  await chat.server.send({ type: "leave", id: 1 });
  await chat.server.send({ type: "leave", id: 2 });
  await roomsAre([], "nobody of ours is left in any room");
  await chat.stop();
});

Deno.test("ChatServer refuses a rename whose claim is not answered in time, and gives back a late grant", async () => {
  const broker = new FakeBroker();
  const chat = startChat({ broker, claimTimeoutMs: 20 });
  await chat.server.send({ type: "link", up: true });
  const a = await chat.join(1);
  await a.command({ name: "nick", nick: "alice" });
  assert.match(
    await a.sink.nextLine(),
    /^! cannot change your name now: .* did not answer in time/,
  );
  broker.answerClaim("alice", true);
  await a.command({ name: "who" });
  assert.equal(await a.sink.nextLine(), "* in lobby: user1", "the name did not change");
  assert.deepEqual(broker.released, ["alice"]);
  await chat.stop();
});

Deno.test("ChatServer checks a claimed name again when the answer comes back", async () => {
  const broker = new FakeBroker();
  const chat = startChat({ broker });
  await chat.server.send({ type: "link", up: true });
  const a = await chat.join(1);
  await a.command({ name: "nick", nick: "sam" });
  const sam = { server: "there", id: 50, name: "sam", rooms: ["lobby"] };
  await chat.server.send({ type: "remote", event: { type: "join", server: "there", user: sam } });
  broker.answerClaim("sam", true);
  await skipTo(a.sink, "! name taken: sam");
  assert.deepEqual(broker.released, ["sam"]);
  await chat.stop();
});

Deno.test("ChatServer tells of a link that is down, and allows one rename at a time and none while it is down", async () => {
  const broker = new FakeBroker();
  const chat = startChat({ broker });
  const a = await chat.join(1);
  assert.equal(
    await a.sink.nextLine(),
    "* link to other servers is down: users on other servers may not see you, nor you them",
    "a newcomer while the link is down is told",
  );
  await a.command({ name: "who" });
  assert.deepEqual(await a.sink.nextLines(2), [
    "* in lobby: user1",
    "* 1 in lobby, 1 online in all (link to other servers down)",
  ]);
  await a.command({ name: "nick", nick: "alice" });
  assert.equal(
    await a.sink.nextLine(),
    "! cannot change names while the link to other servers is down",
  );
  await chat.server.send({ type: "link", up: true });
  await a.command({ name: "nick", nick: "alice" });
  await a.command({ name: "nick", nick: "alicia" });
  assert.equal(await a.sink.nextLine(), "! a name change is already under way");
  broker.answerClaim("alice", false);
  assert.equal(await a.sink.nextLine(), "! name taken: alice");
  await chat.stop();
});

Deno.test("ChatServer takes a server's word only for that server's own users", async () => {
  const chat = startChat({ broker: new FakeBroker() });
  await chat.server.send({ type: "link", up: true });
  const a = await chat.join(1);
  const bob = { server: "b", id: 7, name: "bob", rooms: ["lobby"] };
  await chat.server.send({ type: "remote", event: { type: "join", server: "b", user: bob } });
  assert.equal(await a.sink.nextLine(), "* bob joined the chat");
  const say = (server: string, text: string): ChatServerMessage => ({
    type: "remote",
    event: { type: "say", server, id: 7, text },
  });
  await chat.server.send(say("c", "forged"));
  await chat.server.send(say("b", "real"));
  assert.equal(await a.sink.nextLine(), "[bob]: real");
  await chat.stop();
});

Deno.test("ChatServer replaces a server's users with its roster and announces the difference", async () => {
  const chat = startChat({ broker: new FakeBroker() });
  await chat.server.send({ type: "link", up: true });
  const a = await chat.join(1);
  const user = (id: number, name: string) => ({ server: "b", id, name, rooms: ["lobby"] });
  const roster = (...users: ReturnType<typeof user>[]): ChatServerMessage => ({
    type: "remote",
    event: { type: "roster", server: "b", users },
  });
  await chat.server.send(roster(user(7, "bob"), user(8, "ann")));
  assert.deepEqual(await a.sink.nextLines(2), ["* bob joined the chat", "* ann joined the chat"]);
  await chat.server.send(roster(user(8, "ann"), user(9, "cy")));
  assert.deepEqual(await a.sink.nextLines(2), ["* bob left the chat", "* cy joined the chat"]);
  await chat.server.send({ type: "server_lost", server: "b" });
  assert.deepEqual(await a.sink.nextLines(2), ["* ann left the chat", "* cy left the chat"]);
  await a.command({ name: "who" });
  assert.deepEqual(await a.sink.nextLines(2), [
    "* in lobby: user1",
    "* 1 in lobby, 1 online in all",
  ]);
  await chat.stop();
});

Deno.test("ChatServer tells a session its new name by message, and frees the old name", async () => {
  const chat = startChat();
  const a = await chat.join(1);
  const b = await chat.join(2);
  await a.command({ name: "nick", nick: "alice" });
  await skipTo(a.sink, "* user1 is now known as alice");
  assert.deepEqual(a.session.tryReceive(), { type: "renamed", name: "alice" });
  await b.command({ name: "nick", nick: "user1" });
  await skipTo(b.sink, "! name reserved: user1 (userN names are assigned)");
  await a.command({ name: "nick", nick: "al" });
  await b.command({ name: "nick", nick: "alice" });
  await skipTo(b.sink, "* user2 is now known as alice");
  await chat.stop();
});

Deno.test("ChatServer wraps /who after 20 names and /rooms after 20 rooms", async () => {
  const chat = startChat();
  const users: TestUser[] = [];
  for (let id = 1; id <= 22; id++) users.push(await chat.join(id));
  const first = users[0]!;
  await first.command({ name: "who" });
  await skipTo(first.sink, "* user22 joined the chat");
  const names = Array.from({ length: 22 }, (_, i) => `user${i + 1}`);
  assert.deepEqual(await first.sink.nextLines(3), [
    `* in lobby: ${names.slice(0, 20).join(", ")}`,
    `* ${names.slice(20).join(", ")}`,
    "* 22 in lobby, 22 online in all",
  ]);
  for (const [i, user] of users.slice(1).entries()) {
    await user.command({ name: "join", room: `room${String(i + 1).padStart(2, "0")}` });
  }
  await first.command({ name: "rooms" });
  const rooms = [
    "lobby (1)",
    ...Array.from({ length: 21 }, (_, i) => `room${String(i + 1).padStart(2, "0")} (1)`),
  ];
  await skipTo(first.sink, "* user22 left the room");
  assert.deepEqual(await first.sink.nextLines(2), [
    `* rooms: ${rooms.slice(0, 20).join(", ")}`,
    `* ${rooms.slice(20).join(", ")}`,
  ]);
  await chat.stop();
});

/** A linked chat (whois timeout 20 ms) with user1 here and `others` on
 * the server "there", numbered from 50, each seen joining by user1. */
async function withRemoteUsers(others: string[]) {
  const broker = new FakeBroker();
  const chat = startChat({ broker, whoisTimeoutMs: 20 });
  await chat.server.send({ type: "link", up: true });
  const a = await chat.join(1);
  for (const [i, name] of others.entries()) {
    const user = { server: "there", id: 50 + i, name, rooms: ["lobby"] };
    await chat.server.send({ type: "remote", event: { type: "join", server: "there", user } });
    await skipTo(a.sink, `* ${name} joined the chat`);
  }
  return { broker, chat, a };
}

Deno.test("ChatServer answers /whois of another server's user with what it knows when that server does not answer in time, and drops the late answer", async () => {
  const { broker, chat, a } = await withRemoteUsers(["sam"]);
  await a.command({ name: "whois", target: "sam" });
  assert.ok(
    broker.published.some((e) => e.type === "whois" && e.target === 50),
    "the server was asked",
  );
  assert.equal(
    await a.sink.nextLine(),
    "* sam: not registered, in lobby, on another server (its server did not answer)",
  );
  const late = { type: "whois_reply", server: "there", to: "here", asker: 1, target: 50 } as const;
  await chat.server.send({ type: "remote", event: { ...late, facts: "sam: idle 1s" } });
  await a.command({ name: "who" });
  assert.equal(await a.sink.nextLine(), "* in lobby: user1, sam", "the late answer was shown");
  await chat.stop();
});

Deno.test("ChatServer shows another server's answer to /whois that comes in time, once", async () => {
  const { chat, a } = await withRemoteUsers(["sam", "kim"]);
  await a.command({ name: "whois", target: "sam" });
  const reply = { type: "whois_reply", server: "there", to: "here", asker: 1, target: 50 } as const;
  await chat.server.send({ type: "remote", event: { ...reply, facts: "sam: idle 1s" } });
  assert.equal(await a.sink.nextLine(), "* sam: idle 1s");
  // kim's question expires after sam's would have: sam's must say nothing more.
  await a.command({ name: "whois", target: "kim" });
  assert.equal(
    await a.sink.nextLine(),
    "* kim: not registered, in lobby, on another server (its server did not answer)",
  );
  await chat.stop();
});

/** The room lists a page (a JSON face) was sent unasked, so far. */
function pushedRooms(sink: FakeSink): unknown[] {
  const objects = JSON.parse(`[${sink.partial.replace(/,$/, "")}]`) as { type: string }[];
  return objects.filter((o) => o.type === "rooms");
}

Deno.test("ChatServer sends a page the room list a second after people it cannot see move, once for several moves", async () => {
  const clock = new FakeClock(1_000_000);
  const chat = startChat({ clock });
  try {
    const page = await chat.join(1);
    const other = await chat.join(2);
    await chat.server.send({ type: "face", id: 1, face: "json", echo: false });
    await other.command({ name: "join", room: "attic" });
    await other.command({ name: "join", room: "cellar" });
    await chat.server.ask<unknown>((reply) => ({ type: "stats", reply }));
    clock.advance(999);
    await chat.server.ask<unknown>((reply) => ({ type: "stats", reply }));
    assert.deepEqual(pushedRooms(page.sink), [], "not before the second is up");
    clock.advance(1);
    await chat.server.ask<unknown>((reply) => ({ type: "stats", reply }));
    assert.deepEqual(pushedRooms(page.sink), [{
      type: "rooms",
      rooms: [{ name: "lobby", users: 1 }, { name: "cellar", users: 1 }],
      update: true,
      time: 1_001_000,
    }]);
    assert.equal(other.sink.unread.some((l) => l.startsWith("Rooms:")), false, "nc users are not");
    clock.advance(10_000);
    await chat.server.ask<unknown>((reply) => ({ type: "stats", reply }));
    assert.equal(pushedRooms(page.sink).length, 1, "nothing changed since: nothing more");
  } finally {
    await chat.stop();
  }
});

Deno.test("ChatServer sends pages at most the first 100 rooms unasked, the lobby first", async () => {
  const clock = new FakeClock(1_000_000);
  const chat = startChat({ clock });
  try {
    const page = await chat.join(1);
    await chat.server.send({ type: "face", id: 1, face: "json", echo: false });
    const users = [];
    for (let i = 0; i < 150; i++) users.push(await chat.join(100 + i));
    for (const [i, user] of users.entries()) {
      await user.command({ name: "join", room: `room${String(i).padStart(3, "0")}` });
    }
    clock.advance(1_000);
    await chat.server.ask<unknown>((reply) => ({ type: "stats", reply }));
    const pushed = pushedRooms(page.sink).at(-1) as { rooms: { name: string }[] };
    assert.equal(pushed.rooms.length, 100);
    assert.equal(pushed.rooms[0]?.name, "lobby");
    assert.equal(pushed.rooms[99]?.name, "room098");
  } finally {
    await chat.stop();
  }
});
