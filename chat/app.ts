/**
 * The chat, assembled: a `ChatServer` actor, the accept loops (plain TCP and
 * optionally TLS), the browser client's WebSockets and the metrics endpoint,
 * one `ClientSession` actor per connection whatever it came in through, and
 * the shutdown path.
 *
 * Shutdown is a path, not an accident. When the signal aborts: the listener
 * closes (no new users), the ChatServer sends `* server shutting down` to
 * everyone and closes every outbox once it has drained (or its deadline
 * passed), which ends every session's read loop; sessions unregister and
 * stop; the ChatServer stops; `runChat` resolves. Tests use the same path,
 * which is how Deno's leak checks prove that nothing is left open.
 *
 * @module
 */

import { type ActorRef, spawn } from "../actors/mod.ts";
import { type ByteReader, DEFAULT_MAX_LINE_BYTES } from "../net/line_splitter.ts";
import { type ByteWriter, DEFAULT_MAX_QUEUED_BYTES } from "../net/outbox.ts";
import {
  Admission,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  serve,
} from "../net/serve.ts";
import { WebSocketConn } from "../net/websocket_conn.ts";
import { type HttpAddress, serveMetrics, serveWeb } from "./http.ts";
import { encodeLines, errorLine, infoLine } from "./protocol.ts";
import { DEFAULT_FLOOD_BURST, DEFAULT_FLOOD_KICK_MS, DEFAULT_FLOOD_RATE } from "./rate_limit.ts";
import { type Broker, LocalBroker } from "./broker.ts";
import { ChatServer, type ChatServerMessage } from "./server.ts";
import { ClientSession, type SessionLimits } from "./session.ts";
import { createLog, type Log } from "./log.ts";
import { type LiveFigures, Metrics } from "./metrics.ts";

/** How long queued lines may drain at shutdown before sockets are closed:
 * long enough for any reader that is reading, short enough that a stuck
 * one cannot hold the process up. */
export const DEFAULT_SHUTDOWN_FLUSH_MS = 5_000;

/** Session mailbox depth: a session's only producer is its own socket, so a
 * short queue is enough and makes a stalled server push back on reads. */
const SESSION_MAILBOX_CAPACITY = 32;

/** Sent to a connection refused because no user number could be had. */
const BUSY = encodeLines(errorLine("server busy: try again in a moment"));

/** Every limit, with its default (see the README's "Limits and safety"). */
export interface ChatLimits extends SessionLimits {
  /** Connections served at once. */
  maxConnections: number;
  /** Connections from one non-loopback address. */
  maxConnectionsPerAddress: number;
  /** Whether loopback clients skip the per-address limit. */
  exemptLoopback: boolean;
}

/** The defaults from PROTOCOL.md. */
export const DEFAULT_LIMITS: Readonly<ChatLimits> = {
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  floodRate: DEFAULT_FLOOD_RATE,
  floodBurst: DEFAULT_FLOOD_BURST,
  floodKickMs: DEFAULT_FLOOD_KICK_MS,
  maxQueuedBytes: DEFAULT_MAX_QUEUED_BYTES,
  idleTimeoutMs: 0,
  flushMs: DEFAULT_SHUTDOWN_FLUSH_MS,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  maxConnectionsPerAddress: DEFAULT_MAX_CONNECTIONS_PER_ADDRESS,
  exemptLoopback: true,
};

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
  /** Where to serve the metrics endpoint (needs `metrics`). */
  metricsAddress?: HttpAddress;
  /** Where to serve the browser client. */
  webAddress?: HttpAddress;
  /** Called once the chat is accepting users, with the HTTP ports. */
  onReady?: (info: ReadyInfo) => void;
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

/** What a session reads from and writes to: a TCP or TLS connection, or a
 * WebSocket adapted to the same shape. */
type SessionConn = ByteReader & ByteWriter;

/** The welcome line a newcomer gets after the roster. */
export function welcomeLines(name: string): string[] {
  return [infoLine(`welcome, ${name}! type /help for commands`)];
}

/**
 * Starts the ChatServer actor under the `resume` policy: a handler that
 * throws loses that one message (and logs it), never the chat's state.
 */
export function spawnChatServer(
  options: { log: Log; welcome?: boolean; broker?: Broker; metrics?: Metrics },
): ActorRef<ChatServerMessage> {
  const { log } = options;
  return spawn(
    new ChatServer({
      log,
      welcome: options.welcome === false ? undefined : welcomeLines,
      broker: options.broker,
      metrics: options.metrics,
    }),
    {
      supervision: { directive: "resume" },
      onError: (error) =>
        log(`[server] ChatServer error (message dropped): ${describe(error)}`, {
          level: "error",
          event: "error",
        }),
    },
  );
}

