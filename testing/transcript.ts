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
import { LINE_TIMEOUT_MS, TestClient } from "./chat_client.ts";
import { pollUntil } from "./within.ts";

interface Terminal {
  name: string;
  items: string[];
  next: number;
  client?: TestClient;
  closed: boolean;
}

const isServerLine = (line: string): boolean => /^(\* |\[|! )/.test(line);

/** Replays `blocks` (terminal name → its lines) against the chat on `port`;
 * `settle` (the test server's) runs after each action, before the probes. */
export async function replayTranscript(
  port: number,
  blocks: [string, string[]][],
  settle: () => Promise<void> = () => Promise.resolve(),
): Promise<void> {
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
        // Every open terminal waits for a line that no probe brought: one
        // that another worker sends, or the leave of a closed terminal.
        if (await lateLine(terminals)) continue;
        const stuck = terminals.filter((t) => !t.closed).map((t) =>
          `${t.name}: ${t.items[t.next]}`
        );
        throw new Error(`The transcript cannot go on; still expected: ${stuck.join("; ")}`);
      }
      await act(port, actor);
      // The actor's own probe first: its server has then handled the action.
      await probe(actor);
      await settle();
      for (const terminal of terminals) await probe(terminal);
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

/** Waits for a line to reach any open terminal; it must be the next line
 * of that terminal's block. False if none came in time. */
async function lateLine(terminals: Terminal[]): Promise<boolean> {
  const waiting = () => terminals.find((t) => !t.closed && (t.client?.buffered.length ?? 0) > 0);
  try {
    await pollUntil(
      "a line for a waiting terminal",
      () => waiting() !== undefined,
      LINE_TIMEOUT_MS,
    );
  } catch {
    return false;
  }
  const terminal = waiting() as Terminal;
  const line = await (terminal.client as TestClient).readLine();
  assert.equal(line, terminal.items[terminal.next], `${terminal.name}: line ${terminal.next + 1}`);
  terminal.next++;
  return true;
}

/** Checks that what reached `terminal` since the last action is exactly the
 * next lines of its block. */
async function probe(terminal: Terminal): Promise<void> {
  const client = terminal.client;
  if (client === undefined || terminal.closed) return;
  const arrived = client.closedByServer ? client.buffered.slice() : await client.linesBeforeProbe();
  for (const line of arrived) {
    const expected = terminal.items[terminal.next];
    assert.equal(line, expected, `${terminal.name}: line ${terminal.next + 1} of its block`);
    terminal.next++;
  }
}
