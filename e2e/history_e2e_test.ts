/**
 * Room history over real sockets, with the server run the way `deno task
 * chat` runs it (its own SQLite file in its own data directory): replay on
 * connect and on `/join`, `/history` pages, private messages never kept,
 * `--history off` keeping nothing, and lines surviving `kill -9`.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { TestClient } from "../testing/chat_client.ts";
import { runToExitIn, startServerProcess } from "../testing/server_process.ts";
import { pollUntil } from "../testing/within.ts";

const TIME = "\\d\\d:\\d\\d";

/** Rows in the history file of a server run in `cwd`. */
function rows(cwd: string): { room: string; sender: string; text: string }[] {
  const db = new DatabaseSync(`${cwd}/marquee-data/history.db`, { readOnly: true });
  try {
    return db.prepare("SELECT room, sender, text FROM lines ORDER BY id").all() as never;
  } finally {
    db.close();
  }
}

Deno.test("a newcomer gets the room's recent lines after the roster, framed and timed", async () => {
  const cwd = await Deno.makeTempDir();
  const server = await startServerProcess(["--history", "on", "--history-on-join", "3"], { cwd });
  try {
    const { client: alice, name } = await TestClient.join(server.port);
    for (const text of ["one", "two", "three"]) await alice.send(text);
    await alice.send("/me waves");
    await alice.send(`/msg ${name} a secret`);
    await alice.readUntil((l) => l.includes("a secret"));
    const bob = await TestClient.connect(server.port);
    const lines = await bob.linesBeforeProbe();
    const replay = lines.slice(lines.indexOf("* recent in lobby:"));
    assert.equal(replay.length, 5, lines.join("\n") + "\n" + JSON.stringify(rows(cwd)));
    assert.match(replay[1]!, new RegExp(`^\\* ${TIME} \\[${name}\\]: two$`));
    assert.match(replay[2]!, new RegExp(`^\\* ${TIME} \\[${name}\\]: three$`));
    assert.match(replay[3]!, new RegExp(`^\\* ${TIME} ${name} waves$`));
    assert.equal(replay[4], "* end of recent");
    assert.ok(lines.indexOf("* recent in lobby:") > 0, "after the roster");
    await pollUntil("the lines are written", () => rows(cwd).length === 4);
    assert.ok(!rows(cwd).some((r) => r.text.includes("secret")), "private lines are never kept");
    await Promise.all([alice.close(), bob.close()]);
  } finally {
    await server.stop();
  }
});

Deno.test("/join replays the new room's recent lines; /history pages back and further back", async () => {
  const server = await startServerProcess(["--history", "on", "--flood-rate", "0"]);
  try {
    const { client: alice, name } = await TestClient.join(server.port);
    await alice.send("/join games");
    await alice.readUntil((l) => l.startsWith("* you are in games"));
    for (let i = 1; i <= 25; i++) await alice.send(`line ${i}`);
    await alice.linesBeforeProbe();
    const { client: bob } = await TestClient.join(server.port);
    await bob.send("/join games");
    assert.equal(
      await bob.readUntil((l) => l.startsWith("* you are in")),
      "* you are in games (2 users)",
    );
    const joined = await bob.readThrough((l) => l === "* end of recent");
    assert.equal(joined[0], "* recent in games:");
    assert.match(joined[1]!, new RegExp(`^\\* ${TIME} \\[${name}\\]: line 16$`));
    assert.equal(joined.length, 12, "ten lines between the frames");

    await bob.send("/history 5");
    const page = await bob.readThrough((l) => l === "* end of history");
    assert.equal(page[0], "* history of games:");
    assert.deepEqual(page.slice(1, -1).map((l) => l.replace(/^\* \S+ /, "")), [
      `[${name}]: line 21`,
      `[${name}]: line 22`,
      `[${name}]: line 23`,
      `[${name}]: line 24`,
      `[${name}]: line 25`,
    ]);
    await bob.send("/history 20 more");
    const earlier = await bob.readThrough((l) => l === "* end of history");
    assert.equal(earlier.length, 22);
    assert.equal(earlier[1]?.replace(/^\* \S+ /, ""), `[${name}]: line 1`);
    assert.equal(earlier.at(-2)?.replace(/^\* \S+ /, ""), `[${name}]: line 20`);
    await bob.send("/history more");
    assert.equal(await bob.readLine(), "* no earlier lines in games");
    await Promise.all([alice.close(), bob.close()]);
  } finally {
    await server.stop();
  }
});

Deno.test("--history off (with --accounts off) stores nothing at all and says so", async () => {
  const cwd = await Deno.makeTempDir();
  const server = await startServerProcess(["--history", "off", "--accounts", "off"], { cwd });
  try {
    const { client: alice } = await TestClient.join(server.port);
    await alice.send("hello");
    await alice.send("/history");
    assert.equal(
      await alice.readUntil((l) => l.startsWith("!")),
      "! history is off on this server",
    );
    const { client: bob } = await TestClient.join(server.port);
    assert.deepEqual((await bob.linesBeforeProbe()).filter((l) => l.includes("recent")), []);
    await Promise.all([alice.close(), bob.close()]);
  } finally {
    await server.stop();
  }
  const entries = [...Deno.readDirSync(cwd)].map((e) => e.name);
  assert.deepEqual(entries, [], "no data directory, no database");
});