/**
 * Runs the chat on `listener` until `signal` aborts; resolves once every
 * connection is closed and every actor has stopped.
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
  const log = options.log ?? createLog();
  const limits: ChatLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const broker = options.broker ?? new LocalBroker();
  const metrics = options.metrics;
  const server = spawnChatServer({ log, welcome: options.welcome !== false, broker, metrics });
  const tell = (message: ChatServerMessage): void => {
    server.address.send(message).catch(() => {});
  };
  try {
    await broker.start({
      event: (event) => tell({ type: "remote", event }),
      link: (up) => tell({ type: "link", up }),
    });
  } catch (error) {
    server.stop();
    await server.done;
    options.listener.close();
    options.tlsListener?.close();
    throw error;
  }
  // One shared handler, not a closure per session: with 10,000 sessions
  // every per-connection object shows up in the RSS.
  const onSessionError = (error: unknown): void => {
    log(`[server] session error: ${describe(error)}`, { level: "error", event: "error" });
  };

  const shutdown = (async () => {
    await new Promise<void>((resolve) => {
      if (options.signal.aborted) resolve();
      else options.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    await server.address.ask<void>(
      (reply) => ({ type: "shutdown", flushMs: limits.flushMs, reply }),
      { timeoutMs: limits.flushMs + 1_000 },
    ).catch((error: unknown) => log(`[server] shutdown incomplete: ${describe(error)}`));
  })();

  const stopProbe = metrics ? probeEventLoop(metrics) : () => {};
  const admission = new Admission(limits);
  const onRefuse = metrics && ((reason: string) => Metrics.bump(metrics.refused, reason));

  /** Runs one admitted connection, whatever it came in through. */
  const runSession = async (conn: SessionConn, peer: Deno.NetAddr): Promise<void> => {
    let id: number;
    try {
      id = await broker.nextUserNumber();
    } catch {
      // No number can be had (Redis away, local reserve used up): refuse
      // rather than risk two users with the same name in the cluster.
      log(`Refused ${formatAddress(peer)}: no user number available`, {
        level: "warn",
        event: "refuse",
        peer: formatAddress(peer),
        reason: "no user number",
      });
      onRefuse?.("no user number");
      await conn.write(BUSY).catch(() => {});
      conn.close();
      return;
    }
    const name = `user${id}`;
    log(`New connection from ${formatAddress(peer)} as ${name}`, {
      event: "connect",
      peer: formatAddress(peer),
      user: name,
    });
    if (metrics) {
      metrics.connectionsAccepted++;
      metrics.connectionsOpen++;
    }
    const session = spawn(
      new ClientSession({ conn, id, name, server: server.address, limits, log, metrics }),
      { capacity: SESSION_MAILBOX_CAPACITY, onError: onSessionError },
    );
    await session.done;
    if (metrics) metrics.connectionsOpen--;
  };

  const serveOptions = {
    signal: options.signal,
    admission,
    log,
    onRefuse,
    handler: (conn: Deno.Conn) => {
      const tcp = conn as Partial<Deno.TcpConn>;
      try {
        // TLS connections may lack these; plain TCP ones always have them.
        tcp.setNoDelay?.(true);
        tcp.setKeepAlive?.(true);
      } catch {
        // The peer may already be gone; the session will notice on read.
      }
      return runSession(conn, conn.remoteAddr as Deno.NetAddr);
    },
  };
  const endpoints: Promise<void>[] = [];
  const figures = () => server.address.ask<LiveFigures>((reply) => ({ type: "stats", reply }));
  const ports: ReadyInfo = { figures };
  if (options.metricsAddress && metrics) {
    const endpoint = serveMetrics({
      address: options.metricsAddress,
      signal: options.signal,
      metrics,
      figures,
    });
    ports.metricsPort = endpoint.port;
    endpoints.push(endpoint.finished);
  }
  const sockets = new Set<Promise<unknown>>();
  if (options.webAddress) {
    const endpoint = serveWeb({
      address: options.webAddress,
      signal: options.signal,
      onSocket: (socket, peer) => {
        const conn = new WebSocketConn(socket);
        const refusal = admission.admit(peer.hostname);
        const run: Promise<unknown> = refusal === undefined
          ? conn.opened.then(() => runSession(conn, peer), () => {}).finally(() =>
            admission.release(peer.hostname)
          )
          : conn.opened.then(() => conn.write(encodeLines(errorLine(refusal)))).catch(() => {})
            .finally(() => conn.close());
        sockets.add(run);
        run.finally(() => sockets.delete(run));
      },
    });
    ports.webPort = endpoint.port;
    endpoints.push(endpoint.finished);
  }
  options.onReady?.(ports);
  await Promise.all([
    serve(options.listener, serveOptions),
    ...(options.tlsListener ? [serve(options.tlsListener, serveOptions)] : []),
    ...endpoints,
  ]);
  await Promise.all([...sockets]);
  await shutdown;
  stopProbe();
  await broker.close();
  server.stop();
  await server.done;
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

/** `host:port`, with brackets around IPv6 hosts. */
export function formatAddress(addr: Deno.NetAddr): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
