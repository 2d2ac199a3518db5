/**
 * `/nick`: renaming, including the cluster-wide claim a linked server needs
 * for a chosen name.
 *
 * The chat server never waits for the claim. It sends it and carries on;
 * the answer comes back later as a message (`claim_answer`), or the timer
 * does (`claim_expired`), whichever is first. The name is checked again
 * when the answer arrives, since it may have been taken here meanwhile,
 * and a name granted too late is given back.
 *
 * @module
 */

import type { Delivery } from "./delivery.ts";
import type { Link } from "./link.ts";
import type { Log } from "./ports.ts";
import { noticed, type Refusal, refused } from "./events.ts";
import { isAssignedName, type Local, type Registry, type User } from "./registry.ts";

/** How long a rename waits for the other servers to confirm a name: long
 * enough for a slow Redis, short enough that the user is not left guessing. */
export const CLAIM_TIMEOUT_MS = 2_000;

/** The answer to a claim, as it comes back to the chat server. */
export interface ClaimAnswer {
  token: number;
  name: string;
  granted: boolean;
}

/** What {@linkcode Renames} needs from the chat server. */
export interface RenamesOptions<S> {
  registry: Registry<S>;
  delivery: Delivery<S>;
  link: Link;
  log: Log;
  /** Sends a claim's answer back to the chat server as a message. */
  answer: (user: User<S>, answer: ClaimAnswer) => void;
  /** Sends `claim_expired` for `token` to the chat server after `ms`. */
  expireLater: (user: User<S>, token: number, ms: number) => void;
  /** Tells a user's session its new name. */
  renamed: (user: User<S>, name: string) => void;
  claimTimeoutMs?: number;
}

/**
 * Renames local users; see the module doc.
 *
 * @example
 * ```ts
 * // The chat server calls: renames.nick(user, "alice"), then, for a claim,
 * // renames.answered(user, answer) or renames.expired(user, token).
 * ```
 */
export class Renames<S> {
  readonly #o: RenamesOptions<S>;
  readonly #timeoutMs: number;
  #claims = 0;

  constructor(options: RenamesOptions<S>) {
    this.#o = options;
    this.#timeoutMs = options.claimTimeoutMs ?? CLAIM_TIMEOUT_MS;
  }

  /** `/nick NAME` from a local user. */
  nick(user: User<S>, nick: string): void {
    const refusal = this.#o.registry.refuseName(user, nick);
    if (refusal !== undefined) return this.#refuse(user, refusal);
    if (localOf(user).claim) return this.#refuse(user, { refusal: "rename_under_way" });
    // userN names are unique by construction and a case change keeps the
    // name; only a new chosen name needs the other servers' consent.
    const needsClaim = this.#o.link.linked && !isAssignedName(nick) &&
      nick.toLowerCase() !== user.name.toLowerCase();
    if (!needsClaim) return this.#rename(user, nick);
    if (!this.#o.link.up) return this.#refuse(user, { refusal: "names_need_link" });
    this.#claim(user, nick);
  }

  /** The other servers answered a claim. */
  answered(user: User<S>, answer: ClaimAnswer): void {
    const local = localOf(user);
    const claim = local.claim;
    if (claim === undefined || claim.token !== answer.token) return this.#tooLate(user, answer);
    local.claim = undefined;
    if (!answer.granted) {
      return this.#refuse(
        user,
        this.#o.link.up
          ? { refusal: "name_taken", name: claim.name }
          : { refusal: "names_need_link" },
      );
    }
    // Checked again: the name may have been taken here while we waited.
    const refusal = this.#o.registry.refuseName(user, claim.name);
    if (refusal === undefined) return this.#rename(user, claim.name);
    this.#o.link.release(claim.name.toLowerCase());
    this.#refuse(user, refusal);
  }

  /** A claim's time ran out before its answer came. */
  expired(user: User<S>, token: number): void {
    const local = localOf(user);
    if (local.claim?.token !== token) return;
    local.claim = undefined;
    this.#refuse(user, { refusal: "claim_timed_out" });
  }

  #claim(user: User<S>, nick: string): void {
    const token = ++this.#claims;
    localOf(user).claim = { token, name: nick };
    const answer = (granted: boolean) => this.#o.answer(user, { token, name: nick, granted });
    this.#o.link.claim(nick.toLowerCase()).then(answer, () => answer(false));
    this.#o.expireLater(user, token, this.#timeoutMs);
  }

  /** An answer to a claim that already expired: give back a name we were
   * granted, unless it is in use or being claimed again meanwhile. */
  #tooLate(user: User<S>, answer: ClaimAnswer): void {
    const key = answer.name.toLowerCase();
    const claimedAgain = localOf(user).claim?.name.toLowerCase() === key;
    if (answer.granted && user.name.toLowerCase() !== key && !claimedAgain) {
      this.#o.link.release(key);
    }
  }

  /** Redis says another server holds `user`'s name (granted there while
   * Redis had lost our claim): the user goes back to its assigned name and
   * is told why, and the other server is asked to tell its user. */
  lost(user: User<S>): void {
    const name = user.name;
    const back = localOf(user).assigned;
    this.#o.delivery.reply(user, noticed({ notice: "name_lost", name, back }));
    this.#rename(user, back);
    this.#o.link.publish({ type: "conflict", server: "", name });
  }

  #rename(user: User<S>, nick: string): void {
    const old = user.name;
    if (old.toLowerCase() !== nick.toLowerCase()) this.#o.link.release(old.toLowerCase());
    this.#o.registry.rename(user, nick);
    this.#o.renamed(user, nick);
    this.#o.delivery.toRoom(user.room, { type: "rename", from: old, to: nick });
    this.#o.link.publish({ type: "nick", server: "", id: user.id, name: nick });
    this.#o.log(`[server] ${old} is now known as ${nick}`, {
      event: "rename",
      user: nick,
      from: old,
    });
  }

  #refuse(user: User<S>, refusal: Refusal): void {
    this.#o.delivery.reply(user, refused(refusal));
  }
}

function localOf<S>(user: User<S>): Local<S> {
  if (user.local === undefined) throw new Error("Cannot rename a user of another server");
  return user.local;
}
