/**
 * What an actor can do to itself: its own address, stopping, attaching
 * streams as message sources, and timers that die with it.
 *
 * Everything started through a `Context` is owned by the actor: when it
 * stops, its timers are cancelled and its streams are cancelled and awaited,
 * so a stopped actor leaves no timer or pending read behind (Deno's test
 * sanitizers check exactly that).
 *
 * @module
 */

import type { Clock, TimerHandle } from "./clock.ts";
import type { Address } from "./address.ts";

/** The runtime services a context delegates to; implemented by `spawn`. */
export interface ContextHost {
  /** Ask the actor to stop after the message in hand. */
  requestStop(): void;
  /** Run `task` inside the actor's turn, ahead of queued messages. */
  enqueueSystem(task: () => void | Promise<void>): void;
  /** Whether the actor is stopping or stopped. */
  readonly stopping: boolean;
  /** The time and the timers the actor's `runLater` and `runInterval` use. */
  readonly clock: Clock;
}

/** Called (inside the actor's turn) when an attached stream ends. */
export type StreamEndHandler = (error: unknown | undefined) => void | Promise<void>;

/** Options for {@linkcode Context.addStream}. */
export interface AddStreamOptions<M> {
  /** Called when the stream ends or fails; defaults to stopping the actor. */
  onEnd?: StreamEndHandler;
  /** Instead of `onEnd`: messages sent to the actor, behind the stream's
   * items, when it ends or fails (when they cannot be, it stops). Shared
   * messages, not a closure per stream. */
  endWith?: { ended: M; failed: M };
}

/** Symbol the runtime uses to tear a context down; not part of the actor API. */
export const DISPOSE: unique symbol = Symbol("dispose");

/** Context's hooks for its stream links: not part of the actor API. */
const OFFER: unique symbol = Symbol("offer");
const ENDED: unique symbol = Symbol("ended");

type Source<T> = AsyncIterable<T> | ReadableStream<T> | PushSource<T>;

/**
 * The actor's view of its own runtime, passed to every hook and handler.
 *
 * @example
 * ```ts
 * import { Actor, spawn, type Context } from "./mod.ts";
 * type Tick = { type: "tick" };
 * class Clock extends Actor<Tick> {
 *   override started(ctx: Context<Tick>): void {
 *     ctx.runInterval(1000, { type: "tick" });
 *   }
 *   handle(): void {
 *     console.log("tick");
 *   }
 * }
 * const clock = spawn(new Clock());
 * clock.stop();
 * await clock.done;
 * ```
 */
export class Context<M> {
  /** This actor's own address, to hand to others or send to self. */
  readonly address: Address<M>;
  readonly #host: ContextHost;
  // Allocated on first use: with ten thousand idle sessions, an
  // AbortController (~740 bytes) and two Sets each per actor add up.
  #abort: AbortController | undefined;
  #disposed = false;
  #timers: Set<TimerHandle> | undefined;
  /** One link, or several: a lone stream (the common case) needs no array. */
  #streams: StreamLink<M> | StreamLink<M>[] | undefined;

  constructor(address: Address<M>, host: ContextHost) {
    this.address = address;
    this.#host = host;
  }

  /** The actor's clock (the real one unless `spawn` was given another). */
  get clock(): Clock {
    return this.#host.clock;
  }

