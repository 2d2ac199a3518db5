/**
 * Accounts, registered rooms, ops, topics, bans and mutes in SQLite, through
 * Deno's built-in `node:sqlite`: one file, `community.db`, in the data
 * directory, beside the history's.
 *
 * Each act is one small transaction, committed before the chat is told it
 * took effect, so a `kill -9` loses nothing that anyone was shown. The
 * schema is versioned (`PRAGMA user_version`), the database runs in WAL
 * mode, and every statement is parameterised. Calls are synchronous
 * underneath (a few rows by primary key) and answered as settled promises,
 * so the chat server treats this store and the Redis one alike.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { openSqlite } from "./sqlite.ts";
import type { RoomRecord, Sanction, Snapshot, StoredAct } from "../chat/community.ts";
import type { Account, CommunityStore } from "../chat/ports.ts";

/** The schema this code writes; a newer file is refused, not downgraded. */
const SCHEMA_VERSION = 1;

type Row = Record<string, string | number | null>;

/** A SQLite-backed {@linkcode CommunityStore}; see the module doc. */
export class SqliteCommunity implements CommunityStore {
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  private constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /** Opens (creating if needed) the database at `path`; throws an `Error`
   * with a one-line message if it cannot. */
  static open(path: string): SqliteCommunity {
    return openSqlite({
      path,
      what: "account store",
      version: SCHEMA_VERSION,
      schema: SCHEMA,
      build: (db) => new SqliteCommunity(db),
    });
  }

  load(now: number): Promise<Snapshot> {
    return settle(() => {
      this.#run("DELETE FROM bans WHERE until > 0 AND until <= ?", now);
      this.#run("DELETE FROM mutes WHERE until > 0 AND until <= ?", now);
      const accounts = this.#all("SELECT key FROM accounts").map((r) => String(r.key));
      const rooms = new Map<string, RoomRecord>();
      for (const r of this.#all("SELECT key, name, owner, topic, topic_by FROM rooms")) {
        rooms.set(String(r.key), {
          name: String(r.name),
          owner: String(r.owner),
          topic: String(r.topic),
          topicBy: String(r.topic_by),
          ops: [],
          bans: [],
          mutes: [],
        });
      }
      const room = (key: unknown): RoomRecord | undefined => rooms.get(String(key));
      for (const r of this.#all("SELECT room, account FROM ops")) {
        room(r.room)?.ops.push(String(r.account));
      }
      const serverBans: Sanction[] = [];
      for (const r of this.#all("SELECT * FROM bans")) {
        if (r.scope === "") serverBans.push(sanctionOf(r));
        else room(r.scope)?.bans.push(sanctionOf(r));
      }
      for (const r of this.#all("SELECT * FROM mutes")) room(r.room)?.mutes.push(sanctionOf(r));
      return { accounts, rooms: [...rooms.values()], serverBans };
    });
  }

  account(name: string): Promise<Account | undefined> {
    return settle(() => {
      const row = this.#statement("SELECT name, hash, created FROM accounts WHERE key = ?")
        .get(name.toLowerCase()) as Row | undefined;
      if (row === undefined) return undefined;
      return { name: String(row.name), hash: String(row.hash), created: Number(row.created) };
    });
  }

  createAccount(account: Account): Promise<boolean> {
    return settle(() => {
      const result = this.#run(
        "INSERT OR IGNORE INTO accounts (key, name, hash, created) VALUES (?, ?, ?, ?)",
        account.name.toLowerCase(),
        account.name,
        account.hash,
        account.created,
      );
      return result.changes === 1;
    });
  }

