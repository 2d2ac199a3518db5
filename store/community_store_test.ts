/**
 * The same behaviour from both account stores: SQLite in a real file, and a
 * real redis-server. Each test runs once per store.
 */

import assert from "node:assert/strict";
import { createClient } from "redis";
import type { CommunityStore } from "../chat/ports.ts";
import { RedisCommunity } from "../cluster/redis_community.ts";
import { HAVE_REDIS, startRedis } from "../testing/redis_server.ts";
import { SqliteCommunity } from "./sqlite_community.ts";

type Open = () => Promise<
  { store: CommunityStore; reopen: () => Promise<CommunityStore>; close: () => Promise<void> }
>;

const sqlite: Open = async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/community.db`;
  let current = SqliteCommunity.open(path);
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = SqliteCommunity.open(path);
      return current;
    },
    close: async () => {
      await current.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
};

const redis: Open = async () => {
  const server = await startRedis();
  const client = createClient({ url: server.url });
  await client.connect();
  const store = new RedisCommunity(() => client as never);
  return {
    store,
    reopen: () => Promise.resolve(new RedisCommunity(() => client as never)),
    close: async () => {
      await client.quit();
      await server.stop();
    },
  };
};

function both(name: string, fn: (open: Open) => Promise<void>): void {
  Deno.test(`SQLite: ${name}`, () => fn(sqlite));
  Deno.test({ name: `Redis: ${name}`, ignore: !HAVE_REDIS, fn: () => fn(redis) });
}

const NOW = 1_800_000_000_000;

both(
  "an account is created once, found in any case, its password changed, then deleted",
  async (open) => {
    const { store, close } = await open();
    try {
      assert.equal(await store.createAccount({ name: "Alice", hash: "h1", created: NOW }), true);
      assert.equal(await store.createAccount({ name: "ALICE", hash: "h2", created: NOW }), false);
      assert.deepEqual(await store.account("alice"), { name: "Alice", hash: "h1", created: NOW });
      await store.setPassword("alice", "h3");
      assert.equal((await store.account("aLiCe"))?.hash, "h3");
      await store.deleteAccount("alice");
      assert.equal(await store.account("alice"), undefined);
    } finally {
      await close();
    }
  },
);

both("a room is claimed once; its topic, ops, bans and mutes come back on load", async (open) => {
  const { store, reopen, close } = await open();
  try {
    assert.equal(
      await store.write({ kind: "claim", room: "Games", owner: "alice", by: "alice" }),
      true,
    );
    assert.equal(
      await store.write({ kind: "claim", room: "games", owner: "bob", by: "bob" }),
      false,
    );
    await store.write({ kind: "topic", room: "games", text: "no spoilers", by: "alice" });
    await store.write({ kind: "op", room: "games", account: "bob", on: true, by: "alice" });
    const ban = { target: "troll", by: "alice", reason: "spam", until: 0 };
    await store.write({ kind: "ban", room: "games", sanction: ban });
    const kept = { target: "10.0.0.9", by: "alice", reason: "spam", until: 0, label: "troll" };
    await store.write({ kind: "ban", room: "games", sanction: kept });
    const mute = { target: "carol", by: "bob", reason: "", until: NOW + 60_000 };
    await store.write({ kind: "mute", room: "games", sanction: mute });
    await store.write({ kind: "ban", room: "", sanction: { ...ban, target: "10.0.0.1" } });
    await store.createAccount({ name: "alice", hash: "h", created: NOW });
    const snapshot = await (await reopen()).load(NOW);
    assert.deepEqual(snapshot.accounts, ["alice"]);
    assert.equal(snapshot.rooms.length, 1);
    const room = snapshot.rooms[0]!;
    assert.deepEqual(
      { ...room, bans: sortByTarget(room.bans) },
      {
        name: "Games",
        owner: "alice",
        topic: "no spoilers",
        topicBy: "alice",
        ops: ["bob"],
        bans: sortByTarget([ban, kept]),
        mutes: [mute],
      },
    );
    assert.deepEqual(snapshot.serverBans, [{ ...ban, target: "10.0.0.1" }]);
  } finally {
    await close();
  }
});

both(
  "unban lifts a name's ban and the addresses kept with it; ended sanctions are not loaded",
  async (open) => {
    const { store, close } = await open();
    try {
      await store.write({ kind: "claim", room: "games", owner: "alice", by: "alice" });
      const ban = { target: "troll", by: "alice", reason: "", until: 0 };
      await store.write({ kind: "ban", room: "games", sanction: ban });
      await store.write({
        kind: "ban",
        room: "games",
        sanction: { ...ban, target: "10.0.0.9", label: "troll" },
      });
      await store.write({ kind: "ban", room: "games", sanction: { ...ban, target: "other" } });
      await store.write({ kind: "unban", room: "games", target: "troll", by: "alice" });
      await store.write({
        kind: "mute",
        room: "games",
        sanction: { ...ban, target: "brief", until: NOW },
      });
      const room = (await store.load(NOW)).rooms[0]!;
      assert.deepEqual(room.bans.map((b) => b.target), ["other"]);
      assert.deepEqual(room.mutes, [], "a mute that ended is gone");
      await store.write({ kind: "release", room: "games" });
      assert.deepEqual((await store.load(NOW)).rooms, []);
    } finally {
      await close();
    }
  },
);

both("SQL and Redis metacharacters in names, topics and reasons are kept as text", async (open) => {
  const { store, close } = await open();
  try {
    const nasty = `'; DROP TABLE accounts; -- " \\ * ? [ ] { } \r\n EVAL`;
    await store.write({ kind: "claim", room: "games", owner: "alice", by: "alice" });
    await store.write({ kind: "topic", room: "games", text: nasty, by: "alice" });
    await store.write({
      kind: "ban",
      room: "games",
      sanction: { target: "x", by: "a", reason: nasty, until: 0 },
    });
    assert.equal(await store.createAccount({ name: "bob", hash: nasty, created: NOW }), true);
    const snapshot = await store.load(NOW);
    assert.equal(snapshot.rooms[0]?.topic, nasty);
    assert.equal(snapshot.rooms[0]?.bans[0]?.reason, nasty);
    assert.equal((await store.account("bob"))?.hash, nasty);
  } finally {
    await close();
  }
});

function sortByTarget<T extends { target: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => a.target.localeCompare(b.target));
}
