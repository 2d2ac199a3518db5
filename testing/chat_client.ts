/**
 * Test helpers: a real chat server on port 0 and real TCP clients that read
 * lines, so tests talk to the server exactly as `nc` does.
 *
 * Every helper cleans up after itself (timers cleared, sockets closed, read
 * loops awaited), so Deno's op and resource sanitizers stay on in every test.
 *
 * @module
 */

import { type ChatLimits, DEFAULT_LIMITS, type ReadyInfo, runChat } from "../app/app.ts";
import { combineFigures, type LiveFigures, Metrics } from "../app/metrics.ts";
import { DEFAULT_HISTORY_ON_JOIN } from "../chat/history.ts";
import { Hub, wireWorkers, type WorkerPorts } from "../cluster/hub.ts";
import { type PortBroker, workerId } from "../cluster/port_broker.ts";
import { compose, type Composed } from "../app/compose.ts";
import { type ScryptCost, ScryptPasswords } from "../store/passwords.ts";

/** scrypt's cost in in-process tests: the real function, 16 times cheaper
 * than the server's default. */
export const TEST_COST: ScryptCost = { N: 1024, r: 8, p: 1 };
import { pollUntil } from "./within.ts";
import { LINE_TIMEOUT_MS, TestClient } from "./test_client.ts";

export { LINE_TIMEOUT_MS, TestClient } from "./test_client.ts";

/** A running in-process server. */
export interface TestServer {
  port: number;
  /** Every log line so far. */
  logs: string[];
  /** Aborts the server and waits for its graceful shutdown to finish. */
  stop(): Promise<void>;
  /** Resolves once a log line matches. */
  waitForLog(match: (line: string) => boolean, ms?: number): Promise<void>;
  /** Resolves once the chat accepts users, with the HTTP ports it serves. */
  ready: Promise<ReadyInfo>;
  /** The TLS port, when started with `tls`. */
  tlsPort?: number;
  /** The IRC port (every test server has one). */
  ircPort: number;
  /** Its chat instances: 1, or several linked on shared ports. */
  instances: number;
  /** The counters, when started with `metrics: true`. */
  metrics?: Metrics;
  /** Resolves once every instance has handled everything the others sent
   * it so far (at once with one instance): with workers, a line from
   * another worker may otherwise still be on its way. */
  settle(): Promise<void>;
}

/** Chat instances per test server: 1, or (`MARQUEE_TEST_WORKERS=2`, as
 * CI sets it for a second pass of the whole suite) several linked through
 * one hub on shared ports, as `--workers` links its workers. */
export const TEST_WORKERS = Math.max(1, Number(Deno.env.get("MARQUEE_TEST_WORKERS") ?? "1"));

/** Options for {@linkcode startServer}. */
export interface TestServerOptions {
  welcome?: boolean;
  redis?: string;
  /** PEM certificates to trust for a `rediss://` URL. */
  redisCa?: string;
  metrics?: boolean;
  web?: boolean;
  tls?: { cert: string; key: string };
  allowedOrigins?: string[];
  /** Names the page is reached by (`--public-host`). */
  publicHosts?: string[];
  /** Keep room history, in a fresh SQLite file, as `deno task chat` does. */
  history?: boolean;
  httpTimeouts?: { headerTimeoutMs?: number; idleTimeoutMs?: number };
  /** Keep accounts and rooms: in Redis when linked, else in a SQLite
   * file in `dir` (a fresh temporary one if not given). */
  accounts?: { dir?: string; operators?: Map<string, string> };
  /** The chat's clock (to expire bans in tests). */
  now?: () => number;
  /** Keep debug lines in `logs` too. */
  debug?: boolean;
  /** Chat instances (default {@linkcode TEST_WORKERS}). */
  workers?: number;
}

/** What every instance of one test server shares. */
interface Shared {
  options: TestServerOptions;
  limits: Partial<ChatLimits>;
  logs: string[];
  metrics: Metrics | undefined;
  hub: Hub | undefined;
  signal: AbortSignal;
  historyDir: string | undefined;
  accountsDir: string | undefined;
  /** The instances' links to each other (none with one instance). */
  brokers: PortBroker[];
  /** Every instance's live figures together (set once all are ready). */
  figures: () => Promise<LiveFigures>;
}

