import assert from "node:assert/strict";
import { readLines } from "./line_splitter.ts";
import { WebSocketConn } from "./websocket_conn.ts";

const encoder = new TextEncoder();

/** A server-side WebSocketConn and the raw client socket talking to it. */
async function pair(): Promise<{ ws: WebSocketConn; client: Deno.TcpConn; done: () => void }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  listener.close();
  const ws = new WebSocketConn(server, new Uint8Array());
  return {
    ws,
    client,
    done: () => {
      ws.close();
      try {
        client.close();
      } catch {
        // Already closed.
      }
    },
  };
}

/** A masked client frame. */
function frame(opcode: number, payload: Uint8Array | string, fin = true): Uint8Array {
  const bytes = typeof payload === "string" ? encoder.encode(payload) : payload;
  const mask = [0x12, 0x34, 0x56, 0x78];
  const head = bytes.length < 126
    ? [bytes.length | 0x80]
    : [126 | 0x80, bytes.length >> 8, bytes.length & 0xff];
  const out = new Uint8Array(1 + head.length + 4 + bytes.length);
  out[0] = (fin ? 0x80 : 0) | opcode;
  out.set(head, 1);
  out.set(mask, 1 + head.length);
  bytes.forEach((b, i) => (out[1 + head.length + 4 + i] = b ^ mask[i % 4]!));
  return out;
}

async function lines(ws: WebSocketConn, n: number): Promise<string[]> {
  const out: string[] = [];
  for await (const event of readLines(ws)) {
    out.push(event.type === "line" ? event.text : "<too long>");
    if (out.length === n) break;
  }
  return out;
}

/** Bytes read from each client but not yet parsed into frames. */
const unread = new WeakMap<Deno.Conn, Uint8Array>();

/** The next frame the server sent `client` (small frames only), within 5 s. */
async function readFrame(client: Deno.Conn): Promise<{ opcode: number; payload: Uint8Array }> {
  let have = unread.get(client) ?? new Uint8Array();
  const deadline = Date.now() + 5_000;
  while (have.length < 2 || have.length < 2 + (have[1]! & 0x7f)) {
    const chunk = new Uint8Array(256);
    const timer = setTimeout(() => client.close(), Math.max(1, deadline - Date.now()));
    const n = await client.read(chunk).catch(() => null).finally(() => clearTimeout(timer));
    if (n === null) throw new Error(`no frame came (${have.length} bytes held)`);
    have = new Uint8Array([...have, ...chunk.subarray(0, n)]);
  }
  const size = 2 + (have[1]! & 0x7f);
  unread.set(client, have.slice(size));
  return { opcode: have[0]! & 0x0f, payload: have.slice(2, size) };
}

Deno.test("WebSocketConn turns each text message into one line, whatever the frames' split", async () => {
  const { ws, client, done } = await pair();
  const bytes = new Uint8Array([
    ...frame(0x1, "héllo"),
    ...frame(0x1, "fragm", false),
    ...frame(0x0, "ented €".slice(0, 6), false),
    ...frame(0x0, "€"),
    ...frame(0x1, ""),
    ...frame(0x1, "two\nlines"),
  ]);
  // One byte at a time: headers, masks and UTF-8 split across reads.
  const writing = (async () => {
    for (const byte of bytes) await client.write(new Uint8Array([byte]));
  })();
  assert.deepEqual(await lines(ws, 5), ["héllo", "fragmented €", "", "two", "lines"]);
  await writing;
  done();
});

Deno.test("WebSocketConn answers a ping with a pong and a close with a close", async () => {
  const { ws, client, done } = await pair();
  await client.write(frame(0x9, "are you there"));
  await client.write(frame(0x1, "after the ping"));
  assert.deepEqual(await lines(ws, 1), ["after the ping"]);
  const pong = await readFrame(client);
  assert.equal(pong.opcode, 0xa);
  assert.equal(new TextDecoder().decode(pong.payload), "are you there");
  const ending = lines(ws, 1);
  await client.write(frame(0x8, new Uint8Array([0x03, 0xe8])));
  const close = await readFrame(client);
  assert.deepEqual(await ending, [], "the stream ends after a close");
  assert.deepEqual([close.opcode, ...close.payload], [0x8, 0x03, 0xe8]);
  await ws.done;
  done();
});

Deno.test("WebSocketConn closes with 1002 on an unmasked frame and 1009 on a message over 64 KiB", async () => {
  for (
    const [bytes, code] of [
      [new Uint8Array([0x81, 0x02, 0x68, 0x69]), 1002],
      [new Uint8Array([0x81, 0xff, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0]), 1009],
    ] as const
  ) {
    const { ws, client, done } = await pair();
    const reading = lines(ws, 1);
    await client.write(bytes);
    const close = await readFrame(client);
    assert.deepEqual([close.opcode, (close.payload[0]! << 8) | close.payload[1]!], [0x8, code]);
    assert.deepEqual(await reading, []);
    await ws.done;
    done();
  }
});

