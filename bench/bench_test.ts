import assert from "node:assert/strict";
import {
  bystanderNote,
  linkedNotes,
  perServer,
  redisNote,
  type Result,
  splitNote,
  stormLines,
} from "./bench.ts";
import { FLOOR_NAME, marqueeCommand, parseSummary, ratios, ratioTable } from "./compare.ts";
import { Floor } from "./floor.ts";
import { IRC_PREFIX, payload } from "./load.ts";
import { TestClient } from "../testing/chat_client.ts";

Deno.test("stormLines counts each client's join, welcome, roster and later joins", () => {
  // Three clients: each gets its join and welcome (2), the users before it
  // (0, 1, 2) and the joins after it (2, 1, 0): 4 lines each.
  assert.equal(stormLines(3), 12);
  // Past 50 users the roster stops at 50 and adds "and K more".
  const n = 52;
  let expected = 0;
  for (let before = 0; before < n; before++) {
    const roster = before <= 50 ? before : 51;
    expected += 2 + roster + (n - 1 - before);
  }
  assert.equal(stormLines(n), expected);
  assert.equal(stormLines(52) - stormLines(51), 2 + 51 + 51, "the 52nd sees 50 + 'and 1 more'");
});

Deno.test("--compare turns compare.sh's medians into ratios to the C server", () => {
  const summary = [
    "| server | scen | runs | ready/clients | connect s | sent/s | deliv/s | loss (max) | p50 ms | p90 ms | p99 ms | p999 ms | max ms | srv CPU% | loadgen CPU% | sys busy% (softirq) | other procs % | srv RSS KiB | RSS/conn B |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    "| c-epoll | A | 3 | 100/100 | 0.01 | 75822 | 7505376 | 0.0000 | 1.528 | 2.320 | 3.152 | 4.768 | 10.952 | 78 | 99 | 179 (44) | 2 | 3100 | - |",
    "| marquee | A | 3 | 100/100 | 0.04 | 49088 | 4858132 | 0.0000 | 2.544 | 4.448 | 10.304 | 18.048 | 22.905 | 112 | 73 | 185 (22) | 1 | 97288 | - |",
    "| c-epoll | C | 3 | 10000/10000 | 6.82 | - | - | - | - | - | - | - | - | 0 | 0 | 1 (0) | 1 | 23432 | 2238 |",
    "| marquee | C | 3 | 10000/10000 | 3.71 | - | - | - | - | - | - | - | - | 0 | 0 | 1 (0) | 1 | 304936 | 26213 |",
  ].join("\n");
  const list = ratios(parseSummary(summary));
  const by = (measure: string) => list.find((r) => r.measure === measure)!;
  assert.equal(by("deliveries/s").ratio.toFixed(2), "0.65");
  assert.equal(by("RSS per connection, B").ratio.toFixed(1), "11.7");
  assert.equal(by("10,000 connected, s").ratio.toFixed(2), "0.54");
  assert.equal(list.filter((r) => r.scenario === "B").length, 0, "no B rows: not in the summary");
  assert.match(ratioTable(list, 2), /^Marquee \/ C epoll, one run, medians, 2 cores:/);
});

Deno.test("--compare --floor puts the runtime floor's ratio beside Marquee's", () => {
  const summary = [
    "| c-epoll | D | 3 | 100/100 | 0.01 | 50 | 4950 | 0.0000 | 0.9 | 1.1 | 1.500 | 1.7 | 2.0 | 2 | 2 | 0 (0) | 0 | 1648 | - |",
    "| marquee | D | 3 | 100/100 | 0.04 | 50 | 4950 | 0.0000 | 1.4 | 2.0 | 4.500 | 4.8 | 8.7 | 6 | 3 | 3 (1) | 0 | 62828 | - |",
    `| ${FLOOR_NAME} | D | 3 | 100/100 | 0.05 | 50 | 4950 | 0.0000 | 1.3 | 1.7 | 3.000 | 3.4 | 3.9 | 5 | 3 | 1 (0) | 0 | 49272 | - |`,
  ].join("\n");
  const rows = parseSummary(summary);
  const table = ratioTable(ratios(rows), 2, ratios(rows, FLOOR_NAME));
  assert.match(table, /\| Deno floor \| floor \/ C \|$/m);
  assert.match(table, /^\| D \| p99 ms \| 1\.5 \| 4\.5 \| 3\.00× \| 3 \| 2\.00× \|$/m);
});