  setPassword(name: string, hash: string): Promise<void> {
    return settle(() => void this.#run("UPDATE accounts SET hash = ? WHERE key = ?", hash, name));
  }

  deleteAccount(name: string): Promise<void> {
    return settle(() => void this.#run("DELETE FROM accounts WHERE key = ?", name.toLowerCase()));
  }

  write(act: StoredAct): Promise<boolean> {
    return settle(() => this.#write(act));
  }

  #write(act: StoredAct): boolean {
    const room = "room" in act ? act.room.toLowerCase() : "";
    switch (act.kind) {
      case "claim":
        return this.#claim(room, act.room, act.owner);
      case "release":
        this.#release(room);
        return true;
      case "topic":
        this.#ensureRoom(room, act.room);
        this.#run("UPDATE rooms SET topic = ?, topic_by = ? WHERE key = ?", act.text, act.by, room);
        return true;
      case "op":
        this.#ensureRoom(room, act.room);
        if (act.on) {
          this.#run("INSERT OR IGNORE INTO ops (room, account) VALUES (?, ?)", room, act.account);
        } else this.#run("DELETE FROM ops WHERE room = ? AND account = ?", room, act.account);
        return true;
      case "ban":
        if (room !== "") this.#ensureRoom(room, act.room);
        this.#putSanction("bans", "scope", room, act.sanction);
        return true;
      case "unban":
        this.#run(
          "DELETE FROM bans WHERE scope = ? AND (target = ? OR label = ?)",
          room,
          act.target,
          act.target,
        );
        return true;
      case "mute":
        this.#ensureRoom(room, act.room);
        this.#putSanction("mutes", "room", room, act.sanction);
        return true;
      case "unmute":
        this.#run("DELETE FROM mutes WHERE room = ? AND target = ?", room, act.target);
        return true;
    }
  }

  /** The lobby and rooms that only ever had a topic or bans set by an
   * operator have a row with no owner: a claim fills it in. */
  #claim(key: string, name: string, owner: string): boolean {
    this.#ensureRoom(key, name);
    const claimed = this.#run(
      "UPDATE rooms SET owner = ?, name = ? WHERE key = ? AND owner = ''",
      owner,
      name,
      key,
    );
    return claimed.changes === 1;
  }

  /** Forgets everything kept for a room, at once. */
  #release(key: string): void {
    this.#db.exec("BEGIN");
    try {
      for (
        const table of ["rooms WHERE key", "ops WHERE room", "bans WHERE scope", "mutes WHERE room"]
      ) {
        this.#run(`DELETE FROM ${table} = ?`, key);
      }
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  #ensureRoom(key: string, name: string): void {
    this.#run(
      "INSERT OR IGNORE INTO rooms (key, name, owner, topic, topic_by) VALUES (?, ?, '', '', '')",
      key,
      name,
    );
  }

  #putSanction(
    table: "bans" | "mutes",
    column: "scope" | "room",
    scope: string,
    s: Sanction,
  ): void {
    this.#run(
      `INSERT OR REPLACE INTO ${table} (${column}, target, by_name, reason, until, label) VALUES (?, ?, ?, ?, ?, ?)`,
      scope,
      s.target,
      s.by,
      s.reason,
      s.until,
      s.label ?? null,
    );
  }

  /** Closes the file. */
  close(): Promise<void> {
    this.#db.close();
    return Promise.resolve();
  }

  #statement(sql: string): StatementSync {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  #run(sql: string, ...params: (string | number | null)[]): { changes: number | bigint } {
    return this.#statement(sql).run(...params);
  }

  #all(sql: string): Row[] {
    return this.#statement(sql).all() as Row[];
  }
}

function sanctionOf(row: Row): Sanction {
  return {
    target: String(row.target),
    by: String(row.by_name),
    reason: String(row.reason),
    until: Number(row.until),
    ...(row.label === null ? {} : { label: String(row.label) }),
  };
}

/** `fn`'s result as a promise, its throw as a rejection. */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The tables of schema version 1. */
const SCHEMA = `
      CREATE TABLE accounts (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        hash TEXT NOT NULL,
        created INTEGER NOT NULL
      );
      CREATE TABLE rooms (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        owner TEXT NOT NULL,
        topic TEXT NOT NULL,
        topic_by TEXT NOT NULL
      );
      CREATE TABLE ops (
        room TEXT NOT NULL,
        account TEXT NOT NULL,
        PRIMARY KEY (room, account)
      );
      CREATE TABLE bans (
        scope TEXT NOT NULL,
        target TEXT NOT NULL,
        by_name TEXT NOT NULL,
        reason TEXT NOT NULL,
        until INTEGER NOT NULL,
        label TEXT,
        PRIMARY KEY (scope, target)
      );
      CREATE TABLE mutes (
        room TEXT NOT NULL,
        target TEXT NOT NULL,
        by_name TEXT NOT NULL,
        reason TEXT NOT NULL,
        until INTEGER NOT NULL,
        label TEXT,
        PRIMARY KEY (room, target)
      )
`;
