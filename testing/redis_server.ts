/**
 * A real `redis-server` for tests, on a free loopback port, stopped and
 * restarted at will (to test what happens when Redis goes away).
 *
 * Where redis-server is not installed the Redis tests are skipped, so the
 * README's test command still passes on a machine with only Node.js and
 * npm; CI installs it and sets MARQUEE_REQUIRE_REDIS=1, which turns the skip
 * into a failure, so CI can never pass without running them.
 *
 * @module
 */

import { haveTool } from "./tools.ts";

/** Whether redis-server can be run here (required in CI). */
export const HAVE_REDIS: boolean = haveTool({
  name: "redis",
  command: "redis-server",
  args: ["--version"],
  needed: "the linked-server tests",
});

/** A running redis-server. */
export interface RedisServer {
  port: number;
  /** The process's id (0 while stopped). */
  readonly pid: number;
  url: string;
  /** Stops it (SIGTERM) and waits for the process to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** Sends a signal to the process: SIGSTOP freezes it (connections stay
   * open, nothing answers), SIGCONT thaws it. */
  signal(signal: Deno.Signal): void;
  /** Runs one command over a raw connection and returns the reply's first
   * line (enough for PUBLISH, SET, GET of short values). */
  command(...args: string[]): Promise<string>;
  /** How many connections are subscribed to `channel` (PUBSUB NUMSUB). */
  subscribers(channel: string): Promise<number>;
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

async function ping(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    try {
      await conn.write(new TextEncoder().encode("PING\r\n"));
      const buffer = new Uint8Array(16);
      const n = await conn.read(buffer);
      const reply = n === null ? "" : new TextDecoder().decode(buffer.subarray(0, n));
      // A password-protected server answers NOAUTH: it is up all the same.
      return reply.startsWith("+PONG") || reply.startsWith("-NOAUTH");
    } finally {
      conn.close();
    }
  } catch {
    return false;
  }
}

/** Starts redis-server on a free port, without persistence; `args` are
 * added to its command line (`--requirepass`, say). */
export async function startRedis(options: { args?: string[] } = {}): Promise<RedisServer> {
  const port = freePort();
  let child: Deno.ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    child = new Deno.Command("redis-server", {
      args: [
        ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        ...options.args ?? [],
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    for (let i = 0; i < 100; i++) {
      if (await ping(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`Cannot start redis-server on port ${port}`);
  };
  await launch();
  return {
    port,
    get pid() {
      return child?.pid ?? 0;
    },
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      if (child === undefined) return;
      const running = child;
      child = undefined;
      running.kill("SIGTERM");
      await running.status;
    },
    restart: launch,
    signal: (signal) => child?.kill(signal),
    command: (...args) => redisCommand(port, args),
    subscribers: (channel) => subscribers(port, channel),
  };
}

/** Encodes `args` as a RESP array of bulk strings. */
function encodeCommand(args: string[]): Uint8Array {
  const encoder = new TextEncoder();
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${encoder.encode(arg).length}\r\n${arg}\r\n`);
  return encoder.encode(parts.join(""));
}

/** PUBSUB NUMSUB's count: the reply is an array (channel, count), read
 * until its count has come. */
async function subscribers(port: number, channel: string): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = encodeCommand(["PUBSUB", "NUMSUB", channel]);
    for (let written = 0; written < request.length;) {
      written += await conn.write(request.subarray(written));
    }
    const buffer = new Uint8Array(4096);
    let reply = "";
    while (!/\r\n:\d+\r\n$/.test(reply)) {
      const n = await conn.read(buffer);
      if (n === null) throw new Error(`Cannot read PUBSUB NUMSUB's reply: ${reply}`);
      reply += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return Number(/:(\d+)\r\n$/.exec(reply)?.[1]);
  } finally {
    conn.close();
  }
}

/** Runs `args` on the Redis at `port` over a connection of its own; the
 * reply's first line, as Redis sent it (`+OK`, `:1`, `$5`, `-MOVED ...`). */
export async function redisCommand(port: number, args: string[]): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const request = encodeCommand(args);
    for (let written = 0; written < request.length;) {
      written += await conn.write(request.subarray(written));
    }
    const buffer = new Uint8Array(4096);
    let reply = "";
    while (!reply.includes("\r\n")) {
      const n = await conn.read(buffer);
      if (n === null) break;
      reply += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return reply.split("\r\n")[0] as string;
  } finally {
    conn.close();
  }
}
