import assert from "node:assert/strict";
import { Announcer } from "./announcer.ts";

const encode = (text: string) => new TextEncoder().encode(text);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

Deno.test("Announcer asks for one flush per batch, however many lines join it", () => {
  const announcer = new Announcer<string>();
  assert.equal(announcer.add(encode("a\n")), true);
  assert.equal(announcer.add(encode("b\n")), false);
  assert.equal(decode(announcer.take()!.bytes), "a\nb\n", "an early flush takes the batch");
  assert.equal(announcer.add(encode("c\n")), false, "the scheduled flush is still to come");
  assert.equal(decode(announcer.due()!.bytes), "c\n");
  assert.equal(announcer.due(), undefined);
  assert.equal(announcer.add(encode("d\n")), true, "after the flush fired, a new batch asks again");
});

Deno.test("Announcer marks where each newcomer's own join line ends", () => {
  const announcer = new Announcer<string>();
  announcer.add(encode("* a joined the chat\n"), "a");
  announcer.add(encode("* x left the chat\n"));
  announcer.add(encode("* b joined the chat\n"), "b");
  const batch = announcer.take()!;
  const text = decode(batch.bytes);
  assert.equal(text.slice(batch.resumeAt.get("a")), "* x left the chat\n* b joined the chat\n");
  assert.equal(text.slice(batch.resumeAt.get("b")), "");
  assert.equal(announcer.pending, false);
});
