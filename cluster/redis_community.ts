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
 * cannot both hand it out. In a Redis Cluster each key begins `{marquee}:`
 * instead (one hash tag: the script and the transactions touch several).
 *
 * @module
 */

import type { RoomRecord, Sanction, Snapshot, StoredAct } from "../chat/community.ts";
import type { Account, CommunityStore } from "../chat/ports.ts";
import type { RedisClient } from "./redis_clients.ts";

/** The keys, under `prefix` (see `keyPrefix`). */
function keysUnder(prefix: string) {
  const serverBans = `${prefix}server-bans`;
  return {
    accounts: `${prefix}accounts`,
    rooms: `${prefix}rooms`,
    serverBans,
    room: (room: string) => `${prefix}room:${room}`,
    ops: (room: string) => `${prefix}ops:${room}`,
    bans: (room: string) => (room === "" ? serverBans : `${prefix}bans:${room}`),
    mutes: (room: string) => `${prefix}mutes:${room}`,
  };
}

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
  readonly #prefix: () => string;
  #cached: ReturnType<typeof keysUnder> | undefined;

  /** `prefix`: what every key begins with (`marquee:` unless in a cluster),
   * asked once the link is made. */
  constructor(client: () => RedisClient, prefix: () => string = () => "marquee:") {
    this.#client = client;
    this.#prefix = prefix;
  }

  get #keys(): ReturnType<typeof keysUnder> {
    return this.#cached ??= keysUnder(this.#prefix());
  }

  async load(now: number): Promise<Snapshot> {
    const client = this.#client();
    const accounts = await client.hKeys(this.#keys.accounts);
    const keys = await client.sMembers(this.#keys.rooms);
    // Issued together: the client pipelines them in one round trip.
    const rooms = await Promise.all(keys.map((key) => this.#loadRoom(key, now)));
    const serverBans = await this.#sanctions(this.#keys.serverBans, now);
    return { accounts, rooms, serverBans };
  }

  async #loadRoom(key: string, now: number): Promise<RoomRecord> {
    const client = this.#client();
    const [fields, ops, bans, mutes] = await Promise.all([
      client.hGetAll(this.#keys.room(key)),
      client.sMembers(this.#keys.ops(key)),
      this.#sanctions(this.#keys.bans(key), now),
      this.#sanctions(this.#keys.mutes(key), now),
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
    const json = await this.#client().hGet(this.#keys.accounts, name.toLowerCase());
    if (json === undefined || json === null) return undefined;
    const value = JSON.parse(json) as Account;
    return { name: String(value.name), hash: String(value.hash), created: Number(value.created) };
  }

  async createAccount(account: Account): Promise<boolean> {
    return await this.#client().hSetNX(
      this.#keys.accounts,
      account.name.toLowerCase(),
      JSON.stringify(account),
    );
  }

  async setPassword(name: string, hash: string): Promise<void> {
    const account = await this.account(name);
    if (account === undefined) return;
    await this.#client().hSet(
      this.#keys.accounts,
      name.toLowerCase(),
      JSON.stringify({ ...account, hash }),
    );
  }

  async deleteAccount(name: string): Promise<void> {
    await this.#client().hDel(this.#keys.accounts, name.toLowerCase());
  }

  async write(act: StoredAct): Promise<boolean> {
    const client = this.#client();
    const room = act.room.toLowerCase();
    switch (act.kind) {
      case "claim": {
        const claimed = await client.eval(CLAIM_SCRIPT, {
          keys: [this.#keys.room(room), this.#keys.rooms],
          arguments: [act.owner, act.room, room],
        });
        return claimed === 1;
      }
      case "release":
        await client.multi().del([
          this.#keys.room(room),
          this.#keys.ops(room),
          this.#keys.bans(room),
          this.#keys.mutes(room),
        ])
          .sRem(this.#keys.rooms, room).exec();
        return true;
      case "topic":
        await this.#ensureRoom(room, act.room);
        await client.hSet(this.#keys.room(room), { topic: act.text, topicBy: act.by });
        return true;
      case "op":
        await this.#ensureRoom(room, act.room);
        if (act.on) await client.sAdd(this.#keys.ops(room), act.account);
        else await client.sRem(this.#keys.ops(room), act.account);
        return true;
      case "ban":
        if (room !== "") await this.#ensureRoom(room, act.room);
        await client.hSet(this.#keys.bans(room), act.sanction.target, JSON.stringify(act.sanction));
        return true;
      case "unban":
        await this.#lift(this.#keys.bans(room), act.target);
        return true;
      case "mute":
        await this.#ensureRoom(room, act.room);
        await client.hSet(
          this.#keys.mutes(room),
          act.sanction.target,
          JSON.stringify(act.sanction),
        );
        return true;
      case "unmute":
        await this.#lift(this.#keys.mutes(room), act.target);
        return true;
    }
  }

  /** Makes sure `room` is listed, so a server that starts reads its state
   * (an owner is set only by a claim). */
  async #ensureRoom(room: string, name: string): Promise<void> {
    await this.#client().multi().hSetNX(this.#keys.room(room), "name", name)
      .hSetNX(this.#keys.room(room), "owner", "").hSetNX(this.#keys.room(room), "topic", "")
      .hSetNX(this.#keys.room(room), "topicBy", "").sAdd(this.#keys.rooms, room).exec();
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
