import assert from "node:assert/strict";
import { type Local, Registry } from "./registry.ts";
import { FakeSink } from "../testing/fake_sink.ts";
import { type Refusal, refusalText } from "./events.ts";

/** A refusal as the user reads it. */
function textOf(refusal: Refusal | undefined): string | undefined {
  return refusal === undefined ? undefined : refusalText(refusal);
}

function local(name: string) {
  return {
    sink: new FakeSink(),
    face: "text" as const,
    assigned: name,
    session: undefined,
    address: "127.0.0.1",
    secure: false,
    activeAt: 0,
  };
}

function withUsers() {
  const registry = new Registry();
  const alice = registry.add({ id: 1, name: "user1", server: "here", local: local("user1") })!;
  const bob = registry.add({ id: 2, name: "user2", server: "here", local: local("user2") })!;
  const carol = registry.add({ id: 3, name: "carol", server: "there", local: undefined })!;
  return { registry, alice, bob, carol };
}

Deno.test("Registry finds users by number and by name in any case", () => {
  const { registry, alice, carol } = withUsers();
  assert.equal(registry.user(1), alice);
  assert.equal(registry.named("USER1"), alice);
  assert.equal(registry.named("Carol"), carol);
  assert.equal(registry.named("nobody"), undefined);
});

Deno.test("Registry refuses a number it already knows: numbers are unique in the cluster", () => {
  const { registry } = withUsers();
  assert.equal(registry.add({ id: 2, name: "x", server: "there", local: undefined }), undefined);
  assert.equal(registry.size, 3);
});

Deno.test("Registry refuses your own name, 'server', other users' userN names and taken names", () => {
  const { registry, alice } = withUsers();
  assert.equal(textOf(registry.refuseName(alice, "user1")), "you are already user1");
  assert.equal(textOf(registry.refuseName(alice, "Server")), "name reserved: Server");
  // `* a user on another server also had the name ...` and `* your name ...
  // is held by ...` would be forgeable by users called a and your.
  assert.equal(textOf(registry.refuseName(alice, "a")), "name reserved: a");
  assert.equal(textOf(registry.refuseName(alice, "Your")), "name reserved: Your");
  // `* 2026-11-28 12:30 alice waves` is a replayed history line.
  assert.equal(textOf(registry.refuseName(alice, "2026-11-28")), "name reserved: 2026-11-28");
  assert.equal(textOf(registry.refuseName(alice, "_-_")), "name reserved: _-_");
  assert.equal(
    textOf(registry.refuseName(alice, "user9")),
    "name reserved: user9 (userN names are assigned)",
  );
  assert.equal(
    textOf(registry.refuseName(alice, "USER2")),
    "name reserved: USER2 (userN names are assigned)",
  );
  assert.equal(
    textOf(registry.refuseName(alice, "CAROL")),
    "name taken: CAROL",
    "remote names count",
  );
  assert.equal(textOf(registry.refuseName(alice, "alice")), undefined);
  assert.equal(
    textOf(registry.refuseName(alice, "User1")),
    undefined,
    "a case change of your own userN",
  );
});

Deno.test("Registry renames: the old name is free at once and the new one is held", () => {
  const { registry, alice, bob } = withUsers();
  registry.rename(alice, "alice");
  assert.equal(registry.named("user1"), undefined);
  assert.equal(registry.named("ALICE"), alice);
  assert.equal(textOf(registry.refuseName(bob, "alice")), "name taken: alice");
  registry.rename(alice, "Alice");
  assert.equal(registry.named("alice"), alice, "a case change keeps the name");
});

Deno.test("Registry removes a user everywhere, freeing its name and room", () => {
  const { registry, alice, bob } = withUsers();
  registry.rename(alice, "alice");
  registry.move(alice, "games");
  registry.remove(alice);
  assert.equal(registry.user(1), undefined);
  assert.equal(registry.named("alice"), undefined);
  assert.equal(textOf(registry.refuseName(bob, "alice")), undefined);
  assert.equal(registry.room("games"), undefined, "the emptied room is gone");
  assert.equal(registry.localCount, 1);
});

