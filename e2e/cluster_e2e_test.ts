/**
 * Linked servers against a real redis-server: several servers, one chat.
 * Skipped where redis-server is not installed (CI installs it and makes a
 * missing one a failure; see testing/redis_server.ts).
 */

import assert from "node:assert/strict";
import {
  assertChatWorks,
  linkedUp,
  startServer,
  TEST_WORKERS,
  TestClient,
  type TestServer,
  waitForRemoteUsers,
} from "../testing/chat_client.ts";
import { HAVE_REDIS, startRedis } from "../testing/redis_server.ts";
import { startRedisCluster } from "../testing/redis_cluster.ts";
import { runToExit, startServerProcess } from "../testing/server_process.ts";
import { haveTool } from "../testing/tools.ts";
import { pollUntil } from "../testing/within.ts";
import { PRESENCE_TIMEOUT_MS } from "../cluster/presence.ts";

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: !HAVE_REDIS, fn });

/** How long a server may take to tell its users the link went or came
 * back: a cluster's is judged by its heartbeats (up to 7 s to go). */
const LINK_CHANGE_MS = 15_000;

/** What a test is given of its Redis: one redis-server, or a cluster. */
interface Backend {
  url: string;
  /** The port of the redis-server (of a cluster's first master). */
  port: number;
  stop(): Promise<void>;
  /** Runs a command where its key lives; the reply's first line. */
  command(...args: string[]): Promise<string>;
  /** The key Marquee keeps `name` under (`name:zed`, `users`): in a
   * cluster they share one hash tag (history's keys are the same in both). */
  key(name: string): string;
  /** Publishes as a server would: PUBLISH, or SPUBLISH in a cluster. */
  publish(channel: string, message: string): Promise<string>;
  /** Empties it (every master of a cluster). */
  flushAll(): Promise<void>;
  /** Stops it (every master), keeping its data, and starts it again. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Stops it so that `up` brings it back empty. */
  downEmpty(): Promise<void>;
  /** Sends a signal to it (every master): SIGSTOP freezes, SIGCONT thaws. */
  signal(signal: Deno.Signal): void;
}

/** What a test may ask of its Redis: a password; to keep its data on disk
 * or not (by default one redis-server does not, a cluster's masters do). */
interface StartOptions {
  password?: string;
  persistent?: boolean;
}

/** How a test asks for its Redis. */
type Start = (options?: StartOptions) => Promise<Backend>;

/** One redis-server, as a backend. */
async function oneRedis(options: StartOptions = {}): Promise<Backend> {
  const { password, persistent } = options;
  const redis = await startRedis({
    args: [
      ...(password === undefined ? [] : ["--requirepass", password]),
      ...(persistent ? ["--appendonly", "yes", "--dir", Deno.makeTempDirSync()] : []),
    ],
  });
  return {
    url: redis.url,
    port: redis.port,
    stop: redis.stop,
    command: redis.command,
    key: (name) => `marquee:${name}`,
    publish: (channel, message) => redis.command("PUBLISH", channel, message),
    flushAll: async () => void await redis.command("FLUSHALL"),
    down: redis.stop,
    up: redis.restart,
    downEmpty: redis.stop, // it keeps nothing on disk
    signal: redis.signal,
  };
}

/** A three-master Redis Cluster, as a backend. */
async function redisCluster(options: StartOptions = {}): Promise<Backend> {
  const cluster = await startRedisCluster(options);
  return {
    url: cluster.url(0),
    port: cluster.ports[0]!,
    stop: cluster.stop,
    command: cluster.command,
    key: (name) => `{marquee}:${name}`,
    publish: (channel, message) => cluster.command("SPUBLISH", channel, message),
    flushAll: cluster.flushAll,
    down: cluster.down,
    up: cluster.up,
    // What a master saved is replayed when it starts: empty it first.
    downEmpty: async () => {
      await cluster.flushAll();
      await cluster.down();
    },
    signal: cluster.signal,
  };
}

/** A test that needs only a Redis URL, its keys and its channels: run
 * against one redis-server, and again against a three-master Redis
 * Cluster. */
function both(name: string, fn: (start: Start) => Promise<void>): void {
  test(name, () => fn(oneRedis));
  test(`${name} (Redis Cluster)`, () => fn(redisCluster));
}

/** Starts `n` in-process servers linked through `redis`, each fully linked
 * (`workers`: instances per server; the default is the suite's). */
async function cluster(
  redis: Pick<Backend, "url">,
  n: number,
  workers?: number,
): Promise<TestServer[]> {
  const servers: TestServer[] = [];
  for (let i = 0; i < n; i++) {
    const server = startServer({}, { redis: redis.url, workers });
    await linkedUp(server);
    servers.push(server);
  }
  return servers;
}

/** One linked server of one worker, with metrics: what one Redis-linked
 * server logs, counts and reserves. */
async function meteredServer(redis: Pick<Backend, "url">): Promise<TestServer> {
  const server = startServer({}, { redis: redis.url, metrics: true, workers: 1 });
  await linkedUp(server);
  return server;
}

/** Reads `expected.length` lines: exactly those, in any order. */
async function readExactly(client: TestClient, expected: string[], timeoutMs?: number) {
  const left = new Set(expected);
  while (left.size > 0) {
    const line = await client.readLine(timeoutMs);
    assert.ok(left.delete(line), `unexpected ${line}; still waiting for ${[...left].join(", ")}`);
  }
}

