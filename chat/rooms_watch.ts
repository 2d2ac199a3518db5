/**
 * The room list that pages (the browser's side panel) are sent unasked: a
 * page sees only its own room's comings and goings, so after anyone
 * enters or leaves any room the list goes to every page again, once for
 * however many changes come within a second.
 *
 * @module
 */

import type { Scene } from "./command.ts";
import { roomList } from "./commands/lists.ts";
import type { Delivery } from "./delivery.ts";

/** How long after a room change the pages get the room list: one list a
 * second at most, however busy the doors. */
export const ROOMS_PUSH_MS = 1000;
/** Rooms in a list sent unasked, at most (the lobby first, then by name):
 * what a side panel shows, and a bound on what a busy second costs (every
 * page gets the same bytes, encoded once). */
export const PUSHED_ROOMS = 100;

/** Follows the registry's `changes`; see the module doc. */
export class RoomsWatch<S> {
  readonly #scene: Scene<S>;
  readonly #delivery: Delivery<S>;
  readonly #schedule: (ms: number) => void;
  /** The registry's `changes` when the pages last got the list. */
  #sent = 0;
  /** Whether a `due` is scheduled. */
  #scheduled = false;

  constructor(scene: Scene<S>, delivery: Delivery<S>, schedule: (ms: number) => void) {
    this.#scene = scene;
    this.#delivery = delivery;
    this.#schedule = schedule;
  }

  /** After each message: schedules `due` if the rooms changed. */
  check(): void {
    if (this.#scheduled || this.#scene.registry.changes === this.#sent) return;
    this.#scheduled = true;
    this.#schedule(ROOMS_PUSH_MS);
  }

  /** The scheduled time came: the list to every page. */
  due(): void {
    const registry = this.#scene.registry;
    this.#scheduled = false;
    this.#sent = registry.changes;
    const pages = [...registry.locals()].filter((user) => user.local?.face === "json");
    if (pages.length === 0) return;
    const rooms = roomList(this.#scene).slice(0, PUSHED_ROOMS);
    this.#delivery.toUsers(pages, { type: "rooms", rooms, update: true });
  }
}
