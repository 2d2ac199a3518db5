import assert from "node:assert/strict";
import { capability, capList } from "./caps.ts";

Deno.test("a CAP REQ is granted whole or not at all, and a cap can be taken back", () => {
  const caps = new Set<string>();
  assert.equal(capability(caps, "server-time echo-message"), true);
  assert.deepEqual([...caps].sort(), ["echo-message", "server-time"]);
  assert.equal(capability(caps, "multi-prefix sasl-fantasy"), false);
  assert.equal(caps.has("multi-prefix"), false, "nothing of a refused request is granted");
  assert.equal(capability(caps, "-echo-message"), true);
  assert.deepEqual([...caps], ["server-time"]);
  assert.equal(capability(caps, ""), false);
});

Deno.test("CAP LS offers only what the server does", () => {
  assert.deepEqual(capList(true).split(" ").sort(), [
    "account-notify",
    "account-tag",
    "away-notify",
    "batch",
    "draft/chathistory",
    "echo-message",
    "message-tags",
    "multi-prefix",
    "sasl=PLAIN",
    "server-time",
  ]);
});