async function stopAll(
  servers: TestServer[],
  redis: Pick<Backend, "stop">,
  clients: TestClient[],
) {
  await Promise.all(clients.map((c) => c.close()));
  for (const server of servers) await server.stop();
  await redis.stop();
}

both(
  "two linked servers are one chat: joins, lines, actions, renames and leaves cross over",
  async (start) => {
    const redis = await start();
    const [s1, s2] = await cluster(redis, 2);
    const { client: a, name: aName } = await TestClient.join(s1!.port);
    await waitForRemoteUsers(s2!, 1); // s2 has heard of a: a reaches b only in b's roster
    const { client: b, name: bName } = await TestClient.join(s2!.port);
    assert.notEqual(aName, bName);
    assert.equal(await b.readLine(), `* ${aName} joined the chat`, "the roster spans servers");
    assert.equal(await a.readLine(), `* ${bName} joined the chat`);
    await a.send("hello across");
    assert.equal(await b.readLine(), `[${aName}]: hello across`);
    await b.send("/me waves back");
    assert.equal(await a.readLine(), `* ${bName} waves back`);
    await b.send("/nick bob");
    assert.equal(await b.readLine(), `* ${bName} is now known as bob`);
    assert.equal(await a.readLine(), `* ${bName} is now known as bob`);
    await b.send("/quit later");
    assert.equal(await a.readLine(), "* bob left the chat (later)");
    assert.deepEqual(await a.linesBeforeProbe(), [], "no echo of our own events");
    await stopAll([s1!, s2!], redis, [a, b]);
  },
);

both("connect-and-quit loops on one linked server announce nothing on the other", async (start) => {
  const redis = await start();
  // One worker each: this is about what crosses between Redis-linked servers.
  const [s1, s2] = await cluster(redis, 2, 1);
  const { client: watcher } = await TestClient.join(s2!.port);
  for (let i = 0; i < 30; i++) {
    const spammer = await TestClient.connect(s1!.port);
    await spammer.send(`/quit BUY CHEAP STUFF ${"!".repeat(1000)}`);
    await spammer.waitForEof();
    await spammer.close();
  }
  await assertChatWorks(s1!.port); // lines from s1 have reached s2 since
  const seen = await watcher.linesBeforeProbe();
  const adverts = seen.filter((l) => l.includes("BUY"));
  // As on one server: the odd join may be flushed before its leave arrives.
  assert.ok(
    adverts.length <= 3,
    `${adverts.length} adverts reached the other server: ${seen.slice(0, 6).join("\n")}`,
  );
  await stopAll([s1!, s2!], redis, [watcher]);
});

both(
  "/whois of a user on another server says what that server knows: idle time, and to operators the address",
  async (start) => {
    const redis = await start();
    // One worker each: this is about what crosses between Redis-linked servers.
    const [s1, s2] = await cluster(redis, 2, 1);
    const { client: a } = await TestClient.join(s1!.port);
    await waitForRemoteUsers(s2!, 1);
    const { client: b, name: bName } = await TestClient.join(s2!.port);
    await a.readUntil((l) => l === `* ${bName} joined the chat`);
    await a.send(`/whois ${bName}`);
    assert.match(
      await a.readUntil((l) => l.startsWith(`* ${bName}:`)),
      new RegExp(`^\\* ${bName}: not registered, in lobby, idle \\d+s$`),
    );
    await stopAll([s1!, s2!], redis, [a, b]);
  },
);

both(
  "user numbers come from one counter: three servers never hand out the same userN",
  async (start) => {
    const redis = await start();
    const servers = await cluster(redis, 3);
    const names = new Set<string>();
    const clients: TestClient[] = [];
    for (let i = 0; i < 12; i++) {
      const { client, name } = await TestClient.join(servers[i % 3]!.port);
      names.add(name);
      clients.push(client);
    }
    assert.equal(names.size, 12);
    await stopAll(servers, redis, clients);
  },
);

both("/who, /rooms and /msg span the cluster, and names are unique cluster-wide", async (start) => {
  const redis = await start();
  const [s1, s2] = await cluster(redis, 2);
  const { client: a } = await TestClient.join(s1!.port);
  const { client: b } = await TestClient.join(s2!.port);
  await a.readUntil((l) => l.endsWith("joined the chat"));
  await b.readUntil((l) => l.endsWith("joined the chat"));
  await a.send("/nick alice");
  await a.readLine();
  await b.readLine();
  await b.send("/nick ALICE");
  assert.equal(await b.readLine(), "! name taken: ALICE");
  await b.send("/nick bob");
  await b.readLine();
  await a.readLine();
  await a.send("/msg BOB psst");
  assert.equal(await b.readLine(), "[alice -> bob]: psst");
  await a.send("/msg nobody hi");
  assert.equal(await a.readLine(), "! no such user: nobody");
  await b.send("/join games");
  assert.equal(await b.readLine(), "* you are in games (1 user)");
  assert.equal(await a.readLine(), "* bob left the room");
  await a.send("/rooms");
  assert.equal(await a.readLine(), "* rooms: lobby (1), games (1)");
  await a.send("/join games");
  assert.equal(await a.readLine(), "* you are in games (2 users)");
  assert.equal(await b.readLine(), "* alice joined the room");
  await a.send("/who");
  assert.equal(await a.readLine(), "* in games: alice, bob");
  assert.equal(await a.readLine(), "* 2 in games, 2 online in all");
  await stopAll([s1!, s2!], redis, [a, b]);
});

