/**
 * The IRC face over real sockets: an IRC client, an nc client and the
 * page's JSON WebSocket in one room, each reading the others' doings in
 * its own form; registration, several channels at once, moderation and
 * hostile input on the IRC port.
 */

import assert from "node:assert/strict";
import { linkedUp, startServer, TestClient, type TestServer } from "../testing/chat_client.ts";
import { IrcClient } from "../testing/irc_client.ts";
import { as, bothStores, registered } from "../testing/people.ts";
import { HAVE_REDIS, startRedis } from "../testing/redis_server.ts";

/** A JSON WebSocket client, as the page opens it. */
async function openPage(webPort: number) {
  const socket = new WebSocket(`ws://127.0.0.1:${webPort}/ws`, ["marquee.json"]);
  const events: Record<string, unknown>[] = [];
  let wake = () => {};
  socket.onmessage = (message) => {
    for (const event of JSON.parse(String(message.data))) events.push(event);
    wake();
  };
  await new Promise((resolve) => (socket.onopen = resolve));
  const next = async (match: (e: Record<string, unknown>) => boolean) => {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const index = events.findIndex(match);
      if (index !== -1) return events.splice(0, index + 1).at(-1)!;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    throw new Error(`No such event; got ${JSON.stringify(events)}`);
  };
  const close = async () => {
    const closed = new Promise((resolve) => (socket.onclose = resolve));
    socket.close();
    await closed;
  };
  return { socket, next, close };
}

async function withServer(test: (server: TestServer) => Promise<void>, web = false) {
  const server = startServer({ floodRate: 0 }, { web });
  await server.ready;
  try {
    await test(server);
  } finally {
    await server.stop();
  }
}

/** Two servers linked through a fresh redis-server (keeping accounts there
 * if `accounts`), both linked up; `test` runs with them and they stop
 * after, whatever happens. */
async function withLinked(
  test: (s1: TestServer, s2: TestServer) => Promise<void>,
  accounts = false,
): Promise<void> {
  const redis = await startRedis();
  const shared = { redis: redis.url, ...(accounts ? { accounts: {} } : {}) };
  const s1 = startServer({ floodRate: 0 }, shared);
  const s2 = startServer({ floodRate: 0 }, shared);
  try {
    await linkedUp(s1);
    await linkedUp(s2);
    await test(s1, s2);
  } finally {
    await s1.stop();
    await s2.stop();
    await redis.stop();
  }
}

Deno.test("an IRC client registers, is welcomed with its nick and a truthful ISUPPORT", async () => {
  await withServer(async (server) => {
    const irc = await IrcClient.connect(server.ircPort);
    await irc.send("CAP LS 302");
    assert.match(await irc.line(), / CAP \* LS :.*server-time/);
    await irc.send("NICK ann");
    await irc.send("USER ann 0 * :Ann A");
    await irc.send("CAP END");
    assert.equal(await irc.line(), ":marquee 001 ann :Welcome to the Marquee IRC network, ann");
    const isupport = await irc.readUntil((l) => / 005 /.test(l));
    for (const token of ["CHANTYPES=#", "NICKLEN=24", "CASEMAPPING=ascii", "PREFIX=(o)@"]) {
      assert.ok(isupport.includes(token), token);
    }
    await irc.readUntil((l) => / 376 /.test(l));
    await irc.send("PING :hello there");
    assert.equal(
      await irc.readUntil((l) => l.includes("PONG")),
      ":marquee PONG marquee :hello there",
    );
    await irc.send("FROB");
    assert.equal(await irc.line(), ":marquee 421 ann FROB :Unknown command");
    await irc.close();
  });
});

