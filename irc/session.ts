/**
 * The `IrcSession` actor: one per IRC connection, the IRC twin of
 * `chat/session.ts`. It reads IRC lines, registers the client (`CAP`,
 * `NICK`, `USER`, `PASS` ignored), answers what needs no chat state
 * (`PING`, `CAP`, the welcome, `MOTD`), and turns the rest into the chat
 * server's messages (`commands.ts`); what the chat says back reaches the
 * client through its outbox, rendered by the IRC face (`chat/render_irc.ts`).
 *
 * Registration: once the client has sent `NICK` and `USER` (and `CAP END`,
 * if it began capability negotiation), the session joins the chat as its
 * assigned `userN`, in no channel, and asks for the nick. The welcome
 * (`001` to `005`, `LUSERS`, `MOTD`) goes out when the chat has granted a
 * nick; a nick refused meanwhile comes back as `433` or `432`, and the
 * client picks another, as it would on any server.
 *
 * Flood control is IRC's fakelag (`fakelag.ts`): lines over the rate wait,
 * they are not dropped.
 *
 * @module
 */

import { Actor, type Address, type Context, unreachable } from "../actors/mod.ts";
import { type ByteReader, type LineEvent, readLines } from "../net/line_splitter.ts";
import { type ByteWriter, Outbox, type OutboxCloseReason } from "../net/outbox.ts";
import type { Writes } from "../net/writes.ts";
import type { Face, Notify } from "../chat/events.ts";
import type { ChatMetrics, Log } from "../chat/ports.ts";
import type { ChatServerMessage, LiveFigures } from "../chat/server.ts";
import type { SessionLimits } from "../chat/session.ts";
import type { Caps } from "./caps.ts";
import { type Chat, ircCommand, type IrcState } from "./commands.ts";
import { FakeLag } from "./fakelag.ts";
import { type IrcMessage, MAX_BODY_BYTES, MAX_TAG_BYTES, parseIrc } from "./message.ts";
import { lusers, welcome } from "./welcome.ts";
import { ERROR_LINE, line, reply } from "./replies.ts";
import { IRC_SERVER, mask } from "../chat/render_irc.ts";

/** Messages an IRC session handles. */
export type IrcSessionMessage =
  | LineEvent
  | { type: "input_ended"; failed: boolean }
  | { type: "outbox_closed"; reason: OutboxCloseReason }
  | { type: "idle_check" }
  | { type: "registration_timeout" }
  | { type: "renamed"; name: string };

/** How long a client has to register: a real one takes a second. */
export const REGISTRATION_TIMEOUT_MS = 30_000;

/** Options for {@linkcode IrcSession}. */
export interface IrcSessionOptions {
  conn: ByteReader & ByteWriter;
  id: number;
  server: Address<ChatServerMessage>;
  limits: SessionLimits;
  log: Log;
  metrics?: ChatMetrics;
  address: string;
  secure: boolean;
  writes?: Writes;
  onEnded?: { sessionEnded(): void };
  /** The server's name in IRC lines. */
  name?: string;
}

/** One IRC client; see the module doc. */
export class IrcSession extends Actor<IrcSessionMessage> {
  readonly #o: IrcSessionOptions;
  readonly #outbox: Outbox;
  readonly #lag: FakeLag;
  /** What the client told us, and where registration stands. */
  readonly #state: IrcState;
  /** Set once started: its timers, and its address for the chat server. */
  #ctx: Context<IrcSessionMessage> | undefined;
  #cause: string | undefined;
  /** Lines that came while the chat was granting the first nick: handled
   * after the welcome, in order, as a server that registers at once would. */
  #waiting: IrcMessage[] | undefined;
  #chatPort: Chat | undefined;
  #lastLineAt = 0;
  #left = false;

