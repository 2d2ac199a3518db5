/**
 * The chat, assembled: a `ChatServer` actor, the accept loops (plain TCP and
 * optionally TLS), the browser client's WebSockets and the metrics endpoint,
 * one `ClientSession` actor per connection whatever it came in through, and
 * the shutdown path. Every connection, whatever its transport, is admitted
 * by the one `Admission` and run by `runSession`.
 *
 * Shutdown is a path, not an accident. When the signal aborts: the listeners
 * close (no new users), the ChatServer sends `* server shutting down` to
 * everyone and closes every outbox once it has drained (or its deadline
 * passed), which ends every session's read loop; sessions unregister and
 * stop; the ChatServer stops; `runChat` resolves. Tests use the same path,
 * which is how Deno's leak checks prove that nothing is left open.
 *
 * @module
 */

import { type ActorRef, spawn } from "../actors/mod.ts";
import { type ChatLimits, DEFAULT_LIMITS } from "../chat/limits.ts";
import type { Broker, HistoryStore, Log } from "../chat/ports.ts";
import { RoomHistory } from "../chat/history.ts";
import { ChatServer, type ChatServerMessage, type PeopleOptions } from "../chat/server.ts";
import { LocalBroker } from "../cluster/local_broker.ts";
import {
  Admission,
  describeError,
  type Ending,
  type Gate,
  type HttpAnswer,
  type HttpRequest,
  refusalResponse,
  serve,
  serveHttpConn,
  WebSocketConn,
  Writes,
  WriteSlots,
} from "../net/mod.ts";
import { type HttpAddress, listenHttp, metricsRoute, webRoute } from "./http.ts";
import { createLog } from "./log.ts";
import { acceptSessions, runWebSocket } from "./sessions.ts";
import { IRC_SERVER } from "../chat/render_irc.ts";
import { type LiveFigures, Metrics } from "./metrics.ts";

export { type ChatLimits, DEFAULT_LIMITS } from "../chat/limits.ts";
export { formatAddress } from "./sessions.ts";

/** Options for {@linkcode runChat}. */
export interface ChatOptions {
  /** Where to accept clients. */
  listener: Deno.Listener<Deno.Conn>;
  /** Aborting it shuts the chat down gracefully. */
  signal: AbortSignal;
  /** Overrides for {@linkcode DEFAULT_LIMITS}. */
  limits?: Partial<ChatLimits>;
  /** Where log lines go (default: console.log). */
  log?: Log;
  /** Whether newcomers get the welcome line (default true). */
  welcome?: boolean;
  /** The link to other servers; the default is none (this process is the
   * whole chat). A broker passed here is started and closed by `runChat`. */
  broker?: Broker;
  /** Counters to keep (for a metrics endpoint); none are kept without. */
  metrics?: Metrics;
  /** A second listener serving the same chat over TLS. */
  tlsListener?: Deno.Listener<Deno.Conn>;
  /** Listeners for IRC clients, plain and over TLS. */
  ircListener?: Deno.Listener<Deno.Conn>;
  ircTlsListener?: Deno.Listener<Deno.Conn>;
  /** The server's name to IRC clients (default `marquee`). */
  ircName?: string;
  /** Where to serve the metrics endpoint (needs `metrics`). */
  metricsAddress?: HttpAddress;
  /** The live figures the metrics endpoint shows (default: this chat's;
   * where workers share one endpoint, all of theirs together). */
  metricsFigures?: () => Promise<LiveFigures>;
  /** Where to serve the browser client. */
  webAddress?: HttpAddress;
  /** Origins whose pages may open the WebSocket, besides the page's own. */
  allowedOrigins?: readonly string[];
  /** Names the page is reached by, besides localhost and IP addresses: the
   * `Host` a WebSocket upgrade must name (`--public-host`). */
  publicHosts?: readonly string[];
  /** Room history: where it is kept, and how many lines a newcomer gets;
   * none is kept without. The caller opens and closes the store. */
  history?: HistoryOptions;
  /** Accounts, rooms and moderation: the store (read before the first
   * user is let in), password hashing, and the server operators. */
  people?: PeopleOptions;
  /** The clock, in ms (tests pass a fake one to expire bans). */
  now?: () => number;
  /** Overrides of the HTTP timeouts (tests use short ones). */
  httpTimeouts?: { headerTimeoutMs?: number; idleTimeoutMs?: number };
  /** Called once the chat is accepting users, with the HTTP ports. */
  onReady?: (info: ReadyInfo) => void;
  /** Where connections are admitted: with `--workers`, the hub's limits,
   * shared by every worker (default: this chat's own `Admission`). */
  admission?: Gate;
  /** Writes this chat keeps in flight at once (default
   * `MAX_WRITES_IN_FLIGHT`; each worker of `--workers` lends more). */
  writesInFlight?: number;
}

/** Room history for {@linkcode runChat}. */
export interface HistoryOptions {
  store: HistoryStore;
  /** Lines replayed on joining a room (0 = none). */
  onJoin: number;
}