both(
  "a name claimed in Redis is refused although no server here knows its holder",
  async (start) => {
    const redis = await start();
    const [s1] = await cluster(redis, 1);
    const { client: a } = await TestClient.join(s1!.port);
    await redis.command("SET", redis.key("name:zed"), "some-other-server");
    await a.send("/nick zed");
    assert.equal(await a.readLine(), "! name taken: zed");
    await a.send("/nick zoe");
    assert.match(await a.readLine(), / is now known as zoe$/);
    assert.match(
      await redis.command("GET", redis.key("name:zoe")),
      /^\$\d+$/,
      "zoe is claimed in Redis",
    );
    await stopAll([s1!], redis, [a]);
  },
);

both("two servers asked for one name at once: exactly one user gets it", async (start) => {
  const redis = await start();
  const [s1, s2] = await cluster(redis, 2);
  const { client: a, name: aName } = await TestClient.join(s1!.port);
  await waitForRemoteUsers(s2!, 1);
  const { client: b, name: bName } = await TestClient.join(s2!.port);
  await waitForRemoteUsers(s1!, 1);
  await a.readLine(); // b joined
  await Promise.all([a.send("/nick zed"), b.send("/nick zed")]);
  const outcome = (client: TestClient, name: string) =>
    client.readUntil((l) => l.startsWith("!") || l === `* ${name} is now known as zed`);
  const outcomes = [await outcome(a, aName), await outcome(b, bName)].map((line) =>
    line === "! name taken: zed" ? "refused" : line.startsWith("*") ? "renamed" : line
  );
  assert.deepEqual(outcomes.sort(), ["refused", "renamed"]);
  await stopAll([s1!, s2!], redis, [a, b]);
});

both(
  "a server that stops says goodbye: its users leave at once, not after the presence timeout",
  async (start) => {
    const redis = await start();
    const [s1, s2] = await cluster(redis, 2);
    const { client: a } = await TestClient.join(s1!.port);
    await waitForRemoteUsers(s2!, 1);
    const { client: b, name: bName } = await TestClient.join(s2!.port);
    await a.readUntil((l) => l === `* ${bName} joined the chat`);
    const stoppedAt = performance.now();
    await s2!.stop();
    assert.equal(await a.readLine(), `* ${bName} left the chat`);
    const took = performance.now() - stoppedAt;
    assert.ok(took < PRESENCE_TIMEOUT_MS / 2, `announced after ${took.toFixed(0)} ms`);
    await stopAll([s1!], redis, [a, b]);
  },
);

both("a server that starts later learns who is already online", async (start) => {
  const redis = await start();
  const [s1] = await cluster(redis, 1);
  const { client: a, name: aName } = await TestClient.join(s1!.port);
  const [s2] = await cluster(redis, 1);
  await waitForRemoteUsers(s2!, 1); // s1's roster arrived: a was never announced on s2
  const { client: b, name: bName } = await TestClient.join(s2!.port);
  assert.deepEqual(await b.linesBeforeProbe(), [`* ${aName} joined the chat`], "b's roster");
  assert.equal(await a.readLine(), `* ${bName} joined the chat`);
  await stopAll([s1!, s2!], redis, [a, b]);
});

both(
  "a server killed with SIGKILL has its users shown as left within the presence timeout",
  async (start) => {
    const redis = await start();
    const [survivor] = await cluster(redis, 1);
    const doomed = await startServerProcess(["--redis", redis.url]);
    await doomed.waitForLog((l) => l.includes("link to other servers up"));
    const { client: watcher } = await TestClient.join(survivor!.port);
    const { client: victim, name } = await TestClient.join(doomed.port);
    await watcher.readUntil((l) => l === `* ${name} joined the chat`);
    await victim.send("/nick victor");
    await watcher.readUntil((l) => l === `* ${name} is now known as victor`);
    const killedAt = Date.now();
    await doomed.stop("SIGKILL");
    await watcher.readUntil((l) => l === `* victor left the chat`, PRESENCE_TIMEOUT_MS + 5_000);
    const took = Date.now() - killedAt;
    assert.ok(took <= PRESENCE_TIMEOUT_MS + 3_000, `announced after ${took} ms`);
    // Its names are free from that moment, not when their claims expire.
    await watcher.send("/nick victor");
    assert.match(await watcher.readLine(), /^\* user\d+ is now known as victor$/);
    await stopAll([survivor!], redis, [watcher, victim]);
  },
);

