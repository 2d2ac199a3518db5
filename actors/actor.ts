/**
 * Actors and `spawn`: the run loop that hands an actor its messages one at
 * a time, in order, and applies its supervision policy when a handler throws.
 *
 * The loop drains every message already queued without yielding to the event
 * loop when handlers are synchronous. That is what lets an actor's effects
 * batch: a fan-out actor that handles 50 queued messages in one turn gives
 * each outbox 50 lines to write in one system call, not 50 calls.
 *
 * @module
 */

import { Address } from "./address.ts";
import { type Clock, REAL_CLOCK } from "./clock.ts";
import { Context, type ContextHost, DISPOSE } from "./context.ts";
import { Mailbox, type Waiter } from "./mailbox.ts";
import { unreachable } from "./unreachable.ts";
import { STOP, type SupervisionPolicy, Supervisor } from "./supervision.ts";

/**
 * Base class for actors. Override `handle`, and the lifecycle hooks you need:
 * `started` runs before the first message, `stopping` when a stop begins
 * (the mailbox is still open, others can still be told), `stopped` last.
 *
 * @example
 * ```ts
 * import { Actor, spawn } from "./mod.ts";
 * type Msg = { type: "add"; n: number } | { type: "get"; reply: (n: number) => void };
 * class Counter extends Actor<Msg> {
 *   #total = 0;
 *   handle(msg: Msg): void {
 *     if (msg.type === "add") this.#total += msg.n;
 *     else msg.reply(this.#total);
 *   }
 * }
 * const counter = spawn(new Counter());
 * await counter.address.send({ type: "add", n: 2 });
 * console.log(await counter.address.ask<number>((reply) => ({ type: "get", reply })));
 * counter.stop();
 * await counter.done;
 * ```
 */
export abstract class Actor<M> {
  /** Runs once before the first message. A throw here stops the actor. */
  started(_ctx: Context<M>): void | Promise<void> {}
  /** Handles one message. A throw is passed to the supervision policy. */
  abstract handle(message: M, ctx: Context<M>): void | Promise<void>;
  /** Runs when the actor begins to stop, before its mailbox closes. */
  stopping(_ctx: Context<M>): void | Promise<void> {}
  /** Runs last, after timers and streams are gone. */
  stopped(_ctx: Context<M>): void | Promise<void> {}
}

/** Options for {@linkcode spawn}. */
export interface SpawnOptions {
  /** Mailbox capacity (default 256). */
  capacity?: number;
  /** What to do when `handle` throws (default: stop). */
  supervision?: SupervisionPolicy;
  /** Called with every caught failure, whatever the directive: for logging. */
  onError?: (error: unknown) => void;
  /** Called once the actor has fully stopped, with the failure it escalated
   * if any: what `done` tells, without a promise per actor. */
  onStopped?: (failure: { error: unknown } | undefined) => void;
  /** The time and timers of its context (default: the real clock). */
  clock?: Clock;
}

/** A running actor, as seen by whoever spawned it. */
export interface ActorRef<M> {
  /** Where to send it messages. */
  readonly address: Address<M>;
  /** Asks it to stop after the message in hand. Safe to call twice. */
  stop(): void;
  /** Resolves once it has fully stopped; rejects if it escalated a failure.
   * Made when first asked for (a failure also reaches `onError`). */
  readonly done: Promise<void>;
}

/**
 * Starts an actor. Pass a factory instead of an instance to allow the
 * `restart` directive, which needs a fresh instance.
 */
export function spawn<M>(
  actor: Actor<M> | (() => Actor<M>),
  options: SpawnOptions = {},
): ActorRef<M> {
  if (options.supervision?.directive === "restart" && typeof actor !== "function") {
    // Restarting needs a fresh instance; reusing the failed one would keep
    // the state that failed, so refuse here rather than silently stop later.
    throw new TypeError("Cannot restart an actor spawned as an instance: pass a factory");
  }
  return new Cell<M>(actor, options);
}

/** Cells woken since the microtask that drives them was queued: one
 * microtask for all of them, and no closure per cell. */
let woken: Cell<unknown>[] = [];

