/**
 * The hub of `--workers`: what the workers of one process must agree on,
 * kept in one place (the main thread). They are linked servers, like
 * processes linked through Redis, and the hub is their Redis: it hands out
 * `userN` numbers from one counter, grants each chosen name to one worker,
 * and admits connections against one set of limits, so 100 per address
 * means 100 across every worker. Chat events do not pass through it: each
 * pair of workers has its own channel (`wireWorkers`), so a line goes from
 * the sender's worker straight to the others.
 *
 * Every answer is given in the hub's own turn, synchronously, so two
 * workers asking for the same name at once get one yes and one no.
 *
 * @module
 */

import { unreachable } from "../actors/unreachable.ts";
import { Admission, type AdmissionLimits } from "../net/mod.ts";
import type { NumberStore } from "../chat/ports.ts";
import { UserNumbers } from "./user_numbers.ts";

/** What a worker asks its hub (`id` is echoed in the answer). */
export type HubRequest =
  | { type: "number"; id: number }
  | { type: "claim"; id: number; key: string }
  | { type: "release"; key: string }
  | { type: "admit"; id: number; host: string }
  | { type: "left"; host: string };

/** What the hub tells a worker. */
export type HubMessage =
  | { type: "answer"; id: number; value: number | boolean | string | null }
  | { type: "lost"; server: string };

/** One worker's ends of its channels: to the hub, and to each other worker. */
export interface WorkerPorts {
  server: string;
  hub: MessagePort;
  peers: MessagePort[];
}

/** What the hub keeps of one worker. */
interface Member {
  port: MessagePort;
  /** Connections admitted for this worker and not yet left, by address:
   * given back if the worker dies without saying so. */
  hosts: Map<string, number>;
}

/**
 * The workers' shared authority.
 *
 * @example
 * ```ts
 * import { Hub, wireWorkers } from "./hub.ts";
 * const hub = new Hub({});
 * const [a, b] = wireWorkers(hub, ["w1", "w2"]);
 * // hand `a` to one worker and `b` to the other (postMessage, transfer)
 * hub.close();
 * for (const end of [a!, b!]) [end.hub, ...end.peers].forEach((p) => p.close());
 * ```
 */
export class Hub {
  readonly #numbers: UserNumbers;
  /** Each claimed name (lower-cased), and the worker holding it. */
  readonly #names = new Map<string, string>();
  readonly #members = new Map<string, Member>();
  readonly #admission: Admission;

  /** `numbers` keeps the workers' `userN` count across restarts (its
   * first block is reserved here: a store that cannot be written fails
   * the start). */
  constructor(limits: AdmissionLimits & { now?: () => number; numbers?: NumberStore }) {
    // Refusals are logged by the worker that refuses, in its own log.
    this.#admission = new Admission(limits);
    this.#numbers = new UserNumbers(limits.numbers);
    this.#numbers.reserveFirst();
  }

  /** Serves the worker `server` on `port` (the hub's end of its channel). */
  attach(server: string, port: MessagePort): void {
    this.#members.set(server, { port, hosts: new Map() });
    port.onmessage = (event: MessageEvent<HubRequest>) => this.#handle(server, event.data);
  }

  /** The worker `server` is gone (it crashed, or was stopped): its names and
   * its connections' places are given back, and the others are told, as
   * linked servers are told when one falls silent. */
  detach(server: string): void {
    const member = this.#members.get(server);
    if (member === undefined) return;
    this.#members.delete(server);
    member.port.close();
    for (const [key, holder] of this.#names) if (holder === server) this.#names.delete(key);
    for (const [host, count] of member.hosts) {
      for (let i = 0; i < count; i++) this.#admission.release(host);
    }
    for (const other of this.#members.values()) post(other.port, { type: "lost", server });
  }

  /** Connections admitted and not yet left, across every worker. */
  get open(): number {
    return this.#admission.open;
  }

  /** Closes every channel to the workers. */
  close(): void {
    for (const member of this.#members.values()) member.port.close();
    this.#members.clear();
  }

  #handle(server: string, request: HubRequest): void {
    const member = this.#members.get(server);
    if (member === undefined) return;
    switch (request.type) {
      case "number":
        return answer(member, request.id, this.#nextNumber());
      case "claim":
        return answer(member, request.id, this.#claim(server, request.key));
      case "release":
        if (this.#names.get(request.key) === server) this.#names.delete(request.key);
        return;
      case "admit":
        return answer(member, request.id, this.#admit(member, request.host) ?? null);
      case "left":
        return this.#left(member, request.host);
      default:
        return unreachable(request);
    }
  }

  /** The next `userN` number, or null if the store could not keep it
   * (the worker turns the connection away as busy). */
  #nextNumber(): number | null {
    try {
      return this.#numbers.next();
    } catch {
      return null;
    }
  }

  /** Grants `key` to `server` unless another worker holds it (one that
   * holds it already keeps it: a change of case of its own user's name). */
  #claim(server: string, key: string): boolean {
    const holder = this.#names.get(key);
    if (holder !== undefined && holder !== server) return false;
    this.#names.set(key, server);
    return true;
  }

  #admit(member: Member, host: string): string | undefined {
    const refusal = this.#admission.admit(host);
    if (refusal === undefined) member.hosts.set(host, (member.hosts.get(host) ?? 0) + 1);
    return refusal;
  }

  #left(member: Member, host: string): void {
    const count = member.hosts.get(host);
    if (count === undefined) return;
    if (count === 1) member.hosts.delete(host);
    else member.hosts.set(host, count - 1);
    this.#admission.release(host);
  }
}

/**
 * Makes the channels of `servers.length` workers: one to the hub each
 * (attached here), and one between each pair. Returns each worker's ends,
 * to be handed over (transferred) to it.
 */
export function wireWorkers(hub: Hub, servers: string[]): WorkerPorts[] {
  const ends: WorkerPorts[] = servers.map((server) => {
    const channel = new MessageChannel();
    hub.attach(server, channel.port1);
    return { server, hub: channel.port2, peers: [] };
  });
  for (let i = 0; i < ends.length; i++) {
    for (let j = i + 1; j < ends.length; j++) {
      const channel = new MessageChannel();
      ends[i]?.peers.push(channel.port1);
      ends[j]?.peers.push(channel.port2);
    }
  }
  return ends;
}

function answer(member: Member, id: number, value: number | boolean | string | null): void {
  post(member.port, { type: "answer", id, value });
}

function post(port: MessagePort, message: HubMessage): void {
  port.postMessage(message);
}