both(
  "when Redis goes away local chat goes on, users are told once, and the link comes back",
  async (start) => {
    const redis = await start();
    // One worker each: with --workers, each worker is a server of its own in
    // the Redis cluster, and two users of one process may be on two of them.
    const [s1, s2] = await cluster(redis, 2, 1);
    const { client: a, name: aName } = await TestClient.join(s1!.port);
    const { client: a2, name: a2Name } = await TestClient.join(s1!.port);
    const { client: b, name: bName } = await TestClient.join(s2!.port);
    await a.readUntil((l) => l === `* ${bName} joined the chat`);
    await a2.readUntil((l) => l === `* ${bName} joined the chat`);
    await b.readUntil((l) => l === `* ${a2Name} joined the chat`);

    await redis.down();
    assert.equal(await a.readLine(LINK_CHANGE_MS), "* link to other servers lost");
    assert.equal(await b.readLine(LINK_CHANGE_MS), "* link to other servers lost");
    await a.send("still here locally");
    assert.equal(await a2.readUntil((l) => l.startsWith("[")), `[${aName}]: still here locally`);
    const more = await a.linesBeforeProbe();
    assert.deepEqual(more.filter((l) => l.includes("link")), [], "told once");
    await a.send(`/msg ${bName} are you there?`);
    assert.equal(await a.readLine(), `! cannot reach ${bName}: the link to other servers is down`);
    await a.send("/nick carol");
    assert.equal(
      await a.readLine(),
      "! cannot change names while the link to other servers is down",
    );
    // While the link is down: a2 leaves s1, c joins s2. Each side hears of it only locally.
    await a2.close();
    assert.equal(await a.readLine(), `* ${a2Name} left the chat`);
    const { client: c, name: cName } = await TestClient.join(s2!.port);
    assert.equal(await b.readLine(), `* ${cName} joined the chat`);
    // The newcomer is told the roster it got may be out of date, and /who says so too.
    assert.equal(
      (await c.linesBeforeProbe()).at(-1),
      "* link to other servers is down: users on other servers may not see you, nor you them",
    );
    await c.send("/who");
    assert.match(
      await c.readUntil((l) => l.includes("online in all")),
      / \(link to other servers down\)$/,
    );

    await redis.up();
    // Users are told the link is back, and the rosters swapped on restore
    // announce what the outage hid (in either order: a roster may arrive
    // before our own link is confirmed).
    const restored = "* link to other servers restored";
    await readExactly(a, [restored, `* ${cName} joined the chat`], LINK_CHANGE_MS);
    await readExactly(b, [restored, `* ${a2Name} left the chat`], LINK_CHANGE_MS);
    await b.send("back across");
    assert.equal(await a.readUntil((l) => l.startsWith("[")), `[${bName}]: back across`);
    await a.send("/who");
    assert.equal(
      await a.readUntil((l) => l.includes("online in all")),
      "* 3 in lobby, 3 online in all",
    );
    await stopAll([s1!, s2!], redis, [a, b, c]);
  },
);

both(
  "with Redis frozen, a rename waits without holding up anyone's chat, then is refused in time",
  async (start) => {
    const redis = await start();
    const [server] = await cluster(redis, 1);
    const { client: a } = await TestClient.join(server!.port);
    const { client: b, name: bName } = await TestClient.join(server!.port);
    const { client: c, name: cName } = await TestClient.join(server!.port);
    await a.readUntil((l) => l === `* ${cName} joined the chat`);
    await b.readUntil((l) => l === `* ${cName} joined the chat`);
    redis.signal("SIGSTOP");
    try {
      await a.send("/nick alice");
      await a.send("/who"); // handled after the claim is sent: the rename is under way
      assert.match(await a.readLine(), /^\* in lobby: /);
      const sentAt = performance.now();
      await b.send("ping while Redis is frozen");
      assert.equal(
        await c.readUntil((l) => l.startsWith("[")),
        `[${bName}]: ping while Redis is frozen`,
      );
      const took = performance.now() - sentAt;
      assert.ok(took < 100, `a chat line took ${took.toFixed(0)} ms during a rename`);
      assert.match(await a.readUntil((l) => l.startsWith("!")), /did not answer in time/);
    } finally {
      redis.signal("SIGCONT");
    }
    await a.send("/nick alice");
    assert.match(await c.readUntil((l) => l.includes("known as")), / is now known as alice$/);
    await stopAll([server!], redis, [a, b, c]);
  },
);

both(
  "malformed events from Redis are dropped, counted and logged once per kind, unseen by users",
  async (start) => {
    const redis = await start();
    const server = await meteredServer(redis);
    const { client } = await TestClient.join(server.port);
    const publish = (event: unknown) =>
      redis.publish("marquee:events", typeof event === "string" ? event : JSON.stringify(event));
    const ghost = { server: "x", id: 999_999, name: "ghost", room: "lobby" };
    await publish({ type: "join", server: "x", user: ghost });
    assert.equal(await client.readLine(), "* ghost joined the chat");
    const say = { type: "say", server: "x", id: ghost.id };
    for (
      const junk of [
        "not json",
        say, // no text: once shown as "[ghost]: undefined"
        { ...say, text: "hi\n* server shutting down" }, // a forged server line
        { type: "explode", server: "x" },
        { ...say, text: "x".repeat(5 * 1024 * 1024) },
      ]
    ) await publish(junk);
    // A batch of x's events: the one x does not speak for is dropped, the
    // one with a forged line too; the good one goes through, in its place.
    const good = { ...say, text: "batched", room: "lobby" };
    const forged = { ...good, server: "y" };
    await publish({ server: "x", events: [forged, { ...good, text: "a\n* b" }, good] });
    assert.equal(await client.readLine(), "[ghost]: batched");
    await publish({ ...say, text: "the real one" });
    // Events arrive in order: if the next line is the valid one, none before it got through.
    assert.equal(await client.readLine(), "[ghost]: the real one");
    const dropped = Object.fromEntries(server.metrics!.droppedEvents);
    assert.deepEqual(dropped, { not_json: 1, bad_field: 4, unknown_type: 1, oversized: 1 });
    const logged = server.logs.filter((l) => l.includes("dropped a malformed event"));
    assert.equal(logged.length, 4, logged.join("\n"));
    await stopAll([server], redis, [client]);
  },
);