  /** Aborted when the actor begins to stop: pass it to I/O the actor owns. */
  get signal(): AbortSignal {
    this.#abort ??= new AbortController();
    if (this.#disposed) this.#abort.abort();
    return this.#abort.signal;
  }

  /** Stops the actor once the current message is handled. Safe to call twice. */
  stop(): void {
    this.#host.requestStop();
  }

  /**
   * Attaches `source` as a message source: each item is sent to this actor's
   * mailbox, waiting for room (so a busy actor slows its stream down instead
   * of buffering it). When the source ends or fails, `onEnd` runs in the
   * actor's turn; by default it stops the actor.
   */
  addStream(source: Source<M>, options: AddStreamOptions<M> = {}): void {
    const link = new StreamLink(this, isPushSource(source) ? source : new Pull(source), options);
    const streams = this.#streams;
    this.#streams = streams === undefined ? link : [...linked(streams), link];
    link.source.pushTo(link);
  }

  /** A linked stream's next item: into the mailbox, or a promise of room. */
  [OFFER](link: StreamLink<M>, item: M): Promise<void> | undefined {
    if (this.#disposed) {
      link.source.cancel();
      return undefined;
    }
    try {
      // Straight on while the mailbox has room; wait for room otherwise.
      if (this.address.trySend(item)) return undefined;
      return this.address.send(item).catch((error: unknown) => this.#cut(link, error));
    } catch (error) {
      this.#cut(link, error);
      return undefined;
    }
  }

  /** A linked stream ended, or failed; the first call counts. */
  [ENDED](link: StreamLink<M>, failure: unknown): void {
    if (link.ended) return;
    link.ended = true;
    const rest = linked(this.#streams).filter((other) => other !== link);
    this.#streams = rest.length === 0 ? undefined : rest.length === 1 ? rest[0] : rest;
    const { endWith, onEnd } = link.options;
    // A disposed context's streams end silently: after a restart the new
    // instance must not hear of the old one's streams.
    if (this.#disposed || this.#host.stopping) {
      // Ended by the stop itself: nothing to tell.
    } else if (endWith) {
      this.#sendOrStop(failure === undefined ? endWith.ended : endWith.failed);
    } else {
      this.#host.enqueueSystem(() => onEnd ? onEnd(failure) : this.stop());
    }
    for (const wake of link.waiting ?? []) wake();
  }

  /** The mailbox refused an item (it closed): the stream goes no further. */
  #cut(link: StreamLink<M>, error: unknown): void {
    link.source.cancel();
    this[ENDED](link, error);
  }

  /** Sends `message` to self after `ms`; returns a function that cancels it. */
  runLater(ms: number, message: M): () => void {
    const timers = this.#timers ??= new Set();
    const clock = this.#host.clock;
    const id = clock.setTimeout(() => {
      timers.delete(id);
      this.#deliver(message);
    }, ms);
    timers.add(id);
    return () => {
      clock.clear(id);
      timers.delete(id);
    };
  }

  /** Sends `message` to self every `ms`; returns a function that cancels it.
   * A tick that finds the mailbox full is dropped rather than queued. */
  runInterval(ms: number, message: M): () => void {
    const timers = this.#timers ??= new Set();
    const clock = this.#host.clock;
    const id = clock.setInterval(() => this.#deliver(message), ms);
    timers.add(id);
    return () => {
      clock.clear(id);
      timers.delete(id);
    };
  }

  /** Cancels timers and streams; resolves when every stream pump ended. */
  async [DISPOSE](): Promise<void> {
    this.#disposed = true;
    this.#abort?.abort();
    for (const id of this.#timers ?? []) this.#host.clock.clear(id);
    this.#timers?.clear();
    const streams = linked(this.#streams);
    // Cancelling unblocks a ReadableStream's pending read; an async
    // generator finishes at its next step (the owner closes its resource).
    for (const stream of streams) stream.source.cancel();
    await Promise.all(streams.map(ended));
  }

  #sendOrStop(message: M): void {
    try {
      this.address.send(message).catch(() => this.stop());
    } catch {
      this.stop();
    }
  }

  #deliver(message: M): void {
    if (this.#disposed || this.#host.stopping) return;
    try {
      this.address.trySend(message);
    } catch {
      // Closed between the check and the send: the actor is gone, so is the tick.
    }
  }
}

/**
 * A source that hands its items to a sink instead of being pulled: no
 * promise per item, and none held between items, which is what an idle
 * socket reader should cost. The source waits for the promise `push`
 * returns (the mailbox is full) before pushing more, and calls `end` once,
 * with its failure if it failed.
 */
export interface PushSource<T> {
  /** Starts pushing to `sink`; called once. */
  pushTo(sink: PushSink<T>): void;
  /** Push no more, and end soon (a pending read may finish first). */
  cancel(): void;
}

/** Where a {@linkcode PushSource} pushes. */
export interface PushSink<T> {
  /** Takes one item; a promise means wait for it before the next. */
  push(item: T): Promise<void> | undefined;
  /** The source is done; `failure` if it failed. */
  end(failure?: unknown): void;
}

function isPushSource<T>(source: Source<T>): source is PushSource<T> {
  return typeof (source as Partial<PushSource<T>>).pushTo === "function";
}

/** An attached stream, until it ends: the sink its source pushes to. */
class StreamLink<M> implements PushSink<M> {
  ended = false;
  /** Who waits for it to end (a dispose): made only when someone does. */
  waiting: (() => void)[] | undefined;
  constructor(
    readonly context: Context<M>,
    readonly source: PushSource<M>,
    readonly options: AddStreamOptions<M>,
  ) {}

  push(item: M): Promise<void> | undefined {
    return this.context[OFFER](this, item);
  }

  end(failure?: unknown): void {
    this.context[ENDED](this, failure);
  }
}

function linked<M>(streams: StreamLink<M> | StreamLink<M>[] | undefined): StreamLink<M>[] {
  if (streams === undefined) return [];
  return Array.isArray(streams) ? streams : [streams];
}

function ended<M>(link: StreamLink<M>): Promise<void> | undefined {
  if (link.ended) return undefined;
  return new Promise((resolve) => (link.waiting ??= []).push(resolve));
}

/** An async iterable or a ReadableStream, pulled and pushed on. */
class Pull<T> implements PushSource<T> {
  readonly #iterator: AsyncIterator<T>;
  #sink: PushSink<T> | undefined;
  #cancelled = false;
  readonly #step = (): void => {
    if (this.#cancelled) return this.#sink?.end();
    try {
      this.#iterator.next().then(this.#deliver, this.#fail);
    } catch (error) {
      this.#fail(error);
    }
  };
  readonly #deliver = (next: IteratorResult<T>): void => {
    if (next.done || this.#cancelled) return this.#sink?.end();
    const wait = this.#sink?.push(next.value);
    if (wait === undefined) this.#step();
    else wait.then(this.#step);
  };
  readonly #fail = (error: unknown): void => this.#sink?.end(error);

  constructor(source: AsyncIterable<T> | ReadableStream<T>) {
    this.#iterator = toIterator(source);
  }

  pushTo(sink: PushSink<T>): void {
    this.#sink = sink;
    this.#step();
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    // Unblocks a ReadableStream's pending read; an async generator finishes
    // at its next step (the owner closes its resource).
    this.#iterator.return?.()?.catch(() => {});
  }
}

function toIterator<T>(source: AsyncIterable<T> | ReadableStream<T>): AsyncIterator<T> {
  if (source instanceof ReadableStream) {
    const reader = source.getReader();
    return {
      next: () => reader.read() as Promise<IteratorResult<T>>,
      return: async () => {
        await reader.cancel();
        return { done: true, value: undefined };
      },
    };
  }
  return source[Symbol.asyncIterator]();
}
