import assert from "node:assert/strict";
import { roomLine } from "./room_lines.ts";

Deno.test("a page opens and closes rooms, and addresses a line or a command to one of them", () => {
  assert.deepEqual(roomLine("/open games"), {
    type: "command",
    command: { name: "enter", room: "games" },
  });
  assert.deepEqual(roomLine("/close games"), {
    type: "command",
    command: { name: "part", reason: "" },
    room: "games",
  });
  assert.deepEqual(roomLine("/in games hello there"), {
    type: "say",
    text: "hello there",
    room: "games",
  });
  assert.deepEqual(roomLine("/in games /me waves"), {
    type: "command",
    command: { name: "me", action: "waves" },
    room: "games",
  });
  assert.deepEqual(roomLine("/in games //not a command"), {
    type: "say",
    text: "/not a command",
    room: "games",
  });
});

Deno.test("a room line that names no room, a bad one, nothing to say or /quit is refused", () => {
  assert.equal(roomLine("/join games"), undefined, "not a room line: the usual commands");
  for (const line of ["/open", "/in tw!o hi", "/open #x y", "/in games", "/in games /quit"]) {
    assert.equal(roomLine(line)?.type, "invalid", line);
  }
  assert.equal(roomLine("/in games /nosuch")?.type, "invalid");
});
