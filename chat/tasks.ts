/**
 * The slow work a command can start: hashing or checking a password, and
 * the store's reads and writes. A handler returns a `Task` as an effect;
 * the shell runs it here (the only place in the core that awaits) and its
 * result comes back to the chat server as a typed `task_done` message, for
 * the command module that started it to finish in a turn of its own. The
 * chat never waits for a disk, Redis or a key derivation.
 *
 * @module
 */

import type { StoredAct } from "./community.ts";
import type { ChatEvent } from "./events.ts";
import type { CommunityStore, Passwords } from "./ports.ts";

/** Slow work, by kind. */
export type Task =
  /** Hash `password` and create the account `name`, registered `at`. */
  | { kind: "register"; name: string; password: string; at: number }
  /** Check `password` against the account `key`. */
  | { kind: "login"; key: string; password: string }
  /** Check `old`, then set `password`, for `account`. */
  | { kind: "password"; account: string; old: string; password: string }
  /** Check `password`, then delete `account`; `by` is who asked. */
  | { kind: "unregister"; account: string; password: string; by: string }
  /** Check an operator's password against its hash. For a name that is no
   * operator, `hash` is another operator's (`known` false): the same work
   * is done either way, so names cannot be told apart by the time taken. */
  | { kind: "oper"; key: string; password: string; hash: string | undefined; known: boolean }
  /** Write an act to the store; `then` is told to its author once it
   * has taken effect. */
  | { kind: "write"; act: StoredAct; then?: ChatEvent };

/** What each kind of task answers. */
export interface TaskValues {
  /** Whether the account was created (false: the name was taken). */
  register: boolean;
  /** The account's name as registered, when the password matched. */
  login: string | undefined;
  password: boolean;
  unregister: boolean;
  oper: boolean;
  /** Whether the store kept it (false: a room owned already). */
  write: boolean;
}

/** A finished task: its value, or that the store or hashing failed. */
export type TaskDone =
  | {
    [K in Task["kind"]]: { task: Extract<Task, { kind: K }>; failed: false; value: TaskValues[K] };
  }[Task["kind"]]
  | { task: Task; failed: true; error: string; busy?: boolean };

/** What tasks run against. */
export interface TaskPorts {
  /** Undefined with `--accounts off` (no task that needs it is started). */
  store: CommunityStore | undefined;
  passwords: Passwords;
  /** Where password work waits its turn. */
  hashing: HashQueue;
}

/** Password work at once, and waiting: two cores' worth, and a queue that
 * takes a burst of logins without taking a gigabyte. */
export const HASHING = { concurrency: 2, waiting: 64 } as const;

/** Passwords when there are none to check. */
export const NO_PASSWORDS: Passwords = {
  hash: () => Promise.reject(new Error("no password hashing on this server")),
  verify: () => Promise.resolve(false),
};

/** Thrown for password work the queue has no room for. */
export class HashingBusy extends Error {
  constructor() {
    super("busy: too much password work waiting");
  }
}

/**
 * Password work, a few at a time: each scrypt takes 16 MiB and about 90 ms
 * of a core, so 80 registrations at once would otherwise take a gigabyte
 * and the chat's CPU. The rest wait in a short queue; past it, refused.
 *
 * @example
 * ```ts
 * import { HashQueue } from "./tasks.ts";
 * const queue = new HashQueue({ concurrency: 2, waiting: 64 });
 * await queue.run(() => Promise.resolve("hashed"));
 * ```
 */
export class HashQueue {
  readonly #concurrency: number;
  readonly #most: number;
  readonly #waiting: (() => void)[] = [];
  #running = 0;

  constructor(options: { concurrency: number; waiting: number }) {
    this.#concurrency = options.concurrency;
    this.#most = options.waiting;
  }

  /** Runs `work` when a place is free; rejects with `HashingBusy` when the
   * queue is full. */
  run<T>(work: () => Promise<T>): Promise<T> {
    if (this.#running < this.#concurrency) return this.#start(work);
    if (this.#waiting.length >= this.#most) return Promise.reject(new HashingBusy());
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push(() => void this.#start(work).then(resolve, reject));
    });
  }

  #start<T>(work: () => Promise<T>): Promise<T> {
    this.#running++;
    return work().finally(() => {
      this.#running--;
      this.#waiting.shift()?.();
    });
  }
}

type Runners = {
  [K in Task["kind"]]: (
    task: Extract<Task, { kind: K }>,
    ports: TaskPorts,
  ) => Promise<TaskValues[K]>;
};

const RUNNERS: Runners = {
  register: async (task, { store, passwords }) => {
    const hash = await passwords.hash(task.password);
    return await need(store).createAccount({ name: task.name, hash, created: task.at });
  },
  login: async (task, { store, passwords }) => {
    const account = await need(store).account(task.key);
    if (account === undefined) return undefined;
    return await passwords.verify(task.password, account.hash) ? account.name : undefined;
  },
  password: async (task, ports) => {
    if (!await verified(ports, task.account, task.old)) return false;
    await need(ports.store).setPassword(task.account, await ports.passwords.hash(task.password));
    return true;
  },
  unregister: async (task, ports) => {
    if (!await verified(ports, task.account, task.password)) return false;
    await need(ports.store).deleteAccount(task.account);
    return true;
  },
  oper: async (task, { passwords }) => {
    if (task.hash === undefined) return false; // no operators at all: nothing to guess
    return await passwords.verify(task.password, task.hash) && task.known;
  },
  write: (task, { store }) => need(store).write(task.act),
};

/** Runs `task`; never rejects (a failure is a `failed` result). */
export function runTask(task: Task, ports: TaskPorts): Promise<TaskDone> {
  const runner = RUNNERS[task.kind] as (task: Task, ports: TaskPorts) => Promise<unknown>;
  // Every kind but a store write hashes or checks a password: it queues.
  const run = () => runner(task, ports);
  const work = task.kind === "write" ? run() : ports.hashing.run(run);
  return work.then(
    (value) => ({ task, failed: false, value }) as TaskDone,
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      return { task, failed: true, error: message, busy: error instanceof HashingBusy };
    },
  );
}
async function verified(ports: TaskPorts, account: string, password: string): Promise<boolean> {
  const found = await need(ports.store).account(account);
  return found !== undefined && await ports.passwords.verify(password, found.hash);
}

function need(store: CommunityStore | undefined): CommunityStore {
  if (store === undefined) throw new Error("this server keeps no accounts");
  return store;
}
