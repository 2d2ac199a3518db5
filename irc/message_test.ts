import assert from "node:assert/strict";
import { ctcp, parseIrc, roomOfChannel } from "./message.ts";

Deno.test("an IRC line is read into its command and parameters, its client tags kept", () => {
  assert.deepEqual(
    parseIrc("@time=x;+typing=active;+a/b=c\\sd;+b@d=1 :me!u@h privmsg #g :hi  there"),
    {
      command: "PRIVMSG",
      params: ["#g", "hi  there"],
      bodyBytes: "me!u@h privmsg #g :hi  there".length + 3,
      tagBytes: "@time=x;+typing=active;+a/b=c\\sd;+b@d=1 ".length,
      clientTags: "+typing=active;+a/b=c\\sd",
    },
  );
  assert.equal(parseIrc("@time=x;=y PING z")?.clientTags, undefined, "none but the server's");
  assert.deepEqual(parseIrc("NICK alice")?.params, ["alice"]);
  assert.deepEqual(parseIrc("USER a 0 * :Real Name")?.params, ["a", "0", "*", "Real Name"]);
  assert.deepEqual(parseIrc("TOPIC #games :")?.params, ["#games", ""], "an empty trailing is kept");
  assert.deepEqual(parseIrc("PING   x  ")?.params, ["x"], "runs of spaces separate");
  for (const empty of ["", "   ", "@tags-only", ":source-only"]) {
    assert.equal(parseIrc(empty), undefined, JSON.stringify(empty));
  }
});

Deno.test("a channel names a room only when the rest is a valid room name", () => {
  assert.equal(roomOfChannel("#games"), "games");
  assert.equal(roomOfChannel("games"), undefined);
  assert.equal(roomOfChannel("#"), undefined);
  assert.equal(roomOfChannel("#two.words"), undefined);
  assert.equal(roomOfChannel("#" + "x".repeat(25)), undefined);
});

Deno.test("CTCP requests are told apart from text, ACTION with or without its closing byte", () => {
  assert.deepEqual(ctcp("\x01ACTION waves\x01"), { verb: "ACTION", args: "waves" });
  assert.deepEqual(ctcp("\x01action waves"), { verb: "ACTION", args: "waves" });
  assert.deepEqual(ctcp("\x01VERSION\x01"), { verb: "VERSION", args: "" });
  assert.equal(ctcp("plain text"), undefined);
});
