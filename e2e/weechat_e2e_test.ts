/**
 * A real IRC client end to end: WeeChat (Debian's `weechat-headless`)
 * joins `#lobby` on the IRC port and chats with an nc user in the lobby,
 * each reading the other in its own form. Skipped where WeeChat is not
 * installed, unless `MARQUEE_REQUIRE_WEECHAT=1` (CI sets it).
 */

import assert from "node:assert/strict";
import { startServer, TestClient } from "../testing/chat_client.ts";
import { pollUntil } from "../testing/within.ts";

const WEECHAT = "/usr/bin/weechat-headless";

function installed(): boolean {
  try {
    return Deno.statSync(WEECHAT).isFile;
  } catch {
    return false;
  }
}

Deno.test({
  name: "WeeChat and an nc user chat in the lobby, each in its own form",
  ignore: Deno.env.get("MARQUEE_REQUIRE_WEECHAT") !== "1" && !installed(),
  async fn() {
    const server = startServer({ floodRate: 0 });
    await server.ready;
    const dir = await Deno.makeTempDir({ prefix: "marquee-weechat-" });
    const { client: nc, name: ncName } = await TestClient.join(server.port);
    const commands = [
      "/set irc.server_default.nicks weebot",
      "/set irc.server_default.tls off",
      "/set logger.file.flush_delay 0",
      `/server add m 127.0.0.1/${server.ircPort} -autojoin=#lobby`,
      "/connect m",
      "/wait 3 /msg -server m #lobby hello from weechat",
    ].join(";");
    const weechat = new Deno.Command(WEECHAT, {
      args: ["--dir", dir, "-r", commands],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      assert.equal(await nc.readUntil((l) => l.includes("weebot")), "* weebot joined the room");
      assert.equal(
        await nc.readUntil((l) => l.startsWith("["), 10_000),
        "[weebot]: hello from weechat",
      );
      await nc.send("hi weechat, from nc");
      const log = `${dir}/logs/irc.m.#lobby.weechatlog`;
      const shown = async () =>
        (await Deno.readTextFile(log).catch(() => "")).includes(`${ncName}\thi weechat`);
      await pollUntil("WeeChat shows the nc user's line in #lobby", shown);
      const lines = await Deno.readTextFile(log);
      assert.match(lines, /-->\tweebot \(weebot@marquee\) has joined #lobby/);
    } finally {
      weechat.kill("SIGTERM");
      await weechat.status;
      // WeeChat quits as asked: its QUIT reaches the lobby.
      assert.match(await nc.readUntil((l) => l.includes("left")), /^\* weebot left the chat/);
      await nc.close();
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
