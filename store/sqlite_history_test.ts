import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { FakeClock } from "../testing/fake_clock.ts";
import { SqliteHistory } from "./sqlite_history.ts";

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
