/**
 * Password hashing with scrypt (`node:crypto`, built into Deno): memory-hard,
 * so guessing with a GPU costs memory as well as time, and run by the
 * runtime off the JavaScript thread, so a login never stalls the chat.
 *
 * A hash is stored as `scrypt$N$r$p$salt$key` (base64), so the cost can be
 * raised later without breaking existing accounts. The default, N = 2^14,
 * r = 8, p = 1 (16 MiB, about 90 ms on a 2-core VM), is scrypt's
 * recommendation for interactive logins: slow for a guesser, unnoticed by a
 * person.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import type { Passwords } from "../chat/ports.ts";

/** scrypt's cost parameters. */
export interface ScryptCost {
  /** CPU and memory cost, a power of two. */
  N: number;
  r: number;
  p: number;
}

/** The default cost; see the module doc. */
export const DEFAULT_COST: Readonly<ScryptCost> = { N: 2 ** 14, r: 8, p: 1 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** The highest cost a stored hash may ask for (2^20): a hash file edited
 * by hand must not make one login take a gigabyte. */
const MAX_N = 2 ** 20;

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const maxmem = 256 * cost.N * cost.r + 1024 * 1024;
    scrypt(password.normalize("NFC"), salt, KEY_BYTES, { ...cost, maxmem }, (error, key) => {
      if (error) reject(error);
      else resolve(key);
    });
  });
}

/**
 * scrypt hashing; see the module doc.
 *
 * @example
 * ```ts
 * import { ScryptPasswords } from "./passwords.ts";
 * const passwords = new ScryptPasswords();
 * const hash = await passwords.hash("correct horse");
 * await passwords.verify("correct horse", hash); // true
 * ```
 */
export class ScryptPasswords implements Passwords {
  readonly #cost: ScryptCost;

  constructor(cost: ScryptCost = DEFAULT_COST) {
    this.#cost = cost;
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const key = await derive(password, salt, this.#cost);
    const { N, r, p } = this.#cost;
    return ["scrypt", N, r, p, salt.toString("base64"), key.toString("base64")].join("$");
  }

  async verify(password: string, hash: string): Promise<boolean> {
    const parsed = parseHash(hash);
    if (parsed === undefined) return false;
    const key = await derive(password, parsed.salt, parsed.cost);
    return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
  }
}

/** Whether `hash` has the form {@linkcode ScryptPasswords} writes. */
export function isPasswordHash(hash: string): boolean {
  return parseHash(hash) !== undefined;
}

function parseHash(hash: string): { cost: ScryptCost; salt: Buffer; key: Buffer } | undefined {
  const parts = hash.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return undefined;
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const valid = Number.isInteger(N) && N > 1 && N <= MAX_N && (N & (N - 1)) === 0 &&
    Number.isInteger(r) && r >= 1 && r <= 32 && Number.isInteger(p) && p >= 1 && p <= 16;
  if (!valid) return undefined;
  const salt = Buffer.from(parts[4] as string, "base64");
  const key = Buffer.from(parts[5] as string, "base64");
  if (salt.length < 8 || key.length < 16) return undefined;
  return { cost: { N, r, p }, salt, key };
}
