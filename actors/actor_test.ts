import assert from "node:assert/strict";
import { within } from "../testing/within.ts";
import { setImmediate } from "node:timers";
import {
  Actor,
  AskTimeoutError,
  type Context,
  MailboxClosedError,
  type PushSink,
  type PushSource,
  spawn,
} from "./mod.ts";

type CounterMessage =
  | { type: "add"; n: number }
  | { type: "get"; reply: (n: number) => void }
  | { type: "boom" }
  | { type: "ignore"; reply: (n: number) => void };

class Counter extends Actor<CounterMessage> {
  total = 0;
  events: string[];
  constructor(events: string[] = []) {
    super();
    this.events = events;
  }
  override started(): void {
    this.events.push("started");
  }
  handle(message: CounterMessage): void {
    switch (message.type) {
      case "add":
        this.total += message.n;
        return;
      case "get":
        return message.reply(this.total);
      case "boom":
        throw new Error("boom");
      case "ignore":
        return;
    }
  }
  override stopping(): void {
    this.events.push("stopping");
  }
  override stopped(): void {
    this.events.push("stopped");
  }
}

const get = (reply: (n: number) => void): CounterMessage => ({ type: "get", reply });

Deno.test("Actor handles messages one at a time, in order, and answers ask", async () => {
  const log: number[] = [];
  let finished!: () => void;
  const allHandled = new Promise<void>((resolve) => (finished = resolve));
  class Slow extends Actor<number> {
    async handle(n: number): Promise<void> {
      log.push(n);
      await new Promise((r) => setTimeout(r, 2));
      log.push(-n);
      if (n === 3) finished();
    }
  }
  const ref = spawn(new Slow());
  await Promise.all([1, 2, 3].map((n) => ref.address.send(n)));
  const counter = spawn(new Counter());
  await counter.address.send({ type: "add", n: 5 });
  assert.equal(await counter.address.ask(get), 5);
  await within(allHandled, 2_000, "the third message was never handled");
  assert.deepEqual(log, [1, -1, 2, -2, 3, -3]);
  ref.stop();
  counter.stop();
  await Promise.all([ref.done, counter.done]);
});

Deno.test("Actor runs started, stopping and stopped hooks in order", async () => {
  const events: string[] = [];
  const ref = spawn(new Counter(events));
  await ref.address.ask(get);
  ref.stop();
  ref.stop(); // safe twice
  await ref.done;
  assert.deepEqual(events, ["started", "stopping", "stopped"]);
  await assert.rejects(ref.address.send({ type: "add", n: 1 }), MailboxClosedError);
});

Deno.test("Actor stops by default when a handler throws", async () => {
  const errors: unknown[] = [];
  const ref = spawn(new Counter(), { onError: (e) => errors.push(e) });
  await ref.address.send({ type: "boom" });
  await ref.done;
  assert.equal(errors.length, 1);
  assert.equal(ref.address.closed, true);
});

Deno.test("Actor under resume keeps its state after a handler throws", async () => {
  const ref = spawn(new Counter(), { supervision: { directive: "resume" } });
  await ref.address.send({ type: "add", n: 2 });
  await ref.address.send({ type: "boom" });
  await ref.address.send({ type: "add", n: 3 });
  assert.equal(await ref.address.ask(get), 5);
  ref.stop();
  await ref.done;
});

Deno.test("Actor under restart gets a fresh instance, then stops past the limit", async () => {
  let instances = 0;
  const ref = spawn(() => {
    instances++;
    return new Counter();
  }, { supervision: { directive: "restart", maxRestarts: 2, withinMs: 60_000 } });
  await ref.address.send({ type: "add", n: 7 });
  await ref.address.send({ type: "boom" });
  assert.equal(await ref.address.ask(get), 0, "the restarted instance starts from scratch");
  await ref.address.send({ type: "boom" });
  await ref.address.send({ type: "boom" });
  await ref.done;
  assert.equal(instances, 3);
});

type TickMessage =
  | { type: "tick"; from: number }
  | { type: "boom" }
  | { type: "report"; reply: (ticks: number[]) => void };

/** Instance 1 starts a fast interval and a stream; later instances listen
 * for a while on their own timer, then report whose ticks they heard. */
