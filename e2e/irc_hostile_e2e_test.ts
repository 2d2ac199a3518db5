/**
 * Hostile clients on the IRC port, over real sockets: garbage, lines a
 * byte at a time, resets mid-line, floods (delayed by fakelag, never
 * dropped), giant lines and a client that stops reading. Whatever one IRC
 * client sends, the nc users and the other IRC users keep chatting.
 */

import assert from "node:assert/strict";
import { assertChatWorks, startServer, TestClient } from "../testing/chat_client.ts";
import { IrcClient } from "../testing/irc_client.ts";
import { closeWithReset } from "../testing/tcp_state.ts";

const encoder = new TextEncoder();

/** An IRC client in `#lobby`, and an nc user who has seen it come in. */
async function inLobby(port: number, ircPort: number, nick = "ann") {
  const { client: nc, name } = await TestClient.join(port);
  const irc = await IrcClient.register(ircPort, nick);
  await irc.send("JOIN #lobby");
  await irc.readUntil((l) => / 366 /.test(l));
  await nc.readUntil((l) => l === `* ${nick} joined the room`);
  return { nc, ncName: name, irc };
}

Deno.test("binary garbage on the IRC port breaks nothing for anyone", async () => {
  const server = startServer({ floodRate: 0 });
  const { nc, irc } = await inLobby(server.port, server.ircPort);
  const garbage = new Uint8Array(256 * 1024);
  for (let i = 0; i < garbage.length; i += 65536) {
    crypto.getRandomValues(garbage.subarray(i, i + 65536));
  }
  await irc.raw.writeAll(garbage);
  await irc.send("");
  await irc.send("PRIVMSG #lobby :still standing");
  assert.equal(await nc.readUntil((l) => l.startsWith("[ann]")), "[ann]: still standing");
  await Promise.all([irc.close(), nc.close()]);
  await assertChatWorks(server.port);
  await server.stop();
});

Deno.test("an IRC line sent a byte at a time is assembled", async () => {
  const server = startServer({ floodRate: 0 });
  const { nc, irc } = await inLobby(server.port, server.ircPort);
  for (const byte of encoder.encode("PRIVMSG #lobby :one byte at a time\r\n")) {
    await irc.raw.writeAll(new Uint8Array([byte]));
  }
  assert.equal(await nc.readUntil((l) => l.startsWith("[")), "[ann]: one byte at a time");
  await Promise.all([irc.close(), nc.close()]);
  await server.stop();
});

Deno.test("an IRC client reset mid-line leaves only its QUIT behind", async () => {
  const server = startServer({ floodRate: 0 });
  const { client: nc } = await TestClient.join(server.port);
  // It never reads: the welcome unread in its socket makes the close a reset.
  const rude = await Deno.connect({ hostname: "127.0.0.1", port: server.ircPort });
  await rude.write(encoder.encode("NICK ann\r\nUSER ann 0 * :Ann\r\nJOIN #lobby\r\n"));
  await nc.readUntil((l) => l === "* ann joined the room");
  await rude.write(encoder.encode("PRIVMSG #lobby :half a li"));
  await closeWithReset(rude);
  assert.equal(await nc.readLine(), "* ann left the chat");
  assert.deepEqual(await nc.linesBeforeProbe(), [], "nothing of the half line");
  await nc.close();
  await server.stop();
});

Deno.test("an IRC flood is delayed by fakelag, not dropped, and others still get through", async () => {
  const server = startServer({ floodRate: 100, floodBurst: 5 });
  const { nc, irc } = await inLobby(server.port, server.ircPort);
  const other = await IrcClient.register(server.ircPort, "bob");
  await other.send("JOIN #lobby");
  await other.readUntil((l) => / 366 /.test(l));
  const lines = Array.from({ length: 200 }, (_, i) => `PRIVMSG #lobby :flood ${i}\r\n`).join("");
  await irc.raw.writeAll(encoder.encode(lines));
  await other.send("PRIVMSG #lobby :bob gets a word in");
  const seen: string[] = [];
  while (seen.filter((l) => l.startsWith("[ann]")).length < 200) {
    seen.push(await nc.readUntil((l) => l.startsWith("[")));
  }
  const flood = seen.filter((l) => l.startsWith("[ann]"));
  assert.deepEqual(
    flood,
    Array.from({ length: 200 }, (_, i) => `[ann]: flood ${i}`),
    "all, in order",
  );
  const bob = seen.indexOf("[bob]: bob gets a word in");
  assert.ok(bob !== -1 && bob < seen.length - 1, "bob's line came before the flood was done");
  await Promise.all([irc.close(), other.close(), nc.close()]);
  await server.stop();
});

Deno.test("many giant IRC lines are answered 417 and cost nobody else", async () => {
  const server = startServer({ floodRate: 0 });
  const { nc, irc } = await inLobby(server.port, server.ircPort);
  const giants = await Promise.all(
    Array.from({ length: 5 }, (_, i) => IrcClient.register(server.ircPort, `giant${i}`)),
  );
  const line = encoder.encode(`PRIVMSG #lobby :${"x".repeat(5 * 1024 * 1024)}\r\n`);
  await Promise.all(giants.map((g) => g.raw.writeAll(line)));
  for (const giant of giants) {
    assert.match(
      await giant.readUntil((l) => / 417 /.test(l)),
      / 417 giant\d :Input line was too long$/,
    );
  }
  await irc.send("PRIVMSG #lobby :after the giants");
  assert.equal(await nc.readUntil((l) => l.startsWith("[")), "[ann]: after the giants");
  await Promise.all([...giants, irc].map((c) => c.close()));
  await nc.close();
  await server.stop();
});

Deno.test("an IRC client that stops reading is dropped, logged and counted as any other", async () => {
  const server = startServer({ floodRate: 0, maxQueuedBytes: 64 * 1024 }, { metrics: true });
  const { client: sender } = await TestClient.join(server.port);
  const slow = await Deno.connect({ hostname: "127.0.0.1", port: server.ircPort });
  await slow.write(encoder.encode("NICK slow\r\nUSER slow 0 * :Slow\r\nJOIN #lobby\r\n"));
  await sender.readUntil((l) => l === "* slow joined the room");
  // More than the kernel's socket buffers and the send queue hold.
  const batch = encoder.encode(`${"y".repeat(4000)}\n`.repeat(100));
  for (let sent = 0; sent < 600 && !sender.buffered.includes("* slow left the chat"); sent++) {
    await sender.writeAll(batch);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await sender.readUntil((l) => l === "* slow left the chat");
  await server.waitForLog((l) => l === "[server] slow disconnected: not reading fast enough");
  assert.equal(server.metrics!.kicks.get("not reading fast enough"), 1);
  slow.close();
  await sender.close();
  await server.stop();
});