Deno.test("WebSocketConn sends each write as one unmasked text frame", async () => {
  const { ws, client, done } = await pair();
  await ws.write(encoder.encode("* hello\n"));
  const sent = await readFrame(client);
  assert.equal(sent.opcode, 0x1);
  assert.equal(new TextDecoder().decode(sent.payload), "* hello\n");
  done();
  await ws.done;
});

/** Writes `bytes`, then reads what the server does: the lines it handed
 * the reader before the stream ended, and the code of its close frame. */
async function outcome(bytes: Uint8Array): Promise<{ lines: string[]; code: number }> {
  const { ws, client, done } = await pair();
  const reading = lines(ws, 10);
  await client.write(bytes);
  let close = await readFrame(client);
  while (close.opcode !== 0x8) close = await readFrame(client);
  const code = (close.payload[0]! << 8) | close.payload[1]!;
  const got = await reading;
  await ws.done;
  done();
  return { lines: got, code };
}

Deno.test("nothing of a message that never completed reaches the reader, whatever ends it", async () => {
  const open = frame(0x1, "forged\nline", false);
  const endings: [string, Uint8Array, number][] = [
    ["a reserved opcode", frame(0x3, ""), 1002],
    ["a new text frame", frame(0x1, "next"), 1002],
    ["a binary frame", frame(0x2, "x"), 1003],
    ["a continuation past 64 KiB", frame(0x0, new Uint8Array(65_530), false), 1009],
    ["a close", frame(0x8, new Uint8Array([0x03, 0xe8])), 1000],
  ];
  for (const [what, ending, code] of endings) {
    const result = await outcome(new Uint8Array([...open, ...ending]));
    assert.deepEqual(result, { lines: [], code }, what);
  }
  // The socket closing mid-message delivers nothing either.
  const { ws, client, done } = await pair();
  const reading = lines(ws, 10);
  await client.write(open);
  client.close();
  assert.deepEqual(await reading, [], "the connection closed mid-message");
  await ws.done;
  done();
});

Deno.test("a text message that is not UTF-8 fails with 1007 and delivers nothing, also split across frames", async () => {
  const cases: [string, Uint8Array][] = [
    ["0xFF", frame(0x1, new Uint8Array([0x68, 0xff]))],
    ["an overlong slash", frame(0x1, new Uint8Array([0xc0, 0xaf]))],
    ["a surrogate", frame(0x1, new Uint8Array([0xed, 0xa0, 0x80]))],
    ["a truncated sequence", frame(0x1, new Uint8Array([0x68, 0xe2, 0x82]))],
    [
      "a split invalid sequence",
      new Uint8Array([
        ...frame(0x1, new Uint8Array([0x6f, 0x6b, 0x0a, 0xe2]), false),
        ...frame(0x0, new Uint8Array([0x28, 0xa1])),
      ]),
    ],
  ];
  for (const [what, bytes] of cases) {
    assert.deepEqual(await outcome(bytes), { lines: [], code: 1007 }, what);
  }
  const valid = await outcome(
    new Uint8Array([
      ...frame(0x1, new Uint8Array([0x68, 0xe2]), false),
      ...frame(0x0, new Uint8Array([0x82, 0xac])),
      ...frame(0x8, new Uint8Array([0x03, 0xe8])),
    ]),
  );
  assert.deepEqual(valid, { lines: ["h€"], code: 1000 }, "a character split across frames is fine");
});

Deno.test("a close frame with a bad length or code fails with 1002, a reason that is not UTF-8 with 1007", async () => {
  const close = (...payload: number[]) => frame(0x8, new Uint8Array(payload));
  const code = (n: number, ...reason: number[]) => close(n >> 8, n & 0xff, ...reason);
  for (const bad of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) {
    assert.equal((await outcome(code(bad))).code, 1002, `code ${bad}`);
  }
  assert.equal((await outcome(close(0x03))).code, 1002, "a one-byte payload");
  assert.equal((await outcome(code(1000, 0xff))).code, 1007, "a reason that is not UTF-8");
  for (const good of [1000, 1001, 1003, 1011, 3000, 4999]) {
    assert.equal((await outcome(code(good, 0x6f, 0x6b))).code, good, `code ${good} is echoed`);
  }
  assert.equal((await outcome(close())).code, 1000, "an empty close is answered with 1000");
});

Deno.test("two pings in one read are both answered, in order", async () => {
  const { ws, client, done } = await pair();
  const reading = lines(ws, 1);
  await client.write(
    new Uint8Array([...frame(0x9, "one"), ...frame(0x9, "two"), ...frame(0x1, "x")]),
  );
  assert.deepEqual(await reading, ["x"]);
  const pongs = [await readFrame(client), await readFrame(client)];
  assert.deepEqual(pongs.map((p) => [p.opcode, new TextDecoder().decode(p.payload)]), [
    [0xa, "one"],
    [0xa, "two"],
  ]);
  done();
  await ws.done;
});

Deno.test("a 64-bit length with its top bit set is a protocol error, not a message too big", async () => {
  const header = new Uint8Array([0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]);
  assert.deepEqual(await outcome(header), { lines: [], code: 1002 });
});