class Ticker extends Actor<TickMessage> {
  readonly #n: number;
  readonly #stream: ReadableStream<TickMessage>;
  #heard: number[] = [];
  #waiting: ((ticks: number[]) => void) | undefined;
  #ownTickSeen = false;
  constructor(n: number, stream: ReadableStream<TickMessage>) {
    super();
    this.#n = n;
    this.#stream = stream;
  }
  override started(ctx: Context<TickMessage>): void {
    if (this.#n === 1) {
      ctx.runInterval(1, { type: "tick", from: 1 });
      ctx.addStream(this.#stream);
    } else {
      ctx.runLater(30, { type: "tick", from: this.#n });
    }
  }
  handle(message: TickMessage): void {
    switch (message.type) {
      case "boom":
        throw new Error("boom");
      case "tick":
        if (message.from === this.#n) this.#ownTickSeen = true;
        else this.#heard.push(message.from);
        break;
      case "report":
        this.#waiting = message.reply;
        break;
    }
    if (this.#ownTickSeen && this.#waiting) this.#waiting(this.#heard);
  }
}

Deno.test("Actor restart gives the new instance a fresh context: the old timers and streams never reach it", async () => {
  let instances = 0;
  let cancelled!: () => void;
  const streamCancelled = new Promise<void>((resolve) => (cancelled = resolve));
  const stream = new ReadableStream<TickMessage>({ cancel: () => cancelled() });
  const ref = spawn(() => new Ticker(++instances, stream), {
    supervision: { directive: "restart", maxRestarts: 5 },
  });
  await ref.address.send({ type: "boom" });
  await within(streamCancelled, 2_000, "the old instance's stream was never cancelled");
  const heard = await ref.address.ask<number[]>((reply) => ({ type: "report", reply }));
  // Messages the old instance queued before the restart may still arrive
  // (the mailbox is kept); none may come after the new instance started.
  assert.equal(instances, 2);
  assert.ok(heard.length <= 1, `the old interval kept ticking: ${heard.length} ticks`);
  ref.stop();
  await ref.done;
});

Deno.test("spawn refuses the restart policy for an instance, which cannot be rebuilt", () => {
  assert.throws(
    () => spawn(new Counter(), { supervision: { directive: "restart" } }),
    /Cannot restart an actor spawned as an instance/,
  );
});

Deno.test("Actor under escalate rejects done with the handler's error", async () => {
  const ref = spawn(new Counter(), { supervision: { directive: "escalate" } });
  await ref.address.send({ type: "boom" });
  await assert.rejects(ref.done, /boom/);
});

Deno.test("Actor whose started hook throws stops without handling messages", async () => {
  const handled: number[] = [];
  class Broken extends Actor<number> {
    override started(): void {
      throw new Error("cannot start");
    }
    handle(n: number): void {
      handled.push(n);
    }
  }
  const ref = spawn(new Broken());
  ref.address.trySend(1);
  await ref.done;
  assert.deepEqual(handled, []);
});

Deno.test("Address ask times out when the actor never replies", async () => {
  const ref = spawn(new Counter());
  await assert.rejects(
    ref.address.ask<number>((reply) => ({ type: "ignore", reply }), { timeoutMs: 20 }),
    AskTimeoutError,
  );
  ref.stop();
  await ref.done;
});

Deno.test("Context addStream feeds a stream's items as messages and stops at its end", async () => {
  const seen: string[] = [];
  class Reader extends Actor<string> {
    override started(ctx: Context<string>): void {
      ctx.addStream(ReadableStream.from(["a", "b", "c"]));
    }
    handle(line: string): void {
      seen.push(line);
    }
  }
  const ref = spawn(new Reader());
  await ref.done;
  assert.deepEqual(seen, ["a", "b", "c"]);
});

Deno.test("Context addStream reports a failing stream to its end handler", async () => {
  const ended: unknown[] = [];
  async function* failing(): AsyncGenerator<string> {
    yield "one";
    throw new Error("stream broke");
  }
  class Reader extends Actor<string> {
    override started(ctx: Context<string>): void {
      ctx.addStream(failing(), {
        onEnd: (error) => {
          ended.push(error);
          ctx.stop();
        },
      });
    }
    handle(): void {}
  }
  const ref = spawn(new Reader());
  await ref.done;
  assert.equal(ended.length, 1);
  assert.match(String(ended[0]), /stream broke/);
});

Deno.test("Context addStream cancels a ReadableStream when the actor stops", async () => {
  let cancelled = false;
  let pulled!: () => void;
  const reading = new Promise<void>((resolve) => (pulled = resolve));
  const endless = new ReadableStream<string>({
    pull: () => {
      pulled();
      return new Promise(() => {});
    },
    cancel: () => {
      cancelled = true;
    },
  });
  class Reader extends Actor<string> {
    override started(ctx: Context<string>): void {
      ctx.addStream(endless);
    }
    handle(): void {}
  }
  const ref = spawn(new Reader());
  await within(reading, 2_000, "the stream was never read"); // a read is pending
  ref.stop();
  await ref.done;
  assert.equal(cancelled, true);
});

Deno.test("Context timers deliver messages and are cancelled when the actor stops", async () => {
  const seen: string[] = [];
  class Timed extends Actor<string> {
    override started(ctx: Context<string>): void {
      ctx.runLater(5, "later");
      ctx.runInterval(2, "tick");
      ctx.runLater(60_000, "never"); // must not keep the test alive after stop
    }
    handle(message: string, ctx: Context<string>): void {
      seen.push(message);
      if (message === "later") ctx.stop();
    }
  }
  const ref = spawn(new Timed());
  await ref.done;
  assert.ok(seen.includes("later"));
  assert.ok(seen.includes("tick"));
  assert.ok(!seen.includes("never"));
});

Deno.test("Context runLater can be cancelled before it fires", async () => {
  const seen: string[] = [];
  class Timed extends Actor<string> {
    override started(ctx: Context<string>): void {
      const cancel = ctx.runLater(5, "cancelled");
      cancel();
      ctx.runLater(15, "done");
    }
    handle(message: string, ctx: Context<string>): void {
      seen.push(message);
      ctx.stop();
    }
  }
  const ref = spawn(new Timed());
  await ref.done;
  assert.deepEqual(seen, ["done"]);
});

Deno.test("Actor drains queued synchronous messages within one turn", async () => {
  const turns: number[] = [];
  let turn = 0;
  const timer = setInterval(() => turn++, 0);
  let fifty!: () => void;
  const allHandled = new Promise<void>((resolve) => (fifty = resolve));
  class Recorder extends Actor<number> {
    handle(): void {
      turns.push(turn);
      if (turns.length === 50) fifty();
    }
  }
  const ref = spawn(new Recorder());
  for (let i = 0; i < 50; i++) ref.address.trySend(i);
  await within(allHandled, 2_000, "not all 50 messages were handled");
  clearInterval(timer);
  ref.stop();
  await ref.done;
  assert.equal(turns.length, 50);
  assert.equal(new Set(turns).size, 1, "all 50 messages were handled in the same turn");
});

Deno.test("Context addStream pulls no further than the mailbox has room for: back-pressure", async () => {
  let pulls = 0;
  let release!: () => void;
  const blocked = new Promise<void>((resolve) => (release = resolve));
  let handling!: () => void;
  const firstHandled = new Promise<void>((resolve) => (handling = resolve));
  const source = new ReadableStream<number>({
    pull: (controller) => {
      controller.enqueue(++pulls);
    },
  }, { highWaterMark: 0 });
  class Stuck extends Actor<number> {
    override started(ctx: Context<number>): void {
      ctx.addStream(source);
    }
    async handle(): Promise<void> {
      handling();
      await blocked; // a handler that cannot finish: the actor is stalled
    }
  }
  const ref = spawn(new Stuck(), { capacity: 4 });
  await within(firstHandled, 2_000, "the first item never arrived");
  // Let the pump run as far as it can: it must stop at the full mailbox.
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
  // One in the handler, four queued, one waiting for room: no more pulled.
  assert.ok(pulls <= 6, `${pulls} items pulled from a source whose actor is stalled`);
  release();
  ref.stop();
  await ref.done;
});

Deno.test("Actor's done, first asked for after the actor stopped, still says how it ended", async () => {
  let told!: (failure: { error: unknown } | undefined) => void;
  const stopped = new Promise<{ error: unknown } | undefined>((resolve) => (told = resolve));
  const ref = spawn(new Counter(), { supervision: { directive: "escalate" }, onStopped: told });
  await ref.address.send({ type: "boom" });
  const failure = await within(stopped, 2_000, "onStopped was never called");
  assert.match(String(failure?.error), /boom/);
  await assert.rejects(ref.done, /boom/);
});

Deno.test("Actor's onStopped is told once, after the stopped hook", async () => {
  const events: string[] = [];
  const ref = spawn(new Counter(events), {
    onStopped: (failure) => events.push(`told ${failure}`),
  });
  ref.address.trySend({ type: "add", n: 1 });
  ref.stop();
  await ref.done;
  assert.deepEqual(events, ["started", "stopping", "stopped", "told undefined"]);
});

Deno.test("spawn runs no handler before it returns, even for messages sent from started", () => {
  const handled: number[] = [];
  class Eager extends Actor<number> {
    override started(ctx: Context<number>): void {
      ctx.address.trySend(1);
    }
    handle(n: number): void {
      handled.push(n);
    }
  }
  const ref = spawn(new Eager());
  assert.deepEqual(handled, []);
  ref.stop();
  return ref.done;
});

Deno.test("Context addStream takes a push source's items, waits when the mailbox is full, and ends with its end messages", async () => {
  type Msg = { type: "item"; n: number } | { type: "ended"; failed: boolean };
  const seen: Msg[] = [];
  let waits = 0;
  // A source that pushes 10 items as fast as the sink allows.
  const source: PushSource<Msg> = {
    pushTo(sink: PushSink<Msg>): void {
      let n = 0;
      const next = (): void => {
        while (n < 10) {
          const wait = sink.push({ type: "item", n: ++n });
          if (wait !== undefined) {
            waits++;
            return void wait.then(next);
          }
        }
        sink.end();
      };
      next();
    },
    cancel(): void {},
  };
  class Reader extends Actor<Msg> {
    override started(ctx: Context<Msg>): void {
      ctx.addStream(source, {
        endWith: {
          ended: { type: "ended", failed: false },
          failed: { type: "ended", failed: true },
        },
      });
    }
    handle(message: Msg, ctx: Context<Msg>): void {
      seen.push(message);
      if (message.type === "ended") ctx.stop();
    }
  }
  const ref = spawn(new Reader(), { capacity: 3 });
  await ref.done;
  assert.deepEqual(seen.map((m) => m.type === "item" ? m.n : m.type), [
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    "ended",
  ]);
  assert.ok(waits > 0, "a mailbox of 3 never made the source wait for 10 items");
});
