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

/** The limits {@linkcode Admission} applies. */
export interface AdmissionLimits {
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
}

/** Whether `hostname` is a loopback address (exempt from the per-address limit). */
export function isLoopback(hostname: string): boolean {
  return hostname.startsWith("127.") || hostname === "::1" ||
    hostname.startsWith("::ffff:127.");
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
export class Admission {
  readonly #max: number;
  readonly #maxPerAddress: number;
  readonly #exemptLoopback: boolean;
  readonly #log: NonNullable<AdmissionOptions["log"]>;
  readonly #onRefuse: (reason: string) => void;
  readonly #perAddress = new Map<string, number>();
  #open = 0;

  constructor(options: AdmissionOptions = {}) {
    this.#max = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    this.#maxPerAddress = options.maxConnectionsPerAddress ?? DEFAULT_MAX_CONNECTIONS_PER_ADDRESS;
    this.#exemptLoopback = options.exemptLoopback ?? true;
    this.#log = options.log ?? (() => {});
    this.#onRefuse = options.onRefuse ?? (() => {});
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
    this.#log(`Refused ${peer}: ${reason}`, {
      level: "warn",
      event: "refuse",
      peer,
      reason,
    });
    this.#onRefuse(reason);
  }

  #check(host: string): string | undefined {
    if (this.#open >= this.#max) return "server full";
    const fromHost = this.#perAddress.get(host) ?? 0;
    if (fromHost >= this.#maxPerAddress && !(this.#exemptLoopback && isLoopback(host))) {
      return "too many connections from your address";
    }
    return undefined;
  }
}
