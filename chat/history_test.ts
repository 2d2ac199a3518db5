import assert from "node:assert/strict";
import { parseBefore, RoomHistory } from "./history.ts";
import { SqliteHistory } from "../store/sqlite_history.ts";
import { FakeClock } from "../testing/fake_clock.ts";
import { parseInput } from "./commands.ts";

const NOW = Date.parse("2026-12-04T15:00:00Z");

Deno.test("parseBefore takes real times only: no 30th of February, no 24:00", () => {
  assert.equal(parseBefore("2024-02-29T10:00", NOW), Date.parse("2024-02-29T10:00:00Z"));
  assert.equal(parseBefore("14:02:09", NOW), Date.parse("2026-12-04T14:02:09Z"));
  for (
    const bad of [
      "2024-02-30T00:00",
      "2023-02-29T00:00",
      "2024-13-01T00:00",
      "2024-04-31T12:00",
      "24:00",
      "12:60",
    ]
  ) {
    assert.equal(parseBefore(bad, NOW), undefined, bad);
  }
});

Deno.test("/history takes 1 to 200 lines: 0 in any spelling is refused, never 'everything'", () => {
  for (
    const line of ["/history 0", "/history 00", "/history 000 more", "/history 0 before 10:00"]
  ) {
    assert.equal(parseInput(line).type, "invalid", line);
  }
  assert.deepEqual(parseInput("/history 2 more"), {
    type: "command",
    command: { name: "history", limit: 2, more: true },
  });
});

/** Room history over a real SQLite file in a fresh directory, on a fake clock. */
async function historyOnDisk() {
  const dir = await Deno.makeTempDir();
  const clock = new FakeClock(NOW);
  const store = SqliteHistory.open({
    path: `${dir}/history.db`,
    log: () => {},
    now: clock.now,
    autoFlush: false,
  });
  const history = new RoomHistory({ store, onJoin: 10, log: () => {}, now: clock.now });
  const done = async () => {
    await store.close();
    await Deno.remove(dir, { recursive: true });
  };
  return { clock, store, history, done };
}

Deno.test("/history more pages back by the size of the page before it", async () => {
  const { clock, store, history, done } = await historyOnDisk();
  for (let i = 1; i <= 10; i++) {
    clock.advance(1_000);
    history.keep("lobby", "ann", `line ${i}`, false);
  }
  store.flush();
  const viewer = {};
  const texts = (events: unknown) =>
    ((events as { lines: { text: string }[] }[])[0]?.lines ?? []).map((l) => l.text);
  assert.deepEqual(texts(history.page("lobby", viewer, { limit: 2 })), ["line 9", "line 10"]);
  assert.deepEqual(texts(history.page("lobby", viewer, { more: true })), ["line 7", "line 8"]);
  assert.deepEqual(texts(history.page("lobby", viewer, { limit: 3, more: true })), [
    "line 4",
    "line 5",
    "line 6",
  ]);
  await done();
});

Deno.test("/history more after joining an empty room gives nothing said since: it was seen live", async () => {
  const { clock, store, history, done } = await historyOnDisk();
  history.keep("lobby", "ann", "before the join", false);
  store.flush();
  clock.advance(1_000);
  const viewer = {};
  const replay = history.onJoin("lobby", viewer);
  assert.equal((replay as unknown[]).length, 1, "the one earlier line is replayed");
  clock.advance(1_000);
  history.keep("lobby", "ann", "seen live", false);
  store.flush();
  const page = history.page("lobby", viewer, { limit: 50, more: true }) as { type: string }[];
  assert.deepEqual(page.length, 1);
  assert.equal(page[0]?.type, "notice", "no earlier lines");
  const fresh = {};
  const other = history.onJoin("attic", fresh);
  assert.deepEqual(other, [], "nothing kept in attic");
  clock.advance(1_000);
  history.keep("attic", "bob", "said after the join", false);
  store.flush();
  const more = history.page("attic", fresh, { limit: 50, more: true }) as { type: string }[];
  assert.equal(more[0]?.type, "notice", "what was said after joining is not 'earlier'");
  await done();
});

Deno.test("/history more goes on in each of a user's rooms apart: a replay in one does not move another's", async () => {
  const { clock, store, history, done } = await historyOnDisk();
  for (let i = 1; i <= 4; i++) {
    clock.advance(1_000);
    history.keep("games", "ann", `games ${i}`, false);
    history.keep("den", "bob", `den ${i}`, false);
  }
  store.flush();
  const viewer = {};
  const texts = (events: unknown) =>
    ((events as { lines: { text: string }[] }[])[0]?.lines ?? []).map((l) => l.text);
  assert.deepEqual(texts(history.page("games", viewer, { limit: 2 })), ["games 3", "games 4"]);
  // Before: the replay on entering den moved the one cursor to den, and
  // "more" in games started from the newest again, repeating lines shown.
  clock.advance(1_000);
  assert.deepEqual(texts(history.onJoin("den", viewer)), ["den 1", "den 2", "den 3", "den 4"]);
  assert.deepEqual(texts(history.page("games", viewer, { more: true })), ["games 1", "games 2"]);
  assert.deepEqual(history.page("den", viewer, { more: true }), [
    { type: "notice", notice: { notice: "no_earlier_lines", room: "den" } },
  ]);
  await done();
});
