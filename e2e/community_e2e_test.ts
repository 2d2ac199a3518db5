/**
 * Accounts and rooms as an operator runs them: the server run the way
 * `deno task chat` runs it (its own SQLite file in its own data directory),
 * surviving `kill -9`; the operators file and `deno task passwd`; stores
 * that cannot be opened; and two linked servers sharing accounts and bans
 * through a real redis-server.
 */

import assert from "node:assert/strict";
import { linkedUp, startServer, TestClient, type TestServer } from "../testing/chat_client.ts";
import { as, registered } from "../testing/people.ts";
import { HAVE_REDIS, startRedis } from "../testing/redis_server.ts";
import { runToExitIn, startServerProcess } from "../testing/server_process.ts";
import { ScryptPasswords } from "../store/passwords.ts";
import { SqliteCommunity } from "../store/sqlite_community.ts";

const ROOT = new URL("../", import.meta.url);

/** Runs `deno task passwd` with `password` on stdin; its stdout and code. */
async function passwd(password: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", "passwd"],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(`${password}\n`));
  await writer.close();
  const output = await child.output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
}

Deno.test("deno task passwd prints a hash the server accepts, and refuses a short password", async () => {
  const made = await passwd("operator-pass");
  assert.equal(made.code, 0, made.stderr);
  const hash = made.stdout.trim();
  assert.match(hash, /^scrypt\$16384\$8\$1\$\S+\$\S+$/);
  assert.equal(await new ScryptPasswords().verify("operator-pass", hash), true);
  assert.equal(await new ScryptPasswords().verify("operator-pasS", hash), false);
  const short = await passwd("short");
  assert.equal(short.code, 2);
  assert.equal(short.stderr, "passwd: passwords are 8-128 characters with no spaces\n");
});

Deno.test("accounts, owners, topics, ops and bans survive kill -9; operators come from the file", async () => {
  const cwd = await Deno.makeTempDir();
  await Deno.mkdir(`${cwd}/marquee-data`);
  const hash = (await passwd("operator-pass")).stdout.trim();
  await Deno.writeTextFile(`${cwd}/marquee-data/operators`, `# name hash\nroot ${hash}\n`);
  const args = ["--operators", "./marquee-data/operators", "--flood-rate", "0"];
  const first = await startServerProcess(args, { cwd });
  try {
    const alice = await registered(first as unknown as TestServer, "alice");
    await alice.send("/join den");
    await alice.readUntil((l) => l === "* den is now owned by alice");
    await alice.send("/topic kept across crashes '; DROP TABLE rooms; --");
    await alice.readUntil((l) => l.includes("set the topic"));
    const bob = await registered(first as unknown as TestServer, "bob");
    await alice.send("/op bob");
    await alice.readUntil((l) => l.includes("made bob an op"));
    await alice.send("/ban troll 1h");
    await alice.readUntil((l) => l.includes("troll was banned"));
    await bob.send("/oper root operator-pass");
    assert.equal(
      await bob.readUntil((l) => l.includes("operator")),
      "* you are a server operator now (/help lists what you may do)",
    );
    await first.stop("SIGKILL");
    await Promise.all([alice.close(), bob.close()]);

    const second = await startServerProcess(args, { cwd });
    try {
      const server = second as unknown as TestServer;
      const { client: other } = await TestClient.join(second.port);
      await other.send("/nick alice");
      assert.match(await other.readUntil((l) => l.startsWith("!")), /^! alice is registered/);
      await other.send("/login alice correct-horse");
      await other.readUntil((l) => l === "* you are logged in as alice");
      await other.send("/join den");
      await other.readUntil((l) => l.startsWith("* you are in den"));
      assert.equal(
        await other.readLine(),
        "* topic of den: kept across crashes '; DROP TABLE rooms; -- (set by alice)",
      );
      const troll = await as(server, "troll");
      await troll.send("/join den");
      assert.match(await troll.readLine(), /^! you are banned from den by alice for (60m|1h)$/);
      const bob2 = await as(server, "someone");
      await bob2.send("/login bob correct-horse");
      await bob2.readUntil((l) => l === "* you are logged in as bob");
      await bob2.send("/join den");
      await bob2.readUntil((l) => l.startsWith("* you are in den"));
      await bob2.send("/kick alice");
      assert.equal(
        await bob2.readUntil((l) => l.startsWith("!")),
        "! alice is the owner of den: you cannot do that",
        "bob is still an op",
      );
      await Promise.all([other.close(), troll.close(), bob2.close()]);
    } finally {
      await second.stop();
    }
  } finally {
    await first.stop("SIGKILL");
  }
});

