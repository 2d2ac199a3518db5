/**
 * Replays a README transcript against a real server, checking the order of
 * everything each terminal shows, typed lines included, and that nothing
 * else arrives.
 *
 * A transcript is one block per terminal. In a block, `$ nc ...` connects,
 * a line starting with `* `, `! ` or `[` is one the server must send next,
 * and any other line is typed. The replay runs one action at a time (a
 * connect, a typed line, or closing a terminal whose block is done), the
 * first terminal able to act going first; after each action every open
 * terminal is probed (`/rooms`, whose reply marks the end of what the
 * server had queued for it) and what arrived must be exactly the next
 * lines of its block. A block whose order cannot happen fails: a line
 * arrives where the block says something is typed, or no terminal can act.
 *
 * @module
 */

import assert from "node:assert/strict";
import { TestClient } from "./chat_client.ts";

interface Terminal {
  name: string;
  items: string[];
  next: number;
  client?: TestClient;
  closed: boolean;
}

const isServerLine = (line: string): boolean => /^(\* |\[|! )/.test(line);

/** Replays `blocks` (terminal name → its lines) against the chat on `port`. */
export async function replayTranscript(port: number, blocks: [string, string[]][]): Promise<void> {
  const terminals: Terminal[] = blocks.map(([name, items]) => ({
    name,
    items,
    next: 0,
    closed: false,
  }));
  try {
    while (terminals.some((t) => !t.closed)) {
      const actor = terminals.find((t) => !t.closed && !isServerLine(t.items[t.next] ?? "$"));
      if (actor === undefined) {
        const stuck = terminals.filter((t) => !t.closed).map((t) =>
          `${t.name}: ${t.items[t.next]}`
        );
        throw new Error(`The transcript cannot go on; still expected: ${stuck.join("; ")}`);
      }
      await act(port, actor);
      for (const terminal of terminals) await settle(terminal);
    }
  } finally {
    await Promise.all(terminals.map((t) => t.client?.close()));
  }
}

/** Connects, types the next line, or closes a terminal whose block is done. */
async function act(port: number, terminal: Terminal): Promise<void> {
  const item = terminal.items[terminal.next];
  if (item === undefined) {
    if (terminal.client && !terminal.client.closedByServer) {
      assert.deepEqual(
        await terminal.client.linesBeforeProbe(),
        [],
        `${terminal.name}: at the end`,
      );
    }
    await terminal.client?.close();
    terminal.closed = true;
    return;
  }
  terminal.next++;
  if (item.startsWith("$ nc ")) {
    terminal.client = await TestClient.connect(port);
    return;
  }
  assert.ok(terminal.client, `${terminal.name} types before connecting`);
  await terminal.client.send(item);
  if (item.toLowerCase().startsWith("/quit")) {
    assert.ok(await terminal.client.waitForEof(), `${terminal.name}: /quit closes`);
  }
}

/** Checks that what reached `terminal` since the last action is exactly the
 * next lines of its block. */
async function settle(terminal: Terminal): Promise<void> {
  const client = terminal.client;
  if (client === undefined || terminal.closed) return;
  const arrived = client.closedByServer ? client.buffered.slice() : await client.linesBeforeProbe();
  for (const line of arrived) {
    const expected = terminal.items[terminal.next];
    assert.equal(line, expected, `${terminal.name}: line ${terminal.next + 1} of its block`);
    terminal.next++;
  }
}
