/**
 * Accounts: `/register`, `/login` (`/identify`), `/logout`, `/password`,
 * `/unregister`, and `/oper` for server operators.
 *
 * Hashing a password takes tens of milliseconds of work on purpose, so it
 * never happens in the chat server's turn: the hash is computed off the
 * thread (`Passwords`), the store answers later, and the result comes back
 * through `after` as a turn of its own, like a name claim's answer. Failed
 * attempts are limited per account and per address before anything is
 * hashed, so guessing costs the guesser time and the server a map lookup.
 * One account command at a time per connection.
 *
 * @module
 */

import { unreachable } from "../actors/mod.ts";
import type { Command } from "./commands.ts";
import { FailureLimit } from "./community.ts";
import type { Moderation, PeopleContext } from "./moderation.ts";
import { type Notice, noticed, type Refusal, refused } from "./events.ts";
import type { Passwords } from "./ports.ts";
import { isAssignedName, type User } from "./registry.ts";

/** The commands handled here. */
export type AccountCommand = Extract<
  Command,
  { name: "register" | "login" | "logout" | "password" | "unregister" | "oper" }
>;

/** Failed logins one account may take in a burst, and how fast the
 * allowance comes back: a person who mistypes is never stopped, a script
 * gets five guesses a minute. */
export const ACCOUNT_FAILURES = { burst: 5, refillMs: 12_000 } as const;
/** The same per address: room for a few people behind one NAT. */
export const ADDRESS_FAILURES = { burst: 20, refillMs: 3_000 } as const;

/** Said once per plain-TCP connection that sends a password. */
/** What {@linkcode Accounts} needs besides the shared context. */
export interface AccountsOptions<S> {
  context: PeopleContext<S>;
  moderation: Moderation<S>;
  passwords: Passwords;
  /** Server operators: lower-cased name → password hash. */
  operators: ReadonlyMap<string, string>;
  /** Renames a local user as `/nick` does (the name is theirs to take). */
  rename: (user: User<S>, name: string) => void;
}

/**
 * Account commands; see the module doc.
 *
 * @example
 * ```ts
 * // The chat server calls: accounts.run(user, { name: "login", account: "alice", password: "..." }).
 * ```
 */
export class Accounts<S> {
  readonly #c: PeopleContext<S>;
  readonly #o: AccountsOptions<S>;
  readonly #byAccount = new FailureLimit(ACCOUNT_FAILURES);
  readonly #byAddress = new FailureLimit(ADDRESS_FAILURES);

  constructor(options: AccountsOptions<S>) {
    this.#c = options.context;
    this.#o = options;
  }

  /** One command from a local user. */
  run(user: User<S>, command: AccountCommand): void {
    if (command.name !== "logout" && !this.#ready(user, command.name !== "oper")) return;
    switch (command.name) {
      case "register":
        return this.#register(user, command.password);
      case "login":
        return this.#login(user, command.account, command.password);
      case "logout":
        return this.#logout(user);
      case "password":
        return this.#changePassword(user, command.old, command.password);
      case "unregister":
        return this.#unregister(user, command.password);
      case "oper":
        return this.#oper(user, command.account, command.password);
      default:
        return unreachable(command);
    }
  }

  /** Whether a password command may start: a store (if it needs one), no
   * other one running; says once that plain TCP shows passwords. */
  #ready(user: User<S>, needsStore: boolean): boolean {
    const local = user.local;
    if (local === undefined) return false;
    if (needsStore && this.#c.store === undefined) {
      this.#refuse(user, { refusal: "no_accounts" });
      return false;
    }
    if (local.busy) {
      this.#refuse(user, { refusal: "account_busy" });
      return false;
    }
    if (!local.secure && !local.warnedPlain) {
      local.warnedPlain = true;
      this.#tell(user, { notice: "plaintext" });
    }
    return true;
  }

