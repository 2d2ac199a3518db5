/**
 * Linked servers hear only the rooms their users are in (real redis-server):
 * a room's lines go on its own channel, and a server subscribes to it while
 * it has a user there. See cluster/redis_channels.ts.
 */

import assert from "node:assert/strict";
import { linkedUp, startServer, TestClient, type TestServer } from "../testing/chat_client.ts";
import { HAVE_REDIS, type RedisServer, startRedis } from "../testing/redis_server.ts";
import { pollUntil } from "../testing/within.ts";

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: !HAVE_REDIS, fn });

/** Two servers of one worker each: a subscription is one connection's. */
async function twoServers(redis: RedisServer): Promise<TestServer[]> {
  const servers: TestServer[] = [];
  for (let i = 0; i < 2; i++) {
    const server = startServer({}, { redis: redis.url, workers: 1 });
    await linkedUp(server);
    servers.push(server);
  }
  return servers;
}

/** Waits until `room`'s channel has `n` subscribed servers. */
function subscribed(redis: RedisServer, room: string, n: number): Promise<void> {
  return pollUntil(
    `${n} servers on ${room}'s channel`,
    async () => (await redis.subscribers(`marquee:lines:${room}`)) === n,
  );
}

test("a linked server hears a room's lines only while one of its users is in it", async () => {
  const redis = await startRedis();
  const [s1, s2] = await twoServers(redis);
  const { client: a, name: aName } = await TestClient.join(s1!.port);
  const { client: b, name: bName } = await TestClient.join(s2!.port);
  await b.send("/join attic");
  await b.readUntil((line) => line.startsWith("* you are in attic"));
  await subscribed(redis, "lobby", 1);
  await subscribed(redis, "attic", 1);
  assert.equal(await redis.subscribers("marquee:events"), 2, "both hear the control channel");
  await b.send("/join lobby");
  await subscribed(redis, "lobby", 2);
  await subscribed(redis, "attic", 0);
  await a.readUntil((line) => line === `* ${bName} joined the room`);
  await a.send("now b hears it");
  assert.equal(await b.readUntil((line) => line.startsWith("[")), `[${aName}]: now b hears it`);
  for (const client of [a, b]) await client.close();
  for (const server of [s1!, s2!]) await server.stop();
  await redis.stop();
});

/** Watches every command Redis runs (MONITOR), in the order it runs them. */
async function monitor(redis: RedisServer): Promise<{ lines: string[]; stop(): void }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: redis.port });
  await conn.write(new TextEncoder().encode("MONITOR\r\n"));
  const lines: string[] = [];
  const reading = (async () => {
    let rest = "";
    for await (const chunk of conn.readable.pipeThrough(new TextDecoderStream())) {
      const parts = (rest + chunk).split("\r\n");
      rest = parts.pop() ?? "";
      lines.push(...parts);
    }
  })().catch(() => {});
  return {
    lines,
    stop: () => {
      conn.close();
      void reading;
    },
  };
}

test("a user who moves into a room hears every line said there by anyone who saw them arrive", async () => {
  const redis = await startRedis();
  const [s1, s2] = await twoServers(redis);
  const commands = await monitor(redis);
  const { client: a, name: aName } = await TestClient.join(s1!.port);
  const { client: b, name: bName } = await TestClient.join(s2!.port);
  // Eight rounds: two lines each keeps `a` within the flood burst (20).
  for (let i = 0; i < 8; i++) {
    // A room new to s2 each time: s2 subscribes as b moves in.
    const room = `room${i}`;
    await a.send(`/join ${room}`);
    await a.readUntil((line) => line.startsWith(`* you are in ${room}`));
    await b.send(`/join ${room}`);
    await a.readUntil((line) => line === `* ${bName} joined the room`);
    await a.send(`first words in ${room}`);
    const heard = await b.readUntil((line) => line.startsWith("["));
    assert.equal(heard, `[${aName}]: first words in ${room}`);
  }
  // The race closed: each server published its user's move into a room
  // only after Redis had its subscription to that room's channel.
  const order = commands.lines.filter((line) =>
    /"subscribe".*marquee:lines:/i.test(line) || /"PUBLISH" "marquee:events".*\\"move\\"/.test(line)
  );
  commands.stop();
  for (let i = 0; i < 8; i++) {
    const about = order.filter((line) =>
      line.includes(`room${i}"`) || line.includes(`room${i}\\"`)
    );
    let subscribes = 0;
    let moves = 0;
    for (const line of about) {
      if (/"subscribe"/i.test(line)) subscribes++;
      else {assert.ok(
          ++moves <= subscribes,
          `room${i}: a move before its server subscribed: ${about}`,
        );}
    }
    assert.deepEqual([subscribes, moves], [2, 2], `room${i}: ${about}`);
  }
  for (const client of [a, b]) await client.close();
  for (const server of [s1!, s2!]) await server.stop();
  await redis.stop();
});