both(
  "with Redis away and the reserve of numbers used up, newcomers are told the server is busy",
  async (start) => {
    const redis = await start();
    const server = await meteredServer(redis);
    const { client: first } = await TestClient.join(server.port); // reserves a block of 64
    await redis.down();
    await first.readUntil((l) => l === "* link to other servers lost", LINK_CHANGE_MS);
    const clients: TestClient[] = [first];
    let busy: string | undefined;
    for (let i = 0; i < 70 && busy === undefined; i++) {
      const client = await TestClient.connect(server.port);
      clients.push(client);
      const line = await client.readLine();
      if (line.startsWith("!")) busy = line;
    }
    assert.equal(busy, "! server busy: try again in a moment");
    assert.equal(clients.length, 65, "the 63 numbers left in the block were handed out first");
    assert.ok(await clients.at(-1)!.waitForEof(), "the refused connection is closed");
    assert.ok(
      server.logs.some((l) => /^Refused 127\.0\.0\.1:\d+: no user number available$/.test(l)),
    );
    assert.equal(server.metrics!.refused.get("no user number available"), 1);
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
    await redis.stop();
  },
);

test("a server started with an unreachable Redis exits 2 with one line within the connect timeout", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `redis://127.0.0.1:${(probe.addr as Deno.NetAddr).port}`;
  probe.close(); // nothing listens there now
  const startedAt = performance.now();
  const result = await runToExit(["--port", "0", "--redis", url], { timeoutMs: 15_000 });
  const took = performance.now() - startedAt;
  assert.equal(result.code, 2);
  assert.match(result.stderr, new RegExp(`^marquee: Cannot connect to Redis at ${url}: .+\n$`));
  assert.ok(took < 3_000 + 3_000, `exited after ${took.toFixed(0)} ms (connect timeout 3 s)`);
  assert.ok(
    !result.stdout.includes("Chat server started"),
    "a start that failed never says it started",
  );
});

for (const fault of ["down", "frozen"] as const) {
  both(
    `SIGTERM ends a linked server within the shutdown timeout while Redis is ${fault}`,
    async (start) => {
      const redis = await start();
      const server = await startServerProcess(["--redis", redis.url, "--shutdown-timeout", "1"]);
      await server.waitForLog((l) => l.includes("link to other servers up"));
      const { client } = await TestClient.join(server.port);
      if (fault === "down") {
        await redis.down();
        await server.waitForLog((l) => l.includes("link to other servers lost"), LINK_CHANGE_MS);
      } else {
        redis.signal("SIGSTOP");
      }
      try {
        const signalledAt = performance.now();
        const status = await server.stopWithin(10_000, "SIGTERM");
        const took = performance.now() - signalledAt;
        assert.equal(status.code, 0);
        assert.ok(took < 1_000 + 1_000 + 1_000, `exited ${took.toFixed(0)} ms after SIGTERM`);
        assert.ok(server.stdout.includes("[server] stopped"));
      } finally {
        if (fault === "frozen") redis.signal("SIGCONT");
      }
      await client.close();
      await redis.stop();
    },
  );
}

both(
  "a password-protected Redis links with the right password; a wrong one is one masked line and exit 2",
  async (start) => {
    const redis = await start({ password: "right-pass-123" });
    const wrong = `redis://:wrong-pass-456@127.0.0.1:${redis.port}`;
    const refused = await runToExit(["--port", "0", "--redis", wrong], { timeoutMs: 15_000 });
    assert.equal(refused.code, 2);
    assert.equal(refused.stderr.split("\n").length, 2, refused.stderr); // one line and its LF
    assert.match(
      refused.stderr,
      /^marquee: Cannot connect to Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: /,
    );
    assert.ok(
      !refused.stderr.includes("wrong-pass-456") && !refused.stdout.includes("wrong-pass-456"),
    );
    const server = startServer({}, { redis: `redis://:right-pass-123@127.0.0.1:${redis.port}` });
    await linkedUp(server);
    assert.ok(server.logs.some((l) => l.includes("linked through redis://:***@127.0.0.1:")));
    assert.ok(
      !server.logs.some((l) => l.includes("right-pass-123")),
      "the password is never logged",
    );
    await assertChatWorks(server.port);
    await server.stop();
    await redis.stop();
  },
);

both("--reuse-port lets two linked processes share one port and be one chat", async (start) => {
  const redis = await start();
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const args = ["--port", String(port), "--reuse-port", "--redis", redis.url];
  const first = await startServerProcess(args);
  const second = await startServerProcess(args);
  for (const server of [first, second]) {
    await server.waitForLog((l) => l.includes("link to other servers up"));
  }
  const clients: TestClient[] = [];
  for (let i = 0; i < 20; i++) clients.push((await TestClient.join(port)).client);
  const served = [first, second].map((s) =>
    s.stdout.filter((l) => l.startsWith("New connection")).length
  );
  assert.equal(served[0]! + served[1]!, 20);
  assert.ok(served[0]! > 0 && served[1]! > 0, `connections split ${served.join("/")}`);
  const sender = nameOf([first, second], clients[0]!);
  await clients[0]!.send("one chat");
  const last = clients.at(-1)!;
  assert.equal(await last.readUntil((l) => l.startsWith("[")), `[${sender}]: one chat`);
  await Promise.all(clients.map((c) => c.close()));
  assert.equal((await first.stop()).code, 0);
  assert.equal((await second.stop()).code, 0);
  await redis.stop();
});

/** The userN a client was given, from whichever server's log names its port. */
function nameOf(servers: { stdout: string[] }[], client: TestClient): string {
  const port = (client.conn.localAddr as Deno.NetAddr).port;
  const line = servers.flatMap((s) => s.stdout).find((l) => l.includes(`:${port} as `));
  return line?.split(" as ")[1] ?? "unknown";
}

