/**
 * Which other servers are alive: heartbeats out, silence in.
 *
 * Presence survives crashes without scanning keys: each linked server
 * publishes a heartbeat every `HEARTBEAT_MS`, and any event from a server
 * counts as a sign of life. A server silent for `PRESENCE_TIMEOUT_MS` is
 * taken for dead and its users are shown as left. Pure: the broker passes
 * the time in, so tests use a fake clock.
 *
 * @module
 */

/** How often a linked server says it is alive. */
export const HEARTBEAT_MS = 2_000;

/** Silence after which a server is taken for dead: three missed heartbeats,
 * so one slow beat on a busy machine does not drop a whole server's users. */
export const PRESENCE_TIMEOUT_MS = 3 * HEARTBEAT_MS;

/**
 * When each other server was last heard from.
 *
 * @example
 * ```ts
 * import { Presence } from "./presence.ts";
 * const presence = new Presence();
 * presence.heard("b", 0);
 * presence.expire(5_000); // []
 * presence.expire(6_000); // ["b"]
 * ```
 */
export class Presence {
  readonly #timeoutMs: number;
  readonly #lastSeen = new Map<string, number>();

  constructor(options: { timeoutMs?: number } = {}) {
    this.#timeoutMs = options.timeoutMs ?? PRESENCE_TIMEOUT_MS;
  }

  /** `server` showed a sign of life at `now`. */
  heard(server: string, now: number): void {
    this.#lastSeen.set(server, now);
  }

  /** `server` said goodbye: no need to wait for its silence. */
  forget(server: string): void {
    this.#lastSeen.delete(server);
  }

  /** Our own link was down: the silence was ours, so every clock restarts. */
  restartClocks(now: number): void {
    for (const server of this.#lastSeen.keys()) this.#lastSeen.set(server, now);
  }

  /** The servers silent past the timeout at `now`, forgotten as they go. */
  expire(now: number): string[] {
    const lost: string[] = [];
    for (const [server, seen] of this.#lastSeen) {
      if (now - seen < this.#timeoutMs) continue;
      this.#lastSeen.delete(server);
      lost.push(server);
    }
    return lost;
  }
}
