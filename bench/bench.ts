/**
 * `deno task bench`: starts the chat server (flood control off) and drives
 * it with real TCP clients through the scenarios of the reference load
 * generator in `shared/tools/chatload`, so the two can be compared:
 *
 * - A: 100 clients, 10 senders as fast as a window of 16 in-flight lines
 *   each allows, 64-byte payloads: raw fan-out throughput. Its latency is
 *   closed-loop (each line is stamped when it is actually sent, and a
 *   sender waits for room in its window), so it understates queueing.
 * - B, D and the soak send on a schedule and stamp each line with the time
 *   it was due: open-loop latency, which includes any time a line waited.
 * - B: 1,000 clients, 10 senders at 20 lines/s each (200k deliveries/s).
 * - C: 10,000 idle clients, held; memory. Two times: "join s" until every
 *   client has its own join line, "storm s" until every client has every
 *   line the join storm owes it (its roster and everyone else's join).
 * - D: 100 clients, 1 sender at 50 lines/s: latency at light load.
 * - soak: connection churn plus chat for `--duration` seconds; memory at
 *   start and end.
 * - LA, LB (on request, need redis-server): A and B with the clients spread
 *   over two server processes linked through Redis: what linking costs.
 *   They count the lines each server's senders said: in LA, a sender's
 *   window frees only once its line has reached the observer's server.
 * - LR (on request, needs redis-server): A's load on the first of two
 *   linked servers, the second holding one user in another room: what a
 *   server pays for lines none of its users hears (each server's CPU), and
 *   what A delivers on a linked server (against A, when both ran).
 *
 * Loss is measured on sampled receivers: each chat line carries its
 * sender's sequence number, and every sampled receiver must get every line
 * of every sender (they share one room); loss is the share that never
 * arrived, and lines out of order are counted apart ("ooo").
 *
 * Each scenario gets a fresh server. Prints a table, or one JSON line per
 * scenario with `--json`. The generator shares the machine with the server:
 * its CPU is reported so a reader can tell which of the two was the limit.
 *
 * @module
 */

import { parseArgs } from "node:util";
import process from "node:process";
import {
  closeLoad,
  IRC_PREFIX,
  LoadClient,
  LoadStats,
  nowMicros,
  payload,
  waitUntil,
} from "./load.ts";
import { messageOf, type ServerProcess, startServerProcess } from "../testing/server_process.ts";
import { startRedis } from "../testing/redis_server.ts";
import { ROSTER_LIMIT } from "../chat/protocol.ts";
import { compare } from "./compare.ts";

interface Scenario {
  name: string;
  clients: number;
  senders: number;
  /** Lines per second per sender; 0 = as fast as the window allows. */
  rate: number;
  window: number;
  size: number;
  duration: number;
  idle?: boolean;
  churn?: boolean;
  /** Server processes linked through a redis-server the bench starts
   * (clients are spread over them); 1 = one process, no Redis. */
  servers?: number;
  /** All the load on the first server; the second holds one user in
   * another room (see LR). */
  bystander?: boolean;
  /** The clients are IRC clients in `#lobby` (on `--irc-port`). */
  irc?: boolean;
}

/** The reference scenarios A and B: the others vary them. */
const A: Scenario = {
  name: "A",
  clients: 100,
  senders: 10,
  rate: 0,
  window: 16,
  size: 64,
  duration: 10,
};
const B: Scenario = {
  name: "B",
  clients: 1000,
  senders: 10,
  rate: 20,
  window: 0,
  size: 64,
  duration: 10,
};

const SCENARIOS: Record<string, Scenario> = {
  A,
  B,
  C: {
    name: "C",
    clients: 10000,
    senders: 0,
    rate: 0,
    window: 0,
    size: 0,
    duration: 10,
    idle: true,
  },
  D: { name: "D", clients: 100, senders: 1, rate: 50, window: 0, size: 64, duration: 10 },
  // A and B with IRC clients in #lobby, and with two linked servers.
  IA: { ...A, name: "IA", irc: true },
  IB: { ...B, name: "IB", irc: true },
  LA: { ...A, name: "LA", servers: 2 },
  LB: { ...B, name: "LB", servers: 2 },
  LR: { ...A, name: "LR", servers: 2, bystander: true },
  soak: {
    name: "soak",
    clients: 200,
    senders: 10,
    rate: 5,
    window: 0,
    size: 64,
    duration: 600,
    churn: true,
  },
};

