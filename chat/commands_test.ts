import assert from "node:assert/strict";
import { helpLines, parseInput } from "./commands.ts";

const command = (line: string) => {
  const input = parseInput(line);
  assert.equal(input.type, "command", `${line} should parse as a command`);
  return (input as { command: unknown }).command;
};
const refusal = (line: string): string => {
  const input = parseInput(line);
  assert.equal(input.type, "invalid", `${line} should be refused`);
  return (input as { reason: string }).reason;
};

Deno.test("parseInput treats plain text as chat and //text as literal /text", () => {
  assert.deepEqual(parseInput("hello"), { type: "say", text: "hello" });
  assert.deepEqual(parseInput("//shrug"), { type: "say", text: "/shrug" });
  assert.deepEqual(parseInput("* not a server line"), { type: "say", text: "* not a server line" });
});

Deno.test("parseInput reads command names case-insensitively", () => {
  assert.deepEqual(command("/NICK alice"), { name: "nick", nick: "alice" });
  assert.deepEqual(command("/Who"), { name: "who" });
});

Deno.test("parseInput parses every command with odd spacing", () => {
  assert.deepEqual(command("/nick   bob  "), { name: "nick", nick: "bob" });
  assert.deepEqual(command("/me   waves  hello"), { name: "me", action: "waves  hello" });
  assert.deepEqual(command("/msg  bob   hi  there"), { name: "msg", to: "bob", text: "hi  there" });
  assert.deepEqual(command("/join\tgames"), { name: "join", room: "games" });
  assert.deepEqual(command("/rooms"), { name: "rooms" });
  assert.deepEqual(command("/help"), { name: "help" });
  assert.deepEqual(command("/quit"), { name: "quit", reason: "" });
  assert.deepEqual(command("/quit see you"), { name: "quit", reason: "see you" });
  assert.deepEqual(command("/history"), { name: "history", limit: undefined, before: undefined });
  assert.deepEqual(command("/history 50 before 14:02"), {
    name: "history",
    limit: 50,
    before: "14:02",
  });
  assert.deepEqual(command("/history 5 more"), { name: "history", limit: 5, more: true });
  assert.equal(refusal("/history lots"), "usage: /history [N] [before HH:MM|more]");
});

Deno.test("parseInput cuts a quit reason to 80 characters", () => {
  const long = "é".repeat(200);
  assert.deepEqual(command(`/quit ${long}`), { name: "quit", reason: "é".repeat(80) });
});

Deno.test("parseInput refuses names that are not one word of 1-24 allowed characters", () => {
  assert.match(refusal("/nick two words"), /invalid name/);
  assert.match(refusal("/nick émile"), /invalid name/);
  assert.match(refusal("/nick " + "a".repeat(25)), /invalid name/);
  assert.deepEqual(command("/nick " + "a".repeat(24)), { name: "nick", nick: "a".repeat(24) });
  assert.deepEqual(command("/nick A_b-9"), { name: "nick", nick: "A_b-9" });
});

Deno.test("parseInput gives usage for missing arguments", () => {
  assert.equal(refusal("/nick"), "usage: /nick NAME");
  assert.equal(refusal("/me"), "usage: /me ACTION");
  assert.equal(refusal("/msg bob"), "usage: /msg NAME TEXT");
  assert.equal(refusal("/join"), "usage: /join ROOM");
  assert.match(refusal("/join two rooms"), /invalid room/);
});

Deno.test("parseInput refuses unknown commands with a hint", () => {
  assert.equal(refusal("/dance now"), "unknown command /dance (try /help)");
  assert.equal(refusal("/"), "unknown command / (try /help)");
  assert.equal(refusal("/constructor"), "unknown command /constructor (try /help)");
});

