import assert from "node:assert/strict";
import { sanitize } from "./sanitize.ts";

Deno.test("sanitize leaves ordinary text alone, leading spaces included", () => {
  assert.equal(sanitize("  hello, wörld ✓"), "  hello, wörld ✓");
});

Deno.test("sanitize trims trailing whitespace and turns tabs into spaces", () => {
  assert.equal(sanitize("a\tb \t  "), "a b");
  assert.equal(sanitize(" \t "), "");
});

Deno.test("sanitize removes CSI sequences with their parameters", () => {
  assert.equal(sanitize("\x1b[31;1mred\x1b[0m \x1b[2J\x1b[H!"), "red !");
  assert.equal(sanitize("\x1b[?25l hidden cursor"), " hidden cursor");
});

Deno.test("sanitize removes OSC sequences ended by BEL or ST, and unterminated ones", () => {
  assert.equal(sanitize("a\x1b]0;pwned title\x07b"), "ab");
  assert.equal(sanitize("a\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\b"), "alinkb");
  assert.equal(sanitize("a\x1b]0;never ends"), "a");
});

Deno.test("sanitize removes C0 controls except tab, DEL, C1 controls and 8-bit CSI", () => {
  assert.equal(sanitize("a\x00b\x07c\x08d\x7fe\x85f\x9b31mg"), "abcdefg");
  assert.equal(sanitize("bell\r"), "bell");
});

Deno.test("sanitize never lets a raw ESC byte through", () => {
  for (const s of ["\x1b", "\x1b\x1b[", "x\x1bcy", "\x1b(0", "\x1bP1$r\x1b\\", "\x1b[\x1b]"]) {
    assert.ok(!sanitize(s).includes("\x1b"), JSON.stringify(s));
  }
});

Deno.test("sanitize removes bidi controls and zero-width characters", () => {
  assert.equal(sanitize("abc\u202edef"), "abcdef");
  assert.equal(sanitize("a\u200bb\u200cc\u200dd\u2060e\ufefff\u2066g\u2069"), "abcdefg");
  assert.equal(sanitize("\u202e\x1b[31mred"), "red");
});
