/**
 * One session per connection, whatever it came in through: TCP, TLS (after
 * its handshake) or an upgraded WebSocket. Each gets its number from the
 * broker (or is refused, busy), then a `ClientSession` actor of its own;
 * the end of a connection is told to an object, never awaited, so an idle
 * connection holds no promise or suspended frame.
 *
 * @module
 */

import { spawn } from "../actors/mod.ts";
import { type Face, isIrc, refused } from "../chat/events.ts";
import { IrcSession } from "../irc/session.ts";
import { render } from "../chat/render.ts";
import { ClientSession } from "../chat/session.ts";
import { type ByteReader, type ByteWriter, type Ending, serve, WebSocketConn } from "../net/mod.ts";
import type { Chat } from "./app.ts";
import type { Metrics } from "./metrics.ts";

/** Session mailbox depth: a session's only producer is its own socket, so a
 * short queue is enough and makes a stalled server push back on reads. */
const SESSION_MAILBOX_CAPACITY = 32;

/** What a session reads from and writes to: a TCP or TLS connection, or a
 * WebSocket adapted to the same shape. */
type SessionConn = ByteReader & ByteWriter & { close(): void };

/** Sent to a connection refused because no user number could be had. */
const BUSY: Record<Face, Uint8Array> = {
  text: render("text", [refused({ refusal: "busy" })], 0),
  json: render("json", [refused({ refusal: "busy" })], 0),
  irc: render("irc", [refused({ refusal: "busy" })], 0),
  irc_tags: render("irc", [refused({ refusal: "busy" })], 0),
  irc_v3: render("irc", [refused({ refusal: "busy" })], 0),
  irc_mt: render("irc", [refused({ refusal: "busy" })], 0),
  irc_mt_batch: render("irc", [refused({ refusal: "busy" })], 0),
};

/** How long a TLS client has to complete its handshake: a real one takes
 * milliseconds; a silent connection must not hold a descriptor for long. */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Accepts TCP or TLS connections into sessions until the chat stops. */
export function acceptSessions(
  chat: Chat,
  listener: Deno.Listener<Deno.Conn>,
  transport: "tcp" | "tls",
  protocol: "text" | "irc" = "text",
): Promise<void> {
  const signal = chat.stop.signal;
  return serve(listener, {
    signal,
    admission: chat.admission,
    log: chat.log,
    // A refused TLS client is closed at once: a notice would have to wait
    // for a handshake that a hostile client never completes.
    refusal: transport === "tls" ? () => undefined : undefined,
    // No async function here: its suspended frame would stay with every
    // idle connection.
    handler: (conn, ending) => {
      if (transport === "tcp") return runStream(chat, conn, false, protocol, ending);
      handshake(conn as Deno.TlsConn, signal).then((ok) =>
        ok ? runStream(chat, conn, true, protocol, ending) : ending.end()
      );
    },
  });
}

/** Runs a TCP or TLS connection (handshaken) as a session. */
function runStream(
  chat: Chat,
  conn: Deno.Conn,
  secure: boolean,
  protocol: "text" | "irc",
  ending: Ending,
): void {
  const tcp = conn as Partial<Deno.TcpConn>;
  try {
    // TLS connections may lack these; plain TCP ones always have them.
    tcp.setNoDelay?.(true);
    tcp.setKeepAlive?.(true);
  } catch {
    // The peer may already be gone; the session will notice on read.
  }
  const face = protocol === "irc" ? "irc" : "text";
  runSession(chat, conn, conn.remoteAddr as Deno.NetAddr, { secure, face }, ending);
}

/** Completes a TLS handshake, or closes the connection if it takes longer
 * than {@linkcode TLS_HANDSHAKE_TIMEOUT_MS}, fails, or the chat stops
 * first. A user is announced only after this. */
async function handshake(conn: Deno.TlsConn, signal: AbortSignal): Promise<boolean> {
  const close = (): void => {
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  };
  const timer = setTimeout(close, TLS_HANDSHAKE_TIMEOUT_MS);
  signal.addEventListener("abort", close, { once: true });
  try {
    await conn.handshake();
    return !signal.aborted;
  } catch {
    close();
    return false;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", close);
  }
}

/** Runs an upgraded WebSocket as a session (its HTTP connection was
 * admitted when it was accepted), until its socket is closed. */
