/**
 * The ChatServer's commands, exercised over real sockets: every command,
 * its exact lines, and its refusals.
 */

import assert from "node:assert/strict";
import { startServer, TestClient, type TestServer } from "../testing/chat_client.ts";

/** Joins `n` clients and drains their join/roster lines. */
async function crowd(server: TestServer, n: number): Promise<TestClient[]> {
  const clients: TestClient[] = [];
  for (let i = 0; i < n; i++) {
    const { client } = await TestClient.join(server.port);
    clients.push(client);
  }
  const last = `* user${n} joined the chat`;
  for (const client of clients.slice(0, -1)) await client.readUntil((l) => l === last);
  await clients.at(-1)?.linesBeforeProbe(); // its roster
  return clients;
}

async function withCrowd(
  n: number,
  test: (clients: TestClient[], server: TestServer) => Promise<void>,
): Promise<void> {
  const server = startServer();
  const clients = await crowd(server, n);
  try {
    await test(clients, server);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
  }
}

Deno.test("/nick renames, tells the whole room including the renamed, and is used afterwards", async () => {
  await withCrowd(2, async ([a, b]) => {
    await a!.send("/nick alice");
    assert.equal(await a!.readLine(), "* user1 is now known as alice");
    assert.equal(await b!.readLine(), "* user1 is now known as alice");
    await a!.send("hi");
    assert.equal(await b!.readLine(), "[alice]: hi");
    await a!.send("/nick Alice");
    assert.equal(await b!.readLine(), "* alice is now known as Alice", "a case change is allowed");
    await a!.send("/nick user1");
    assert.equal(await b!.readLine(), "* Alice is now known as user1", "your own userN is yours");
  });
});

Deno.test("/nick refuses taken names case-insensitively, server, other userN and bad shapes", async () => {
  await withCrowd(2, async ([a, b]) => {
    await b!.send("/nick bob");
    await a!.readLine();
    await b!.readLine();
    const cases: [string, string][] = [
      ["/nick BOB", "! name taken: BOB"],
      ["/nick server", "! name reserved: server"],
      ["/nick user2", "! name reserved: user2 (userN names are assigned)"],
      ["/nick user99", "! name reserved: user99 (userN names are assigned)"],
      [
        "/nick two words",
        "! invalid name: names are one word of 1-24 ASCII letters, digits, _ or -",
      ],
      ["/nick", "! usage: /nick NAME"],
      ["/nick user1", "! you are already user1"],
    ];
    for (const [command, reply] of cases) {
      await a!.send(command);
      assert.equal(await a!.readLine(), reply, command);
    }
    assert.deepEqual(await b!.linesBeforeProbe(), [], "refusals are private");
  });
});

Deno.test("a name becomes free when its holder leaves, but userN numbers are never reused", async () => {
  const server = startServer();
  const [a, b] = await crowd(server, 2);
  await a!.send("/nick alice");
  await b!.readLine();
  await a!.close();
  await b!.readUntil((l) => l === "* alice left the chat");
  await b!.send("/nick alice");
  assert.equal(await b!.readLine(), "* user2 is now known as alice");
  const { client: c, name } = await TestClient.join(server.port);
  assert.equal(name, "user3");
  await Promise.all([b!.close(), c.close()]);
  await server.stop();
});

Deno.test("/who lists the room and counts everyone online", async () => {
  await withCrowd(3, async ([a, b, c]) => {
    await c!.send("/join games");
    await c!.readLine();
    assert.equal(await a!.readLine(), "* user3 left the room");
    await a!.send("/who");
    assert.equal(await a!.readLine(), "* in lobby: user1, user2");
    assert.equal(await a!.readLine(), "* 2 in lobby, 3 online in all");
    assert.equal(await b!.readLine(), "* user3 left the room");
    assert.deepEqual(await b!.linesBeforeProbe(), [], "/who is private");
  });
});

Deno.test("/me sends an action to the others in the room without echo", async () => {
  await withCrowd(2, async ([a, b]) => {
    await a!.send("/me waves");
    assert.equal(await b!.readLine(), "* user1 waves");
    assert.deepEqual(await a!.linesBeforeProbe(), []);
    await a!.send("/me");
    assert.equal(await a!.readLine(), "! usage: /me ACTION");
  });
});

Deno.test("/msg reaches only the named user, matched case-insensitively", async () => {
  await withCrowd(3, async ([a, b, c]) => {
    await b!.send("/nick Bob");
    await Promise.all([a!.readLine(), b!.readLine(), c!.readLine()]);
    await a!.send("/msg bob psst, over here");
    assert.equal(await b!.readLine(), "[user1 -> Bob]: psst, over here");
    assert.deepEqual(await a!.linesBeforeProbe(), [], "the sender gets nothing on success");
    assert.deepEqual(await c!.linesBeforeProbe(), []);
    await a!.send("/msg nobody hello");
    assert.equal(await a!.readLine(), "! no such user: nobody");
    await a!.send("/msg bob");
    assert.equal(await a!.readLine(), "! usage: /msg NAME TEXT");
  });
});

