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

async function readFrame(client: Deno.Conn): Promise<{ opcode: number; payload: Uint8Array }> {
  const buffer = new Uint8Array(256);
  let have = 0;
  while (have < 2 || have < 2 + (buffer[1]! & 0x7f)) {
    const n = await client.read(buffer.subarray(have));
    if (n === null) throw new Error("closed");
    have += n;
  }
  return { opcode: buffer[0]! & 0x0f, payload: buffer.slice(2, 2 + (buffer[1]! & 0x7f)) };
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