Deno.test("helpLines lists what a user may use, aligned; ops, owners and operators see more", () => {
  assert.deepEqual(helpLines(), [
    "commands:",
    "  /nick NAME                        change your name",
    "  /who                              list the users in your room and count everyone online",
    "  /me ACTION                        describe an action: /me waves shows * NAME waves",
    "  /msg NAME TEXT                    send a private message to one user",
    "  /join ROOM                        move to another room (created if it does not exist)",
    "  /rooms                            list the rooms and how many are in each",
    "  /help                             show this list",
    "  /history [N] [before HH:MM|more]  show up to N (max 200) earlier lines of your room; more: the page before",
    "  /quit [REASON]                    leave the chat, optionally saying why",
    "  /register PASSWORD                register your current name, so only you can use it",
    "  /login NAME PASSWORD              log in to your registered name (also /identify)",
    "  /identify NAME PASSWORD           the same as /login",
    "  /logout                           log out (you get your userN name back)",
    "  /password OLD NEW                 change your password",
    "  /unregister PASSWORD              delete your account (rooms you own are released)",
    "  /whois NAME                       who NAME is: registered or not, room, idle time",
    "  /topic [TEXT]                     show your room's topic; ops: set it",
    "  /oper NAME PASSWORD               become a server operator (names and passwords set by the server's admin)",
    "  //TEXT                            send a line that starts with / as chat",
  ]);
  const commands = (rank: Parameters<typeof helpLines>[0]) =>
    helpLines(rank).slice(1).map((l) => l.trim().split(/\s+/)[0]);
  assert.ok(commands("op").includes("/ban") && !commands("op").includes("/op"));
  assert.ok(commands("owner").includes("/op") && !commands("owner").includes("/kill"));
  assert.ok(commands("operator").includes("/kill") && commands("operator").includes("/gban"));
});

Deno.test("moderation commands take names or addresses, durations and reasons", () => {
  const command = (line: string) => (parseInput(line) as { command: unknown }).command;
  assert.deepEqual(command("/ban Troll 10m spam and more"), {
    name: "ban",
    target: "troll",
    ms: 600_000,
    reason: "spam and more",
  });
  assert.deepEqual(command("/ban 10.0.0.9 being rude"), {
    name: "ban",
    target: "10.0.0.9",
    ms: 0,
    reason: "being rude",
  });
  assert.deepEqual(command("/gban ::1 7d"), {
    name: "gban",
    target: "::1",
    ms: 604_800_000,
    reason: "",
  });
  assert.deepEqual(command("/mute bob 2h"), {
    name: "mute",
    target: "bob",
    ms: 7_200_000,
    reason: "",
  });
  assert.equal(refusal("/ban bob 10y"), "durations are like 30s, 10m, 2h or 7d (at most a year)");
  assert.equal(refusal("/ban bob 400d"), "durations are like 30s, 10m, 2h or 7d (at most a year)");
  assert.equal(
    refusal("/mute 10.0.0.9"),
    "invalid name: names are one word of 1-24 ASCII letters, digits, _ or -",
  );
  assert.equal(refusal("/kill bob"), "usage: /kill NAME REASON");
  assert.equal(refusal("/login alice"), "usage: /login NAME PASSWORD");
  assert.equal(
    refusal("/register two words"),
    "usage: /register PASSWORD (passwords are 8-128 characters with no spaces)",
  );
  assert.equal(
    refusal(`/register ${"x".repeat(129)}`),
    "passwords are 8-128 characters with no spaces",
  );
  assert.deepEqual(command("/IDENTIFY alice secret-pass"), {
    name: "login",
    account: "alice",
    password: "secret-pass",
  });
});

Deno.test("a duration that is not one is refused, never taken for a ban for good", () => {
  for (const bad of ["5min", "-5m", "1.5h", "+2h", "10 m", "0m", "9999999d"]) {
    const line = `/ban troll ${bad} spam`;
    assert.match(refusal(line), /durations are like/, line);
  }
  assert.deepEqual(command("/mute troll 10m"), {
    name: "mute",
    target: "troll",
    ms: 600_000,
    reason: "",
  });
  assert.deepEqual(command("/ban troll spamming again"), {
    name: "ban",
    target: "troll",
    ms: 0,
    reason: "spamming again",
  });
});

Deno.test("/unmute, like /unban, takes a name in any case", () => {
  assert.deepEqual(command("/unmute Troll1B"), { name: "unmute", target: "troll1b" });
  assert.deepEqual(command("/unban Troll1B"), { name: "unban", target: "troll1b" });
});

Deno.test("a quit reason that reads like the server's own is dropped", () => {
  for (const reason of ["killed by boss: spamming", "Banned by root", "kicked by ann (x)"]) {
    assert.deepEqual(command(`/quit ${reason}`), { name: "quit", reason: "" }, reason);
  }
  assert.deepEqual(command("/quit killed it today"), { name: "quit", reason: "killed it today" });
});
