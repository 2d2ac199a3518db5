/**
 * Accounts over real sockets, with the accounts kept in a real SQLite file
 * and passwords hashed by real scrypt: register, log in (anywhere), name
 * protection, log out, change the password, unregister, the limits on
 * failed logins, and what never reaches the log.
 */

import assert from "node:assert/strict";
import { TestClient } from "../testing/chat_client.ts";
import { as, bothStores, registered } from "../testing/people.ts";

bothStores(
  "a registered name is protected, and its owner logs in to it from another connection",
  undefined,
  async (server) => {
    const alice = await as(server, "alice");
    await alice.send("/register correct-horse");
    assert.match(await alice.readLine(), /^\* this connection is not encrypted/);
    assert.equal(await alice.readLine(), "* you registered alice and are logged in");
    await alice.send("/register correct-horse");
    assert.equal(await alice.readLine(), "! you are logged in as alice already");

    const { client: other } = await TestClient.join(server.port);
    await alice.close();
    await other.send("/nick ALICE");
    assert.equal(
      await other.readUntil((l) => l.startsWith("!")),
      "! ALICE is registered: /login ALICE PASSWORD if it is yours",
    );
    await other.send("/login alice wrong-password");
    assert.equal(await other.readUntil((l) => l.startsWith("!")), "! wrong name or password");
    await other.send("/identify alice correct-horse");
    assert.equal(
      await other.readUntil((l) => l.startsWith("* you are logged in")),
      "* you are logged in as alice",
    );
    assert.match(await other.readLine(), /^\* user\d+ is now known as alice$/);
    await other.send("/whois alice");
    assert.match(await other.readLine(), /^\* alice: registered, logged in, in lobby, idle \d+s$/);
    await other.close();
  },
);

bothStores(
  "someone already using a name that becomes registered elsewhere keeps it until they leave",
  undefined,
  async (server) => {
    const squatter = await as(server, "sam");
    const owner = await registered(server, "sammy");
    await owner.send("/nick sam");
    assert.equal(await owner.readUntil((l) => l.startsWith("!")), "! name taken: sam");
    // sam registers nothing; a second account cannot be made for the name in use either.
    await owner.send("/logout");
    assert.match(await owner.readLine(), /^\* you are logged out; you are user\d+ again$/);
    await owner.send("/login sam whatever-pass");
    assert.equal(await owner.readUntil((l) => l.startsWith("!")), "! wrong name or password");
    await squatter.send("/who");
    assert.match(await squatter.readUntil((l) => l.startsWith("* in lobby")), /sam/);
    await Promise.all([squatter.close(), owner.close()]);
  },
);

bothStores(
  "a password is changed with the old one; unregistering frees the name and releases its rooms",
  undefined,
  async (server) => {
    const alice = await registered(server, "alice", "first-pass");
    await alice.send("/join den");
    await alice.readUntil((l) => l === "* den is now owned by alice");
    await alice.send("/password wrong-pass second-pass");
    assert.equal(await alice.readUntil((l) => l.startsWith("!")), "! wrong password");
    await alice.send("/password first-pass second-pass");
    assert.equal(await alice.readLine(), "* password changed");
    await alice.send("/logout");
    await alice.readUntil((l) => l.includes("is now known as"));
    await alice.send("/login alice first-pass");
    assert.equal(await alice.readUntil((l) => l.startsWith("!")), "! wrong name or password");
    await alice.send("/login alice second-pass");
    await alice.readUntil((l) => l === "* you are logged in as alice");
    // Linked, taking the name back is a cluster-wide claim: wait for it.
    await alice.readUntil((l) => l.endsWith("is now known as alice"));
    await alice.send("/unregister second-pass");
    assert.equal(
      await alice.readUntil((l) => l.startsWith("* alice is no")),
      "* alice is no longer registered",
    );
    assert.equal(await alice.readLine(), "* den is no longer registered");
    const bob = await as(server, "bob");
    await bob.send("/whois alice");
    assert.match(await bob.readLine(), /^\* alice: not registered, in den, idle \d+s$/);
    await Promise.all([alice.close(), bob.close()]);
  },
);