export function runWebSocket(
  chat: Chat,
  socket: WebSocketConn,
  peer: Deno.NetAddr,
  json: boolean,
  ending: Ending,
): void {
  // The page learns the line cap first, to count bytes as they are typed;
  // frames go out in order, so this one precedes the session's first line.
  if (json) socket.sendText(JSON.stringify([helloEvent(chat)])).catch(() => {});
  // Straight to the session: no promise chain held per idle browser.
  runSession(chat, socket, peer, { secure: false, face: json ? "json" : "text" }, ending);
}

function helloEvent(chat: Chat): { type: "hello"; maxLineBytes: number; time: number } {
  return { type: "hello", maxLineBytes: chat.limits.maxLineBytes, time: Date.now() };
}

/** Runs one admitted connection, whatever it came in through; ends
 * `ending` once it is over. Callbacks, not an async function or a promise
 * of its own: a suspended frame or a chain of promises would stay with
 * every idle connection. */
function runSession(
  chat: Chat,
  conn: SessionConn,
  peer: Deno.NetAddr,
  how: SessionKind,
  ending: Ending,
): void {
  let numbered: Promise<number>;
  try {
    numbered = chat.broker.nextUserNumber();
  } catch (error) {
    numbered = Promise.reject(error);
  }
  numbered.then(
    (id) => spawnSession(chat, conn, peer, how, id, ending),
    // No number can be had (Redis away, local reserve used up): refuse
    // rather than risk two users with the same name in the cluster.
    () => refuseBusy(chat, conn, peer, how.face).then(() => ending.end()),
  );
}

/** Whether a connection is encrypted, and how its client reads events. */
interface SessionKind {
  secure: boolean;
  face: Face;
}

async function refuseBusy(
  chat: Chat,
  conn: SessionConn,
  peer: Deno.NetAddr,
  face: Face,
): Promise<void> {
  chat.admission.refused(formatAddress(peer), "no user number available");
  await conn.write(BUSY[face]).catch(() => {});
  conn.close();
}

/** Starts user `id`'s session; ends `ending` once it is over. */
function spawnSession(
  chat: Chat,
  conn: SessionConn,
  peer: Deno.NetAddr,
  how: SessionKind,
  id: number,
  ending: Ending,
): void {
  const { log, metrics, limits } = chat;
  const name = `user${id}`;
  const peerText = formatAddress(peer);
  log(`New connection from ${peerText} as ${name}`, {
    event: "connect",
    peer: peerText,
    user: name,
  });
  if (metrics) {
    metrics.connectionsAccepted++;
    metrics.connectionsOpen++;
  }
  const onEnded = new SessionEnd(conn, metrics, ending);
  const mailbox = { capacity: SESSION_MAILBOX_CAPACITY, onError: chat.onSessionError };
  if (isIrc(how.face)) {
    const { address, secure } = { address: peer.hostname, secure: how.secure };
    const server = chat.server.address;
    const writes = chat.writes;
    const name = chat.ircName;
    spawn(
      new IrcSession({
        conn,
        id,
        server,
        limits,
        log,
        metrics,
        address,
        secure,
        writes,
        onEnded,
        name,
      }),
      mailbox,
    );
    return;
  }
  spawn(
    new ClientSession({
      conn,
      id,
      name,
      server: chat.server.address,
      limits,
      log,
      metrics,
      address: peer.hostname,
      secure: how.secure,
      face: how.face,
      writes: chat.writes,
      onEnded,
    }),
    mailbox,
  );
}

/** What follows a session's end: an object of three fields rather than a
 * closure and its scope, held by every connection while it lasts. */
class SessionEnd {
  readonly #conn: SessionConn;
  readonly #metrics: Metrics | undefined;
  readonly #ending: Ending;

  constructor(conn: SessionConn, metrics: Metrics | undefined, ending: Ending) {
    this.#conn = conn;
    this.#metrics = metrics;
    this.#ending = ending;
  }

  sessionEnded(): void {
    if (this.#metrics) this.#metrics.connectionsOpen--;
    const conn = this.#conn;
    // A WebSocket's close frame goes out before its connection counts as gone.
    if (!(conn instanceof WebSocketConn)) return this.#ending.end();
    conn.close();
    conn.done.then(() => this.#ending.end());
  }
}

/** `host:port`, with brackets around IPv6 hosts. */
export function formatAddress(addr: Deno.NetAddr): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}