Deno.test("a nick outside the name rule is 432; a taken one 433, and the client picks another", async () => {
  await withServer(async (server) => {
    const { client: nc } = await TestClient.join(server.port);
    await nc.send("/nick bob");
    await nc.readUntil((l) => l.includes("known as bob"));
    const irc = await IrcClient.connect(server.ircPort);
    await irc.send("NICK b.o.b");
    assert.match(await irc.line(), /^:marquee 432 \* b\.o\.b :/);
    await irc.send("NICK BOB");
    await irc.send("USER bob 0 * :Bob");
    assert.match(await irc.readUntil((l) => / 433 /.test(l)), / 433 \S+ BOB :name taken: BOB$/);
    await irc.send("NICK bob_");
    assert.match(await irc.readUntil((l) => / 001 /.test(l)), / 001 bob_ /);
    await Promise.all([irc.close(), nc.close()]);
  });
});

Deno.test("IRC, nc and the page in one room: lines, actions, renames, joins, parts, kicks, topics, quits", async () => {
  await withServer(async (server) => {
    const { webPort } = await server.ready;
    const { client: nc, name: ncName } = await TestClient.join(server.port);
    const page = await openPage(webPort!);
    await nc.readUntil((l) => l.endsWith("joined the chat"));
    const irc = await IrcClient.register(server.ircPort, "ann");
    await irc.send("JOIN #lobby");
    assert.equal(await irc.line(), ":ann!ann@marquee JOIN #lobby");
    const names = await irc.readUntil((l) => / 353 /.test(l));
    assert.ok(names.includes(ncName), names);
    await irc.readUntil((l) => / 366 /.test(l));
    assert.equal(await nc.readLine(), "* ann joined the room");
    await page.next((e) => e.type === "enter" && e.name === "ann");

    await nc.send("hello irc");
    assert.equal(await irc.line(), `:${ncName}!${ncName}@marquee PRIVMSG #lobby :hello irc`);
    await irc.send("PRIVMSG #lobby :hello nc");
    assert.equal(await nc.readLine(), "[ann]: hello nc");
    assert.equal((await page.next((e) => e.type === "say" && e.from === "ann")).text, "hello nc");
    await irc.send("PRIVMSG #lobby :\x01ACTION waves\x01");
    assert.equal(await nc.readLine(), "* ann waves");
    await nc.send("/me bows");
    assert.equal(
      await irc.line(),
      `:${ncName}!${ncName}@marquee PRIVMSG #lobby :\x01ACTION bows\x01`,
    );

    await irc.send("NICK anna");
    assert.equal(await irc.line(), ":ann!ann@marquee NICK anna");
    assert.equal(await nc.readLine(), "* ann is now known as anna");
    irc.nick = "anna";
    await nc.send("/nick carl");
    assert.equal(await irc.line(), `:${ncName}!${ncName}@marquee NICK carl`);

    await irc.send("JOIN #games");
    await irc.readUntil((l) => / 366 anna #games /.test(l));
    await nc.send("/join games");
    assert.equal(await irc.line(), ":carl!carl@marquee PART #lobby");
    assert.equal(await irc.line(), ":carl!carl@marquee JOIN #games");
    await nc.readUntil((l) => l.startsWith("* you are in games"));
    await irc.send("PRIVMSG #lobby :only the lobby hears this");
    await irc.send("PRIVMSG #games :and games this");
    assert.equal(await nc.readUntil((l) => l.startsWith("[")), "[anna]: and games this");
    assert.equal(
      (await page.next((e) => e.type === "say" && e.from === "anna")).text,
      "only the lobby hears this",
      "the page is in the lobby only",
    );

    // anna opened #games, so she is its op: her topic and kick reach every face.
    page.socket.send("/join games");
    await irc.readUntil((l) => / JOIN #games$/.test(l) && !l.startsWith(":carl!"));
    await irc.send("TOPIC #games :chess at nine");
    assert.equal(await irc.line(), ":anna!anna@marquee TOPIC #games :chess at nine");
    assert.equal(
      await nc.readUntil((l) => l.includes("topic")),
      "* anna set the topic: chess at nine",
    );
    assert.equal((await page.next((e) => e.type === "topic")).text, "chess at nine");
    await irc.send("KICK #games carl :too loud");
    assert.equal(await irc.line(), ":anna!anna@marquee KICK #games carl :too loud");
    assert.equal(
      await nc.readUntil((l) => l.startsWith("!")),
      "! you were kicked from games by anna (too loud)",
    );
    assert.equal(
      (await page.next((e) => e.kind === "kicked")).text,
      "carl was kicked by anna (too loud)",
    );
    await nc.readUntil((l) => l.startsWith("* you are in lobby"));
    // carl went to the lobby: IRC reads that as a JOIN, and no PART after the KICK.
    assert.equal(await irc.line(), ":carl!carl@marquee JOIN #lobby");

    await irc.send("PART #games :off to bed");
    assert.equal(await irc.line(), ":anna!anna@marquee PART #games :off to bed");
    await page.next((e) => e.type === "exit" && e.name === "anna");
    await irc.send("QUIT :bye all");
    assert.equal(await irc.line(), "ERROR :Closing link: bye all");
    assert.equal(
      await nc.readUntil((l) => l.includes("anna left")),
      "* anna left the chat (bye all)",
    );
    await Promise.all([irc.close(), nc.close(), page.close()]);
  }, true);
});

Deno.test("a line to a channel the IRC user is not in is refused with 404, to a nick with 401", async () => {
  await withServer(async (server) => {
    const irc = await IrcClient.register(server.ircPort, "ann");
    await irc.send("PRIVMSG #lobby :hi");
    assert.equal(await irc.line(), ":marquee 404 ann #lobby :Cannot send to channel");
    await irc.send("PRIVMSG #nowhere :hi");
    assert.equal(await irc.line(), ":marquee 403 ann #nowhere :No such channel");
    await irc.send("PRIVMSG zed :hi");
    assert.equal(await irc.line(), ":marquee 401 ann zed :No such nick/channel");
    await irc.send("JOIN #bad.name");
    assert.equal(await irc.line(), ":marquee 479 ann #bad.name :Illegal channel name");
    await irc.close();
  });
});

Deno.test("private messages and echo-message between IRC and nc", async () => {
  await withServer(async (server) => {
    const { client: nc, name: ncName } = await TestClient.join(server.port);
    const irc = await IrcClient.register(server.ircPort, "ann", ["echo-message", "server-time"]);
    await irc.send(`PRIVMSG ${ncName} :psst`);
    assert.equal(await nc.readUntil((l) => l.startsWith("[")), `[ann -> ${ncName}]: psst`);
    const echo = await irc.raw.readLine();
    assert.match(echo, /^@time=\S+ :ann!ann@marquee PRIVMSG user\d+ :psst\r$/);
    await nc.send("/msg ann hi back");
    assert.equal(await irc.line(), `:${ncName}!${ncName}@marquee PRIVMSG ann :hi back`);
    await irc.send("JOIN #lobby");
    await irc.readUntil((l) => / 366 /.test(l));
    await irc.send("PRIVMSG #lobby :echoed");
    assert.equal(await irc.line(), ":ann!ann@marquee PRIVMSG #lobby :echoed");
    await Promise.all([irc.close(), nc.close()]);
  });
});

Deno.test("hostile input on the IRC port gets IRC's answers and costs nobody else", async () => {
  await withServer(async (server) => {
    const { client: nc } = await TestClient.join(server.port);
    const irc = await IrcClient.register(server.ircPort, "ann");
    await irc.send("JOIN #lobby");
    await irc.readUntil((l) => / 366 /.test(l));
    await irc.send(`PRIVMSG #lobby :${"x".repeat(600)}`);
    assert.equal(await irc.line(), ":marquee 417 ann :Input line was too long");
    await irc.raw.writeAll(new TextEncoder().encode("y".repeat(5 * 1024 * 1024) + "\r\n"));
    assert.equal(
      await irc.readUntil((l) => / 417 /.test(l)),
      ":marquee 417 ann :Input line was too long",
    );
    await irc.raw.writeAll(new Uint8Array([0xff, 0xfe, 0x00, 0x0d, 0x0a, 0x80, 0x0a]));
    await irc.send("PRIVMSG #lobby :still here \x1b[31m");
    assert.equal(await nc.readUntil((l) => l.startsWith("[")), "[ann]: still here");
    await nc.send("and so am i");
    assert.match(await irc.readUntil((l) => l.includes("PRIVMSG")), /:and so am i$/);
    await Promise.all([irc.close(), nc.close()]);
  });
});

Deno.test("a client that never registers is told why and closed", async () => {
  await withServer(async (server) => {
    const irc = await IrcClient.connect(server.ircPort);
    await irc.send("JOIN #lobby");
    assert.equal(await irc.line(), ":marquee 451 * :You have not registered");
    await irc.close();
  });
});

bothStores(
  "an IRC client logs in with SASL PLAIN to an account registered from nc",
  undefined,
  async (server) => {
    const nc = await registered(server, "alice");
    await nc.close();
    const sasl = (account: string, password: string) => btoa(`\0${account}\0${password}`);
    const wrong = await IrcClient.connect(server.ircPort);
    await wrong.send("CAP REQ :sasl");
    await wrong.readUntil((l) => l.includes(" ACK "));
    await wrong.send("AUTHENTICATE PLAIN");
    assert.equal(await wrong.line(), "AUTHENTICATE +");
    await wrong.send(`AUTHENTICATE ${sasl("alice", "not-the-password")}`);
    assert.match(await wrong.readUntil((l) => / 90\d /.test(l)), / 904 /);
    await wrong.close();

    const irc = await IrcClient.connect(server.ircPort);
    await irc.send("CAP LS 302");
    assert.match(await irc.line(), /sasl=PLAIN/);
    await irc.send("CAP REQ :sasl");
    await irc.readUntil((l) => l.includes(" ACK "));
    await irc.send("AUTHENTICATE PLAIN");
    await irc.readUntil((l) => l === "AUTHENTICATE +");
    await irc.send(`AUTHENTICATE ${sasl("alice", "correct-horse")}`);
    assert.match(
      await irc.readUntil((l) => / 900 /.test(l)),
      / 900 \S+ \S+ alice :You are now logged in as alice$/,
    );
    assert.match(await irc.line(), / 903 /);
    await irc.send("NICK alice");
    await irc.send("USER alice 0 * :Alice");
    await irc.send("CAP END");
    assert.equal(
      await irc.readUntil((l) => / 001 /.test(l)),
      ":marquee 001 alice :Welcome to the Marquee IRC network, alice",
    );
    await irc.close();
  },
);

Deno.test({
  name: "an IRC user on one linked server and an nc user on another are in one room",
  ignore: !HAVE_REDIS,
  fn: () =>
    withLinked(async (s1, s2) => {
      const irc = await IrcClient.register(s1.ircPort, "ann");
      await irc.send("JOIN #games");
      await irc.readUntil((l) => / 366 /.test(l));
      await irc.send("JOIN #lobby");
      await irc.readUntil((l) => / 366 /.test(l));
      const { client: nc, name: ncName } = await TestClient.join(s2.port);
      await nc.send("/join games");
      await nc.readUntil((l) => l.startsWith("* you are in games"));
      assert.equal(
        await irc.readUntil((l) => l.includes("JOIN #games")),
        `:${ncName}!${ncName}@marquee JOIN #games`,
      );
      await irc.send("PRIVMSG #lobby :not for games");
      await irc.send("PRIVMSG #games :hello across servers");
      assert.equal(await nc.readUntil((l) => l.startsWith("[")), "[ann]: hello across servers");
      await nc.send("hi ann");
      assert.equal(
        await irc.readUntil((l) => l.includes("PRIVMSG")),
        `:${ncName}!${ncName}@marquee PRIVMSG #games :hi ann`,
      );
      await irc.send("PART #games");
      assert.equal(await nc.readUntil((l) => l.includes("ann")), "* ann left the room");
      await Promise.all([irc.close(), nc.close()]);
    }),
});

bothStores(
  "a registered room on IRC: its owner is @, its topic 332 and TOPIC, a kick KICK, a ban 474",
  undefined,
  async (server) => {
    const olga = await registered(server, "olga");
    await olga.send("/join den");
    await olga.readUntil((l) => l === "* den is now owned by olga");
    await olga.send("/topic chess tonight");
    await olga.readUntil((l) => l.includes("set the topic"));
    const irc = await IrcClient.register(server.ircPort, "ann");
    await irc.send("JOIN #den");
    assert.equal(await irc.line(), ":ann!ann@marquee JOIN #den");
    assert.equal(await irc.line(), ":marquee 332 ann #den :chess tonight");
    await irc.readUntil((l) => / 333 /.test(l));
    assert.equal(await irc.line(), ":marquee 353 ann = #den :@olga ann");
    await irc.readUntil((l) => / 366 /.test(l));
    await irc.send("TOPIC #den :mine now");
    assert.match(await irc.readUntil((l) => / 482 /.test(l)), /^:marquee 482 ann #den :/);
    await olga.send("/topic go tomorrow");
    assert.equal(
      await irc.readUntil((l) => l.includes("TOPIC")),
      ":olga!olga@marquee TOPIC #den :go tomorrow",
    );
    await irc.send("JOIN #lobby");
    await irc.readUntil((l) => / 366 ann #lobby /.test(l));
    await olga.send("/kick ann too loud");
    assert.equal(
      await irc.readUntil((l) => l.includes("KICK")),
      ":olga!olga@marquee KICK #den ann :too loud",
    );
    assert.equal(
      await olga.readUntil((l) => l.includes("kicked")),
      "* ann was kicked by olga (too loud)",
    );
    await irc.send("PRIVMSG #den :back?");
    assert.match(
      await irc.readUntil((l) => / 40[34] /.test(l)),
      / 40[34] ann #den /,
      "out of #den",
    );
    await irc.send("PRIVMSG #lobby :still in the lobby");
    await olga.send("/ban ann 10m spam");
    await olga.readUntil((l) => l.includes("was banned"));
    await irc.send("JOIN #den");
    assert.match(
      await irc.readUntil((l) => / 474 /.test(l)),
      /^:marquee 474 ann #den :Cannot join channel \(\+b\)/,
    );
    await Promise.all([irc.close(), olga.close()]);
  },
);

Deno.test("room history reaches IRC as chathistory batches: on joining, and by CHATHISTORY", async () => {
  const server = startServer({ floodRate: 0 }, { history: true });
  await server.ready;
  const { client: nc, name: ncName } = await TestClient.join(server.port);
  for (let i = 1; i <= 5; i++) {
    await nc.send(`line ${i}`);
    // A timestamp is the only reference: lines of one millisecond are one point.
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
  await nc.linesBeforeProbe(); // all five said (and kept) before the IRC user comes
  const irc = await IrcClient.register(server.ircPort, "ann", [
    "batch",
    "server-time",
    "draft/chathistory",
  ]);
  await irc.send("JOIN #lobby");
  await irc.readUntil((l) => / 366 /.test(l));
  const start = await irc.line(undefined, true);
  const id = / BATCH \+(\S+) chathistory #lobby$/.exec(start)?.[1];
  assert.ok(id, start);
  const replay: string[] = [];
  for (
    let line = await irc.line(undefined, true);
    !line.endsWith(`BATCH -${id}`);
    line = await irc.line(undefined, true)
  ) {
    replay.push(line);
  }
  assert.equal(replay.length, 5);
  assert.match(
    replay[0]!,
    new RegExp(`^@batch=${id};time=\\S+Z :${ncName}!${ncName}@marquee PRIVMSG #lobby :line 1$`),
  );

  await irc.send("CHATHISTORY LATEST #lobby * 2");
  const latest = await batchOf(irc);
  assert.deepEqual(latest.map(textOf), ["line 4", "line 5"]);
  const oldest = /time=(\S+?) /.exec(latest[0]!)![1];
  await irc.send(`CHATHISTORY BEFORE #lobby timestamp=${oldest} 10`);
  assert.deepEqual((await batchOf(irc)).map(textOf), ["line 1", "line 2", "line 3"]);
  await irc.send("CHATHISTORY AFTER #lobby timestamp=2026-01-01T00:00:00Z 10");
  assert.match(await irc.line(), /^:marquee FAIL CHATHISTORY INVALID_PARAMS AFTER :/);
  await Promise.all([irc.close(), nc.close()]);
  await server.stop();
});

/** The lines of the next batch, tags kept. */
async function batchOf(irc: IrcClient): Promise<string[]> {
  const start = await irc.readUntil((l) => / BATCH \+/.test(l));
  const id = / BATCH \+(\S+) /.exec(start)![1];
  const lines: string[] = [];
  while (true) {
    const line = await irc.line(undefined, true);
    if (line.endsWith(`BATCH -${id}`)) return lines;
    lines.push(line);
  }
}

function textOf(line: string): string {
  return line.slice(line.indexOf(" :", line.indexOf("PRIVMSG")) + 2);
}

bothStores(
  "IRC clients that asked hear who in their channels goes away, comes back, logs in and out",
  undefined,
  async (server) => {
    const ann = await IrcClient.register(server.ircPort, "ann", ["away-notify", "account-notify"]);
    const bea = await IrcClient.register(server.ircPort, "bea");
    const bob = await IrcClient.register(server.ircPort, "bob");
    for (const irc of [ann, bea, bob]) {
      await irc.send("JOIN #games");
      await irc.readUntil((l) => / 366 /.test(l));
    }
    const carol = await as(server, "carol");
    await carol.send("/join games");
    await ann.readUntil((l) => l === ":carol!carol@marquee JOIN #games");

    await carol.send("/register correct-horse");
    assert.equal(
      await ann.readUntil((l) => l.includes(" ACCOUNT ")),
      ":carol!carol@marquee ACCOUNT carol",
    );
    await bob.send("AWAY :gone to lunch");
    assert.match(await bob.readUntil((l) => / 306 /.test(l)), / 306 bob :/);
    assert.equal(
      await ann.readUntil((l) => l.includes(" AWAY")),
      ":bob!bob@marquee AWAY :gone to lunch",
    );
    await bob.send("AWAY");
    assert.equal(await ann.readUntil((l) => l.includes(" AWAY")), ":bob!bob@marquee AWAY");
    await carol.send("/logout");
    assert.equal(
      await ann.readUntil((l) => l.includes(" ACCOUNT ")),
      ":carol!carol@marquee ACCOUNT *",
    );

    // Someone away who comes in: the channel is told after the JOIN.
    await bob.send("AWAY :back later");
    await bob.send("PART #games");
    await bob.send("JOIN #games");
    await ann.readUntil((l) => l === ":bob!bob@marquee JOIN #games");
    assert.equal(await ann.line(), ":bob!bob@marquee AWAY :back later");

    // A client that did not ask hears none of it.
    const unasked = (await bea.linesBeforeProbe()).filter((l) => / (AWAY|ACCOUNT)( |$)/.test(l));
    assert.deepEqual(unasked, []);
    await Promise.all([ann.close(), bea.close(), bob.close(), carol.close()]);
  },
);

Deno.test({
  name: "an away message set on one linked server answers a private message sent from another",
  ignore: !HAVE_REDIS,
  fn: () =>
    withLinked(async (s1, s2) => {
      const ann = await IrcClient.register(s1.ircPort, "ann");
      const bob = await IrcClient.register(s2.ircPort, "bob");
      await ann.send("AWAY :gone to lunch");
      await ann.readUntil((l) => / 306 /.test(l));
      const said = async () => {
        await bob.send("PRIVMSG ann :lunch?");
        return (await bob.linesBeforeProbe()).find((l) => / 301 /.test(l));
      };
      let answer = await said();
      // The news crosses Redis: ask again until it has arrived (bounded).
      for (let i = 0; answer === undefined && i < 50; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        answer = await said();
      }
      assert.equal(answer, ":marquee 301 bob ann :gone to lunch");
      await ann.send("AWAY");
      await ann.readUntil((l) => / 305 /.test(l));
      answer = await said();
      for (let i = 0; answer !== undefined && i < 50; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        answer = await said();
      }
      assert.equal(answer, undefined, "back: no 301");
      await Promise.all([ann.close(), bob.close()]);
    }),
});

Deno.test({
  name: "whoever opens a channel nobody owns is its op on every linked server, until it empties",
  ignore: !HAVE_REDIS,
  fn: () =>
    withLinked(async (s1, s2) => {
      const ann = await IrcClient.register(s1.ircPort, "ann");
      await ann.send("JOIN #lobby");
      await ann.readUntil((l) => / 366 ann #lobby /.test(l));
      await ann.send("JOIN #attic");
      assert.equal(await ann.readUntil((l) => / 353 /.test(l)), ":marquee 353 ann = #attic :@ann");
      const { client: nc, name } = await TestClient.join(s2.port);
      await nc.send("/join attic");
      await nc.readUntil((l) => l.startsWith("* you are in attic"));
      await ann.readUntil((l) => l.includes("JOIN #attic"));
      await ann.send("TOPIC #attic :boxes");
      assert.equal(await nc.readUntil((l) => l.includes("topic")), "* ann set the topic: boxes");
      await nc.send("/topic mine");
      assert.equal(
        await nc.readUntil((l) => l.startsWith("!")),
        "! only ops of attic may set the topic",
      );
      await ann.send(`MODE #attic +o ${name}`);
      assert.equal(
        await nc.readUntil((l) => l.includes("an op of")),
        `* ann made ${name} an op of attic`,
      );
      // The nc user's server knows ann is an op from her JOIN; ops there
      // act on each other, as on IRC.
      await nc.send("/kick ann enough");
      assert.equal(
        await ann.readUntil((l) => l.includes("KICK")),
        `:${name}!${name}@marquee KICK #attic ann :enough`,
      );
      await nc.send("/join lobby");
      await ann.readUntil((l) => l.startsWith(`:${name}!`) && l.includes("JOIN #lobby"));
      // The room emptied everywhere: its topic went with it, and whoever
      // opens it next is its op.
      await ann.send("JOIN #attic");
      assert.equal(await ann.line(), ":ann!ann@marquee JOIN #attic");
      assert.equal(await ann.line(), ":marquee 353 ann = #attic :@ann", "no topic (332) first");
      await Promise.all([ann.close(), nc.close()]);
    }),
});

/** The next line of `client` that `match`es, its tags kept. */
async function taggedLine(client: IrcClient, match: (line: string) => boolean): Promise<string> {
  while (true) {
    const line = await client.line(undefined, true);
    if (match(line)) return line;
  }
}

/** A line's tags, by name. */
function tagsOf(line: string): Record<string, string> {
  if (!line.startsWith("@")) return {};
  const section = line.slice(1, line.indexOf(" "));
  return Object.fromEntries(
    section.split(";").map((t) => [t.split("=")[0]!, t.split("=")[1] ?? ""]),
  );
}

Deno.test({
  name:
    "message-tags on linked servers: every line's msgid and account, client tags and TAGMSG to those who asked",
  ignore: !HAVE_REDIS,
  fn: () =>
    withLinked(async (s1, s2) => {
      const ann = await IrcClient.register(s1.ircPort, "ann", ["message-tags", "echo-message"]);
      const bob = await IrcClient.register(s2.ircPort, "bob", ["message-tags"]);
      const cid = await IrcClient.register(s2.ircPort, "cid", ["server-time"]);
      for (const client of [ann, bob, cid]) {
        await client.send("JOIN #games");
        await client.readUntil((l) => / 366 /.test(l));
      }
      await ann.readUntil((l) => l.startsWith(":cid!") && l.includes("JOIN #games"));
      await ann.send("@+typing=active;label=x TAGMSG #games");
      const echo = await taggedLine(ann, (l) => l.includes(" TAGMSG "));
      const typing = await taggedLine(bob, (l) => l.includes(" TAGMSG "));
      assert.match(typing, / :ann!ann@marquee TAGMSG #games$/);
      assert.equal(tagsOf(typing)["+typing"], "active");
      assert.equal(tagsOf(typing).label, undefined, "only client tags are carried");
      assert.equal(tagsOf(typing).msgid, tagsOf(echo).msgid);

      await ann.send("@+draft/reply=abc PRIVMSG #games :hi");
      const mine = await taggedLine(ann, (l) => l.includes(" PRIVMSG "));
      const relayed = await taggedLine(bob, (l) => l.includes(" PRIVMSG "));
      assert.match(relayed, / :ann!ann@marquee PRIVMSG #games :hi$/);
      assert.equal(tagsOf(relayed)["+draft/reply"], "abc");
      assert.ok(tagsOf(relayed).msgid, "a msgid");
      assert.equal(tagsOf(relayed).msgid, tagsOf(mine).msgid, "the same on the echo");
      const plain = await taggedLine(cid, (l) => !l.includes(" JOIN "));
      assert.match(plain, /^@time=\S+ :ann!ann@marquee PRIVMSG #games :hi$/, "no TAGMSG, no msgid");

      const carol = await registered(s2, "carol");
      await carol.send("/join games");
      await carol.readUntil((l) => l.startsWith("* you are in games"));
      await carol.send("hello from nc");
      const fromNc = await taggedLine(ann, (l) => l.includes(" PRIVMSG "));
      assert.match(fromNc, / :carol!carol@marquee PRIVMSG #games :hello from nc$/);
      assert.equal(tagsOf(fromNc).account, "carol", "her account, from the other server");
      await Promise.all([ann.close(), bob.close(), cid.close(), carol.close()]);
    }, true),
});

Deno.test("an IRC client reads the QUIT of those it shared a channel with, and no other", async () => {
  await withServer(async (server) => {
    const ann = await IrcClient.register(server.ircPort, "ann");
    const bob = await IrcClient.register(server.ircPort, "bob");
    const cid = await IrcClient.register(server.ircPort, "cid");
    for (const [client, room] of [[ann, "#games"], [bob, "#attic"], [cid, "#games"]] as const) {
      await client.send(`JOIN ${room}`);
      await client.readUntil((l) => / 366 /.test(l));
    }
    const { client: nc } = await TestClient.join(server.port);
    await ann.readUntil((l) => l.startsWith(":cid!") && l.includes("JOIN"));
    await cid.send("QUIT :off");
    assert.equal(
      await ann.readUntil((l) => l.includes("QUIT")),
      ":cid!cid@marquee QUIT :Quit: off",
    );
    assert.equal(await nc.readUntil((l) => l.includes("cid left")), "* cid left the chat (off)");
    assert.deepEqual(
      (await bob.linesBeforeProbe()).filter((l) => l.includes("QUIT")),
      [],
      "bob shared no channel with cid",
    );
    await Promise.all([ann.close(), bob.close(), nc.close()]);
  });
});