  constructor(options: IrcSessionOptions) {
    super();
    this.#o = options;
    this.#outbox = new Outbox(options.conn, {
      maxQueuedBytes: options.limits.maxQueuedBytes,
      overflowNotice: ERROR_LINE("disconnected: not reading fast enough"),
      writes: options.writes,
    });
    this.#lag = new FakeLag({ rate: options.limits.floodRate, burst: options.limits.floodBurst });
    this.#state = {
      server: options.name ?? IRC_SERVER,
      assigned: `user${options.id}`,
      nick: `user${options.id}`,
      caps: new Set(),
      negotiating: false,
      joined: false,
      welcomed: false,
    };
  }

  override started(ctx: Context<IrcSessionMessage>): void {
    this.#ctx = ctx;
    this.#lastLineAt = ctx.clock.now();
    // A line may be 512 bytes, and its tags 4096 more; past that the
    // reader reports it too long and skips it, holding no more.
    const maxLineBytes = MAX_TAG_BYTES + MAX_BODY_BYTES;
    const lines = readLines(this.#o.conn, { maxLineBytes, telnet: false });
    ctx.addStream(lines, { endWith: { ended: ENDED, failed: FAILED } });
    this.#outbox.whenClosed({
      outboxClosed: (reason) => ctx.address.send({ type: "outbox_closed", reason }).catch(() => {}),
    });
    ctx.runLater(REGISTRATION_TIMEOUT_MS, { type: "registration_timeout" });
    const idle = this.#o.limits.idleTimeoutMs;
    if (idle > 0) ctx.runInterval(Math.max(1000, idle / 4), { type: "idle_check" });
  }

  handle(message: IrcSessionMessage, ctx: Context<IrcSessionMessage>): void | Promise<void> {
    switch (message.type) {
      case "line":
        return this.#line(message.text, ctx);
      case "too_long":
        return this.#send(reply(this.#state, "417", "Input line was too long"));
      case "input_ended":
        // An outbox that overflowed closes the socket: the read may end first.
        if (this.#outbox.closedReason === "overflow") {
          return this.#kick("not reading fast enough", ctx);
        }
        this.#cause ??= message.failed ? "connection error" : "closed by client";
        return ctx.stop();
      case "outbox_closed":
        if (message.reason === "overflow") return this.#kick("not reading fast enough", ctx);
        this.#cause ??= message.reason === "error" ? "connection error" : "closed by server";
        return ctx.stop();
      case "idle_check":
        if (ctx.clock.now() - this.#lastLineAt < this.#o.limits.idleTimeoutMs) return;
        this.#send(ERROR_LINE("disconnected: idle too long"));
        return this.#kick("idle too long", ctx);
      case "registration_timeout":
        if (this.#state.welcomed) return;
        this.#send(ERROR_LINE("registration timed out"));
        this.#cause ??= "registration timed out";
        return ctx.stop();
      case "renamed":
        return this.#renamed(message.name);
      default:
        return unreachable(message);
    }
  }

  override async stopping(): Promise<void> {
    if (this.#state.joined && !this.#left) {
      this.#left = true;
      await this.#o.server.send({ type: "leave", id: this.#o.id, cause: this.#cause }).catch(
        () => {},
      );
    }
    await this.#outbox.close({ flushMs: this.#o.limits.flushMs });
    this.#o.metrics?.queueHighWater(this.#outbox.highWater);
  }

  override stopped(): void {
    this.#o.onEnded?.sessionEnded();
  }

  #line(raw: string, ctx: Context<IrcSessionMessage>): void | Promise<void> {
    this.#o.metrics?.lineIn();
    const now = ctx.clock.now();
    this.#lastLineAt = now;
    const message = parseIrc(raw);
    if (message === undefined) return;
    if (message.bodyBytes > MAX_BODY_BYTES || (message.tagBytes ?? 0) > MAX_TAG_BYTES) {
      return this.#send(reply(this.#state, "417", "Input line was too long"));
    }
    const wait = this.#lag.delay(now);
    const run = () => this.#run(message, ctx);
    if (wait === 0) return run();
    // Fakelag: handled later; meanwhile the mailbox fills and reads stop.
    return new Promise<void>((resolve) => ctx.clock.setTimeout(resolve, wait)).then(run);
  }

  #run(message: IrcMessage, ctx: Context<IrcSessionMessage>): void | Promise<void> {
    const s = this.#state;
    if (s.joined && !s.welcomed && !DURING_REGISTRATION.has(message.command)) {
      const waiting = this.#waiting ??= [];
      if (waiting.length < MAX_WAITING) waiting.push(message);
      return;
    }
    return ircCommand(this.#port(ctx), message);
  }

  /** What the command handlers may do, made once per session, not per line. */
  #port(ctx: Context<IrcSessionMessage>): Chat {
    return this.#chatPort ??= {
      state: this.#state,
      id: this.#o.id,
      send: (bytes) => this.#send(bytes),
      tell: (m) => this.#tell(m),
      register: () => this.#register(),
      quit: (reason) => this.#quit(reason, ctx),
      login: (account, password) => this.#login(account, password),
      capsChanged: () => this.#capsChanged(),
      figures: () => this.#figures(),
    };
  }

  /** Disconnects this client for `reason` (its notice is already queued),
   * logged and counted as every face's kicks are. */
  #kick(reason: string, ctx: Context<IrcSessionMessage>): void {
    const user = this.#state.nick;
    this.#cause ??= `kicked: ${reason}`;
    this.#o.log(`[server] ${user} disconnected: ${reason}`, {
      level: "warn",
      event: "kick",
      user,
      reason,
    });
    this.#o.metrics?.kicked(reason);
    ctx.stop();
  }

  /** NICK, USER and the end of CAP are in: join the chat (if SASL has
   * not already), then ask for the nick, or welcome the client if it has
   * it (the name of the account it logged in to). */
  async #register(): Promise<void> {
    const s = this.#state;
    if (s.welcomed || s.negotiating || s.wanted === undefined || s.user === undefined) return;
    await this.#join();
    if (s.nick.toLowerCase() === s.wanted.toLowerCase()) return this.#welcome();
    await this.#tell({
      type: "command",
      id: this.#o.id,
      command: { name: "nick", nick: s.wanted },
    });
  }

  /** Joins the chat as `userN`, in no channel, once. */
  async #join(): Promise<void> {
    const s = this.#state;
    if (s.joined) return;
    s.joined = true;
    await this.#o.server.send({
      type: "join",
      id: this.#o.id,
      name: s.assigned,
      sink: this.#outbox,
      face: faceOf(s.caps),
      echo: s.caps.has("echo-message"),
      ident: s.user === undefined ? undefined : { user: s.user, realname: s.realname ?? s.user },
      session: this.#ctx!.address,
      address: this.#o.address,
      secure: this.#o.secure,
    }).catch(() => {});
    // The news it asked for, after the join (the mailbox keeps the order).
    if (NOTIFY.some((cap) => s.caps.has(cap))) await this.#capsChanged();
  }

  /** SASL: log in to `account` (the chat answers `900` and `903`, or
   * `904`, and renames the user to the account's name). */
  async #login(account: string, password: string): Promise<void> {
    await this.#join();
    await this.#tell({
      type: "command",
      id: this.#o.id,
      command: { name: "login", account, password },
    });
  }

  /** The chat granted a nick: the welcome, if it was the first; else the
   * client's `NICK` answered. */
  #renamed(name: string): void | Promise<void> {
    const old = this.#state.nick;
    this.#state.nick = name;
    const s = this.#state;
    if (s.welcomed) return this.#send(tagged(s, `:${mask(old)} NICK ${name}`));
    if (s.wanted?.toLowerCase() === name.toLowerCase()) return this.#register();
  }

  async #welcome(): Promise<void> {
    const s = this.#state;
    if (s.welcomed) return;
    s.welcomed = true;
    const figures = await this.#figures();
    this.#send(welcome(s, lusers(s, figures)));
    const waiting = this.#waiting ?? [];
    this.#waiting = undefined;
    const ctx = this.#ctx;
    if (ctx === undefined) return;
    for (const message of waiting) await ircCommand(this.#port(ctx), message);
  }

  #figures(): Promise<LiveFigures | undefined> {
    return new Promise<LiveFigures | undefined>((resolve) => {
      this.#o.server.send({ type: "stats", reply: resolve }).catch(() => resolve(undefined));
    });
  }

  #capsChanged(): void | Promise<void> {
    const s = this.#state;
    if (!s.joined) return;
    return this.#tell({
      type: "face",
      id: this.#o.id,
      face: faceOf(s.caps),
      echo: s.caps.has("echo-message"),
      wants: NOTIFY.filter((cap) => s.caps.has(cap)),
    });
  }

  #quit(reason: string, ctx: Context<IrcSessionMessage>): void | Promise<void> {
    this.#send(ERROR_LINE(`Closing link: ${reason === "" ? "Quit" : reason}`));
    this.#cause ??= "quit";
    ctx.stop();
    if (!this.#state.joined || this.#left) return;
    this.#left = true;
    return this.#tell({ type: "leave", id: this.#o.id, reason, cause: "quit" });
  }

  #send(bytes: Uint8Array): void {
    this.#outbox.push(bytes);
  }

  /** Sends to the chat server, waiting for room (back-pressure on reads). */
  #tell(message: ChatServerMessage): void | Promise<void> {
    try {
      if (this.#o.server.trySend(message)) return;
    } catch {
      return;
    }
    return this.#o.server.send(message).catch(() => {});
  }
}

