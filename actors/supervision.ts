/**
 * What happens when an actor's handler throws.
 *
 * A failure is contained at the actor boundary: the runtime catches it and
 * asks the actor's policy for a directive. Nothing a handler throws reaches
 * the event loop, so one bad message can never crash the process.
 *
 * - `resume`: drop the failed message, keep the state, carry on. For actors
 *   whose state is precious (the chat registry) and whose messages are
 *   independent.
 * - `restart`: replace the actor with a fresh instance from its factory,
 *   keeping the mailbox; after `maxRestarts` within `withinMs` it stops.
 * - `stop`: stop the actor (the default: the safest thing for a per-client
 *   actor is to end that client only).
 * - `escalate`: stop the actor and reject its `done` promise with the error,
 *   handing the decision to whoever spawned it.
 *
 * @module
 */

/** The four answers a policy can give. */
export type Directive = "resume" | "restart" | "stop" | "escalate";

/** How an actor reacts to a thrown handler. */
export interface SupervisionPolicy {
  /** What to do with a failure. */
  directive: Directive;
  /** With `restart`: restarts allowed within `withinMs` before stopping. */
  maxRestarts?: number;
  /** With `restart`: the sliding window for `maxRestarts`, in ms. */
  withinMs?: number;
}

/** Restarts allowed by default: a crash loop is a bug, not bad luck. */
export const DEFAULT_MAX_RESTARTS = 3;
/** The window restarts are counted in by default. */
export const DEFAULT_RESTART_WINDOW_MS = 10_000;

/** The policy used when none is given: stop the failing actor. */
export const STOP: SupervisionPolicy = { directive: "stop" };

/**
 * Tracks one actor's failures and turns its policy into a decision.
 *
 * @example
 * ```ts
 * import { Supervisor } from "./supervision.ts";
 * const supervisor = new Supervisor({ directive: "restart", maxRestarts: 1 });
 * supervisor.decide(0); // "restart"
 * supervisor.decide(1); // "stop": the restart budget is spent
 * ```
 */
export class Supervisor {
  readonly #policy: SupervisionPolicy;
  #restarts: number[] = [];

  constructor(policy: SupervisionPolicy = STOP) {
    this.#policy = policy;
  }

  /** The directive for a failure at time `now` (ms). */
  decide(now: number): Directive {
    const { directive } = this.#policy;
    if (directive !== "restart") return directive;
    const window = this.#policy.withinMs ?? DEFAULT_RESTART_WINDOW_MS;
    const max = this.#policy.maxRestarts ?? DEFAULT_MAX_RESTARTS;
    this.#restarts = this.#restarts.filter((t) => now - t < window);
    if (this.#restarts.length >= max) return "stop";
    this.#restarts.push(now);
    return "restart";
  }
}
