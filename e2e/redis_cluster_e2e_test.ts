/**
 * Linked servers through a real three-master Redis Cluster (started here on
 * loopback): sharded pub/sub for rooms and servers, keys under one hash tag,
 * history streams spread by room, and a master restarted during chat.
 * Skipped with the other Redis tests where redis-server is missing.
 */

import assert from "node:assert/strict";
import { linkedUp, startServer, TestClient, type TestServer } from "../testing/chat_client.ts";
import { as, registered } from "../testing/people.ts";
import { HAVE_REDIS } from "../testing/redis_server.ts";
import { type RedisCluster, startRedisCluster } from "../testing/redis_cluster.ts";
import { pollUntil } from "../testing/within.ts";

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: !HAVE_REDIS, fn });

/** Which master serves `key` (a channel or a key): slots are dealt out in
 * three runs, one per master in order. */
async function masterOf(cluster: RedisCluster, key: string): Promise<number> {
  const slot = Number(await cluster.cli(0, "CLUSTER", "KEYSLOT", key));
  return slot <= 5460 ? 0 : slot <= 10922 ? 1 : 2;
}

/** Two servers of one worker each, linked through different masters. */
async function twoServers(
  cluster: RedisCluster,
  options: { history?: boolean; accounts?: Record<string, never> } = {},
): Promise<[TestServer, TestServer]> {
  const servers = [0, 1].map((i) =>
    startServer({ floodRate: 0 }, { redis: cluster.url(i), workers: 1, ...options })
  );
  for (const server of servers) await linkedUp(server);
  return servers as [TestServer, TestServer];
}

test("two servers linked through a Redis Cluster are one chat: lines, renames, private messages, /whois, history", async () => {
  const cluster = await startRedisCluster();
  const [s1, s2] = await twoServers(cluster, { history: true });
  const { client: a, name: aName } = await TestClient.join(s1.port);
  const { client: b, name: bName } = await TestClient.join(s2.port);
  assert.notEqual(aName, bName, "numbers come from one counter");
  await a.readUntil((l) => l === `* ${bName} joined the chat`);
  await a.send("hello through the cluster");
  assert.equal(
    await b.readUntil((l) => l.startsWith("[")),
    `[${aName}]: hello through the cluster`,
  );
  await b.send("/me waves");
  assert.equal(await a.readUntil((l) => l.endsWith("waves")), `* ${bName} waves`);
  await b.send("/nick bob");
  await a.readUntil((l) => l === `* ${bName} is now known as bob`);
  await a.send("/msg bob psst");
  assert.equal(await b.readUntil((l) => l.startsWith("[")), `[${aName} -> bob]: psst`);
  await a.send("/whois bob");
  assert.match(
    await a.readUntil((l) => l.startsWith("* bob:")),
    /^\* bob: not registered, in lobby, idle/,
  );
  // The lobby's lines are on one shard, heard by both servers there.
  const shard = await masterOf(cluster, "marquee:lines:lobby");
  assert.equal(
    await cluster.cli(shard, "PUBSUB", "SHARDNUMSUB", "marquee:lines:lobby"),
    "marquee:lines:lobby\n2",
  );
  await pollUntil("the line is in the lobby's stream", async () => {
    const at = await masterOf(cluster, "marquee:history:lobby");
    return (await cluster.cli(at, "XLEN", "marquee:history:lobby")) === "2";
  });
  const viewer = await TestClient.connect(s2.port);
  const replay = await viewer.readThrough((l) => l === "* end of recent");
  assert.ok(
    replay.some((l) => l.endsWith(`[${aName}]: hello through the cluster`)),
    replay.join("\n"),
  );
  for (const client of [a, b, viewer]) await client.close();
  for (const server of [s1, s2]) await server.stop();
  await cluster.stop();
});

test("an account and a room registered through one server of a Redis Cluster hold on the other, and so does a ban", async () => {
  const cluster = await startRedisCluster();
  const [s1, s2] = await twoServers(cluster, { accounts: {} });
  const alice = await registered(s1, "alice");
  await alice.send("/join den");
  await alice.readUntil((l) => l === "* den is now owned by alice");
  assert.equal(await cluster.cli(0, "EXISTS", "{marquee}:accounts"), "1", "keys share one tag");
  const { client: someone } = await TestClient.join(s2.port);
  await someone.send("/nick alice");
  assert.match(await someone.readUntil((l) => l.startsWith("!")), /^! alice is registered/);
  await someone.close();
  // Moderation crosses too: a ban made on one server holds on the other.
  const bob = await as(s2, "bob");
  await bob.send("/join den");
  await alice.readUntil((l) => l === "* bob joined the room");
  await alice.send("/ban bob 1h");
  assert.equal(
    await bob.readUntil((l) => l.startsWith("!")),
    "! you are banned from den by alice for 1h",
  );
  for (const client of [alice, bob]) await client.close();
  for (const server of [s1, s2]) await server.stop();
  await cluster.stop();
});

test("a master of the Redis Cluster restarted during chat: chat goes on, and lines cross again once it is back", async () => {
  const cluster = await startRedisCluster();
  const [s1, s2] = await twoServers(cluster);
  const { client: a, name: aName } = await TestClient.join(s1.port);
  const { client: b } = await TestClient.join(s2.port);
  await b.send("/join den");
  await a.send("/join den");
  await b.readUntil((l) => l === `* ${aName} joined the room`);
  // The master of the control channel: every server's link goes through it.
  await cluster.restart(await masterOf(cluster, "marquee:events"));
  // Lines said while the link is down reach only their own server: say
  // new ones until one crosses.
  let crossed = "";
  for (let i = 0; i < 60 && crossed === ""; i++) {
    await a.send(`after the restart ${i}`);
    const lines = await b.linesBeforeProbe();
    crossed = lines.find((l) => l.startsWith(`[${aName}]: after the restart`)) ?? "";
    if (crossed === "") await new Promise((r) => setTimeout(r, 250));
  }
  assert.match(crossed, /after the restart \d+$/, "lines cross again");
  // A join goes on the control channel, on the restarted master: a server
  // that saw its own heartbeats go unanswered meanwhile announces it once
  // its link is back (after at most 5 s of silence and the re-assertions).
  const { client: c, name: cName } = await TestClient.join(s2.port);
  await a.readUntil((l) => l === `* ${cName} joined the chat`, 20_000);
  for (const client of [a, b, c]) await client.close();
  for (const server of [s1, s2]) await server.stop();
  await cluster.stop();
});