bothStores(
  "bad account input gets a reason: short passwords, userN names, SQL in the password, a 1 MB line",
  undefined,
  async (server) => {
    const { client } = await TestClient.join(server.port);
    await client.send("/register short");
    assert.equal(await client.readLine(), "! passwords are 8-128 characters with no spaces");
    await client.send("/register long-enough-pass");
    assert.match(await client.readUntil((l) => l.startsWith("!")), /^! choose a name first/);
    await client.send("/nick robert");
    await client.readUntil((l) => l.includes("is now known as robert"));
    await client.send("/register ');DROP_TABLE_accounts;--");
    assert.equal(
      await client.readUntil((l) => l.startsWith("* you registered")),
      "* you registered robert and are logged in",
    );
    await client.send("/logout");
    await client.readUntil((l) => l.includes("is now known as"));
    await client.send("/login robert ');DROP_TABLE_accounts;--");
    assert.equal(
      await client.readUntil((l) => l.startsWith("* you are logged")),
      "* you are logged in as robert",
    );
    await client.send(`/login robert ${"x".repeat(1024 * 1024)}`);
    assert.equal(
      await client.readUntil((l) => l.startsWith("!")),
      "! line too long (max 4096 bytes)",
    );
    await client.close();
  },
);

bothStores(
  "1,000 failed logins are refused after five, cost five hashes, and the chat goes on",
  undefined,
  async (server, clock) => {
    await (await registered(server, "alice")).close();
    const { client: guesser } = await TestClient.join(server.port);
    const started = performance.now();
    const answers: string[] = [];
    for (let i = 0; i < 1000; i++) {
      await guesser.send(`/login alice guess-${i}-pass`);
      answers.push(await guesser.readUntil((l) => l.startsWith("!")));
    }
    const ms = performance.now() - started;
    assert.equal(answers.filter((a) => a === "! wrong name or password").length, 5);
    assert.equal(
      answers.filter((a) => a.startsWith("! too many failed attempts: try again in")).length,
      995,
    );
    console.log(`1,000 failed logins answered in ${ms.toFixed(0)} ms`);
    await guesser.send("/login alice correct-horse");
    assert.match(
      await guesser.readUntil((l) => l.startsWith("!")),
      /too many failed attempts: try again in 12s/,
    );
    clock.advance(12_000);
    await guesser.send("/login alice correct-horse");
    assert.equal(
      await guesser.readUntil((l) => l.startsWith("* you are logged")),
      "* you are logged in as alice",
    );
    await guesser.close();
    assert.ok(
      !server.logs.some((l) => l.includes("guess-") || l.includes("correct-horse")),
      "no password in the log",
    );
    assert.ok(server.logs.some((l) => l.includes("failed login for alice from 127.0.0.1")));
    assert.ok(server.logs.some((l) => l.endsWith("ran /login")), "debug: the command's name only");
  },
  { debug: true },
);

bothStores(
  "what is sent right after /login waits for the login: it is done as the account",
  () => Promise.resolve({}),
  async (server) => {
    const ann = await registered(server, "ann");
    await ann.send("/logout");
    const out = await ann.readUntil((l) => l.startsWith("* you are logged out"));
    const assigned = /you are (user\d+) again/.exec(out)?.[1];
    const encoder = new TextEncoder();
    // In one write: the login's hash takes a while; the join and the line
    // must not overtake it.
    await ann.writeAll(encoder.encode("/login ann correct-horse\n/join studio\nhello studio\n"));
    const lines = await ann.readThrough((l) => l === "* studio is now owned by ann", 5_000);
    assert.deepEqual(lines.filter((l) => !l.includes(" is now known as user")), [
      "* you are logged in as ann",
      `* ${assigned} is now known as ann`,
      "* you are in studio (1 user)",
      "* studio is now owned by ann",
    ]);
    await ann.close();
  },
);