/** What {@linkcode runChat} reports once it is accepting users. */
export interface ReadyInfo {
  /** The port of the metrics endpoint, if served. */
  metricsPort?: number;
  /** The port of the browser client, if served. */
  webPort?: number;
  /** Reads the live figures (users, rooms, deepest queue). */
  figures: () => Promise<LiveFigures>;
}

/** Everything one running chat shares between its parts. */
export interface Chat {
  log: Log;
  limits: ChatLimits;
  broker: Broker;
  metrics: Metrics | undefined;
  server: ActorRef<ChatServerMessage>;
  admission: Gate;
  /** This chat's writes: its server's and every session's outbox's. */
  writes: Writes;
  httpTimeouts: ChatOptions["httpTimeouts"];
  /** The server's name to IRC clients. */
  ircName: string;
  /** Aborted by the caller's signal, or by a failed start. */
  stop: AbortController;
  /** One shared handler, not a closure per session: with 10,000 sessions
   * every per-connection object shows up in the RSS. */
  onSessionError: (error: unknown) => void;
}

/**
 * Starts the ChatServer actor under the `resume` policy: a handler that
 * throws loses that one message (and logs it), never the chat's state.
 */
export function spawnChatServer(
  options: {
    log: Log;
    welcome?: boolean;
    broker?: Broker;
    metrics?: Metrics;
    history?: HistoryOptions;
    people?: PeopleOptions;
    now?: () => number;
    writes?: Writes;
    exemptLoopback?: boolean;
    ircName?: string;
  },
): ActorRef<ChatServerMessage> {
  const { log } = options;
  const history = options.history &&
    new RoomHistory({ store: options.history.store, onJoin: options.history.onJoin, log });
  const server = new ChatServer({
    history,
    log,
    welcome: options.welcome !== false,
    broker: options.broker ?? new LocalBroker(),
    metrics: options.metrics,
    people: options.people,
    now: options.now,
    writes: options.writes,
    exemptLoopback: options.exemptLoopback,
    ircName: options.ircName,
  });
  return spawn(server, {
    supervision: { directive: "resume" },
    onError: (error) =>
      log(`[server] ChatServer error (message dropped): ${describeError(error)}`, {
        level: "error",
        event: "error",
      }),
  });
}

/**
 * Runs the chat on `listener` until `signal` aborts; resolves once every
 * connection is closed and every actor has stopped. Rejects (with nothing
 * left running) if it cannot start: Redis unreachable, an HTTP port taken.
 *
 * @example
 * ```ts
 * import { runChat } from "./app.ts";
 * const controller = new AbortController();
 * const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const done = runChat({ listener, signal: controller.signal });
 * controller.abort();
 * await done;
 * ```
 */
export async function runChat(options: ChatOptions): Promise<void> {
  const chat = assemble(options);
  const endpoints: HttpEndpoint[] = [];
  try {
    await startBroker(chat);
    await loadCommunity(chat, options);
    const ready = bindHttp(chat, options, endpoints);
    options.onReady?.(ready);
    // Only now: a start that fails (Redis away, a store, a port) never
    // reads as started.
    chat.log("[server] ChatServer started", { event: "start" });
  } catch (error) {
    await abandon(chat, options, endpoints);
    throw error;
  }
  const shutdown = shutdownOnAbort(chat);
  const stopProbe = chat.metrics ? probeEventLoop(chat.metrics) : () => {};
  // No accept loop ever rejects: a failing listener logs and backs off.
  await Promise.all([
    acceptSessions(chat, options.listener, "tcp"),
    ...(options.tlsListener ? [acceptSessions(chat, options.tlsListener, "tls")] : []),
    ...(options.ircListener ? [acceptSessions(chat, options.ircListener, "tcp", "irc")] : []),
    ...(options.ircTlsListener ? [acceptSessions(chat, options.ircTlsListener, "tls", "irc")] : []),
    ...endpoints.map((endpoint) => serveHttp(chat, endpoint)),
  ]);
  await shutdown;
  stopProbe();
  await chat.broker.close();
  chat.server.stop();
  await chat.server.done;
}

function assemble(options: ChatOptions): Chat {
  const log = options.log ?? createLog();
  const limits: ChatLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const broker = options.broker ?? new LocalBroker();
  const metrics = options.metrics;
  const stop = new AbortController();
  // One per chat, given to its server and every session's outbox.
  const writes = new Writes(new WriteSlots({ limit: options.writesInFlight }));
  if (options.signal.aborted) stop.abort();
  else options.signal.addEventListener("abort", () => stop.abort(), { once: true });
  return {
    log,
    limits,
    broker,
    metrics,
    stop,
    writes,
    httpTimeouts: options.httpTimeouts,
    ircName: options.ircName ?? IRC_SERVER,
    server: spawnChatServer({
      writes,
      log,
      welcome: options.welcome !== false,
      broker,
      metrics,
      history: options.history,
      people: options.people,
      now: options.now,
      exemptLoopback: limits.exemptLoopback,
      ircName: options.ircName,
    }),
    admission: options.admission ?? new Admission({
      ...limits,
      log,
      onRefuse: metrics && ((reason) => Metrics.bump(metrics.refused, reason)),
    }),
    onSessionError: (error) => {
      log(`[server] session error: ${describeError(error)}`, { level: "error", event: "error" });
    },
  };
}

