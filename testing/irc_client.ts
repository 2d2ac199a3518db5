/**
 * An IRC client for tests, on a real socket: it registers as IRC clients
 * do (`CAP LS 302`, `NICK`, `USER`, `CAP REQ`, `CAP END`) and reads lines
 * with their CR and (unless asked) their `@time` tag taken off, every read
 * with a deadline.
 *
 * @module
 */

import { LINE_TIMEOUT_MS, TestClient } from "./test_client.ts";

/** An IRC connection in a test. */
export class IrcClient {
  readonly raw: TestClient;
  nick: string;

  private constructor(raw: TestClient, nick: string) {
    this.raw = raw;
    this.nick = nick;
  }

  /** Connects to 127.0.0.1:`port` without registering. */
  static async connect(port: number): Promise<IrcClient> {
    return new IrcClient(await TestClient.connect(port), "*");
  }

  /** Wraps an open connection (a TLS one), not registered yet. */
  static wrap(conn: Deno.Conn): IrcClient {
    return new IrcClient(TestClient.wrap(conn), "*");
  }

  /** Connects and registers as `nick` with capabilities `caps`; returns
   * once the welcome (through `376`) has been read. */
  static async register(port: number, nick: string, caps: string[] = []): Promise<IrcClient> {
    const client = await IrcClient.connect(port);
    await client.send("CAP LS 302");
    await client.send(`NICK ${nick}`);
    await client.send(`USER ${nick} 0 * :${nick} in a test`);
    if (caps.length > 0) {
      await client.send(`CAP REQ :${caps.join(" ")}`);
      await client.readUntil((l) => / CAP \S+ (ACK|NAK) /.test(l));
    }
    await client.send("CAP END");
    await client.readUntil((l) => / 001 /.test(l));
    await client.readUntil((l) => / 376 /.test(l));
    client.nick = nick;
    return client;
  }

  /** Sends one line (CRLF added). */
  send(line: string): Promise<void> {
    return this.raw.writeAll(new TextEncoder().encode(line + "\r\n"));
  }

  /** The next line, CR and `@time=` tag removed (`keepTags` keeps them). */
  async line(timeoutMs = LINE_TIMEOUT_MS, keepTags = false): Promise<string> {
    const text = (await this.raw.readLine(timeoutMs)).replace(/\r$/, "");
    return keepTags ? text : text.replace(/^@\S+ /, "");
  }

  /** Reads until a line matches; returns it. */
  async readUntil(match: (line: string) => boolean, timeoutMs = LINE_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const line = await this.line(Math.max(1, deadline - Date.now()));
      if (match(line)) return line;
    }
  }

  /** Lines up to the chat's answer to a message to nobody: everything
   * the chat had queued for this client before it (it handles a client's
   * lines in order). */
  async linesBeforeProbe(): Promise<string[]> {
    const nobody = `probe-${crypto.randomUUID().slice(0, 8)}`;
    await this.send(`PRIVMSG ${nobody} :are you there?`);
    const lines: string[] = [];
    while (true) {
      const line = await this.line();
      if (line.startsWith(`:marquee 401 ${this.nick} ${nobody} `)) return lines;
      lines.push(line);
    }
  }

  close(): Promise<void> {
    return this.raw.close();
  }
}