  #register(user: User<S>, password: string): void {
    const local = user.local!;
    const name = user.name;
    if (local.account !== undefined) {
      return this.#refuse(user, { refusal: "logged_in_already", name: local.account });
    }
    if (isAssignedName(name)) return this.#refuse(user, { refusal: "choose_name_first" });
    if (this.#c.community.registered(name)) {
      return this.#refuse(user, { refusal: "registered_already", name });
    }
    const store = this.#c.store!;
    const created = this.#o.passwords.hash(password).then((hash) =>
      store.createAccount({ name, hash, created: this.#c.now() })
    );
    this.#busy(user, created, (u, ok) => {
      if (!ok) return this.#refuse(u, { refusal: "registered_already", name });
      if (u.name.toLowerCase() !== name.toLowerCase()) {
        return this.#tell(u, { notice: "registered_elsewhere", name });
      }
      u.local!.account = name.toLowerCase();
      this.#tell(u, { notice: "registered", name });
      this.#claimCreatedRoom(u);
    }, (ok) => {
      // Whether or not its owner is still here: the account exists now.
      if (!ok) return;
      this.#o.moderation.perform(
        { kind: "account", name: name.toLowerCase(), registered: true },
        user,
      );
      this.#c.log(`[server] ${name} registered`, { event: "register", user: name });
    });
  }

  /** A room `user` created and is still in becomes theirs when they
   * register (or log in), unless someone owns it already. */
  #claimCreatedRoom(user: User<S>): void {
    const room = user.room;
    if (room.creator !== user.id || this.#c.community.keeps(room.name)) return;
    const owner = user.local?.account;
    if (owner === undefined) return;
    this.#o.moderation.perform({ kind: "claim", room: room.name, owner, by: user.name }, user);
  }

  #login(user: User<S>, name: string, password: string): void {
    const key = name.toLowerCase();
    if (user.local!.account === key) {
      return this.#refuse(user, { refusal: "logged_in_already", name });
    }
    if (this.#limited(user, key)) return;
    const store = this.#c.store!;
    const checked = store.account(key).then(async (account) =>
      account !== undefined && await this.#o.passwords.verify(password, account.hash)
        ? account
        : undefined
    );
    this.#busy(user, checked, (u, account) => {
      if (account === undefined) return this.#failed(u, key, "login");
      const holder = this.#c.registry.named(account.name);
      if (holder !== undefined && holder !== u) {
        return this.#refuse(u, { refusal: "account_in_use", name: account.name });
      }
      u.local!.account = key;
      this.#c.log(`[server] ${u.name} logged in as ${account.name}`, {
        event: "login",
        user: account.name,
      });
      this.#tell(u, { notice: "logged_in", name: account.name });
      if (u.name !== account.name) this.#o.rename(u, account.name);
      this.#claimCreatedRoom(u);
    });
  }

  #logout(user: User<S>): void {
    const local = user.local!;
    if (local.account === undefined) return this.#refuse(user, { refusal: "not_logged_in" });
    local.account = undefined;
    if (user.name === local.assigned) return this.#tell(user, { notice: "logged_out" });
    this.#tell(user, { notice: "logged_out", assigned: local.assigned });
    this.#o.rename(user, local.assigned);
  }

  #changePassword(user: User<S>, old: string, password: string): void {
    const account = user.local!.account;
    if (account === undefined) return this.#refuse(user, { refusal: "log_in_first" });
    if (this.#limited(user, account)) return;
    const store = this.#c.store!;
    const changed = this.#verified(account, old).then(async (ok) => {
      if (ok) await store.setPassword(account, await this.#o.passwords.hash(password));
      return ok;
    });
    this.#busy(user, changed, (u, ok) => {
      if (!ok) return this.#failed(u, account, "password change");
      this.#c.log(`[server] ${u.name} changed their password`, { event: "password", user: u.name });
      this.#tell(u, { notice: "password_changed" });
    });
  }

  #unregister(user: User<S>, password: string): void {
    const account = user.local!.account;
    if (account === undefined) return this.#refuse(user, { refusal: "log_in_first" });
    if (this.#limited(user, account)) return;
    const store = this.#c.store!;
    const deleted = this.#verified(account, password).then(async (ok) => {
      if (ok) await store.deleteAccount(account);
      return ok;
    });
    const by = user.name;
    this.#busy(user, deleted, (u, ok) => {
      if (!ok) return this.#failed(u, account, "unregister");
      u.local!.account = undefined;
      this.#tell(u, { notice: "unregistered", name: account });
    }, (ok) => {
      if (!ok) return;
      this.#release(account, by);
      this.#c.log(`[server] ${account} unregistered`, { event: "unregister", user: account });
    });
  }

  /** A deleted account's rooms are released and its op seats taken back,
   * so whoever registers the name next inherits nothing. */
  #release(account: string, by: string): void {
    const moderation = this.#o.moderation;
    moderation.perform({ kind: "account", name: account, registered: false }, undefined);
    for (const room of this.#c.community.ownedBy(account)) {
      moderation.perform({ kind: "release", room }, undefined);
    }
    for (const room of this.#c.community.oppedIn(account)) {
      moderation.perform({ kind: "op", room, account, on: false, by }, undefined);
    }
  }

  #oper(user: User<S>, name: string, password: string): void {
    const key = name.toLowerCase();
    if (this.#limited(user, `oper:${key}`)) return;
    const hash = this.#o.operators.get(key);
    const checked = hash === undefined
      ? Promise.resolve(false)
      : this.#o.passwords.verify(password, hash);
    this.#busy(user, checked, (u, ok) => {
      if (!ok) return this.#failed(u, `oper:${key}`, "oper");
      u.local!.oper = true;
      this.#c.log(`[server] ${u.name} is a server operator now (as ${key})`, {
        level: "warn",
        event: "oper",
        user: u.name,
        operator: key,
      });
      this.#tell(u, { notice: "oper" });
    });
  }

  /** Whether `password` is `account`'s. */
  async #verified(account: string, password: string): Promise<boolean> {
    const found = await this.#c.store!.account(account);
    return found !== undefined && await this.#o.passwords.verify(password, found.hash);
  }

  /** Whether `user` must wait before trying `key` again; if so, says so. */
  #limited(user: User<S>, key: string): boolean {
    const now = this.#c.now();
    const wait = Math.max(
      this.#byAccount.retryIn(key, now),
      this.#byAddress.retryIn(user.local!.address, now),
    );
    if (wait === 0) return false;
    this.#refuse(user, { refusal: "too_many_failures", waitMs: wait });
    return true;
  }

  #failed(user: User<S>, key: string, what: string): void {
    const now = this.#c.now();
    const address = user.local!.address;
    this.#byAccount.fail(key, now);
    this.#byAddress.fail(address, now);
    this.#c.log(`[server] failed ${what} for ${key} from ${address}`, {
      level: "warn",
      event: "login_failed",
      user: user.name,
      account: key,
      peer: address,
    });
    const login = what === "login" || what === "oper";
    this.#refuse(user, { refusal: login ? "wrong_credentials" : "wrong_password" });
  }

  /** Runs `work` with the user's account commands on hold; `always` gets
   * the result, then `then` gets the user back (if still here) and it. */
  #busy<T>(
    user: User<S>,
    work: Promise<T>,
    then: (user: User<S>, value: T) => void,
    always: (value: T) => void = () => {},
  ): void {
    const id = user.id;
    user.local!.busy = true;
    const back = (): User<S> | undefined => {
      const u = this.#c.registry.user(id);
      if (u?.local === undefined) return undefined;
      u.local.busy = false;
      return u;
    };
    this.#c.after(work, (value) => {
      always(value);
      const u = back();
      if (u !== undefined) then(u, value);
    }, () => {
      const u = back();
      if (u !== undefined) this.#refuse(u, { refusal: "store_failed" });
    });
  }

  #refuse(user: User<S>, refusal: Refusal): void {
    this.#c.delivery.reply(user, refused(refusal));
  }

  #tell(user: User<S>, notice: Notice): void {
    this.#c.delivery.reply(user, noticed(notice));
  }
}