/** Starts the chat on 127.0.0.1, port 0, with `limits` over the defaults. */
export function startServer(
  limits: Partial<ChatLimits> = {},
  options: TestServerOptions = {},
): TestServer {
  const workers = options.workers ?? TEST_WORKERS;
  const controller = new AbortController();
  const hub = workers > 1 ? new Hub({ ...DEFAULT_LIMITS, ...limits, now: options.now }) : undefined;
  const prefix = crypto.randomUUID().slice(0, 8);
  const ports = hub &&
    wireWorkers(hub, Array.from({ length: workers }, (_, i) => workerId(prefix, i + 1)));
  const shared = sharedBy(options, limits, hub, controller.signal);
  const local = { hostname: "127.0.0.1", port: 0, reusePort: workers > 1 };
  const listener = Deno.listen(local);
  const tlsListener = options.tls ? Deno.listenTls({ ...local, ...options.tls }) : undefined;
  const irc = Deno.listen(local);
  const first = startInstance(shared, { tcp: listener, tls: tlsListener, irc }, ports?.[0]);
  // The others share the first one's ports, HTTP ones included (none, if
  // the first could not start).
  const rest = first.started.then((info) =>
    info === undefined
      ? []
      : (ports ?? []).slice(1).map((end) =>
        startInstance(shared, sameListeners(listener, tlsListener, irc), end, info)
      )
  );
  const done = Promise.all([first.done, rest.then((list) => Promise.all(list.map((i) => i.done)))])
    .finally(() => cleanUp(shared, hub));
  const ready = allReady(shared, first, rest);
  return {
    port: (listener.addr as Deno.NetAddr).port,
    tlsPort: tlsListener ? (tlsListener.addr as Deno.NetAddr).port : undefined,
    ircPort: (irc.addr as Deno.NetAddr).port,
    instances: workers,
    metrics: shared.metrics,
    ready,
    settle: () => settle(shared, ready),
    logs: shared.logs,
    stop: async () => {
      controller.abort();
      await done;
    },
    waitForLog: (match, ms = LINE_TIMEOUT_MS) =>
      pollUntil(
        `a log line that matches; got:\n${shared.logs.join("\n")}`,
        () => shared.logs.some(match),
        ms,
      ),
  };
}

/** What every instance of one test server shares, made fresh. */
function sharedBy(
  options: TestServerOptions,
  limits: Partial<ChatLimits>,
  hub: Hub | undefined,
  signal: AbortSignal,
): Shared {
  return {
    options,
    limits,
    logs: [],
    metrics: options.metrics ? new Metrics() : undefined,
    hub,
    signal,
    historyDir: options.history && !options.redis ? Deno.makeTempDirSync() : undefined,
    accountsDir: options.accounts && !options.redis
      ? options.accounts.dir ?? Deno.makeTempDirSync()
      : undefined,
    brokers: [],
    figures: () => Promise.reject(new Error("not ready")),
  };
}

/** Ready once every instance is accepting users (never, if one cannot);
 * the figures are the whole server's, as `--workers` reports them. */
function allReady(
  shared: Shared,
  first: Instance,
  rest: Promise<Instance[]>,
): Promise<ReadyInfo> {
  return new Promise<ReadyInfo>((resolve) => {
    rest.then(async (list) => {
      const infos = [await first.started, ...await Promise.all(list.map((i) => i.started))];
      if (infos.some((info) => info === undefined)) return;
      const each = infos.map((info) => (info as ReadyInfo).figures);
      shared.figures = async () => combineFigures(await Promise.all(each.map((f) => f())));
      resolve({ ...infos[0] as ReadyInfo, figures: shared.figures });
    });
  });
}

/** Waits until every instance has handled what the others sent it. */
async function settle(shared: Shared, ready: Promise<ReadyInfo>): Promise<void> {
  if (shared.brokers.length === 0) return;
  const { figures } = await ready;
  // Twice: what an instance did on hearing from another reaches it too.
  for (let round = 0; round < 2; round++) {
    await Promise.all(shared.brokers.map((broker) => broker.flush()));
    await figures();
  }
}

/** Removes what a test server made. */
function cleanUp(shared: Shared, hub: Hub | undefined): void {
  hub?.close();
  if (shared.historyDir !== undefined) Deno.removeSync(shared.historyDir, { recursive: true });
  if (shared.accountsDir !== undefined && shared.options.accounts?.dir === undefined) {
    Deno.removeSync(shared.accountsDir, { recursive: true });
  }
}

/** One running instance: when it accepts users, and when it is done. */
interface Instance {
  started: Promise<ReadyInfo | undefined>;
  done: Promise<void>;
}

/** Listeners on the same ports as these, for another instance. */
function sameListeners(tcp: Deno.Listener, tls: Deno.Listener | undefined, irc: Deno.Listener) {
  const at = (listener: Deno.Listener) => ({
    hostname: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
    reusePort: true,
  });
  const files = tls && TLS_FILES.get(tls);
  return {
    tcp: Deno.listen(at(tcp)),
    tls: tls && files && Deno.listenTls({ ...at(tls), ...files }),
    irc: Deno.listen(at(irc)),
  };
}

/** The certificate each test TLS listener was made with, for its twins. */
const TLS_FILES = new WeakMap<Deno.Listener, { cert: string; key: string }>();

/** The same composition as `deno task chat`: Redis when linked, else
 * SQLite files in the test's own temporary directories. */
