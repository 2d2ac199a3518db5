/**
 * The `Broker` of one worker under `--workers`: the same port the Redis
 * link implements, over in-process channels. Events go to every other
 * worker on its own channel (in order, as a sender's lines must be);
 * numbers, names and admission are asked of the hub (`hub.ts`).
 *
 * What arrives here was written by this same program in another worker of
 * this process, not by a network peer, so it is not checked field by field
 * as what comes from Redis is.
 *
 * @module
 */

import { unreachable } from "../actors/unreachable.ts";
import type { Broker, BrokerListener, ClusterEvent } from "../chat/ports.ts";
import { type AdmissionOptions, type Gate, reportRefusal } from "../net/mod.ts";
import type { HubMessage, HubRequest, WorkerPorts } from "./hub.ts";

/** What goes between two workers: chat events, and `flush` markers. */
type PeerMessage =
  | ClusterEvent
  | { type: "flush"; id: number }
  | { type: "flushed"; id: number };

/** A request without the id the broker adds. */
type Question =
  | { type: "number" }
  | { type: "claim"; key: string }
  | { type: "admit"; host: string };

/**
 * One worker's link to the others of its process.
 *
 * @example
 * ```ts
 * import { Hub, wireWorkers } from "./hub.ts";
 * import { PortBroker } from "./port_broker.ts";
 * const hub = new Hub({});
 * const [ports] = wireWorkers(hub, ["w1"]);
 * const broker = new PortBroker(ports!);
 * await broker.nextUserNumber(); // 1
 * await broker.close();
 * hub.close();
 * ```
 */
export class PortBroker implements Broker {
  readonly serverId: string;
  readonly linked = true;
  readonly #hub: MessagePort;
  readonly #peers: MessagePort[];
  readonly #waiting = new Map<number, (value: unknown) => void>();
  #lastId = 0;
  #listener: BrokerListener | undefined;
  #closed = false;

  constructor(ports: WorkerPorts) {
    this.serverId = ports.server;
    this.#hub = ports.hub;
    this.#peers = ports.peers;
    this.#hub.onmessage = (event: MessageEvent<HubMessage>) => this.#fromHub(event.data);
  }

  start(listener: BrokerListener): Promise<void> {
    this.#listener = listener;
    for (const peer of this.#peers) {
      peer.onmessage = (event: MessageEvent<PeerMessage>) => this.#fromPeer(peer, event.data);
    }
    // The channels are up from the start and never drop a message: the
    // chat says hello (its roster, and a sync) as a linked server does.
    listener.link(true);
    return Promise.resolve();
  }

  /** To every sibling, whatever the route: within one process a message
   * costs little, and each worker applies only what concerns its users. */
  publish(event: ClusterEvent): void {
    if (this.#closed) return;
    for (const peer of this.#peers) peer.postMessage(event);
  }

  listen(): void {}

  /** The hub's next number; rejected (the connection is turned away as
   * busy) when the hub could not keep it in its store. */
  nextUserNumber(): Promise<number> {
    return this.#ask({ type: "number" }).then((n) =>
      typeof n === "number" ? n : Promise.reject(new Error("no user number available"))
    );
  }

  claimName(key: string): Promise<boolean> {
    return this.#ask({ type: "claim", key }) as Promise<boolean>;
  }

  releaseName(key: string): void {
    this.#tell({ type: "release", key });
  }

  /** Admission against the limits the hub keeps for every worker; each
   * refusal is logged and counted here, by the worker that refuses. */
  admission(options: Pick<AdmissionOptions, "log" | "onRefuse"> = {}): Gate {
    const log = options.log ?? (() => {});
    const onRefuse = options.onRefuse ?? (() => {});
    const refused = (peer: string, reason: string) => reportRefusal(log, onRefuse, peer, reason);
    return {
      admit: async (host) => {
        const refusal = await this.#ask({ type: "admit", host });
        if (typeof refusal !== "string") return undefined;
        refused(host, refusal);
        return refusal;
      },
      release: (host) => this.#tell({ type: "left", host }),
      refused,
    };
  }

  /** Says goodbye (the others drop this worker's users at once) and closes
   * the channels; questions still open are answered no. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.publish({ type: "bye", server: this.serverId });
    this.#closed = true;
    for (const port of [this.#hub, ...this.#peers]) port.close();
    for (const resolve of this.#waiting.values()) resolve(null);
    this.#waiting.clear();
    return Promise.resolve();
  }

  /** Resolves once every other worker has received everything this one
   * published before (each channel is in order: a marker sent after them
   * comes back after them). For tests that must see a quiet cluster. */
  flush(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return Promise.all(this.#peers.map((peer) =>
      new Promise<unknown>((resolve) => {
        const id = ++this.#lastId;
        this.#waiting.set(id, resolve);
        peer.postMessage({ type: "flush", id } satisfies PeerMessage);
      })
    )).then(() => {});
  }

