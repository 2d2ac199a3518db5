/**
 * Rooms and moderation over real sockets, each test run twice: with a real
 * SQLite store and with a real redis-server. Owners,
 * ops, topics, kicks, bans and mutes (with a fake clock to see them end),
 * server operators' kill, server bans and announcements, and every refusal.
 */

import assert from "node:assert/strict";
import { TEST_COST, TestClient, type TestServer } from "../testing/chat_client.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { ScryptPasswords } from "../store/passwords.ts";
import { as, bothStores, registered } from "../testing/people.ts";

/** `client` moves to `room` and reads through its "you are in" line. */
async function enter(client: TestClient, room: string): Promise<string[]> {
  await client.send(`/join ${room}`);
  return await client.readThrough((l) => l.startsWith(`* you are in ${room}`));
}

async function operators(): Promise<Map<string, string>> {
  return new Map([["root", await new ScryptPasswords(TEST_COST).hash("operator-pass")]]);
}

/** A test run against both stores, with the operators above and a fake clock. */
function withServer(
  name: string,
  fn: (server: TestServer, clock: FakeClock) => Promise<void>,
): void {
  bothStores(name, async () => ({ operators: await operators() }), fn);
}

withServer(
  "the first registered user in a new room owns it; its topic greets newcomers after the join line",
  async (server) => {
    const alice = await registered(server, "alice");
    await enter(alice, "den");
    assert.equal(await alice.readLine(), "* den is now owned by alice");
    await alice.send("/topic no spoilers");
    assert.equal(await alice.readLine(), "* alice set the topic: no spoilers");
    const bob = await as(server, "bob");
    const joined = await enter(bob, "den");
    assert.equal(joined.at(-1), "* you are in den (2 users)");
    assert.equal(await bob.readLine(), "* topic of den: no spoilers (set by alice)");
    await bob.send("/topic");
    assert.equal(await bob.readLine(), "* topic of den: no spoilers (set by alice)");
    await bob.send("/topic mine now");
    assert.equal(await bob.readLine(), "! only ops of den may set the topic");
    await bob.send("/kick alice");
    assert.equal(await bob.readLine(), "! only ops of den may kick");
    await bob.send("/me was kicked by alice");
    assert.equal(await bob.readLine(), "! that action would read like a server line");
    await Promise.all([alice.close(), bob.close()]);
  },
);

withServer(
  "an owner makes ops; an op kicks to the lobby, but cannot kick the owner",
  async (server) => {
    const alice = await registered(server, "alice");
    await enter(alice, "den");
    const bob = await registered(server, "bob");
    const carol = await as(server, "carol");
    await enter(bob, "den");
    await enter(carol, "den");
    await alice.send("/op carol");
    assert.equal(
      await alice.readUntil((l) => l.startsWith("!")),
      "! carol is not registered: only registered users can be ops",
    );
    await alice.send("/op bob");
    assert.equal(await bob.readUntil((l) => l.includes("op")), "* alice made bob an op of den");
    await bob.send("/kick alice");
    assert.equal(
      await bob.readUntil((l) => l.startsWith("!")),
      "! alice is the owner of den: you cannot do that",
    );
    await bob.send("/kick carol too loud");
    assert.equal(
      await alice.readUntil((l) => l.includes("kicked")),
      "* carol was kicked by bob (too loud)",
    );
    assert.equal(
      await carol.readUntil((l) => l.startsWith("!")),
      "! you were kicked from den by bob (too loud)",
    );
    assert.equal(await carol.readLine(), "* you are in lobby (1 user)");
    await alice.send("/deop bob");
    assert.equal(await bob.readUntil((l) => l.includes("op")), "* alice took op from bob in den");
    await bob.send("/kick alice");
    assert.equal(await bob.readLine(), "! only ops of den may kick");
    await Promise.all([alice.close(), bob.close(), carol.close()]);
  },
);

withServer(
  "a ban keeps a name out until it ends, on time by the clock; /bans lists it; /unban lifts it",
  async (server, clock) => {
    const alice = await registered(server, "alice");
    await enter(alice, "den");
    const troll = await as(server, "troll");
    await enter(troll, "den");
    await alice.send("/ban troll 10m spam");
    assert.equal(
      await alice.readUntil((l) => l.includes("banned")),
      "* troll was banned from den by alice for 10m (spam)",
    );
    assert.equal(
      await troll.readUntil((l) => l.startsWith("!")),
      "! you are banned from den by alice for 10m (spam)",
    );
    assert.equal(await troll.readLine(), "* you are in lobby (1 user)");
    await troll.send("/join den");
    assert.equal(await troll.readLine(), "! you are banned from den by alice for 10m (spam)");
    await alice.send("/bans");
    await alice.readUntil((l) => l === "* bans and mutes in den:");
    assert.equal(await alice.readLine(), "*   troll banned by alice, 10m left (spam)");
    clock.advance(9 * 60_000);
    await troll.send("/join den");
    assert.equal(await troll.readLine(), "! you are banned from den by alice for 1m (spam)");
    clock.advance(60_000);
    assert.equal((await enter(troll, "den")).at(-1), "* you are in den (2 users)");
    await alice.send("/ban troll");
    await troll.readUntil((l) => l.startsWith("* you are in lobby"));
    await alice.send("/unban troll");
    assert.equal(
      await alice.readUntil((l) => l.includes("unbanned")),
      "* troll was unbanned from den by alice",
    );
    assert.equal((await enter(troll, "den")).at(-1), "* you are in den (2 users)");
    await alice.send("/unban troll");
    assert.equal(await alice.readUntil((l) => l.startsWith("!")), "! troll is not banned in den");
    await Promise.all([alice.close(), troll.close()]);
  },
);