/** What a client may still say while its first nick is being granted:
 * another nick (the first was refused), or goodbye. */
const DURING_REGISTRATION = new Set([
  "NICK",
  "QUIT",
  "CAP",
  "USER",
  "PASS",
  "PONG",
  "AUTHENTICATE",
]);
/** Lines kept for after the welcome, at most. */
const MAX_WAITING = 32;

const ENDED: IrcSessionMessage = { type: "input_ended", failed: false };
const FAILED: IrcSessionMessage = { type: "input_ended", failed: true };

/** A line with the time, for a client that asked for `server-time`. */
function tagged(state: IrcState, text: string): Uint8Array {
  const at = state.caps.has("server-time") ? `@time=${new Date().toISOString()} ` : "";
  return line(at + text);
}

/** The capabilities that are news to follow. */
const NOTIFY: readonly Notify[] = ["away-notify", "account-notify"];

/** The face a client's capabilities call for. `account-tag` alone reads
 * as `message-tags` does: a client that parses one tag parses them all. */
function faceOf(caps: Caps): Face {
  const all = caps.has("message-tags") || caps.has("account-tag");
  if (caps.has("batch")) return all ? "irc_mt_batch" : "irc_v3";
  if (all) return "irc_mt";
  return caps.has("server-time") ? "irc_tags" : "irc";
}