both(
  "two hundred senders on one server do not drop a reader on the other who keeps reading",
  async (start) => {
    const SENDERS = 200;
    const redis = await start();
    const s1 = await startServerProcess(["--redis", redis.url]);
    const s2 = await startServerProcess(["--redis", redis.url]);
    const clients: TestClient[] = [];
    try {
      await s1.waitForLog((l) => l.includes("link to other servers up"));
      await s2.waitForLog((l) => l.includes("link to other servers up"));
      const { client: bob } = await TestClient.join(s2.port);
      clients.push(bob);
      await bob.send("/nick bob");
      await bob.readUntil((l) => l.endsWith("is now known as bob"));
      const senders: TestClient[] = [];
      for (let i = 0; i < SENDERS; i++) senders.push((await TestClient.join(s1.port)).client);
      clients.push(...senders);
      for (let joined = 0; joined < SENDERS;) {
        if ((await bob.readLine(20_000)).endsWith(" joined the chat")) joined++;
      }
      const burst = new TextEncoder().encode(`/msg bob ${"y".repeat(4_000)}\n`.repeat(20));
      await Promise.all(senders.map((s) => s.writeAll(burst)));
      let got = 0;
      while (got < SENDERS * 20) {
        const line = await bob.readLine(30_000);
        assert.ok(!line.startsWith("! disconnected"), line);
        if (line.includes(" -> bob]: y")) got++;
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await s1.stop();
      await s2.stop();
      await redis.stop();
    }
  },
);

/** The number in a `* userN joined the chat` line. */
function numberOf(name: string): number {
  return Number(/^user(\d+)$/.exec(name)?.[1]);
}

both(
  "Redis restarted empty after more than a block of numbers: no live number or name is handed out again, /who is exact",
  async (start) => {
    const redis = await start();
    const [s1, s2] = await cluster(redis, 2);
    const clients: TestClient[] = [];
    const names: string[] = [];
    for (let i = 0; i < 70; i++) {
      const { client, name } = await TestClient.join(s1!.port);
      clients.push(client);
      names.push(name);
    }
    const { client: bob, name: bobName } = await TestClient.join(s2!.port);
    clients.push(bob);
    names.push(bobName);
    const alice = clients[0]!;
    await alice.send("/nick alice");
    await alice.readUntil((l) => l.endsWith("is now known as alice"));
    await bob.readUntil((l) => l.endsWith("is now known as alice"));
    const highest = Math.max(...names.map(numberOf));
    assert.ok(highest > 64, `more than one block used (highest user${highest})`);

    await redis.downEmpty();
    await alice.readUntil((l) => l === "* link to other servers lost", LINK_CHANGE_MS);
    await redis.up();
    await alice.readUntil((l) => l === "* link to other servers restored", LINK_CHANGE_MS);
    await bob.readUntil((l) => l === "* link to other servers restored", LINK_CHANGE_MS);

    // The counter was raised past every live number before any was handed out.
    const counter = Number((await redis.command("INCRBY", redis.key("users"), "0")).slice(1));
    assert.ok(counter >= highest, `counter ${counter} is at least user${highest}`);
    const newcomers = [await TestClient.join(s1!.port), await TestClient.join(s2!.port)];
    for (const { client, name } of newcomers) {
      clients.push(client);
      assert.ok(!names.includes(name), `${name} is nobody else's`);
    }
    await newcomers[1]!.client.send("/nick alice");
    assert.equal(
      await newcomers[1]!.client.readUntil((l) => l.startsWith("!")),
      "! name taken: alice",
    );
    // Two askers, one per server: 70 + bob + 2 newcomers + 2 askers.
    const askers = [await TestClient.join(s1!.port), await TestClient.join(s2!.port)];
    await waitForRemoteUsers(s1!, 3);
    await waitForRemoteUsers(s2!, 72);
    for (const { client: asker } of askers) {
      clients.push(asker);
      await asker.send("/who");
      assert.equal(
        await asker.readUntil((l) => l.includes("online in all")),
        "* 75 in lobby, 75 online in all",
      );
    }
    await stopAll([s1!, s2!], redis, clients);
  },
);

both(
  "a name another server holds in Redis is given up with a notice; its holder is told it stays",
  async (start) => {
    const redis = await start();
    const [server] = await cluster(redis, 1);
    const { client: alice, name: aliceNumber } = await TestClient.join(server!.port);
    const { client: watcher } = await TestClient.join(server!.port);
    await alice.send("/nick alice");
    await watcher.readUntil((l) => l === `* ${aliceNumber} is now known as alice`);
    // As if another server had been granted "alice" while Redis had lost our
    // claim: the record now names that server.
    assert.equal(await redis.command("SET", redis.key("name:alice"), "f00dcafe"), "+OK");
    assert.equal(
      await alice.readUntil((l) => l.includes("held by")),
      `* your name alice is held by a user on another server (Redis had lost track of names); you are ${aliceNumber} again`,
    );
    assert.equal(
      await watcher.readUntil((l) => l.includes("known as")),
      `* alice is now known as ${aliceNumber}`,
    );
    // The other side of the rule: told by the server that gave a name up.
    await watcher.send("/nick bob");
    await watcher.readUntil((l) => l.endsWith("is now known as bob"));
    const conflict = JSON.stringify({ type: "conflict", server: "f00dcafe", name: "bob" });
    await redis.publish("marquee:events", conflict);
    assert.equal(
      await watcher.readUntil((l) => l.includes("stays yours")),
      "* a user on another server also had the name bob (Redis had lost track of names); it stays yours",
    );
    await stopAll([server!], redis, [alice, watcher]);
  },
);

/** A CA and a leaf certificate for 127.0.0.1 signed by it, for a TLS Redis. */
async function makeRedisCerts(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const run = async (args: string[]) => {
    const { success, stderr } = await new Deno.Command("openssl", {
      args,
      stdout: "null",
      stderr: "piped",
    })
      .output();
    assert.ok(success, new TextDecoder().decode(stderr));
  };
  const [ca, caKey, cert, key, csr, ext] = [
    "ca.pem",
    "ca.key",
    "redis.pem",
    "redis.key",
    "redis.csr",
    "ext.cnf",
  ]
    .map((f) => `${dir}/${f}`) as [string, string, string, string, string, string];
  await run([
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    caKey,
    "-out",
    ca,
    "-days",
    "1",
    "-subj",
    "/CN=marquee-test-ca",
  ]);
  await run([
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    key,
    "-out",
    csr,
    "-subj",
    "/CN=127.0.0.1",
  ]);
  await Deno.writeTextFile(
    ext,
    // clientAuth too: a cluster's masters also connect to each other with it.
    "subjectAltName=IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n",
  );
  await run([
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca,
    "-CAkey",
    caKey,
    "-CAcreateserial",
    "-out",
    cert,
    "-days",
    "1",
    "-extfile",
    ext,
  ]);
  return { ca, cert, key };
}

const HAVE_OPENSSL = HAVE_REDIS && haveTool({
  name: "openssl",
  command: "openssl",
  args: ["version"],
  needed: "the rediss:// test (it makes a throwaway CA)",
});

Deno.test({
  name: "two servers link through a TLS Redis (rediss://) trusting a private CA",
  ignore: !HAVE_OPENSSL || !HAVE_REDIS,
  fn: () => rediss(tlsRedis),
});

Deno.test({
  name: "two servers link through a TLS Redis Cluster (rediss://) trusting a private CA",
  ignore: !HAVE_OPENSSL || !HAVE_REDIS,
  fn: () => rediss(tlsCluster),
});

/** TLS certificates for a Redis, made in a directory of their own. */
type CertFiles = { ca: string; cert: string; key: string };

/** One redis-server speaking only TLS, with `files`. */
async function tlsRedis(files: CertFiles): Promise<Pick<Backend, "url" | "stop">> {
  const tlsPort = (() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    return port;
  })();
  const redis = await startRedis({
    args: [
      ...[
        "--tls-port",
        String(tlsPort),
        "--tls-cert-file",
        files.cert,
        "--tls-key-file",
        files.key,
      ],
      ...["--tls-ca-cert-file", files.ca, "--tls-auth-clients", "no"],
    ],
  });
  return { url: `rediss://127.0.0.1:${tlsPort}`, stop: redis.stop };
}