/** Joins in progress at once while connecting, like chatload's --connect-window. */
const CONNECT_WINDOW = 64;
/** Receivers that parse payloads for latency; the rest only count lines. */
const LATENCY_SAMPLE_CLIENTS = 10;
/** How often the soak prints the server's RSS, to show the trend. */
const SOAK_SAMPLE_MS = 60_000;
/** Silence that means the server has finished sending the join storm. */
const SETTLE_QUIET_MS = 300;

/** What one scenario measured. */
export interface Result {
  scenario: string;
  clients: number;
  joinSeconds: number;
  /** C only: until every client had every line of the join storm. */
  stormSeconds?: number;
  sent: number;
  deliveriesPerSecond: number;
  loss: number;
  /** Payloads out of order or repeated at a sampled receiver. */
  outOfOrder: number;
  /** How latency was measured: from the line's due time (open) or from
   * when a window let it go (closed). */
  latency: "open-loop" | "closed-loop" | "none";
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  serverRssMiB: number;
  rssPerConnectionKiB: number;
  serverCpuPercent: number;
  generatorCpuPercent: number;
  rssStartMiB?: number;
  /** LR: each server's CPU seconds in the window, the loaded one first. */
  serverCpuSeconds?: number[];
  /** Linked scenarios: Redis's CPU seconds in the window. */
  redisCpuSeconds?: number;
  /** LA and LB: the lines said by each server's senders (client i is on
   * server i mod 2); the window's observer is on the last server. */
  sentByServer?: number[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function procFile(pid: number, file: string): Promise<string> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/${file}`], stdout: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout);
}

async function rss(pid: number): Promise<number> {
  return Number(/VmRSS:\s+(\d+)/.exec(await procFile(pid, "status"))?.[1] ?? 0) * 1024;
}

/** Server CPU time in seconds (user + system), from /proc/PID/stat. */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await procFile(pid, "stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // CLK_TCK is 100 on Linux
}

function generatorCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

async function connectAll(ports: number[], scenario: Scenario, stats: LoadStats) {
  const clients: LoadClient[] = new Array(scenario.clients);
  const sampleEvery = Math.max(
    1,
    Math.floor((scenario.clients - scenario.senders) / LATENCY_SAMPLE_CLIENTS),
  );
  let next = 0;
  const worker = async () => {
    while (next < scenario.clients) {
      const i = next++;
      const receiver = i >= scenario.senders;
      const port = scenario.bystander ? ports[0]! : ports[i % ports.length]!;
      clients[i] = await LoadClient.join(port, i, stats, {
        sampled: receiver && !scenario.idle && (i - scenario.senders) % sampleEvery === 0,
        observer: i === scenario.clients - 1,
        irc: scenario.irc,
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_WINDOW, scenario.clients) }, worker));
  return clients;
}

async function settle(clients: LoadClient[], maxMs = 60_000): Promise<void> {
  const deadline = performance.now() + maxMs;
  while (performance.now() < deadline) {
    const last = Math.max(...clients.map((c) => c.lastByteAt));
    if (performance.now() - last >= SETTLE_QUIET_MS) return;
    await sleep(50);
  }
}

/** Lines the join storm owes all clients together: each its own join,
 * its welcome, a roster of the (at most 50) users already there plus
 * "and K more" past 50, and the join of everyone after it. The sum does
 * not depend on the order in which they joined. */
export function stormLines(n: number): number {
  let total = 0;
  for (let before = 0; before < n; before++) {
    total += 2 + Math.min(before, ROSTER_LIMIT) + (before > ROSTER_LIMIT ? 1 : 0) +
      (n - 1 - before);
  }
  return total;
}

/** Waits (polling, at most 120 s) until the storm's every line arrived. */
async function stormDelivered(clients: LoadClient[]): Promise<void> {
  const expected = stormLines(clients.length);
  const deadline = performance.now() + 120_000;
  while (totalLines(clients) < expected && performance.now() < deadline) await sleep(20);
  if (totalLines(clients) < expected) {
    console.error(`C: the join storm delivered ${totalLines(clients)} of ${expected} lines`);
  }
}

function totalLines(clients: LoadClient[]): number {
  let sum = 0;
  for (const c of clients) sum += c.lines;
  return sum;
}

/** Sends for `ms`, paced at `rate` per sender or saturating a window;
 * returns the lines said, and counts them by sender in `bySender`. */
async function drive(
  clients: LoadClient[],
  scenario: Scenario,
  stats: LoadStats,
  ms: number,
  bySender: number[] = [],
) {
  const senders = clients.slice(0, scenario.senders);
  const prefix = scenario.irc ? IRC_PREFIX : "";
  const seq = bySender;
  senders.forEach((_, i) => (seq[i] = 0));
  stats.inFlight = senders.map(() => 0);
  let sent = 0;
  const end = performance.now() + ms;
  if (scenario.rate > 0) {
    const interval = 1e6 / scenario.rate;
    const start = nowMicros() + 1000;
    // Stagger senders so their lines do not all land in the same instant.
    const due = senders.map((_, i) => start + (interval * i) / senders.length);
    while (performance.now() < end) {
      await waitUntil(Math.min(...due));
      const now = nowMicros();
      for (let i = 0; i < senders.length; i++) {
        let batch = "";
        while ((due[i] as number) <= now) {
          batch += payload(i, ++seq[i]!, Math.round(due[i] as number), scenario.size, prefix);
          due[i]! += interval;
          sent++;
        }
        if (batch !== "") senders[i]!.send(batch).catch(() => {});
      }
    }
  } else {
    const wakers: ((() => void) | undefined)[] = senders.map(() => undefined);
    stats.onDelivered = (sender) => {
      const wake = wakers[sender];
      wakers[sender] = undefined;
      wake?.();
    };
    const timer = setTimeout(() => wakers.forEach((wake) => wake?.()), ms);
    await Promise.all(senders.map(async (sender, i) => {
      while (performance.now() < end) {
        const room = scenario.window - (stats.inFlight[i] as number);
        if (room <= 0) {
          await new Promise<void>((resolve) => (wakers[i] = resolve));
          continue;
        }
        const now = nowMicros();
        let batch = "";
        for (let k = 0; k < room; k++) batch += payload(i, ++seq[i]!, now, scenario.size, prefix);
        stats.inFlight[i]! += room;
        sent += room;
        await sender.send(batch).catch(() => {});
      }
    }));
    clearTimeout(timer);
    stats.onDelivered = undefined;
  }
  return sent;
}

async function runScenario(scenario: Scenario): Promise<Result> {
  const linked = (scenario.servers ?? 1) > 1;
  const redis = linked ? await startRedis() : undefined;
  const servers: ServerProcess[] = [];
  try {
    for (let i = 0; i < (scenario.servers ?? 1); i++) {
      const args = ["--flood-rate", "0", "--max-connections", "20000"];
      if (redis) args.push("--redis", redis.url);
      if (scenario.irc) args.push("--irc-port", "0");
      const server = await startServerProcess(args);
      if (scenario.irc) {
        const line = await server.waitForLog((l) => messageOf(l).startsWith("IRC on "));
        server.port = Number(/:(\d+)$/.exec(messageOf(line))![1]);
      }
      if (redis) await server.waitForLog((l) => l.includes("link to other servers up"));
      servers.push(server);
    }
    await sleep(300);
    const pids = servers.map((s) => s.pid);
    const ports = servers.map((s) => s.port);
    const rssBefore = await sum(pids, rss);
    const stats = new LoadStats();
    const joinStart = performance.now();
    const clients = await connectAll(ports, scenario, stats);
    const bystander = scenario.bystander ? await standBy(ports[1]!) : undefined;
    const joinSeconds = (performance.now() - joinStart) / 1000;
    let stormSeconds: number | undefined;
    if (scenario.idle) {
      await stormDelivered(clients);
      stormSeconds = (performance.now() - joinStart) / 1000;
    }
    await settle(clients);
    for (const c of clients) c.lines = 0;

    const cpu0s = await Promise.all(pids.map(cpuSeconds));
    const redisCpu0 = redis ? await cpuSeconds(redis.pid) : 0;
    const cpu0 = cpu0s.reduce((a, b) => a + b, 0);
    const gen0 = generatorCpuSeconds();
    const t0 = performance.now();
    let sent = 0;
    const bySender: number[] = [];
    let rssStart: number | undefined;
    if (scenario.idle) {
      await sleep(scenario.duration * 1000);
    } else if (scenario.churn) {
      rssStart = await sum(pids, rss);
      sent = await soak(ports[0]!, pids, clients, scenario, stats);
    } else {
      sent = await drive(clients, scenario, stats, scenario.duration * 1000, bySender);
    }
    const elapsed = (performance.now() - t0) / 1000;
    const inWindow = totalLines(clients);
    const cpu1s = await Promise.all(pids.map(cpuSeconds));
    const redisCpu = redis ? await cpuSeconds(redis.pid) - redisCpu0 : undefined;
    const serverCpu = cpu1s.reduce((a, b) => a + b, 0) - cpu0;
    const generatorCpu = generatorCpuSeconds() - gen0;
    const rssAfter = await sum(pids, rss);

    // Drain: let the server deliver what it still has queued.
    const sampled = clients.filter((c) => c.sampled).length;
    const expected = sent * sampled;
    const drainEnd = performance.now() + 10_000;
    let received = stats.sampledPayloads;
    let lastChange = performance.now();
    while (received < expected && performance.now() < drainEnd) {
      await sleep(50);
      const now = stats.sampledPayloads;
      if (now !== received) lastChange = performance.now();
      received = now;
      if (performance.now() - lastChange > 2_000) break;
    }
    for (const c of clients) c.close();
    await Promise.all(clients.map((c) => c.done));
    await bystander?.close();
    return {
      scenario: scenario.name,
      clients: scenario.clients,
      joinSeconds: round(joinSeconds, 2),
      ...(stormSeconds === undefined ? {} : { stormSeconds: round(stormSeconds, 2) }),
      sent,
      deliveriesPerSecond: Math.round(inWindow / elapsed),
      loss: expected === 0 ? 0 : round(Math.max(0, 1 - received / expected), 6),
      outOfOrder: stats.outOfOrder,
      latency: sent === 0 ? "none" : scenario.rate > 0 ? "open-loop" : "closed-loop",
      p50Ms: round(stats.latency.percentile(50) / 1000, 3),
      p99Ms: round(stats.latency.percentile(99) / 1000, 3),
      p999Ms: round(stats.latency.percentile(99.9) / 1000, 3),
      serverRssMiB: round(rssAfter / 2 ** 20, 1),
      rssPerConnectionKiB: round((rssAfter - rssBefore) / scenario.clients / 1024, 2),
      serverCpuPercent: Math.round((serverCpu / elapsed) * 100),
      generatorCpuPercent: Math.round((generatorCpu / elapsed) * 100),
      ...(rssStart === undefined ? {} : { rssStartMiB: round(rssStart / 2 ** 20, 1) }),
      ...(scenario.bystander
        ? { serverCpuSeconds: cpu1s.map((cpu, i) => round(cpu - cpu0s[i]!, 3)) }
        : {}),
      ...(redisCpu === undefined ? {} : { redisCpuSeconds: round(redisCpu, 3) }),
      ...(linked && !scenario.bystander
        ? { sentByServer: perServer(bySender, servers.length) }
        : {}),
    };
  } finally {
    for (const server of servers) await server.stop();
    await redis?.stop();
  }
}

/** Sums each sender's count into its server's (sender i is on server i
 * mod `servers`). */
export function perServer(bySender: number[], servers: number): number[] {
  const sums = Array.from({ length: servers }, () => 0);
  bySender.forEach((count, i) => (sums[i % servers]! += count));
  return sums;
}

/** LR's bystander: a user on `port` in a room of its own, reading (and
 * dropping) whatever comes, until closed. */
async function standBy(port: number): Promise<{ close(): Promise<void> }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode("/join elsewhere\n"));
  const reading = (async () => {
    const buffer = new Uint8Array(16_384);
    try {
      while ((await conn.read(buffer)) !== null);
    } catch {
      // Closed under the read: done.
    }
  })();
  return {
    close: async () => {
      conn.close();
      await reading;
    },
  };
}

/** Adds up a per-process figure over the server processes. */
async function sum(pids: number[], read: (pid: number) => Promise<number>): Promise<number> {
  let total = 0;
  for (const pid of pids) total += await read(pid);
  return total;
}

/** Soak: chat at a steady rate while waves of clients connect, say a line
 * and leave, for the whole duration. Every loop is bounded by the clock. */
async function soak(
  port: number,
  pids: number[],
  clients: LoadClient[],
  scenario: Scenario,
  stats: LoadStats,
) {
  const end = performance.now() + scenario.duration * 1000;
  const chat = drive(clients, scenario, stats, scenario.duration * 1000);
  let waves = 0;
  let nextSample = performance.now() + SOAK_SAMPLE_MS;
  while (performance.now() < end) {
    if (performance.now() >= nextSample) {
      nextSample += SOAK_SAMPLE_MS;
      const mib = (await sum(pids, rss)) / 2 ** 20;
      console.error(`soak: ${waves * 100} connections churned, server RSS ${mib.toFixed(1)} MiB`);
    }
    const wave = await Promise.all(
      Array.from({ length: 100 }, () => Deno.connect({ hostname: "127.0.0.1", port })),
    );
    await Promise.all(wave.map((c) => c.write(new TextEncoder().encode("hello and goodbye\n"))));
    await sleep(100);
    for (const c of wave) c.close();
    waves++;
    await sleep(400);
  }
  const sent = await chat;
  console.error(`soak: ${waves * 100} connections churned`);
  return sent;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function table(results: Result[]): string {
  const head = [
    "scen",
    "clients",
    "join s",
    "storm s",
    "deliv/s",
    "loss",
    "ooo",
    "latency",
    "p50 ms",
    "p99 ms",
    "p999 ms",
    "RSS MiB",
    "KiB/conn",
    "srv CPU%",
    "gen CPU%",
  ];
  const rows = results.map((r) => [
    r.scenario,
    String(r.clients),
    r.joinSeconds.toFixed(2),
    r.stormSeconds === undefined ? "-" : r.stormSeconds.toFixed(2),
    r.deliveriesPerSecond.toLocaleString("en-US"),
    r.loss.toFixed(4),
    String(r.outOfOrder),
    r.latency === "none" ? "-" : r.latency.replace("-loop", ""),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
    r.p999Ms.toFixed(2),
    r.rssStartMiB === undefined
      ? r.serverRssMiB.toFixed(1)
      : `${r.rssStartMiB.toFixed(1)}→${r.serverRssMiB.toFixed(1)}`,
    r.rssPerConnectionKiB.toFixed(2),
    String(r.serverCpuPercent),
    String(r.generatorCpuPercent),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    "| " + cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ") + " |";
  const notes = [
    ...results.filter((r) => r.serverCpuSeconds !== undefined).map(bystanderNote),
    ...results.filter((r) => r.redisCpuSeconds !== undefined).map(redisNote),
    ...results.filter((r) => r.sentByServer !== undefined).map(splitNote),
    ...linkedNotes(results),
  ];
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line), ...notes]
    .join("\n");
}

/** A linked scenario's Redis: its CPU in the window, per line said. */
export function redisNote(r: Result): string {
  const cpu = r.redisCpuSeconds ?? 0;
  const perLine = r.sent > 0 ? (cpu / r.sent) * 1e6 : 0;
  return `\n${r.scenario}: Redis ${cpu.toFixed(2)} CPU s, ${perLine.toFixed(2)} µs per line said ` +
    `(${r.sent.toLocaleString("en-US")} lines)`;
}

/** What linking costs A, when A ran in the same run as LR (A's load on a
 * linked server) or LA (the clients spread over two): each one's median
 * deliveries per second against A's. */
export function linkedNotes(results: Result[]): string[] {
  const a = median(results, "A");
  if (a === undefined) return [];
  const what: Record<string, string> = {
    LR: "A's load on the first of two linked servers",
    LA: "A's clients spread over two linked servers",
  };
  return Object.entries(what).flatMap(([name, how]) => {
    const linked = median(results, name);
    return linked === undefined ? [] : [`\n${name} (${how}): ${(linked / a).toFixed(2)}x A`];
  });
}

/** The median deliveries per second of `scenario`'s rounds. */
function median(results: Result[], scenario: string): number | undefined {
  const all = results.filter((r) => r.scenario === scenario).map((r) => r.deliveriesPerSecond)
    .sort((x, y) => x - y);
  if (all.length === 0) return undefined;
  const mid = Math.floor(all.length / 2);
  return all.length % 2 === 1 ? all[mid]! : (all[mid - 1]! + all[mid]!) / 2;
}

/** A linked closed-loop scenario: how much the senders whose lines cross
 * to the observer's server said, against those on that server. A sender's
 * window frees when the observer sees its line, so this is what a line's
 * trip between servers costs in throughput. */
export function splitNote(r: Result): string {
  const counts = r.sentByServer ?? [];
  const said = counts.map((n) => n.toLocaleString("en-US")).join(" / ");
  const local = counts.at(-1) ?? 0;
  const crossing = counts[0] ?? 0;
  const ratio = local > 0 ? (crossing / local).toFixed(2) : "-";
  return `\n${r.scenario}: lines said by each server's senders ${said} ` +
    `(the observer is on server ${counts.length}): those crossing said ${ratio}x as many`;
}

/** LR's figures: what the second server spent on lines said on the first. */
export function bystanderNote(r: Result): string {
  const [loaded, other] = r.serverCpuSeconds ?? [0, 0];
  const share = loaded! > 0 ? (other! / loaded!) * 100 : 0;
  const perLine = r.sent > 0 ? (other! / r.sent) * 1e6 : 0;
  return `\n${r.scenario}: server 1 (the load) ${
    loaded!.toFixed(2)
  } CPU s, server 2 (one user in ` +
    `another room) ${other!.toFixed(2)} CPU s: ${share.toFixed(1)}% of server 1, ` +
    `${perLine.toFixed(2)} µs per line said on server 1 (${r.sent.toLocaleString("en-US")} lines)`;
}

async function main(): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: Deno.args,
      options: {
        scenario: { type: "string", default: "A,B,C,D" },
        duration: { type: "string" },
        clients: { type: "string" },
        json: { type: "boolean", default: false },
        compare: { type: "boolean", default: false },
        rounds: { type: "string", default: "3" },
        workers: { type: "string", default: "1" },
        floor: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }).values;
  } catch (error) {
    console.error(`bench: ${error instanceof Error ? error.message : error}`);
    return 2;
  }
  if (values.help) {
    console.log(
      "Usage: deno task bench [--scenario A,B,C,D,IA,IB,LA,LB,LR,soak] [--duration SECONDS] " +
        "[--clients N] [--json]\n" +
        "       deno task bench --compare [--rounds N] [--scenario A,B,C,D] [--workers 1,2]" +
        " [--floor]\n" +
        "         (beside the C epoll server, one run, ratios; --floor adds bench/floor.ts,\n" +
        "         the least a Deno server does for these scenarios)",
    );
    return 0;
  }
  const names = values.scenario.split(",").map((s) => s.trim());
  const unknown = names.filter((n) => !(n in SCENARIOS));
  if (unknown.length > 0) {
    console.error(
      `bench: unknown scenario ${
        unknown.join(", ")
      } (choose from A, B, C, D, IA, IB, LA, LB, LR, soak)`,
    );
    return 2;
  }
  if (values.compare) {
    const rounds = Number(values.rounds);
    if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= 20)) {
      console.error("bench: --rounds must be a whole number from 1 to 20");
      return 2;
    }
    const plain = names.filter((n) => ["A", "B", "C", "D"].includes(n));
    if (plain.length !== names.length) {
      console.error("bench: --compare runs the scenarios A, B, C and D only");
      return 2;
    }
    const workers = values.workers.split(",").map(Number);
    if (!workers.every((n) => Number.isInteger(n) && n >= 1 && n <= 64)) {
      console.error("bench: --workers takes worker counts from 1 to 64, as in 1,2");
      return 2;
    }
    return await compare(rounds, names, workers, values.floor);
  }
  const duration = values.duration === undefined ? undefined : Number(values.duration);
  if (duration !== undefined && !(duration > 0 && duration <= 3600)) {
    console.error("bench: --duration must be a number of seconds from 1 to 3600");
    return 2;
  }
  const clients = values.clients === undefined ? undefined : Number(values.clients);
  if (clients !== undefined && !(Number.isInteger(clients) && clients >= 2 && clients <= 20_000)) {
    console.error("bench: --clients must be a whole number from 2 to 20000");
    return 2;
  }
  const results: Result[] = [];
  for (const name of names) {
    const scenario = {
      ...SCENARIOS[name]!,
      ...(duration ? { duration } : {}),
      ...(clients ? { clients } : {}),
    };
    const result = await runScenario(scenario);
    results.push(result);
    if (values.json) console.log(JSON.stringify(result));
    else console.error(`scenario ${name} done`);
  }
  if (!values.json) console.log(table(results));
  closeLoad();
  return 0;
}

if (import.meta.main) Deno.exit(await main());