function composeFor(shared: Shared, ports: WorkerPorts | undefined): Composed {
  const { options, logs, metrics } = shared;
  const log = (line: string) => logs.push(line);
  const parts = compose({
    // The tests' Redis is throwaway by design: nothing on disk.
    redis: options.redis === undefined
      ? undefined
      : { url: options.redis, ca: options.redisCa, ephemeral: true },
    history: options.history ? { dataDir: shared.historyDir, keep: 10_000, days: 30 } : undefined,
    accounts: options.accounts ? { dataDir: shared.accountsDir } : undefined,
  }, { log, metrics, ports });
  if (parts.ported) shared.brokers.push(parts.ported);
  return parts;
}

/** One chat instance of a test server. */
function startInstance(
  shared: Shared,
  listeners: { tcp: Deno.Listener; tls?: Deno.Listener; irc: Deno.Listener },
  ports: WorkerPorts | undefined,
  firstReady?: ReadyInfo,
): Instance {
  const { options, logs, metrics } = shared;
  if (options.tls && listeners.tls) TLS_FILES.set(listeners.tls, options.tls);
  let ready!: (info: ReadyInfo | undefined) => void;
  const started = new Promise<ReadyInfo | undefined>((resolve) => (ready = resolve));
  const parts = composeFor(shared, ports);
  const people = options.accounts && {
    store: parts.community,
    // Real scrypt at a low cost: the same code, a fraction of the time.
    passwords: new ScryptPasswords(TEST_COST),
    operators: options.accounts.operators,
  };
  const http = (port: number | undefined) => ({
    hostname: "127.0.0.1",
    port: port ?? 0,
    reusePort: shared.hub !== undefined,
  });
  const running = runChat({
    people,
    now: options.now,
    history: parts.history && { store: parts.history, onJoin: DEFAULT_HISTORY_ON_JOIN },
    tlsListener: listeners.tls as Deno.Listener<Deno.Conn> | undefined,
    ircListener: listeners.irc as Deno.Listener<Deno.Conn>,
    metrics,
    // The first instance serves the metrics of all, as `--workers` does.
    metricsAddress: metrics && !firstReady ? http(undefined) : undefined,
    metricsFigures: () => shared.figures(),
    webAddress: options.web ? http(firstReady?.webPort) : undefined,
    onReady: ready,
    allowedOrigins: options.allowedOrigins,
    publicHosts: options.publicHosts,
    httpTimeouts: options.httpTimeouts,
    listener: listeners.tcp as Deno.Listener<Deno.Conn>,
    signal: shared.signal,
    limits: { flushMs: 1_000, ...shared.limits },
    log: (line, fields) => {
      // As `deno task chat` does by default: debug lines only when asked.
      if (fields?.level !== "debug" || options.debug) logs.push(line);
    },
    welcome: options.welcome ?? false,
    broker: parts.broker,
    admission: parts.admission,
  });
  const done = running.finally(async () => {
    // Not started at all: nothing will ever be ready (a no-op otherwise).
    ready(undefined);
    await parts.close();
  });
  return { started, done };
}

/** Resolves once every instance of a linked test server has its link up:
 * with two instances (MARQUEE_TEST_WORKERS=2), a client may land on
 * either, and one whose link is not up yet tells it so. */
export function linkedUp(server: TestServer): Promise<void> {
  return pollUntil(
    "every instance linked",
    () =>
      server.logs.filter((l) => l.includes("link to other servers up")).length >= server.instances,
  );
}

/** Resident set size of process `pid`, in bytes. Read through `cat`
 * because Deno treats /proc as a special file that needs --allow-all. */
export async function rssBytes(pid: number): Promise<number> {
  const output = await new Deno.Command("cat", { args: [`/proc/${pid}/status`], stdout: "piped" })
    .output();
  const match = /VmRSS:\s+(\d+) kB/.exec(new TextDecoder().decode(output.stdout));
  if (!match) throw new Error(`Cannot read the RSS of process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Waits until `server` knows exactly `n` users of other servers (a roster
 * or join event has arrived): polls the live figures, fails after 5 s. */
export async function waitForRemoteUsers(server: TestServer, n: number): Promise<void> {
  const { figures } = await server.ready;
  await pollUntil(`${n} remote users`, async () => (await figures()).remoteUsers === n);
}

/** Two fresh clients exchange a message: proof the server still serves. */
export async function assertChatWorks(port: number): Promise<void> {
  const a = await TestClient.join(port);
  const b = await TestClient.join(port);
  try {
    await a.client.readUntil((l) => l === `* ${b.name} joined the chat`);
    const token = `still alive ${crypto.randomUUID()}`;
    await a.client.send(token);
    await b.client.readUntil((l) => l === `[${a.name}]: ${token}`);
  } finally {
    await a.client.close();
    await b.client.close();
  }
}