/** A three-master cluster speaking only TLS, with `files`. */
async function tlsCluster(files: CertFiles): Promise<Pick<Backend, "url" | "stop">> {
  const cluster = await startRedisCluster({ tls: files });
  return { url: cluster.url(0), stop: cluster.stop };
}

/** Two servers linked through the Redis `start` makes with a private CA. */
async function rediss(start: (files: CertFiles) => Promise<Pick<Backend, "url" | "stop">>) {
  const dir = await Deno.makeTempDir();
  const files = await makeRedisCerts(dir);
  const redis = await start(files);
  const url = redis.url;
  const redisCa = await Deno.readTextFile(files.ca);
  const servers = [
    startServer({}, { redis: url, redisCa }),
    startServer({}, { redis: url, redisCa }),
  ];
  for (const server of servers) {
    await linkedUp(server);
  }
  const a = await TestClient.join(servers[0]!.port);
  await waitForRemoteUsers(servers[1]!, 1);
  const b = await TestClient.join(servers[1]!.port);
  await a.client.readUntil((l) => l === `* ${b.name} joined the chat`);
  await b.client.send("over tls redis");
  assert.equal(await a.client.readUntil((l) => l.startsWith("[")), `[${b.name}]: over tls redis`);
  await stopAll(servers, redis, [a.client, b.client]);
  await Deno.remove(dir, { recursive: true });
}

Deno.test("an unreadable --redis-ca is one line and exit code 2", async () => {
  const args = [
    "--port",
    "0",
    "--redis",
    "rediss://127.0.0.1:1",
    "--redis-ca",
    "/nonexistent/ca.pem",
  ];
  const result = await runToExit(args, { timeoutMs: 15_000 });
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    "marquee: Cannot read /nonexistent/ca.pem: run with --allow-read=/nonexistent/ca.pem\n",
  );
});

both(
  "linked servers replay the same history from Redis, even one started after the lines were said",
  async (start) => {
    const redis = await start();
    const linked = () => startServer({ floodRate: 0 }, { redis: redis.url, history: true });
    const s1 = linked();
    const s2 = linked();
    for (const s of [s1, s2]) await linkedUp(s);
    const { client: alice, name } = await TestClient.join(s1.port);
    const { client: bob, name: bobName } = await TestClient.join(s2.port);
    await alice.readUntil((l) => l === `* ${bobName} joined the chat`);
    for (let i = 1; i <= 12; i++) await alice.send(`from s1 ${i}`);
    await bob.send("/me answers from s2");
    await alice.readUntil((l) => l.endsWith("answers from s2"));
    await bob.readUntil((l) => l.endsWith("from s1 12"));
    await alice.send(`/msg ${bobName} private, never kept`);
    await bob.readUntil((l) => l.includes("never kept"));
    // Written: the newest kept line is in Redis.
    await pollUntil("the lines are in Redis", async () => {
      const reply = await redis.command("XLEN", "marquee:history:lobby");
      return reply === ":13";
    });
    const s3 = linked();
    await linkedUp(s3);
    const replays: string[][] = [];
    for (const server of [s1, s2, s3]) {
      const viewer = await TestClient.connect(server.port);
      // From Redis the replay comes a moment after the join lines.
      const lines = await viewer.readThrough((l) => l === "* end of recent");
      replays.push(
        lines.slice(lines.indexOf("* recent in lobby:")).map((l) => l.replace(/\d\d:\d\d/, "T")),
      );
      await viewer.close();
    }
    const expected = [
      "* recent in lobby:",
      ...Array.from({ length: 9 }, (_, i) => `* T [${name}]: from s1 ${i + 4}`),
      `* T ${bobName} answers from s2`,
      "* end of recent",
    ];
    for (const replay of replays) assert.deepEqual(replay, expected);
    await stopAll([s1, s2, s3], redis, [alice, bob]);
  },
);

