import assert from "node:assert/strict";
import { passwd, type PasswordInput } from "./passwd.ts";

/** A terminal (or a script) that answers with `lines`, recording prompts. */
function input(terminal: boolean, lines: string[]): PasswordInput & { prompts: string[] } {
  const prompts: string[] = [];
  return {
    terminal,
    prompts,
    readLine: (prompt) => {
      prompts.push(prompt);
      return Promise.resolve(lines.shift() ?? "");
    },
  };
}

/** Runs passwd, keeping what it printed. */
async function run(source: PasswordInput): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (line: string) => out.push(line);
  console.error = (line: string) => err.push(line);
  try {
    const code = await passwd(source, (p) => Promise.resolve(`hash-of-${p}`));
    return { code, out, err };
  } finally {
    [console.log, console.error] = [log, error];
  }
}

Deno.test("deno task passwd asks twice on a terminal and prints nothing when they differ", async () => {
  const typo = input(true, ["correct-horse", "correct-hose"]);
  assert.deepEqual(await run(typo), {
    code: 2,
    out: [],
    err: ["passwd: the two passwords differ; nothing was printed"],
  });
  assert.deepEqual(typo.prompts, ["Password (not shown): ", "Again: "]);
  const same = input(true, ["correct-horse", "correct-horse"]);
  assert.deepEqual(await run(same), { code: 0, out: ["hash-of-correct-horse"], err: [] });
});

Deno.test("deno task passwd reads a script's first line once", async () => {
  const script = input(false, ["correct-horse"]);
  assert.deepEqual(await run(script), { code: 0, out: ["hash-of-correct-horse"], err: [] });
  assert.equal(script.prompts.length, 1);
  assert.equal((await run(input(false, ["short"]))).code, 2);
});