withServer(
  "a muted user reads but cannot speak in that room, until the mute ends or is lifted",
  async (server, clock) => {
    const alice = await registered(server, "alice");
    await enter(alice, "den");
    const bob = await as(server, "bob");
    await enter(bob, "den");
    await alice.send("/mute bob 2m calm down");
    assert.equal(
      await bob.readUntil((l) => l.includes("muted")),
      "* bob was muted for 2m by alice (calm down)",
    );
    assert.equal(
      await bob.readLine(),
      "! you are muted in den for 2m by alice (calm down): you may read but not speak there",
    );
    await bob.send("can I talk?");
    assert.match(await bob.readLine(), /^! you are muted in den for 2m/);
    await bob.send("/me tries");
    assert.match(await bob.readLine(), /^! you are muted in den/);
    await alice.send("still here");
    assert.equal(
      await bob.readLine(),
      "[alice]: still here",
      "bob reads, and alice never saw his lines",
    );
    clock.advance(120_000);
    await bob.send("free again");
    assert.equal(await alice.readUntil((l) => l.startsWith("[bob]")), "[bob]: free again");
    await alice.send("/mute bob");
    await bob.readUntil((l) => l.startsWith("! you are muted"));
    await alice.send("/unmute bob");
    assert.equal(await bob.readUntil((l) => l.includes("unmuted")), "* bob was unmuted by alice");
    await bob.send("thanks");
    assert.equal(await alice.readUntil((l) => l.startsWith("[bob]")), "[bob]: thanks");
    await Promise.all([alice.close(), bob.close()]);
  },
);

withServer(
  "a room nobody owns is run by whoever opened it, registered or not, and by operators",
  async (server) => {
    const bob = await registered(server, "bob");
    const { client: guest, name } = await TestClient.join(server.port);
    await enter(guest, "open");
    await enter(bob, "open");
    await bob.send("/ban somebody");
    assert.equal(await bob.readLine(), "! only ops of open may ban");
    await guest.send("/topic come in");
    assert.equal(
      await bob.readUntil((l) => l.includes("topic")),
      `* ${name} set the topic: come in`,
    );
    await bob.send("/oper root wrong-pass");
    assert.equal(await bob.readUntil((l) => l.startsWith("!")), "! wrong name or password");
    await bob.send("/oper root operator-pass");
    assert.equal(
      await bob.readLine(),
      "* you are a server operator now (/help lists what you may do)",
    );
    await bob.send("/ban somebody");
    assert.match(await bob.readLine(), /^\* somebody was banned from open by bob/);
    await bob.send("/help");
    const help = await bob.readThrough((l) => l.includes("//TEXT"));
    assert.ok(help.some((l) => l.includes("/kill NAME REASON")), "operators see their commands");
    await guest.send("/help");
    const guestHelp = await guest.readThrough((l) => l.includes("//TEXT"));
    for (const command of ["/kick NAME", "/ban NAME", "/op NAME"]) {
      assert.ok(guestHelp.some((l) => l.includes(command)), `the op who opened it sees ${command}`);
    }
    assert.ok(!guestHelp.some((l) => l.includes("/kill")), "an op of a room sees no operator's");
    await Promise.all([bob.close(), guest.close()]);
  },
);

withServer(
  "operators kill anyone but operators, ban addresses from the server but loopback, and announce to every room",
  async (server) => {
    const root = await as(server, "boss");
    await root.send("/oper root operator-pass");
    await root.readUntil((l) => l.startsWith("* you are a server operator"));
    const victim = await as(server, "victim");
    await enter(victim, "elsewhere");
    await root.send("/announce maintenance at noon");
    assert.equal(await victim.readLine(), "* announcement from boss: maintenance at noon");
    await root.send("/whois victim");
    assert.match(
      await root.readUntil((l) => l.startsWith("* victim:")),
      /^\* victim: not registered, in elsewhere, idle \d+s, from 127\.0\.0\.1$/,
    );
    const loiterer = await as(server, "loiterer");
    await root.send("/kick loiterer");
    assert.equal(await loiterer.readUntil((l) => l.startsWith("!")), "! you were kicked by boss");
    assert.ok(await loiterer.waitForEof(), "kicked from the lobby: disconnected");
    await root.send("/kill victim spamming links");
    assert.equal(
      await victim.readUntil((l) => l.startsWith("!")),
      "! you were disconnected by boss (spamming links)",
    );
    assert.ok(await victim.waitForEof());
    assert.equal(
      await root.readUntil((l) => l.includes("victim left")),
      "* victim left the chat (killed by boss: spamming links)",
    );
    // Loopback (the operator's own address here, and everyone's behind a
    // local proxy) is never banned from the server: nobody could get back.
    await root.send("/gban 127.0.0.1 1h abuse");
    assert.equal(
      await root.readUntil((l) => l.startsWith("!")),
      "! a server ban may not cover your own address, loopback, or a server operator's address",
    );
    const back = root; // still here, and still an operator
    await back.send("/gban 10.1.2.3");
    await back.readUntil((l) => l.includes("10.1.2.3 was banned from the server"));
    await back.send("/ungban 10.1.2.3");
    assert.equal(await back.readLine(), "* 10.1.2.3 is no longer banned from the server");
    await back.send("/ungban 10.1.2.3");
    assert.equal(await back.readLine(), "! 10.1.2.3 is not banned from the server");
    await back.close();
    assert.ok(
      server.logs.some((l) => l.includes("boss: kill victim") && l.includes("spamming links")),
    );
    assert.ok(server.logs.some((l) => l.includes("boss: ban 10.1.2.3 in (server)")));
  },
);