both(
  "after FLUSHALL while linked, names are claimed again and no live number is handed out again",
  async (start) => {
    const redis = await start();
    const [server] = await cluster(redis, 1);
    const clients: TestClient[] = [];
    const live = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const { client, name } = await TestClient.join(server!.port);
      clients.push(client);
      live.add(name);
    }
    await clients[0]!.send("/nick alice");
    await clients[0]!.readUntil((l) => l.endsWith("is now known as alice"));
    await redis.flushAll();
    // The next heartbeat (every 2 s) claims the name again.
    await pollUntil("alice claimed again", async () => {
      return (await redis.command("EXISTS", redis.key("name:alice"))) === ":1";
    });
    // Use up the server's reserve of 64 so it must take a block from the
    // counter that FLUSHALL reset to 0.
    for (let i = 0; i < 64; i++) {
      const { client, name } = await TestClient.join(server!.port);
      clients.push(client);
      assert.ok(!live.has(name), `${name} was handed out twice`);
      live.add(name);
    }
    await stopAll([server!], redis, clients);
  },
);

both(
  "a linked server sends no blank line for an empty room's replay, nor for a newcomer",
  async (start) => {
    const redis = await start();
    const server = startServer({ floodRate: 0 }, { redis: redis.url, history: true });
    await server.ready;
    // Every instance linked (with two workers, a client may land on either).
    await pollUntil(
      "every instance linked",
      () =>
        server.logs.filter((l) => l.includes("link to other servers up")).length >= TEST_WORKERS,
    );
    const { client, name } = await TestClient.join(server.port);
    await client.send("/join emptyroom");
    assert.equal(await client.readLine(), "* you are in emptyroom (1 user)");
    await client.send("/who");
    assert.equal(await client.readLine(), `* in emptyroom: ${name}`, "the next line is /who's");
    const { client: late } = await TestClient.join(server.port);
    await late.send("/who");
    const lines = await late.linesBeforeProbe();
    assert.ok(!lines.includes(""), `a blank line among ${JSON.stringify(lines)}`);
    await Promise.all([client.close(), late.close()]);
    await server.stop();
    await redis.stop();
  },
);

both(
  "a linked server keeps accounts in a Redis that keeps nothing on disk only when told so",
  async (start) => {
    const ephemeral = await start({ persistent: false });
    const refused = await runToExit(["--port", "0", "--redis", ephemeral.url], {
      timeoutMs: 15_000,
    });
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /^marquee: Redis at redis:\/\/127\.0\.0\.1:\d+ keeps nothing on disk \(no appendonly, no save\): accounts would be lost when it restarts; run it with --appendonly yes, or start with --redis-ephemeral\n$/,
    );
    assert.ok(!refused.stdout.includes("Chat server started"));
    // Told so, it starts; and without accounts there is nothing to lose.
    for (const extra of [["--redis-ephemeral"], ["--accounts", "off"]]) {
      const server = await startServerProcess(["--redis", ephemeral.url, ...extra]);
      await server.stop();
    }
    await ephemeral.stop();
    const persistent = await start({ persistent: true });
    const server = await startServerProcess(["--redis", persistent.url], { redisChecked: true });
    await server.stop();
    await persistent.stop();
  },
);

both(
  "linked history keeps exactly --history-keep lines and nothing older than --history-days",
  async (start) => {
    const redis = await start();
    const server = await startServerProcess([
      "--redis",
      redis.url,
      "--history",
      "on",
      "--history-keep",
      "5",
      "--flood-rate",
      "0",
    ]);
    // A line from 2001, written straight into the room's stream.
    await redis.command(
      "XADD",
      "marquee:history:lobby",
      "978307200000-0",
      "from",
      "old",
      "text",
      "from 2001",
      "action",
      "0",
    );
    const { client } = await TestClient.join(server.port);
    for (let i = 1; i <= 60; i++) await client.send(`line ${i}`);
    await client.linesBeforeProbe();
    await new Promise((resolve) => setTimeout(resolve, 200)); // the batch goes out every 50 ms
    await client.send("/history 200");
    const page = await client.readThrough((l) => l === "* end of history");
    const lines = page.filter((l) => l.includes("line ") || l.includes("from 2001"));
    assert.deepEqual(lines.map((l) => l.replace(/^\* [\d:]+ /, "")), [
      "[user1]: line 56",
      "[user1]: line 57",
      "[user1]: line 58",
      "[user1]: line 59",
      "[user1]: line 60",
    ]);
    await client.close();
    await server.stop();
    await redis.stop();
  },
);