/** Links to the other servers; their events become ChatServer messages. */
function startBroker(chat: Chat): Promise<void> {
  const tell = (message: ChatServerMessage): void => {
    chat.server.address.send(message).catch(() => {});
  };
  return chat.broker.start({
    event: (event) => tell({ type: "remote", event }),
    link: (up) => tell({ type: "link", up }),
    serverLost: (server) => tell({ type: "server_lost", server }),
    nameLost: (key) => tell({ type: "name_lost", key }),
  });
}

/** Reads accounts, rooms and bans into the chat server before anyone is
 * let in, or throws a one-line error. */
async function loadCommunity(chat: Chat, options: ChatOptions): Promise<void> {
  const store = options.people?.store;
  if (store === undefined) return;
  let snapshot;
  try {
    snapshot = await store.load((options.now ?? Date.now)());
  } catch (error) {
    throw new Error(`Cannot read the account store: ${describeError(error)}`);
  }
  await chat.server.address.ask<void>((reply) => ({ type: "community_loaded", snapshot, reply }));
}

/** An HTTP port and what it answers. */
interface HttpEndpoint {
  listener: Deno.Listener<Deno.Conn>;
  route: (request: HttpRequest) => HttpAnswer | Promise<HttpAnswer>;
}

/** Binds the HTTP endpoints asked for (throwing a one-line error if one
 * cannot be bound); returns what `onReady` reports. */
function bindHttp(chat: Chat, options: ChatOptions, endpoints: HttpEndpoint[]): ReadyInfo {
  const figures = () => chat.server.address.ask<LiveFigures>((reply) => ({ type: "stats", reply }));
  const ready: ReadyInfo = { figures };
  const port = (listener: Deno.Listener<Deno.Conn>) => (listener.addr as Deno.NetAddr).port;
  if (options.metricsAddress && chat.metrics) {
    const listener = listenHttp(options.metricsAddress);
    const shown = options.metricsFigures ?? figures;
    endpoints.push({ listener, route: metricsRoute(chat.metrics, shown) });
    ready.metricsPort = port(listener);
  }
  if (options.webAddress) {
    const listener = listenHttp(options.webAddress);
    const allowedOrigins = options.allowedOrigins;
    const onSocket = (socket: WebSocketConn, json: boolean, ending: Ending) =>
      runWebSocket(chat, socket, socket.remoteAddr as Deno.NetAddr, json, ending);
    const route = webRoute({ allowedOrigins, publicHosts: options.publicHosts, onSocket });
    endpoints.push({ listener, route });
    ready.webPort = port(listener);
  }
  return ready;
}

/** Serves one HTTP port; its connections are admitted like chat ones. */
function serveHttp(chat: Chat, endpoint: HttpEndpoint): Promise<void> {
  const signal = chat.stop.signal;
  return serve(endpoint.listener, {
    signal,
    admission: chat.admission,
    log: chat.log,
    refusal: refusalResponse,
    handler: (conn, ending) =>
      serveHttpConn(conn, { ...chat.httpTimeouts, signal, route: endpoint.route }, ending),
  });
}

/** Undoes a start that failed halfway, leaving nothing open. */
async function abandon(chat: Chat, options: ChatOptions, endpoints: HttpEndpoint[]) {
  chat.stop.abort();
  for (const endpoint of endpoints) endpoint.listener.close();
  await chat.broker.close().catch(() => {});
  chat.server.stop();
  await chat.server.done;
  options.listener.close();
  options.tlsListener?.close();
  options.ircListener?.close();
  options.ircTlsListener?.close();
}

/** Waits for the stop signal, then runs the ChatServer's shutdown. */
async function shutdownOnAbort(chat: Chat): Promise<void> {
  const signal = chat.stop.signal;
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
  const flushMs = chat.limits.flushMs;
  await chat.server.address.ask<void>(
    (reply) => ({ type: "shutdown", flushMs, reply }),
    { timeoutMs: flushMs + 1_000 },
  ).catch((error: unknown) =>
    chat.log(`[server] shutdown incomplete: ${describeError(error)}`, {
      level: "warn",
      event: "shutdown",
    })
  );
}

/** How often the event-loop probe fires: often enough to catch a stall,
 * rarely enough to cost nothing. */
const LAG_PROBE_MS = 500;

/** Measures how late a timer fires: the time the event loop was busy. */
function probeEventLoop(metrics: Metrics): () => void {
  let expected = performance.now() + LAG_PROBE_MS;
  const timer = setInterval(() => {
    const now = performance.now();
    const lag = Math.max(0, now - expected);
    expected = now + LAG_PROBE_MS;
    metrics.eventLoopLagMs = lag;
    if (lag > metrics.eventLoopLagMaxMs) metrics.eventLoopLagMaxMs = lag;
  }, LAG_PROBE_MS);
  return () => clearInterval(timer);
}