Deno.test("Registry moves users between rooms, creating them on demand; the lobby never goes", () => {
  const { registry, alice, bob, carol } = withUsers();
  const from = registry.move(alice, "Games");
  assert.equal(from, registry.lobby);
  assert.equal(alice.room.name, "Games", "the creator's case is the display name");
  registry.move(bob, "GAMES");
  assert.equal(bob.room, alice.room, "room names ignore case");
  registry.move(carol, "games");
  assert.deepEqual([...alice.room.users].map((u) => u.name), ["user1", "user2", "carol"]);
  assert.equal(registry.lobby.users.size, 0);
  assert.deepEqual(registry.rooms().map((r) => r.name), ["lobby", "Games"]);
  for (const user of [alice, bob, carol]) registry.move(user, "lobby");
  assert.deepEqual(registry.rooms().map((r) => r.name), ["lobby"]);
});

Deno.test("Registry lists rooms lobby first, then by name", () => {
  const { registry, alice, bob, carol } = withUsers();
  registry.move(alice, "zoo");
  registry.move(bob, "art");
  registry.move(carol, "music");
  assert.deepEqual(registry.rooms().map((r) => r.name), ["lobby", "art", "music", "zoo"]);
});

Deno.test("Registry lists names in join order, this server's users and the others' merged", () => {
  const registry = new Registry();
  registry.add({ id: 5, name: "remote1", server: "b", local: undefined });
  registry.add({ id: 1, name: "user1", server: "a", local: local("user1") });
  registry.add({ id: 6, name: "remote2", server: "b", local: undefined });
  registry.add({ id: 2, name: "user2", server: "a", local: local("user2") });
  registry.add({ id: 7, name: "user7", server: "a", local: local("user7") });
  assert.deepEqual([...registry.names()], ["user1", "user2", "remote1", "remote2", "user7"]);
  assert.equal(registry.localCount, 3);
  assert.equal(registry.remoteCount, 2);
  assert.deepEqual(registry.usersOf("b").map((u) => u.id), [5, 6]);
  assert.deepEqual([...registry.locals()].map((u) => u.id), [1, 2, 7]);
});

Deno.test("Registry keeps a doubly held name with its first holder until that one leaves", () => {
  const registry = new Registry();
  const first = registry.add({ id: 1, name: "sam", server: "a", local: undefined })!;
  const second = registry.add({ id: 2, name: "SAM", server: "b", local: undefined })!;
  assert.equal(registry.named("sam"), first);
  registry.remove(first);
  assert.equal(registry.named("sam"), undefined);
  registry.remove(second);
  assert.equal(registry.size, 0);
});

Deno.test("Registry says when a room goes, and a room's ops are only users in it", () => {
  const registry = new Registry();
  const gone: string[] = [];
  registry.onRoomGone = (room) => gone.push(room);
  const ann = registry.add({ id: 1, name: "ann", server: "a", local: undefined })!;
  const bob = registry.add({ id: 2, name: "bob", server: "a", local: undefined })!;
  const attic = registry.enter(ann, "attic");
  registry.setOp(attic, ann, true);
  registry.setOp(attic, bob, true);
  assert.deepEqual([...attic.ops], [ann], "bob is not in it");
  registry.move(ann, "lobby");
  assert.deepEqual([...attic.ops], []);
  assert.deepEqual(gone, ["attic"]);
  registry.move(bob, "lobby");
  assert.deepEqual(gone, ["attic"], "the lobby never goes");
});

Deno.test("Registry names this server's IRC users who shared a room with a leaver", () => {
  const registry = new Registry();
  const local = (face: "irc" | "text") => ({ face }) as unknown as Local;
  const add = (id: number, name: string, face: "irc" | "text" | undefined, rooms: string[]) =>
    registry.add({ id, name, server: "a", local: face && local(face) }, rooms)!;
  const ann = add(1, "ann", "irc", ["games", "attic"]);
  add(2, "bob", "irc", ["cellar"]);
  add(3, "nc", "text", ["games"]);
  add(4, "far", undefined, ["games"]);
  const cid = add(5, "cid", "irc", ["games"]);
  const rooms = [...cid.rooms];
  registry.remove(cid);
  assert.deepEqual(registry.ircSharers(rooms).map((u) => u.name), ["ann"]);
  assert.deepEqual(registry.ircSharers([]), []);
  registry.remove(ann);
  assert.deepEqual(registry.ircSharers(rooms), [], "who left is no reader");
});
