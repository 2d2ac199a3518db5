/**
 * The `ClientSession` actor: one per connection, the seed example's
 * "stream handler" half.
 *
 * Its socket's read side is attached to it as a stream of lines (capped,
 * telnet-filtered, UTF-8 decoded); it cleans each line, applies flood
 * control, parses commands and tells the `ChatServer`. Its write side is the
 * connection's `Outbox`, a writer task outside the actor system that the
 * ChatServer appends to directly. The session registers on start and
 * unregisters on stop, whatever the reason it stops (EOF, reset, kick,
 * shutdown), so the registry never holds a dead connection.
 *
 * @module
 */

import { Actor, type Address, type Context } from "../actors/mod.ts";
import { type ByteReader, type LineEvent, readLines } from "../net/line_splitter.ts";
import { type ByteWriter, Outbox, type OutboxCloseReason } from "../net/outbox.ts";
import type { Writes } from "../net/writes.ts";
import { type Input, parseInput } from "./commands.ts";
import { type RoomLine, roomLine } from "./room_lines.ts";
import { type Face, type Refusal, refused } from "./events.ts";
import { render } from "./render.ts";
import { TokenBucket } from "./rate_limit.ts";
import { sanitize } from "./sanitize.ts";
import type { ChatServerMessage } from "./server.ts";
import type { ChatMetrics, Log } from "./ports.ts";
import { unreachable } from "../actors/mod.ts";

/** Messages a session handles: lines from its socket, and its own events. */
export type ClientSessionMessage =
  | LineEvent
  | { type: "input_ended"; failed: boolean }
  | { type: "outbox_closed"; reason: OutboxCloseReason }
  | { type: "idle_check" }
  | { type: "renamed"; name: string };

/** The limits a session enforces (see docs/protocol.md, "Limits"). */
export interface SessionLimits {
  /** Longest line content in bytes. */
  maxLineBytes: number;
  /** Flood control: lines per second (0 = off) and burst. */
  floodRate: number;
  floodBurst: number;
  /** Continuous flooding that ends in a disconnect, in ms. */
  floodKickMs?: number;
  /** Send-queue budget in bytes. */
  maxQueuedBytes: number;
  /** Disconnect after this long without a line from the client; 0 = never. */
  idleTimeoutMs: number;
  /** How long queued lines may take to drain when the session ends. */
  flushMs: number;
}

/** Options for {@linkcode ClientSession}. */
export interface ClientSessionOptions {
  /** The connection: TCP, TLS, or a WebSocket adapted to read/write/close
   * (which says `telnet: false`: its text carries no telnet). */
  conn: ByteReader & ByteWriter & { readonly telnet?: boolean };
  id: number;
  name: string;
  server: Address<ChatServerMessage>;
  limits: SessionLimits;
  log: Log;
  /** Counters for the metrics endpoint, if one is served. */
  metrics?: ChatMetrics;
  /** The peer's address (no port), and whether the connection is TLS. */
  address: string;
  secure: boolean;
  /** How the client reads events: text lines (the default) or JSON. */
  face?: Face;
  /** The chat's writes, shared by every session's outbox. */
  writes?: Writes;
  /** Told last, once the session is over and its queued lines are out. */
  onEnded?: { sessionEnded(): void };
}

/** Sent, best effort, to a client dropped for not reading: made once per
 * face for every session (a client that is not reading has no use for an
 * exact `time`). */
const OVERFLOW_NOTICE: Record<Face, Uint8Array> = {
  text: render("text", [refused({ refusal: "not_reading" })], 0),
  json: render("json", [refused({ refusal: "not_reading" })], Date.now()),
  irc: render("irc", [refused({ refusal: "not_reading" })], 0),
  irc_tags: render("irc", [refused({ refusal: "not_reading" })], 0),
  irc_v3: render("irc", [refused({ refusal: "not_reading" })], 0),
  irc_mt: render("irc", [refused({ refusal: "not_reading" })], 0),
  irc_mt_batch: render("irc", [refused({ refusal: "not_reading" })], 0),
};