Deno.test("an account store that cannot be opened is one line and exit code 2", async () => {
  const cwd = await Deno.makeTempDir();
  await Deno.mkdir(`${cwd}/marquee-data`);
  await Deno.writeTextFile(`${cwd}/marquee-data/community.db`, "not a database ".repeat(500));
  const corrupt = await runToExitIn(cwd, ["--port", "0", "--history", "off"]);
  assert.equal(corrupt.code, 2);
  assert.equal(
    corrupt.stderr,
    "marquee: Cannot open the account store ./marquee-data/community.db: file is not a database\n",
  );
  await Deno.writeTextFile(`${cwd}/marquee-data/file`, "");
  const notADir = await runToExitIn(cwd, [
    "--port",
    "0",
    "--history",
    "off",
    "--data-dir",
    "./marquee-data/file/sub",
  ]);
  assert.equal(notADir.code, 2);
  assert.match(
    notADir.stderr,
    /^marquee: Cannot create the data directory \.\/marquee-data\/file\/sub: [^\n]+\n$/,
  );
  const elsewhere = await runToExitIn(cwd, [
    "--port",
    "0",
    "--history",
    "off",
    "--data-dir",
    "/var/marquee",
  ]);
  assert.equal(elsewhere.code, 2);
  assert.equal(
    elsewhere.stderr,
    "marquee: Cannot use the data directory /var/marquee: run with --allow-read=/var/marquee --allow-write=/var/marquee, or --accounts off\n",
  );
  await Deno.writeTextFile(`${cwd}/marquee-data/operators`, "root not-a-hash\n");
  const badOperators = await runToExitIn(cwd, [
    "--port",
    "0",
    "--history",
    "off",
    "--operators",
    "./marquee-data/operators",
  ]);
  assert.equal(badOperators.code, 2);
  assert.equal(
    badOperators.stderr,
    "marquee: Invalid line 1 in ./marquee-data/operators: expected NAME HASH (a hash from deno task passwd)\n",
  );
  await Deno.remove(cwd, { recursive: true });
});

Deno.test({
  name:
    "two linked servers share accounts, and a ban or kill made on one takes effect on the other",
  ignore: !HAVE_REDIS,
  fn: async () => {
    const redis = await startRedis();
    const operators = new Map([[
      "root",
      await new ScryptPasswords({ N: 1024, r: 8, p: 1 }).hash("operator-pass"),
    ]]);
    const servers = [0, 1].map(() =>
      startServer({ floodRate: 0 }, { redis: redis.url, accounts: { operators } })
    );
    const [s1, s2] = servers as [TestServer, TestServer];
    try {
      for (const s of servers) await linkedUp(s);
      const alice = await registered(s1, "alice");
      await alice.send("/join den");
      await alice.readUntil((l) => l === "* den is now owned by alice");
      const { client: again } = await TestClient.join(s2.port);
      await again.send("/nick alice");
      assert.match(
        await again.readUntil((l) => l.startsWith("!")),
        /^! alice is registered/,
        "the other server knows the name",
      );
      await again.close();
      const bob = await as(s2, "bob");
      await bob.send("/join den");
      await bob.readUntil((l) => l.startsWith("* you are in den"));
      await alice.readUntil((l) => l === "* bob joined the room");
      await alice.send("/ban bob 1h");
      assert.equal(
        await bob.readUntil((l) => l.startsWith("!")),
        "! you are banned from den by alice for 1h",
      );
      assert.match(await bob.readLine(), /^\* you are in lobby \(\d+ users?\)$/);
      await bob.send("/join den");
      assert.equal(await bob.readLine(), "! you are banned from den by alice for 1h");
      const boss = await as(s1, "boss");
      await boss.send("/oper root operator-pass");
      await boss.readUntil((l) => l.startsWith("* you are a server operator"));
      await boss.send("/kill bob enough");
      assert.equal(
        await bob.readUntil((l) => l.startsWith("!")),
        "! you were disconnected by boss (enough)",
      );
      assert.ok(await bob.waitForEof());
      assert.equal(
        await boss.readUntil((l) => l.includes("bob left")),
        "* bob left the chat (killed by boss: enough)",
      );
      await Promise.all([alice.close(), boss.close(), bob.close()]);
    } finally {
      for (const s of servers) await s.stop();
      await redis.stop();
    }
  },
});

Deno.test({
  name: "with Redis gone, commands that need the store are refused with a reason and chat goes on",
  ignore: !HAVE_REDIS,
  fn: async () => {
    const redis = await startRedis();
    const server = startServer({ floodRate: 0 }, { redis: redis.url, accounts: {} });
    try {
      await linkedUp(server);
      const alice = await registered(server, "alice");
      await alice.send("/join den");
      await alice.readUntil((l) => l === "* den is now owned by alice");
      const bob = await as(server, "bob");
      await bob.send("/join den");
      await alice.readUntil((l) => l === "* bob joined the room");
      await redis.stop();
      await alice.readUntil((l) => l === "* link to other servers lost");
      await alice.send("/topic while Redis is away");
      assert.equal(
        await alice.readUntil((l) => l.startsWith("!")),
        "! cannot do that now: the store is unavailable (try again later)",
      );
      await bob.send("/register another-pass");
      assert.equal(
        await bob.readUntil((l) => l.startsWith("!")),
        "! cannot do that now: the store is unavailable (try again later)",
      );
      await bob.send("still chatting");
      assert.equal(await alice.readUntil((l) => l.startsWith("[")), "[bob]: still chatting");
      await Promise.all([alice.close(), bob.close()]);
    } finally {
      await server.stop();
    }
  },
});