  #fromPeer(peer: MessagePort, message: PeerMessage): void {
    switch (message.type) {
      case "flush":
        return peer.postMessage({ type: "flushed", id: message.id } satisfies PeerMessage);
      case "flushed":
        return this.#answered(message.id, null);
      default:
        return this.#listener?.event(message);
    }
  }

  #answered(id: number, value: unknown): void {
    const resolve = this.#waiting.get(id);
    this.#waiting.delete(id);
    resolve?.(value);
  }

  #ask(question: Question): Promise<unknown> {
    if (this.#closed) return Promise.reject(new Error("the worker's link is closed"));
    const id = ++this.#lastId;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      this.#hub.postMessage({ ...question, id } satisfies HubRequest);
    });
  }

  #tell(request: HubRequest): void {
    if (!this.#closed) this.#hub.postMessage(request);
  }

  #fromHub(message: HubMessage): void {
    switch (message.type) {
      case "answer":
        return this.#answered(message.id, message.value);
      case "lost":
        return this.#listener?.serverLost(message.server);
      default:
        return unreachable(message);
    }
  }
}

/**
 * A worker of `--workers` that is also linked through Redis (`--redis`):
 * its siblings in this process hear it on their channels, whether Redis is
 * up or not, and other processes through Redis. Redis stays the authority
 * for what must be unique across processes (numbers, names), and its link
 * state is the one users are told about. What Redis brings from a sibling
 * (it came on the channel already) is dropped, and so is its news of a
 * sibling gone silent: the hub says when a sibling dies.
 */
export class WorkerAndRedisBroker implements Broker {
  readonly linked = true;
  readonly #siblings: PortBroker;
  readonly #redis: Broker;

  /** `redis` must use this worker's id (`siblings.serverId`), which starts
   * with its process's prefix, as its siblings' ids do. */
  constructor(siblings: PortBroker, redis: Broker) {
    this.#siblings = siblings;
    this.#redis = redis;
  }

  get serverId(): string {
    return this.#siblings.serverId;
  }

  async start(listener: BrokerListener): Promise<void> {
    const sibling = (server: string) => sameProcess(server, this.serverId);
    await this.#siblings.start({ ...listener, link: () => {} });
    await this.#redis.start({
      ...listener,
      event: (event) => sibling(event.server) ? undefined : listener.event(event),
      serverLost: (server) => sibling(server) ? undefined : listener.serverLost(server),
    });
  }

  publish(event: ClusterEvent, to?: string): void {
    this.#siblings.publish(event);
    this.#redis.publish(event, to);
  }

  listen(room: string, here: boolean): void {
    this.#redis.listen(room, here);
  }

  nextUserNumber(): Promise<number> {
    return this.#redis.nextUserNumber();
  }

  claimName(key: string): Promise<boolean> {
    return this.#redis.claimName(key);
  }

  releaseName(key: string): void {
    this.#redis.releaseName(key);
  }

  async close(): Promise<void> {
    await this.#siblings.close();
    await this.#redis.close();
  }
}

/** The id of worker `index` of the process whose prefix is `process`. */
export function workerId(process: string, index: number): string {
  return `${process}-w${index}`;
}

function sameProcess(a: string, b: string): boolean {
  const prefix = (id: string) => id.slice(0, id.lastIndexOf("-w"));
  return a.includes("-w") && prefix(a) === prefix(b);
}