/** The end-of-stream messages, made once for every session. */
const INPUT_ENDED: { ended: ClientSessionMessage; failed: ClientSessionMessage } = {
  ended: { type: "input_ended", failed: false },
  failed: { type: "input_ended", failed: true },
};
const READ_OPTIONS = { endWith: INPUT_ENDED };
const OUTBOX_CLOSED: Record<OutboxCloseReason, ClientSessionMessage> = {
  closed: { type: "outbox_closed", reason: "closed" },
  overflow: { type: "outbox_closed", reason: "overflow" },
  error: { type: "outbox_closed", reason: "error" },
};

/** One connected client; see the module doc. */
export class ClientSession extends Actor<ClientSessionMessage> {
  readonly #conn: ByteReader & ByteWriter & { readonly telnet?: boolean };
  readonly #id: number;
  readonly #server: Address<ChatServerMessage>;
  readonly #limits: SessionLimits;
  readonly #log: Log;
  readonly #metrics: ChatMetrics | undefined;
  readonly #address: string;
  readonly #secure: boolean;
  readonly #face: Face;
  /** Why this session ended, for the log; the first reason found wins. */
  #cause: string | undefined;
  readonly #outbox: Outbox;
  /** Made at the first line: a client that never speaks costs none. */
  #flood: TokenBucket | undefined;
  /** The user's current name, for log lines; the ChatServer says when it
   * changes (a message, not shared state). */
  #name: string;
  #joined = false;
  #left = false;
  /** When the client last sent a line (set at start, on the actor's clock). */
  #lastLineAt = 0;
  readonly #onEnded: { sessionEnded(): void } | undefined;
  /** Our own address, once started: where the outbox's close is told. */
  #self: Address<ClientSessionMessage> | undefined;

