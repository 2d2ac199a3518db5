import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { FakeClock } from "../testing/fake_clock.ts";
import { RECENT_LINES_SQL, SqliteHistory } from "./sqlite_history.ts";

const DAY = 86_400_000;

async function withStore(
  fn: (
    open: (o?: { keep?: number; days?: number }) => SqliteHistory,
    path: string,
    logs: string[],
    clock: FakeClock,
    dropped: number[],
  ) => void | Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/history.db`;
  const logs: string[] = [];
  const dropped: number[] = [];
  const clock = new FakeClock(Date.parse("2026-11-28T12:00:00Z"));
  const opened: SqliteHistory[] = [];
  const open = (o: { keep?: number; days?: number } = {}) => {
    const store = SqliteHistory.open({
      path,
      ...o,
      log: (line) => logs.push(line),
      onDropped: (n) => dropped.push(n),
      now: clock.now,
      autoFlush: false,
    });
    opened.push(store);
    return store;
  };
  try {
    await fn(open, path, logs, clock, dropped);
  } finally {
    for (const store of opened) store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const line = (at: number, room: string, text: string) => ({
  at,
  room,
  from: "alice",
  text,
  action: false,
});

Deno.test("SqliteHistory returns a room's lines oldest first, written or still waiting", () =>
  withStore((open, _path, _logs, clock) => {
    const store = open();
    const t = clock.now();
    store.record(line(t, "lobby", "one"));
    store.record(line(t + 1, "games", "elsewhere"));
    store.flush();
    store.record(line(t + 2, "Lobby", "two"));
    const texts = store.recent("LOBBY", 10, t + 10).map((l) => l.text);
    assert.deepEqual(texts, ["one", "two"]);
    assert.deepEqual(store.recent("lobby", 1, t + 10).map((l) => l.text), ["two"]);
    assert.deepEqual(
      store.recent("lobby", 10, t + 1).map((l) => l.text),
      ["one"],
      "before is exclusive",
    );
  }));

Deno.test("SqliteHistory keeps lines across reopening the file", () =>
  withStore((open, _path, _logs, clock) => {
    const first = open();
    first.record(line(clock.now(), "lobby", "kept"));
    first.close();
    assert.deepEqual(open().recent("lobby", 10, clock.now() + 1).map((l) => l.text), ["kept"]);
  }));

Deno.test("SqliteHistory keeps only the newest lines of each room", () =>
  withStore((open, _path, _logs, clock) => {
    const store = open({ keep: 3 });
    for (let i = 0; i < 8; i++) store.record(line(clock.now() + i, "lobby", `l${i}`));
    store.flush();
    assert.deepEqual(store.recent("lobby", 10, clock.now() + 100).map((l) => l.text), [
      "l5",
      "l6",
      "l7",
    ]);
  }));

Deno.test("SqliteHistory drops lines older than its days", () =>
  withStore((open, _path, _logs, clock) => {
    const store = open({ days: 1 });
    store.record(line(clock.now(), "lobby", "old"));
    store.flush();
    clock.advance(2 * DAY);
    store.record(line(clock.now(), "lobby", "new"));
    store.flush();
    assert.deepEqual(store.recent("lobby", 10, clock.now() + 1).map((l) => l.text), ["new"]);
  }));

Deno.test("SqliteHistory refuses a file that is not a database, in one line", () =>
  withStore(async (open, path) => {
    await Deno.writeTextFile(path, "this is not a database, just text ".repeat(200));
    assert.throws(
      () => open(),
      /^Error: Cannot open the history store .*history\.db: file is not a database$/,
    );
  }));

Deno.test("SqliteHistory that cannot write drops the batch, counts it and logs once", () =>
  withStore((open, path, logs, clock, dropped) => {
    const store = open();
    // Another connection breaks the file under it: every write now fails.
    const other = new DatabaseSync(path);
    other.exec("DROP TABLE lines");
    other.close();
    for (let i = 0; i < 2; i++) {
      store.record(line(clock.now(), "lobby", "lost"));
      store.record(line(clock.now(), "lobby", "lost too"));
      store.flush();
    }
    assert.deepEqual(dropped, [2, 2]);
    assert.equal(logs.filter((l) => l.includes("history store failing")).length, 1);
  }));

Deno.test("a history page before a time seeks by room and time: its cost is the page, not the room", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/history.db`;
  SqliteHistory.open({ path, log: () => {} }).close();
  const db = new DatabaseSync(path);
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${RECENT_LINES_SQL}`).all("lobby", 0, 1)
    .map((row) => String((row as { detail: string }).detail));
  db.close();
  Deno.removeSync(dir, { recursive: true });
  assert.ok(
    plan.some((step) => /USING (COVERING )?INDEX \w+ \(room=\? AND at<\?\)/.test(step)),
    `the plan: ${plan.join("; ")}`,
  );
  assert.ok(!plan.some((step) => /TEMP B-TREE/.test(step)), "no sort of the whole room");
});

Deno.test("a history file of schema 1 gets the index it lacks when opened", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/history.db`;
  const old = new DatabaseSync(path);
  old.exec(`CREATE TABLE lines (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, room TEXT NOT NULL,
    sender TEXT NOT NULL, text TEXT NOT NULL, action INTEGER NOT NULL);
    CREATE INDEX lines_by_room ON lines (room, id); CREATE INDEX lines_by_time ON lines (at);
    INSERT INTO lines (at, room, sender, text, action) VALUES (1, 'lobby', 'ann', 'kept', 0);
    PRAGMA user_version = 1;`);
  old.close();
  const store = SqliteHistory.open({ path, log: () => {} });
  assert.deepEqual(store.recent("lobby", 10, Number.MAX_SAFE_INTEGER).map((l) => l.text), ["kept"]);
  store.close();
  const db = new DatabaseSync(path);
  const indexes = db.prepare("PRAGMA index_list(lines)").all().map((r) =>
    (r as { name: string }).name
  );
  db.close();
  Deno.removeSync(dir, { recursive: true });
  assert.ok(indexes.includes("lines_by_room_time"), indexes.join(", "));
});