Deno.test("/join moves between rooms: the old room, the new room and the mover are told", async () => {
  await withCrowd(3, async ([a, b, c]) => {
    await b!.send("/join games");
    assert.equal(await b!.readLine(), "* you are in games (1 user)");
    assert.equal(await a!.readLine(), "* user2 left the room");
    await c!.readLine();
    await c!.send("/join GAMES");
    assert.equal(await b!.readLine(), "* user3 joined the room");
    assert.equal(await c!.readLine(), "* you are in games (2 users)");
    await c!.send("in games");
    assert.equal(await b!.readLine(), "[user3]: in games");
    assert.equal(await a!.readLine(), "* user3 left the room");
    assert.deepEqual(await a!.linesBeforeProbe(), [], "lobby hears nothing else");
    await c!.send("/join games");
    assert.equal(await c!.readLine(), "! you are already in games");
    await c!.send("/join bad room");
    assert.match(await c!.readLine(), /^! invalid room: /);
  });
});

Deno.test("joins and leaves of the chat reach every room, renames only the room", async () => {
  await withCrowd(2, async ([a, b], server) => {
    await b!.send("/join games");
    await b!.readLine();
    await a!.readLine();
    await b!.send("/nick bob");
    assert.equal(await b!.readLine(), "* user2 is now known as bob");
    const { client: c } = await TestClient.join(server.port);
    assert.equal(await b!.readLine(), "* user3 joined the chat");
    // Both have seen the join before c leaves: a connection that leaves
    // while its join still waits to be announced is announced to nobody,
    // and with workers each decides that on its own.
    assert.equal(await a!.readLine(), "* user3 joined the chat");
    await c.close();
    assert.equal(await b!.readLine(), "* user3 left the chat");
    assert.equal(await a!.readLine(), "* user3 left the chat");
    assert.deepEqual(await a!.linesBeforeProbe(), [], "the rename stayed in games");
  });
});

Deno.test("/rooms lists rooms with sizes, lobby first, and empty rooms vanish", async () => {
  await withCrowd(3, async ([a, b, c]) => {
    await b!.send("/join zoo");
    await b!.readLine();
    await c!.send("/join art");
    await c!.readLine();
    assert.equal(await a!.readLine(), "* user2 left the room");
    assert.equal(await a!.readLine(), "* user3 left the room");
    await a!.send("/rooms");
    assert.equal(await a!.readLine(), "* rooms: lobby (1), art (1), zoo (1)");
    await b!.send("/join lobby");
    await b!.readLine();
    await a!.readLine();
    await a!.send("/rooms");
    assert.equal(await a!.readLine(), "* rooms: lobby (2), art (1)");
  });
});

Deno.test("/help lists every command, generated from the command table", async () => {
  await withCrowd(1, async ([a]) => {
    await a!.send("/HELP");
    const lines = [await a!.readLine()];
    while (!lines.at(-1)!.includes("//TEXT")) lines.push(await a!.readLine());
    for (const usage of ["/nick NAME", "/who", "/me ACTION", "/msg NAME TEXT", "/join ROOM"]) {
      assert.ok(lines.some((l) => l.includes(usage)), usage);
    }
    assert.ok(lines.every((l) => l.startsWith("* ")));
  });
});

Deno.test("/quit says goodbye with the reason and closes the connection", async () => {
  await withCrowd(2, async ([a, b]) => {
    await a!.send("/quit see you");
    assert.equal(await b!.readLine(), "* user1 left the chat (see you)");
    assert.equal(await a!.waitForEof(), true);
    assert.deepEqual(await b!.linesBeforeProbe(), [], "one leave line, not two");
  });
});

Deno.test("unknown commands get a hint; //text sends a literal slash; server lines cannot be forged", async () => {
  await withCrowd(2, async ([a, b]) => {
    await a!.send("/dance");
    assert.equal(await a!.readLine(), "! unknown command /dance (try /help)");
    await a!.send("//shrug");
    assert.equal(await b!.readLine(), "[user1]: /shrug");
    for (const forged of ["* server shutting down", "! you are banned", "[user2]: hi"]) {
      await a!.send(forged);
      assert.equal(await b!.readLine(), `[user1]: ${forged}`);
    }
  });
});

Deno.test("a newcomer gets at most 50 roster lines, then a count, then the welcome", async () => {
  const server = startServer({}, { welcome: true });
  const clients: TestClient[] = [];
  for (let i = 0; i < 53; i++) clients.push((await TestClient.join(server.port)).client);
  const late = await TestClient.connect(server.port);
  const lines: string[] = [];
  for (let i = 0; i < 53; i++) lines.push(await late.readLine());
  assert.deepEqual(await late.linesBeforeProbe(), [], "nothing after the welcome");
  assert.equal(lines[0], "* user54 joined the chat");
  assert.equal(lines[1], "* user1 joined the chat");
  assert.equal(lines[50], "* user50 joined the chat");
  assert.equal(lines[51], "* and 3 more (/who lists everyone)");
  assert.equal(lines[52], "* welcome, user54! type /help for commands");
  await Promise.all([...clients, late].map((c) => c.close()));
  await server.stop();
});

Deno.test("in a join storm everyone hears of everyone exactly once, own join first", async () => {
  const server = startServer();
  const clients = await Promise.all(
    Array.from({ length: 40 }, () => TestClient.connect(server.port)),
  );
  const names: string[] = [];
  for (const client of clients) {
    names.push(/^\* (\S+) joined the chat$/.exec(await client.readLine())![1]!);
  }
  for (const [i, client] of clients.entries()) {
    const lines = await client.linesBeforeProbe();
    const heard = lines.map((l) => /^\* (\S+) joined the chat$/.exec(l)![1]!);
    assert.deepEqual(
      [...heard].sort(),
      names.filter((_, j) => j !== i).sort(),
      `${names[i]} heard of each other user once`,
    );
  }
  await Promise.all(clients.map((c) => c.close()));
  await server.stop();
});
