import assert from "node:assert/strict";
import { ThreadedHistory } from "./history_thread.ts";
import { SqliteHistory } from "./sqlite_history.ts";

async function withFile(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(`${dir}/history.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const line = (at: number, text: string, room = "lobby") => ({
  at,
  room,
  from: "alice",
  text,
  action: false,
});

Deno.test("ThreadedHistory shows a line as soon as it is recorded, while it is written and after, never twice", () =>
  withFile(async (path) => {
    const logs: string[] = [];
    const store = ThreadedHistory.open({ path, log: (l) => logs.push(l) });
    try {
      const t = Date.now();
      store.record(line(t, "one"));
      store.record(line(t + 1, "elsewhere", "games"));
      store.record(line(t + 2, "two"));
      // Sampled across the batch's trip to the writer and back.
      for (const deadline = Date.now() + 300; Date.now() < deadline;) {
        const texts = store.recent("LOBBY", 10, Number.MAX_SAFE_INTEGER).map((l) => l.text);
        assert.deepEqual(texts, ["one", "two"]);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    } finally {
      await store.close();
    }
    assert.deepEqual(logs, []);
  }));

Deno.test("ThreadedHistory writes every line before it closes, and keeps its bounds", () =>
  withFile(async (path) => {
    const store = ThreadedHistory.open({ path, log: () => {}, keep: 100 });
    const t = Date.now();
    for (let i = 0; i < 500; i++) store.record(line(t, `line ${i}`));
    await store.close();
    store.record(line(t, "after closing"));
    const reopened = SqliteHistory.open({ path, log: () => {}, autoFlush: false });
    try {
      const lines = reopened.recent("lobby", 200, Number.MAX_SAFE_INTEGER);
      assert.equal(lines.length, 100, "the newest 100 of the room are kept");
      assert.equal(lines.at(-1)?.text, "line 499");
      assert.ok(lines.every((l, i) => i === 0 || l.at > lines[i - 1]!.at), "times increase");
    } finally {
      reopened.close();
    }
  }));

Deno.test("ThreadedHistory that cannot write drops the batch, counts it and logs once", () =>
  withFile(async (path) => {
    const logs: string[] = [];
    const dropped: number[] = [];
    const store = ThreadedHistory.open({
      path,
      log: (l) => logs.push(l),
      onDropped: (n) => dropped.push(n),
    });
    try {
      const { DatabaseSync } = await import("node:sqlite");
      const db = new DatabaseSync(path);
      db.exec("DROP TABLE lines");
      db.close();
      store.record(line(Date.now(), "lost"));
      const deadline = Date.now() + 5_000;
      while (dropped.length === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      assert.deepEqual(dropped, [1]);
      assert.equal(logs.length, 1);
      assert.match(logs[0]!, /history store failing, lines dropped \(.*no such table: lines/);
    } finally {
      await store.close();
    }
  }));

Deno.test("ThreadedHistory closes by its deadline though another program keeps the file locked, and counts what it could not write", () =>
  withFile(async (path) => {
    const dropped: number[] = [];
    const logs: string[] = [];
    const store = ThreadedHistory.open({
      path,
      log: (l) => logs.push(l),
      onDropped: (n) => dropped.push(n),
    });
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(path);
    try {
      db.exec("BEGIN EXCLUSIVE");
      store.record(line(Date.now(), "kept waiting"));
      const started = Date.now();
      await store.close(300);
      // Before the deadline, closing waited for the writer, which waits out
      // a lock for up to 50 tries of SQLite's 2 s busy timeout.
      assert.ok(Date.now() - started < 5_000, "closed in time");
      assert.deepEqual(dropped, [1]);
      assert.match(logs[0]!, /lines dropped \(not written before closing\)/);
    } finally {
      db.exec("ROLLBACK");
      db.close();
    }
  }));
