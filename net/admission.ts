/**
 * Admission: the one path every connection takes in, whatever its
 * transport (plain TCP, TLS, WebSocket), and the one path every refusal
 * takes out: counted against the limits, refused with a reason, logged and
 * counted the same way.
 *
 * The limits are shared by every listener, so 10,000 means 10,000 in all
 * and 100 per address means 100 across TCP, TLS and WebSocket together.
 *
 * @module
 */

/** Connections served at once by default before new ones are refused. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

/** Connections from one remote address by default; a crowd behind one NAT
 * fits, a script opening sockets in a loop does not. */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 100;

/** New connections per minute from one address by default, after a burst
 * of {@linkcode CONNECT_BURST}: a person reconnecting, or a few dozen
 * people behind one NAT arriving together, never meet it; a script that
 * connects, posts a `/quit` advert and reconnects in a loop does. */
export const DEFAULT_CONNECTS_PER_MINUTE = 60;
/** Connections one address may open at once before the rate applies. */
export const CONNECT_BURST = 30;

/** The limits {@linkcode Admission} applies. */
export interface AdmissionLimits {
  /** New connections per minute per address after a burst (0 = no limit;
   * default 60). */
  connectsPerMinute?: number;
  /** Most connections at once (default 10,000). */
  maxConnections?: number;
  /** Most connections per remote address (default 100). */
  maxConnectionsPerAddress?: number;
  /** Whether loopback clients skip the per-address limit (default true):
   * a local proxy or test tool is not one person. */
  exemptLoopback?: boolean;
}

/** Options for {@linkcode Admission}. */
export interface AdmissionOptions extends AdmissionLimits {
  /** Where refusals are logged (default: nowhere). */
  log?: (line: string, fields?: Record<string, string | number>) => void;
  /** Called for each refusal, with the reason (for metrics). */
  onRefuse?: (reason: string) => void;
  /** The clock, in ms (tests pass a fake one). */
  now?: () => number;
}

/** Connection tokens of one address, refilled lazily from the clock. */
interface ConnectBucket {
  tokens: number;
  at: number;
}

/** Logs and counts one refusal: the line every `Gate` writes. */
export function reportRefusal(
  log: NonNullable<AdmissionOptions["log"]>,
  onRefuse: (reason: string) => void,
  peer: string,
  reason: string,
): void {
  log(`Refused ${peer}: ${reason}`, { level: "warn", event: "refuse", peer, reason });
  onRefuse(reason);
}

/** Whether `hostname` is a loopback address (exempt from the per-address limit). */
export function isLoopback(hostname: string): boolean {
  return hostname.startsWith("127.") || hostname === "::1" ||
    hostname.startsWith("::ffff:127.");
}

/**
 * What the accept loops ask about each connection: the one `Admission` of
 * this process, or (with `--workers`) one that asks the process's hub, so
 * the limits hold across every worker.
 */
export interface Gate {
  /** Admits a connection from `host`, or returns the reason it is refused
   * (already logged and counted through `refused`). */
  admit(host: string): string | undefined | Promise<string | undefined>;
  /** Gives back the place of a connection from `host` that has ended. */
  release(host: string): void;
  /** Logs and counts a refusal (every refusal goes through this). */
  refused(peer: string, reason: string): void;
}

/**
 * The connection limits and the refusal path, shared by every listener.
 *
 * @example
 * ```ts
 * import { Admission } from "./admission.ts";
 * const admission = new Admission({ maxConnections: 1 });
 * admission.admit("10.0.0.1"); // undefined: admitted
 * admission.admit("10.0.0.2"); // "server full" (logged and counted)
 * admission.release("10.0.0.1");
 * ```
 */
export class Admission implements Gate {
  readonly #max: number;
  readonly #maxPerAddress: number;
  readonly #exemptLoopback: boolean;
  readonly #log: NonNullable<AdmissionOptions["log"]>;
  readonly #onRefuse: (reason: string) => void;
  readonly #perAddress = new Map<string, number>();
  readonly #connectsPerMs: number;
  readonly #now: () => number;
  readonly #connects = new Map<string, ConnectBucket>();
  #open = 0;

  constructor(options: AdmissionOptions = {}) {
    this.#max = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.#maxPerAddress = options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
    this.#exemptLoopback = options.exemptLoopback ?? true;
    this.#log = options.log ?? (() => {});
    this.#onRefuse = options.onRefuse ?? (() => {});
    this.#connectsPerMs = (options.connectsPerMinute ?? DEFAULT_CONNECTS_PER_MINUTE) / 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Connections admitted and not yet released. */
  get open(): number {
    return this.#open;
  }

  /** Admits a connection from `host`, or refuses it (logged and counted)
   * and returns the reason to tell the client. */
  admit(host: string): string | undefined {
    const refusal = this.#check(host);
    if (refusal !== undefined) {
      this.refused(host, refusal);
      return refusal;
    }
    this.#open++;
    this.#perAddress.set(host, (this.#perAddress.get(host) ?? 0) + 1);
    return undefined;
  }

  /** Gives back the place of a connection from `host` that has ended. */
  release(host: string): void {
    this.#open--;
    const left = (this.#perAddress.get(host) ?? 1) - 1;
    if (left === 0) this.#perAddress.delete(host);
    else this.#perAddress.set(host, left);
  }

  /** Logs and counts a refusal decided here or later on the way in (no
   * user number to be had, say): every refusal goes through this. */
  refused(peer: string, reason: string): void {
    reportRefusal(this.#log, this.#onRefuse, peer, reason);
  }

  #check(host: string): string | undefined {
    if (this.#open >= this.#max) return "server full";
    if (this.#exemptLoopback && isLoopback(host)) return undefined;
    const fromHost = this.#perAddress.get(host) ?? 0;
    if (fromHost >= this.#maxPerAddress) return "too many connections from your address";
    if (!this.#takeConnectToken(host)) return "connecting too often: wait a minute";
    return undefined;
  }

  /** Takes one of `host`'s connection tokens; false if none is left. */
  #takeConnectToken(host: string): boolean {
    if (this.#connectsPerMs === 0) return true;
    const now = this.#now();
    if (this.#connects.size > 10_000) this.#forgetFullBuckets(now);
    const bucket = this.#connects.get(host) ?? { tokens: CONNECT_BURST, at: now };
    bucket.tokens = Math.min(
      CONNECT_BURST,
      bucket.tokens + (now - bucket.at) * this.#connectsPerMs,
    );
    bucket.at = now;
    this.#connects.set(host, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }

  /** Drops the buckets that have refilled: they hold nothing to remember,
   * and without this every address ever seen would stay in memory. */
  #forgetFullBuckets(now: number): void {
    for (const [host, bucket] of this.#connects) {
      if (bucket.tokens + (now - bucket.at) * this.#connectsPerMs >= CONNECT_BURST) {
        this.#connects.delete(host);
      }
    }
  }
}