Deno.test("a damaged page in community.db is found at start: one line and exit code 2", async () => {
  const cwd = await Deno.makeTempDir();
  await Deno.mkdir(`${cwd}/marquee-data`);
  const path = `${cwd}/marquee-data/community.db`;
  const store = SqliteCommunity.open(path);
  for (let i = 0; i < 400; i++) {
    await store.createAccount({ name: `member${i}`, hash: "x".repeat(1000), created: 0 });
  }
  await store.close();
  // Scribble over the headers of a few pages of the accounts table (the
  // long hashes make it most of the file), as a bad disk would: the file
  // still opens, and loading reads only the key index, so only a login
  // that reads those pages would have failed, much later.
  const file = await Deno.open(path, { write: true });
  for (const page of [40, 60, 80]) {
    await file.seek(page * 4096, Deno.SeekMode.Start);
    await file.write(new Uint8Array(12).fill(0x5a));
  }
  file.close();
  const result = await runToExitIn(cwd, ["--port", "0"]);
  assert.equal(result.code, 2);
  assert.match(
    result.stderr,
    /^marquee: Cannot open the account store \.\/marquee-data\/community\.db: (?:the file is damaged \([^\n]*\)|database disk image is malformed)\n$/,
  );
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("a second server on the same data directory exits 2 with one line, and the first chats on", async () => {
  const cwd = await Deno.makeTempDir();
  const first = await startServerProcess([], { cwd });
  try {
    const second = await runToExitIn(cwd, ["--port", "0"]);
    assert.equal(second.code, 2);
    assert.equal(
      second.stderr,
      "marquee: Cannot use the data directory ./marquee-data: another Marquee server is using it\n",
    );
    const { client } = await TestClient.join(first.port);
    await client.close();
  } finally {
    await first.stop();
  }
  // Once the first has stopped, the directory is free again.
  const again = await startServerProcess([], { cwd });
  await again.stop();
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("user numbers are never handed out twice, across a restart of a lone server", async () => {
  const cwd = await Deno.makeTempDir();
  const numberOf = async () => {
    const server = await startServerProcess([], { cwd });
    const { client, name } = await TestClient.join(server.port);
    await client.close();
    await server.stop();
    return Number(/^user(\d+)$/.exec(name)?.[1]);
  };
  const first = await numberOf();
  const second = await numberOf();
  assert.ok(second > first, `user${second} after a restart, where user${first} was before`);
  await Deno.remove(cwd, { recursive: true });
});

Deno.test("deno task unban lifts a server ban in the data directory, but not while a server uses it", async () => {
  const cwd = await Deno.makeTempDir();
  await Deno.mkdir(`${cwd}/marquee-data`);
  const store = SqliteCommunity.open(`${cwd}/marquee-data/community.db`);
  // What an older server let an operator do: ban loopback, everyone's here.
  const sanction = { target: "127.0.0.1", by: "boss", reason: "oops", until: 0 };
  await store.write({ kind: "ban", room: "", sanction });
  await store.close();
  const unbanTask = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)))
    .tasks.unban.split(" ").slice(2); // after "deno run"
  const script = new URL(`../${unbanTask.pop()}`, import.meta.url).pathname;
  const run = (args: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", ...unbanTask, script, ...args],
      cwd,
      stdout: "piped",
      stderr: "piped",
    }).output();
  const server = await startServerProcess([], { cwd });
  const refused = await TestClient.connect(server.port);
  assert.match(await refused.readLine(), /^! you are banned from this server by boss/);
  await refused.close();
  const whileRunning = await run(["127.0.0.1"]);
  assert.equal(whileRunning.code, 2);
  assert.equal(
    new TextDecoder().decode(whileRunning.stderr),
    "unban: Cannot use the data directory ./marquee-data: another Marquee server is using it\n",
  );
  await server.stop();
  const lifted = await run(["127.0.0.1"]);
  assert.equal(lifted.code, 0, new TextDecoder().decode(lifted.stderr));
  const again = await startServerProcess([], { cwd });
  const { client } = await TestClient.join(again.port);
  await client.close();
  await again.stop();
  await Deno.remove(cwd, { recursive: true });
});