Deno.test("lines written before a kill -9 are replayed after a restart", async () => {
  const cwd = await Deno.makeTempDir();
  const first = await startServerProcess(["--history", "on"], { cwd });
  let port: number;
  try {
    port = first.port;
    const { client: alice, name } = await TestClient.join(port);
    for (let i = 1; i <= 10; i++) await alice.send(`before the crash ${i}`);
    await alice.linesBeforeProbe();
    // Written: the batch of 50 ms has gone to the file.
    await pollUntil("ten lines written", () => rows(cwd).length === 10);
    await alice.send("in the last window");
    await alice.linesBeforeProbe();
    await first.stop("SIGKILL");
    await alice.close();
    const second = await startServerProcess(["--history", "on", "--history-on-join", "20"], {
      cwd,
    });
    try {
      const bob = await TestClient.connect(second.port);
      const replay = (await bob.linesBeforeProbe()).filter((l) => l.includes(`[${name}]`));
      assert.ok(replay.length === 10 || replay.length === 11, replay.join("\n"));
      assert.match(replay[9]!, /before the crash 10$/);
      await bob.close();
    } finally {
      await second.stop();
    }
  } finally {
    await first.stop("SIGKILL");
  }
});

Deno.test("a history file that is not a database is one line and exit code 2", async () => {
  const cwd = await Deno.makeTempDir();
  await Deno.mkdir(`${cwd}/marquee-data`);
  await Deno.writeTextFile(`${cwd}/marquee-data/history.db`, "not a database ".repeat(500));
  const result = await runToExitIn(cwd, ["--port", "0", "--history", "on"]);
  assert.equal(result.code, 2);
  assert.equal(
    result.stderr,
    "marquee: Cannot open the history store ./marquee-data/history.db: file is not a database\n",
  );
});

Deno.test("a history store that fails leaves live chat untouched, and counts what it dropped", async () => {
  const cwd = await Deno.makeTempDir();
  const server = await startServerProcess(["--history", "on", "--metrics-port", "0"], { cwd });
  try {
    const metricsUrl = /Metrics at (\S+)/.exec(
      await server.waitForLog((l) => l.startsWith("Metrics at")),
    )![1]!;
    const { client: alice, name } = await TestClient.join(server.port);
    const { client: bob } = await TestClient.join(server.port);
    await alice.readUntil((l) => l.endsWith("joined the chat") && !l.includes(name));
    const db = new DatabaseSync(`${cwd}/marquee-data/history.db`);
    db.exec("DROP TABLE lines"); // every write from now on fails
    db.close();
    for (let i = 0; i < 5; i++) await alice.send(`still chatting ${i}`);
    for (let i = 0; i < 5; i++) {
      assert.equal(await bob.readUntil((l) => l.startsWith("[")), `[${name}]: still chatting ${i}`);
    }
    await server.waitForLog((l) => l.includes("history store failing"));
    const text = await (await fetch(metricsUrl)).text();
    assert.match(text, /^marquee_history_dropped_total [1-5]$/m);
    await Promise.all([alice.close(), bob.close()]);
  } finally {
    await server.stop();
  }
});

Deno.test("a history file another program holds locked delays the writes and loses no line, and chat goes on", async () => {
  const cwd = await Deno.makeTempDir();
  const server = await startServerProcess(["--history", "on"], { cwd });
  const db = new DatabaseSync(`${cwd}/marquee-data/history.db`);
  try {
    const { client: alice, name } = await TestClient.join(server.port);
    const { client: bob } = await TestClient.join(server.port);
    await alice.readUntil((l) => l.endsWith("joined the chat") && !l.includes(name));
    db.exec("BEGIN EXCLUSIVE"); // no other connection may write now
    for (let i = 0; i < 5; i++) await alice.send(`while locked ${i}`);
    for (let i = 0; i < 5; i++) {
      assert.equal(await bob.readUntil((l) => l.startsWith("[")), `[${name}]: while locked ${i}`);
    }
    // Longer than SQLite's busy_timeout (2 s): the server wrote on the
    // chat's thread before, stalled that long and then dropped the lines.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await bob.send("/history 5");
    const page = await bob.linesBeforeProbe();
    for (let i = 0; i < 5; i++) {
      assert.ok(page.some((l) => l.endsWith(`[${name}]: while locked ${i}`)), page.join("\n"));
    }
    db.exec("COMMIT");
    await pollUntil(
      "the five lines written once the lock is gone",
      () => rows(cwd).filter((r) => r.text.startsWith("while locked")).length === 5,
    );
    await Promise.all([alice.close(), bob.close()]);
  } finally {
    db.close();
    await server.stop();
  }
});