  constructor(options: ClientSessionOptions) {
    super();
    this.#conn = options.conn;
    this.#id = options.id;
    this.#name = options.name;
    this.#server = options.server;
    this.#limits = options.limits;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#address = options.address;
    this.#secure = options.secure;
    this.#face = options.face ?? "text";
    this.#onEnded = options.onEnded;
    this.#outbox = new Outbox(this.#conn, {
      maxQueuedBytes: this.#limits.maxQueuedBytes,
      overflowNotice: OVERFLOW_NOTICE[this.#face],
      writes: options.writes,
    });
  }

  override async started(ctx: Context<ClientSessionMessage>): Promise<void> {
    this.#lastLineAt = ctx.clock.now();
    // Register before reading: the server must know us before our first line.
    await this.#server.send({
      type: "join",
      id: this.#id,
      name: this.#name,
      sink: this.#outbox,
      face: this.#face,
      session: ctx.address,
      address: this.#address,
      secure: this.#secure,
    });
    this.#joined = true;
    const lines = readLines(this.#conn, {
      maxLineBytes: this.#limits.maxLineBytes,
      telnet: this.#conn.telnet !== false,
    });
    // Through the mailbox, behind the lines already read: a client that
    // sends a line and closes at once still has its line handled.
    ctx.addStream(lines, READ_OPTIONS);
    this.#self = ctx.address;
    this.#outbox.whenClosed(this);
    if (this.#limits.idleTimeoutMs > 0) {
      ctx.runInterval(Math.max(1000, this.#limits.idleTimeoutMs / 4), { type: "idle_check" });
    }
  }

  handle(message: ClientSessionMessage, ctx: Context<ClientSessionMessage>): void | Promise<void> {
    switch (message.type) {
      case "line":
        return this.#line(message.text, ctx);
      case "too_long":
        this.#log(
          `[server] ${this.#name} sent a line over ${this.#limits.maxLineBytes} bytes`,
          { level: "warn", event: "line_too_long", user: this.#name },
        );
        this.#refuse({ refusal: "line_too_long", max: this.#limits.maxLineBytes }, ctx);
        return;
      case "input_ended":
        this.#cause ??= message.failed ? "connection error" : "closed by client";
        ctx.stop();
        return;
      case "outbox_closed":
        if (message.reason === "overflow") this.#kick("not reading fast enough", ctx);
        else this.#cause ??= message.reason === "error" ? "connection error" : "closed by server";
        ctx.stop();
        return;
      case "idle_check":
        if (ctx.clock.now() - this.#lastLineAt >= this.#limits.idleTimeoutMs) {
          this.#refuse({ refusal: "idle" }, ctx);
          this.#kick("idle too long", ctx);
        }
        return;
      case "renamed":
        this.#name = message.name;
        return;
      default:
        return unreachable(message);
    }
  }

  /** The outbox closed: told through the mailbox, like everything else. */
  outboxClosed(reason: OutboxCloseReason): void {
    this.#self?.send(OUTBOX_CLOSED[reason]).catch(() => {});
  }

  override stopped(): void {
    this.#onEnded?.sessionEnded();
  }

  override async stopping(): Promise<void> {
    if (this.#joined && !this.#left) {
      this.#left = true;
      await this.#server.send({ type: "leave", id: this.#id, cause: this.#cause }).catch(() => {});
    }
    await this.#outbox.close({ flushMs: this.#limits.flushMs });
    this.#metrics?.queueHighWater(this.#outbox.highWater);
  }

  /** Disconnects this client for `reason` (its notice is already queued). */
  #kick(reason: string, ctx: Context<ClientSessionMessage>): void {
    const user = this.#name;
    this.#cause ??= `kicked: ${reason}`;
    this.#log(`[server] ${user} disconnected: ${reason}`, {
      level: "warn",
      event: "kick",
      user,
      reason,
    });
    this.#metrics?.kicked(reason);
    ctx.stop();
  }

  #line(raw: string, ctx: Context<ClientSessionMessage>): void | Promise<void> {
    // Every line costs a flood token, even one that is empty after
    // cleaning: no input is free, or empty lines become a flood lever.
    this.#metrics?.lineIn();
    const now = ctx.clock.now();
    if (!this.#withinFloodLimit(now, ctx)) return;
    const text = sanitize(raw);
    if (text === "") return;
    this.#lastLineAt = now;
    // Plain chat, the common case, goes straight through.
    if (text.charCodeAt(0) !== 0x2f /* / */) return this.#tell({ type: "say", id: this.#id, text });
    // A page may address one of its rooms (see room_lines.ts).
    const input: Input | RoomLine = (this.#face === "json" ? roomLine(text) : undefined) ??
      parseInput(text);
    const room = "room" in input ? input.room : undefined;
    switch (input.type) {
      case "say":
        return this.#tell({ type: "say", id: this.#id, text: input.text, room });
      case "invalid":
        this.#refuse({ refusal: "bad_command", text: input.reason }, ctx);
        return;
      case "command":
        if (input.command.name !== "quit") {
          return this.#tell({ type: "command", id: this.#id, command: input.command, room });
        }
        this.#left = true;
        ctx.stop();
        return this.#tell({
          type: "leave",
          id: this.#id,
          reason: input.command.reason,
          cause: "quit",
        });
      default:
        return unreachable(input);
    }
  }

  /** Applies flood control to a line arriving at `now`; false drops it. */
  #withinFloodLimit(now: number, ctx: Context<ClientSessionMessage>): boolean {
    const verdict = (this.#flood ??= new TokenBucket({
      rate: this.#limits.floodRate,
      burst: this.#limits.floodBurst,
      kickAfterMs: this.#limits.floodKickMs,
    })).take(now);
    switch (verdict) {
      case "ok":
        return true;
      case "drop":
        return false;
      case "drop_and_warn":
        this.#log(`[server] ${this.#name} is flooding; dropping lines`, {
          level: "warn",
          event: "flood",
          user: this.#name,
        });
        this.#refuse({ refusal: "slow_down" }, ctx);
        return false;
      case "kick":
        this.#refuse({ refusal: "flooding" }, ctx);
        this.#kick("flooding", ctx);
        return false;
      default:
        return unreachable(verdict);
    }
  }

  /** Tells this client why its line was refused, or why it is leaving. */
  #refuse(refusal: Refusal, ctx: Context<ClientSessionMessage>): void {
    this.#outbox.push(render(this.#face, [refused(refusal)], ctx.clock.now()));
  }

  /** Sends to the server, waiting for room (backpressure on this client's
   * reads); a closed server means we are shutting down, so just stop. */
  #tell(message: ChatServerMessage): void | Promise<void> {
    try {
      if (this.#server.trySend(message)) return;
    } catch {
      return; // Closed: the server is shutting down and will close us.
    }
    return this.#server.send(message).catch(() => {});
  }
}
