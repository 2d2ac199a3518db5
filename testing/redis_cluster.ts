/**
 * A real Redis Cluster for tests: three masters (`redis-server
 * --cluster-enabled yes`) on free loopback ports, joined by `redis-cli
 * --cluster create`, each in a directory of its own with an append-only
 * file, so a master stopped and started again comes back with its slots
 * and its keys. Needs redis-server and redis-cli (Debian's redis-server
 * brings both); skipped with the other Redis tests where they are missing.
 *
 * @module
 */

import { pollUntil } from "./within.ts";
import { redisCommand } from "./redis_server.ts";

/** A running cluster. */
export interface RedisCluster {
  /** Each master's port, in the order their slots run (0-5460, ...). */
  ports: number[];
  /** `redis://127.0.0.1:PORT` of master `i` (`rediss://` with TLS). */
  url(i: number): string;
  /** Master `i`'s reply to a command, as redis-cli prints it. */
  cli(i: number, ...args: string[]): Promise<string>;
  /** Runs a command on the master that owns its key or channel (asked of
   * master 0, then of the one its `MOVED` names); the reply's first line. */
  command(...args: string[]): Promise<string>;
  /** Empties every master (FLUSHALL on each). */
  flushAll(): Promise<void>;
  /** Stops master `i` (SIGTERM) and starts it again in the same
   * directory, then waits until the cluster says it is whole. */
  restart(i: number): Promise<void>;
  /** Stops every master (SIGTERM), keeping what they saved. */
  down(): Promise<void>;
  /** Starts every master again, then waits until the cluster is whole. */
  up(): Promise<void>;
  /** Sends a signal to every master (SIGSTOP freezes, SIGCONT thaws). */
  signal(signal: Deno.Signal): void;
  /** Stops every master and removes their directories. */
  stop(): Promise<void>;
}

/** A free port whose cluster bus port (+10000) is free too. */
function freePair(taken: Set<number>): number {
  for (let tries = 0; tries < 100; tries++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.has(port) || !free(port) || !free(port + 10_000)) continue;
    taken.add(port);
    return port;
  }
  throw new Error("Cannot find free ports for a Redis Cluster");
}

function free(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

/** redis-cli's output; killed after 20 s (`--cluster create` waits for
 * ever for masters that cannot reach each other). */
async function runCli(port: number, args: string[], flags: string[]): Promise<string> {
  const out = await new Deno.Command("redis-cli", {
    args: ["-h", "127.0.0.1", "-p", String(port), ...flags, ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(20_000),
  }).output();
  if (out.signal !== null) throw new Error(`redis-cli ${args.join(" ")}: no answer in 20 s`);
  return new TextDecoder().decode(out.stdout).trim();
}

/** What a cluster may be asked for: see {@linkcode startRedisCluster}. */
export interface ClusterOptions {
  password?: string;
  persistent?: boolean;
  /** PEM files: the masters then speak only TLS, to clients and to each
   * other (`rediss://` URLs). */
  tls?: { cert: string; key: string; ca: string };
}

/** Starts a three-master cluster and waits until it serves every slot;
 * with a `password`, every master asks for it. `command` and `flushAll`
 * send no password and speak no TLS. Its masters keep an append-only
 * file unless `persistent` is false. */
export async function startRedisCluster(options: ClusterOptions = {}): Promise<RedisCluster> {
  const { password, tls } = options;
  const appendOnly = options.persistent === false ? "no" : "yes";
  const auth = password === undefined ? [] : ["--requirepass", password, "--masterauth", password];
  const cliFlags = [
    ...(password === undefined ? [] : ["-a", password, "--no-auth-warning"]),
    ...(tls === undefined ? [] : ["--tls", "--cacert", tls.ca]),
  ];
  const cli = (port: number, args: string[]) => runCli(port, args, cliFlags);
  // With TLS, the port is its TLS port and the bus (port + 10000) is TLS too.
  const listen = (port: number) =>
    tls === undefined ? ["--port", String(port)] : [
      ...["--port", "0", "--tls-port", String(port), "--cluster-port", String(port + 10_000)],
      ...["--tls-cluster", "yes", "--tls-auth-clients", "no", "--tls-cert-file", tls.cert],
      ...["--tls-key-file", tls.key, "--tls-ca-cert-file", tls.ca],
    ];
  const taken = new Set<number>();
  const ports = [freePair(taken), freePair(taken), freePair(taken)];
  const dirs = ports.map(() => Deno.makeTempDirSync({ prefix: "marquee-cluster-" }));
  const children: (Deno.ChildProcess | undefined)[] = [];
  const launch = async (i: number) => {
    children[i] = new Deno.Command("redis-server", {
      args: [
        ...listen(ports[i]!),
        ...["--bind", "127.0.0.1", "--cluster-enabled", "yes"],
        ...["--cluster-config-file", "nodes.conf", "--appendonly", appendOnly, "--save", ""],
        ...["--dir", dirs[i]!],
        ...auth,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    await pollUntil(`redis-server on ${ports[i]}`, async () => {
      return (await cli(ports[i]!, ["PING"])) === "PONG";
    });
  };
  const whole = () =>
    pollUntil("the cluster to be whole", async () => {
      const states = await Promise.all(ports.map((p) => cli(p, ["CLUSTER", "INFO"])));
      return states.every((s) => s.includes("cluster_state:ok"));
    }, 20_000);
  for (let i = 0; i < ports.length; i++) await launch(i);
  const nodes = ports.map((p) => `127.0.0.1:${p}`);
  await cli(ports[0]!, [
    "--cluster",
    "create",
    ...nodes,
    "--cluster-replicas",
    "0",
    "--cluster-yes",
  ]);
  await whole();
  const kill = async (i: number) => {
    const child = children[i];
    children[i] = undefined;
    if (child === undefined) return;
    child.kill("SIGTERM");
    await child.status;
  };
  return {
    ports,
    url: (i) => `${tls === undefined ? "redis" : "rediss"}://127.0.0.1:${ports[i]}`,
    cli: (i, ...args) => cli(ports[i]!, args),
    command: async (...args) => {
      const reply = await redisCommand(ports[0]!, args);
      const moved = /^-MOVED \d+ [\d.]+:(\d+)$/.exec(reply);
      return moved === null ? reply : await redisCommand(Number(moved[1]), args);
    },
    flushAll: async () => {
      for (const port of ports) await redisCommand(port, ["FLUSHALL"]);
    },
    restart: async (i) => {
      await kill(i);
      await launch(i);
      await whole();
    },
    down: async () => {
      for (let i = 0; i < ports.length; i++) await kill(i);
    },
    up: async () => {
      for (let i = 0; i < ports.length; i++) await launch(i);
      await whole();
    },
    signal: (signal) => children.forEach((child) => child?.kill(signal)),
    stop: async () => {
      for (let i = 0; i < ports.length; i++) await kill(i);
      for (const dir of dirs) Deno.removeSync(dir, { recursive: true });
    },
  };
}
