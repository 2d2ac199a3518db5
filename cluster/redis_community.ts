/**
 * Accounts, registered rooms, ops, topics, bans and mutes in Redis, for
 * linked servers: every server reads and writes the same keys, so an
 * account registered on one can log in on any, and a ban made on one holds
 * on all (the act itself travels on the cluster channel; these keys are
 * what a server that starts, or comes back, reads).
 *
 * Keys: `marquee:accounts` (hash: name → JSON), `marquee:rooms` (set of
 * registered rooms), and per room `marquee:room:<room>` (hash: name,
 * owner, topic, topicBy), `marquee:ops:<room>` (set), `marquee:bans:<room>`
 * and `marquee:mutes:<room>` (hash: target → JSON); the server's own bans
 * are `marquee:server-bans`. Claiming a room is one script, so two servers
 * cannot both hand it out.
 *
 * @module
 */

import type { createClient } from "redis";
import type { RoomRecord, Sanction, Snapshot, StoredAct } from "../chat/community.ts";
import type { Account, CommunityStore } from "../chat/ports.ts";

type RedisClient = ReturnType<typeof createClient>;

const ACCOUNTS = "marquee:accounts";
const ROOMS = "marquee:rooms";
const SERVER_BANS = "marquee:server-bans";
const roomKey = (room: string) => `marquee:room:${room}`;
const opsKey = (room: string) => `marquee:ops:${room}`;
const bansKey = (room: string) => (room === "" ? SERVER_BANS : `marquee:bans:${room}`);
const mutesKey = (room: string) => `marquee:mutes:${room}`;

/** Owner of an unowned (or new) room := ARGV[1]; 1 if claimed, 0 if owned. */
const CLAIM_SCRIPT = `
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner and owner ~= '' then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'name', ARGV[2])
redis.call('HSETNX', KEYS[1], 'topic', '')
redis.call('HSETNX', KEYS[1], 'topicBy', '')
redis.call('SADD', KEYS[2], ARGV[3])
return 1
`;

/** A Redis-backed {@linkcode CommunityStore}; see the module doc. */
export class RedisCommunity implements CommunityStore {
  readonly #client: () => RedisClient;

  constructor(client: () => RedisClient) {
    this.#client = client;
  }

  async load(now: number): Promise<Snapshot> {
    const client = this.#client();
    const accounts = await client.hKeys(ACCOUNTS);
    const keys = await client.sMembers(ROOMS);
    // Issued together: the client pipelines them in one round trip.
    const rooms = await Promise.all(keys.map((key) => this.#loadRoom(key, now)));
    const serverBans = await this.#sanctions(SERVER_BANS, now);
    return { accounts, rooms, serverBans };
  }

  async #loadRoom(key: string, now: number): Promise<RoomRecord> {
    const client = this.#client();
    const [fields, ops, bans, mutes] = await Promise.all([
      client.hGetAll(roomKey(key)),
      client.sMembers(opsKey(key)),
      this.#sanctions(bansKey(key), now),
      this.#sanctions(mutesKey(key), now),
    ]);
    return {
      name: fields.name ?? key,
      owner: fields.owner ?? "",
      topic: fields.topic ?? "",
      topicBy: fields.topicBy ?? "",
      ops,
      bans,
      mutes,
    };
  }

  /** The sanctions in a hash still in force at `now`; ended ones deleted. */
  async #sanctions(key: string, now: number): Promise<Sanction[]> {
    const client = this.#client();
    const live: Sanction[] = [];
    const ended: string[] = [];
    for (const [target, json] of Object.entries(await client.hGetAll(key))) {
      const sanction = parseSanction(target, json);
      if (sanction === undefined || (sanction.until !== 0 && sanction.until <= now)) {
        ended.push(target);
      } else live.push(sanction);
    }
    if (ended.length > 0) await client.hDel(key, ended);
    return live;
  }

  async account(name: string): Promise<Account | undefined> {
    const json = await this.#client().hGet(ACCOUNTS, name.toLowerCase());
    if (json === undefined || json === null) return undefined;
    const value = JSON.parse(json) as Account;
    return { name: String(value.name), hash: String(value.hash), created: Number(value.created) };
  }

  async createAccount(account: Account): Promise<boolean> {
    return await this.#client().hSetNX(
      ACCOUNTS,
      account.name.toLowerCase(),
      JSON.stringify(account),
    );
  }

  async setPassword(name: string, hash: string): Promise<void> {
    const account = await this.account(name);
    if (account === undefined) return;
    await this.#client().hSet(ACCOUNTS, name.toLowerCase(), JSON.stringify({ ...account, hash }));
  }

  async deleteAccount(name: string): Promise<void> {
    await this.#client().hDel(ACCOUNTS, name.toLowerCase());
  }

  async write(act: StoredAct): Promise<boolean> {
    const client = this.#client();
    const room = act.room.toLowerCase();
    switch (act.kind) {
      case "claim": {
        const claimed = await client.eval(CLAIM_SCRIPT, {
          keys: [roomKey(room), ROOMS],
          arguments: [act.owner, act.room, room],
        });
        return claimed === 1;
      }
      case "release":
        await client.multi().del([roomKey(room), opsKey(room), bansKey(room), mutesKey(room)])
          .sRem(ROOMS, room).exec();
        return true;
      case "topic":
        await this.#ensureRoom(room, act.room);
        await client.hSet(roomKey(room), { topic: act.text, topicBy: act.by });
        return true;
      case "op":
        await this.#ensureRoom(room, act.room);
        if (act.on) await client.sAdd(opsKey(room), act.account);
        else await client.sRem(opsKey(room), act.account);
        return true;
      case "ban":
        if (room !== "") await this.#ensureRoom(room, act.room);
        await client.hSet(bansKey(room), act.sanction.target, JSON.stringify(act.sanction));
        return true;
      case "unban":
        await this.#lift(bansKey(room), act.target);
        return true;
      case "mute":
        await this.#ensureRoom(room, act.room);
        await client.hSet(mutesKey(room), act.sanction.target, JSON.stringify(act.sanction));
        return true;
      case "unmute":
        await this.#lift(mutesKey(room), act.target);
        return true;
    }
  }

  /** Makes sure `room` is listed, so a server that starts reads its state
   * (an owner is set only by a claim). */
  async #ensureRoom(room: string, name: string): Promise<void> {
    await this.#client().multi().hSetNX(roomKey(room), "name", name)
      .hSetNX(roomKey(room), "owner", "").hSetNX(roomKey(room), "topic", "")
      .hSetNX(roomKey(room), "topicBy", "").sAdd(ROOMS, room).exec();
  }

  /** Deletes the sanction on `target` and the addresses kept with it. */
  async #lift(key: string, target: string): Promise<void> {
    const client = this.#client();
    const doomed = [target];
    for (const [other, json] of Object.entries(await client.hGetAll(key))) {
      if (parseSanction(other, json)?.label === target) doomed.push(other);
    }
    await client.hDel(key, doomed);
  }
}

function parseSanction(target: string, json: string): Sanction | undefined {
  try {
    const v = JSON.parse(json) as Partial<Sanction>;
    if (typeof v.until !== "number" || typeof v.by !== "string") return undefined;
    return {
      target,
      by: v.by,
      reason: String(v.reason ?? ""),
      until: v.until,
      ...(typeof v.label === "string" ? { label: v.label } : {}),
    };
  } catch {
    return undefined;
  }
}
