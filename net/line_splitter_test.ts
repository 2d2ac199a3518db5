import assert from "node:assert/strict";
import { type LineEvent, LineSplitter, readLines, TelnetFilter } from "./line_splitter.ts";

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

function split(chunks: (string | Uint8Array)[], max = 4096): LineEvent[] {
  const splitter = new LineSplitter({ maxLineBytes: max });
  const out: LineEvent[] = [];
  for (const c of chunks) splitter.push(typeof c === "string" ? bytes(c) : c, out);
  return out;
}

const line = (text: string): LineEvent => ({ type: "line", text });

Deno.test("LineSplitter splits on LF and drops the CR of CRLF", () => {
  assert.deepEqual(split(["a\nb\r\nc\n"]), [line("a"), line("b"), line("c")]);
});

Deno.test("LineSplitter joins lines split across chunks, including CRLF split in two", () => {
  assert.deepEqual(split(["hel", "lo\r", "\nwor", "ld\n"]), [line("hello"), line("world")]);
});

Deno.test("LineSplitter joins a UTF-8 character split across chunks", () => {
  const euro = bytes("€\n"); // e2 82 ac 0a
  assert.deepEqual(split([euro.subarray(0, 1), euro.subarray(1, 2), euro.subarray(2)]), [
    line("€"),
  ]);
});

Deno.test("LineSplitter decodes invalid UTF-8 to U+FFFD", () => {
  assert.deepEqual(split([new Uint8Array([0x61, 0xc3, 0x28, 0x0a])]), [line("a\ufffd(")]);
});

Deno.test("LineSplitter accepts a line of exactly the cap, CR not counted", () => {
  assert.deepEqual(split(["12345678\r\n"], 8), [line("12345678")]);
  assert.deepEqual(split(["1234", "5678\r", "\n"], 8), [line("12345678")]);
});

Deno.test("LineSplitter reports a line one byte over the cap and keeps the next", () => {
  assert.deepEqual(split(["123456789\nok\n"], 8), [{ type: "too_long" }, line("ok")]);
});

Deno.test("LineSplitter discards an endless line while streaming, holding at most the cap", () => {
  const splitter = new LineSplitter({ maxLineBytes: 100 });
  const out: LineEvent[] = [];
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  for (let i = 0; i < 160; i++) {
    splitter.push(chunk, out); // 10 MiB without a newline
    assert.ok(splitter.bufferedBytes <= 101);
  }
  splitter.push(bytes("tail\nnext\n"), out);
  assert.deepEqual(out, [{ type: "too_long" }, line("next")]);
});

Deno.test("readLines drops an unterminated last line at end of input", async () => {
  const data = bytes("whole\nhalf a li");
  let done = false;
  const reader = {
    read(buffer: Uint8Array): Promise<number | null> {
      if (done) return Promise.resolve(null);
      done = true;
      buffer.set(data);
      return Promise.resolve(data.length);
    },
  };
  const events: LineEvent[] = [];
  for await (const event of readLines(reader)) events.push(event);
  assert.deepEqual(events, [line("whole")]);
});

Deno.test("TelnetFilter removes negotiation, IAC IAC and subnegotiation, across chunks", () => {
  const filter = new TelnetFilter();
  const parts = [
    new Uint8Array([0xff, 0xfd, 0x18, 0x68]), // IAC DO TTYPE, "h"
    new Uint8Array([0x69, 0xff]), // "i", IAC (split)
    new Uint8Array([0xfa, 0x18, 0x00, 0x41, 0xff, 0xf0, 0x21]), // SB ... IAC SE, "!"
    new Uint8Array([0xff, 0xff, 0x0a]), // IAC IAC, LF
  ];
  const out = parts.map((p) => new TextDecoder().decode(filter.filter(p))).join("");
  assert.equal(out, "hi!\n");
});

Deno.test("readLines grows its buffer for big senders and yields every line", async () => {
  const text = Array.from({ length: 5000 }, (_, i) => `line ${i}`).join("\n") + "\n";
  const data = bytes(text);
  let offset = 0;
  const reader = {
    read(buffer: Uint8Array): Promise<number | null> {
      if (offset >= data.length) return Promise.resolve(null);
      const n = Math.min(buffer.length, data.length - offset);
      buffer.set(data.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
  let count = 0;
  for await (const event of readLines(reader)) {
    assert.deepEqual(event, line(`line ${count}`));
    count++;
  }
  assert.equal(count, 5000);
});

/** A reader that serves `chunks` one read at a time, then ends (or fails). */
function chunked(chunks: string[], failure?: Error) {
  let next = 0;
  return {
    read(buffer: Uint8Array): Promise<number | null> {
      const chunk = chunks[next++];
      if (chunk === undefined) return failure ? Promise.reject(failure) : Promise.resolve(null);
      const data = bytes(chunk);
      buffer.set(data.subarray(0, buffer.length));
      return Promise.resolve(Math.min(data.length, buffer.length));
    },
  };
}

Deno.test("readLines in push mode hands every line to the sink, waits when told to, and ends once", async () => {
  const pushed: LineEvent[] = [];
  const ends: unknown[] = [];
  let release!: () => void;
  const lines = readLines(chunked(["a\nb\n", "c\n"]));
  const ended = new Promise<void>((resolve) => {
    lines.pushTo({
      push(event) {
        pushed.push(event);
        // The first line makes the reader wait until the test lets it go.
        if (pushed.length === 1) return new Promise<void>((r) => (release = r));
      },
      end(failure) {
        ends.push(failure);
        resolve();
      },
    });
  });
  await Promise.resolve();
  assert.deepEqual(pushed, [line("a")], "the reader went on while told to wait");
  release();
  await ended;
  assert.deepEqual(pushed, [line("a"), line("b"), line("c")]);
  assert.deepEqual(ends, [undefined]);
});

Deno.test("readLines in push mode ends with the failure of a read that fails", async () => {
  const lines = readLines(chunked(["ok\n"], new Error("connection reset")));
  const pushed: LineEvent[] = [];
  const failure = await new Promise<unknown>((resolve) =>
    lines.pushTo({ push: (event) => void pushed.push(event), end: resolve })
  );
  assert.deepEqual(pushed, [line("ok")]);
  assert.match(String(failure), /connection reset/);
});

Deno.test("readLines in push mode pushes nothing more once cancelled", async () => {
  const lines = readLines(chunked(["a\nb\nc\n"]));
  const pushed: LineEvent[] = [];
  const ended = new Promise<void>((resolve) =>
    lines.pushTo({
      push(event) {
        pushed.push(event);
        lines.cancel();
        return undefined;
      },
      end: () => resolve(),
    })
  );
  await ended;
  assert.deepEqual(pushed, [line("a")]);
});