Deno.test("The runtime floor speaks what the load generator needs: joins, lines to the others, leaves", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const floor = new Floor();
  const serving: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) serving.push(floor.serve(conn));
  })();
  const { port } = listener.addr;
  const first = await TestClient.connect(port);
  assert.equal(await first.readLine(), "* user1 joined the chat");
  const second = await TestClient.connect(port);
  assert.equal(await second.readLine(), "* user2 joined the chat");
  assert.equal(await first.readLine(), "* user2 joined the chat");
  await second.send("hello\r\n\r\nagain");
  assert.equal(await first.readLine(), "[user2]: hello");
  assert.equal(await first.readLine(), "[user2]: again");
  await second.close();
  assert.equal(await first.readLine(), "* user2 left the chat");
  assert.deepEqual(second.buffered, [], "no echo of its own lines");
  await first.close();
  listener.close();
  await accepting;
  await Promise.all(serving);
});

Deno.test("bench:idle measures what an idle TCP and an idle WebSocket connection cost", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--expose-gc",
      "--allow-net=127.0.0.1",
      "--allow-read=.",
      "--allow-run",
      "--allow-env",
      "bench/idle_memory.ts",
      "--clients",
      "300",
    ],
    stderr: "inherit",
  }).output();
  assert.equal(output.code, 0);
  const text = new TextDecoder().decode(output.stdout);
  for (const transport of ["tcp", "ws"]) {
    const bytes = Number(text.match(new RegExp(`^${transport}: (-?\\d+) B`, "m"))?.[1]);
    // A session is an actor, an Outbox and a line reader: kilobytes, not
    // bytes, and far from the 64 KiB an idle WebSocket once cost.
    assert.ok(bytes > 2_000 && bytes < 30_000, `${transport}: ${bytes} B in\n${text}`);
  }
  assert.match(text, /^WebSocket \/ TCP: \d+\.\d{3}$/m);
});

Deno.test("an IRC bench client's payload is the same line behind PRIVMSG, its size unchanged", () => {
  const plain = payload(3, 7, 1000, 64);
  const irc = payload(3, 7, 1000, 64, IRC_PREFIX);
  assert.equal(plain.length, 65, "64 bytes and the LF");
  assert.equal(irc, `PRIVMSG #lobby :${plain}`);
});

Deno.test("bench --compare runs Marquee as shipped, history on in a data directory of its own, and with history off", async () => {
  const shipped = await marqueeCommand(1);
  assert.match(shipped, /^marquee=sh -c 'rm -rf "\$\{TMPDIR:-\/tmp\}\/marquee-bench-marquee" && /);
  assert.match(shipped, / --history on --data-dir \$\{TMPDIR:-\/tmp\}\/marquee-bench-marquee /);
  assert.match(shipped, / --allow-write=\$\{TMPDIR:-\/tmp\}\/marquee-bench-marquee /);
  assert.doesNotMatch(shipped, /\.\/marquee-data/, "never the data directory of deno task chat");
  const off = await marqueeCommand(2, false);
  assert.match(off, /^marquee-w2-history-off=sh -c /);
  assert.match(off, / --history off .* --workers 2'$/);
});

Deno.test("a linked scenario's note says what Redis spent per line said", () => {
  const result = { scenario: "LA", sent: 400_000, redisCpuSeconds: 0.5 } as unknown as Result;
  assert.equal(redisNote(result), "\nLA: Redis 0.50 CPU s, 1.25 µs per line said (400,000 lines)");
});

Deno.test("LR's note says what the second server spent on lines said on the first", () => {
  const result = {
    scenario: "LR",
    sent: 400_000,
    serverCpuSeconds: [10, 0.2],
  } as unknown as Result;
  assert.equal(
    bystanderNote(result),
    "\nLR: server 1 (the load) 10.00 CPU s, server 2 (one user in another room) 0.20 CPU s: " +
      "2.0% of server 1, 0.50 µs per line said on server 1 (400,000 lines)",
  );
});

Deno.test("a linked scenario sums its senders by server and says how much the crossing ones said", () => {
  assert.deepEqual(perServer([30, 40, 31, 41, 29], 2), [90, 81]);
  const result = { scenario: "LA", sentByServer: [132_000, 210_000] } as unknown as Result;
  assert.equal(
    splitNote(result),
    "\nLA: lines said by each server's senders 132,000 / 210,000 (the observer is on server 2): " +
      "those crossing said 0.63x as many",
  );
});

Deno.test("A linked and A alone in one run are compared by their medians", () => {
  const round = (scenario: string, deliveriesPerSecond: number) =>
    ({ scenario, deliveriesPerSecond }) as unknown as Result;
  const results = [
    round("A", 5_000_000),
    round("LR", 4_500_000),
    round("A", 4_000_000),
    round("LR", 3_000_000),
    round("A", 6_000_000),
    round("LR", 4_000_000),
  ];
  assert.deepEqual(linkedNotes(results), [
    "\nLR (A's load on the first of two linked servers): 0.80x A",
  ]);
  assert.deepEqual(linkedNotes([round("A", 4e6), round("A", 6e6), round("LA", 3e6)]), [
    "\nLA (A's clients spread over two linked servers): 0.60x A",
  ]);
  assert.deepEqual(linkedNotes(results.filter((r) => r.scenario === "LR")), []);
});