function driveWoken(): void {
  const cells = woken;
  woken = [];
  for (const cell of cells) {
    try {
      cell.drive();
    } catch (error) {
      // Only a throwing `onError` gets here. The others still run; the
      // failure is thrown on its own, as loudly as before.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

/** What `#next` found: the mailbox is empty and the cell waits to be woken. */
const PARKED = Symbol("parked");

/**
 * The run loop. It is driven by callbacks, not an async loop: an idle actor
 * is parked on its mailbox with no pending promise and no suspended frame,
 * which with ten thousand idle sessions is most of what an actor costs.
 * Synchronous handlers run back to back in one turn; a handler's promise
 * holds the loop until it settles.
 */
class Cell<M> implements ContextHost, Waiter {
  readonly address: Address<M>;
  stop(): void {
    this.requestStop();
  }
  readonly #mailbox: Mailbox<M>;
  /** Replaced on restart, so nothing the failed instance started (timers,
   * streams) can reach its successor. */
  #context: Context<M>;
  readonly #factory: (() => Actor<M>) | undefined;
  readonly #policy: SupervisionPolicy;
  /** Made at the first failure: most actors never fail. */
  #supervisor: Supervisor | undefined;
  readonly #onError: (error: unknown) => void;
  #actor: Actor<M>;
  #stopRequested = false;
  /** Made at the first system task: most actors never get one. */
  #system: (() => void | Promise<void>)[] | undefined;
  #escalated: { error: unknown } | undefined;
  /** `undefined` while running; then `null`, or the escalated failure. */
  #outcome: { error: unknown } | null | undefined;
  #done: PromiseWithResolvers<void> | undefined;
  readonly #onStopped: SpawnOptions["onStopped"];
  readonly clock: Clock;

  constructor(actor: Actor<M> | (() => Actor<M>), options: SpawnOptions) {
    this.clock = options.clock ?? REAL_CLOCK;
    this.#factory = typeof actor === "function" ? actor : undefined;
    this.#actor = typeof actor === "function" ? actor() : actor;
    this.#mailbox = new Mailbox<M>({ capacity: options.capacity });
    this.address = new Address(this.#mailbox);
    this.#policy = options.supervision ?? STOP;
    this.#onError = options.onError ?? ignore;
    this.#context = new Context(this.address, this);
    this.#onStopped = options.onStopped;
    this.#begin();
  }

  get done(): Promise<void> {
    if (this.#done === undefined) {
      this.#done = Promise.withResolvers<void>();
      if (this.#outcome !== undefined) this.#settle();
    }
    return this.#done.promise;
  }

  /** Runs the loop from a microtask, never inside the waker's call. */
  wake(): void {
    if (woken.push(this as Cell<unknown>) === 1) queueMicrotask(driveWoken);
  }

  /** Called by {@linkcode driveWoken} only. */
  drive(): void {
    this.#drive();
  }

  get stopping(): boolean {
    return this.#stopRequested;
  }

  enqueueSystem(task: () => void | Promise<void>): void {
    (this.#system ??= []).push(task);
    this.#mailbox.notify();
  }

  requestStop(): void {
    if (this.#stopRequested) return;
    this.#stopRequested = true;
    this.#mailbox.notify();
  }

  /** Runs `started` (synchronously, as part of `spawn`), then the loop from
   * a microtask: no handler runs before `spawn` has returned. */
  #begin(): void {
    let started: void | Promise<void>;
    try {
      started = this.#actor.started(this.#context);
    } catch (error) {
      this.#onError(error);
      this.#stopRequested = true;
      return this.wake();
    }
    if (!(started instanceof Promise)) return this.wake();
    started.then(() => this.#drive(), (error: unknown) => {
      this.#onError(error);
      this.#stopRequested = true;
      this.#drive();
    });
  }

  /** Handles what is queued until the mailbox is empty (then parks), a
   * handler returns a promise (then resumes when it settles), or a stop. */
  #drive(): void {
    while (!this.#stopRequested) {
      const pending = this.#next();
      if (pending === PARKED) return;
      if (pending !== undefined) {
        pending.then(() => this.#drive(), (error: unknown) => {
          // Supervision itself failed (a restart's hooks are caught, so
          // this is a bug): stop, and let `done` say why.
          this.#escalated ??= { error };
          this.#stopRequested = true;
          this.#drive();
        });
        return;
      }
    }
    void this.#finish();
  }

  /** Runs the next system task or message. */
  #next(): void | Promise<void> | typeof PARKED {
    const task = this.#system?.shift();
    if (task !== undefined) return this.#guard(task, undefined);
    const message = this.#mailbox.tryReceive();
    if (message !== undefined) return this.#guard(undefined, message);
    if (this.#mailbox.closed) {
      this.#stopRequested = true;
      return;
    }
    this.#mailbox.onWake(this);
    return PARKED;
  }

  /** Runs a system task, or else handles `message`, under supervision. */
  #guard(
    task: (() => void | Promise<void>) | undefined,
    message: M | undefined,
  ): void | Promise<void> {
    let result: void | Promise<void>;
    try {
      result = task ? task() : this.#actor.handle(message as M, this.#context);
    } catch (error) {
      return this.#failed(error);
    }
    if (result instanceof Promise) return result.then(undefined, (error) => this.#failed(error));
  }

  #failed(error: unknown): void | Promise<void> {
    this.#onError(error);
    return this.#supervise(error);
  }

  async #finish(): Promise<void> {
    const ctx = this.#context;
    try {
      await this.#actor.stopping(ctx);
    } catch (error) {
      this.#onError(error);
    }
    this.#mailbox.close();
    await ctx[DISPOSE]();
    try {
      await this.#actor.stopped(ctx);
    } catch (error) {
      this.#onError(error);
    }
    this.#outcome = this.#escalated ?? null;
    this.#settle();
    this.#onStopped?.(this.#escalated);
  }

  #settle(): void {
    if (this.#outcome) this.#done?.reject(this.#outcome.error);
    else this.#done?.resolve();
  }

  #supervise(error: unknown): void | Promise<void> {
    this.#supervisor ??= new Supervisor(this.#policy);
    const directive = this.#supervisor.decide(this.clock.now());
    switch (directive) {
      case "resume":
        return;
      case "restart":
        return this.#restart();
      case "escalate":
        this.#escalated = { error };
        this.#stopRequested = true;
        return;
      case "stop":
        this.#stopRequested = true;
        return;
      default:
        return unreachable(directive);
    }
  }

  async #restart(): Promise<void> {
    if (this.#factory === undefined) throw new Error("Cannot restart without a factory");
    await this.#context[DISPOSE]();
    try {
      await this.#actor.stopped(this.#context);
    } catch (hookError) {
      this.#onError(hookError);
    }
    this.#context = new Context(this.address, this);
    this.#actor = this.#factory();
    try {
      await this.#actor.started(this.#context);
    } catch (hookError) {
      this.#onError(hookError);
      this.#stopRequested = true;
    }
  }
}

function ignore(): void {}
