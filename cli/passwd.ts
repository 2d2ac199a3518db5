/**
 * `deno task passwd`: prints the hash of a password for the `--operators`
 * file. The password is read from the terminal without echo (or, when
 * stdin is not a terminal, as its first line, for scripts), and never
 * appears in the shell's history or the process list.
 *
 * @module
 */

import { ScryptPasswords } from "../store/passwords.ts";
import { PASSWORD_CHARS } from "../chat/commands.ts";

/** Where the password comes from: a terminal (asked twice, without echo)
 * or a script's standard input (its first line). */
export interface PasswordInput {
  terminal: boolean;
  /** One line, after showing `prompt` (on a terminal). */
  readLine(prompt: string): Promise<string>;
}

/** Standard input as a {@linkcode PasswordInput}. */
export const STDIN: PasswordInput = {
  terminal: Deno.stdin.isTerminal(),
  readLine: readStdinLine,
};

/** Reads one line from stdin, without echo when it is a terminal. */
async function readStdinLine(prompt: string): Promise<string> {
  const terminal = Deno.stdin.isTerminal();
  if (terminal) {
    await Deno.stderr.write(new TextEncoder().encode(prompt));
    Deno.stdin.setRaw(true);
  }
  const bytes: number[] = [];
  const buffer = new Uint8Array(1);
  try {
    // A byte at a time: what follows the line stays unread for the next.
    while ((await Deno.stdin.read(buffer)) !== null) {
      const byte = buffer[0] as number;
      if (byte === 0x0a || byte === 0x0d) break;
      if (byte === 0x03) throw new Error("cancelled");
      bytes.push(byte);
    }
  } finally {
    if (terminal) {
      Deno.stdin.setRaw(false);
      await Deno.stderr.write(new TextEncoder().encode("\n"));
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** Prints the hash of the password read from `input`; resolves with the
 * exit code. On a terminal it is asked twice: a typo would otherwise be a
 * password nobody knows. */
export async function passwd(
  input: PasswordInput = STDIN,
  hash: (password: string) => Promise<string> = (p) => new ScryptPasswords().hash(p),
): Promise<number> {
  try {
    const password = await input.readLine("Password (not shown): ");
    const chars = [...password].length;
    if (chars < PASSWORD_CHARS.min || chars > PASSWORD_CHARS.max || /\s/.test(password)) {
      console.error(
        `passwd: passwords are ${PASSWORD_CHARS.min}-${PASSWORD_CHARS.max} characters with no spaces`,
      );
      return 2;
    }
    if (input.terminal && await input.readLine("Again: ") !== password) {
      console.error("passwd: the two passwords differ; nothing was printed");
      return 2;
    }
    console.log(await hash(password));
    return 0;
  } catch (error) {
    console.error(`passwd: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}

if (import.meta.main) {
  Deno.exit(await passwd());
}
