/**
 * The documentation, checked: every link in the README and `docs/` leads
 * somewhere in the repository (a file, and a heading when it names one),
 * every flag the docs name is one the server has and every flag the server
 * has is in the operations guide's table, and the README stays a
 * five-minute read.
 */

import assert from "node:assert/strict";
import { FLAGS } from "./cli/flags.ts";

const ROOT = new URL("./", import.meta.url);
const DOCS = [
  "README.md",
  ...[...Deno.readDirSync(new URL("docs/", ROOT))]
    .filter((e) => e.isFile && e.name.endsWith(".md")).map((e) => `docs/${e.name}`),
];

function read(file: string): string {
  return Deno.readTextFileSync(new URL(file, ROOT));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, "").replace(/ /g, "-");
}

function anchors(file: string): Set<string> {
  const text = read(file).replace(/```[\s\S]*?```/g, "");
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!)));
}

Deno.test("every link in the README and docs/ resolves inside the repository", () => {
  let checked = 0;
  for (const file of DOCS) {
    const text = read(file).replace(/```[\s\S]*?```/g, "");
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^https?:/.test(target!)) continue;
      const [path, anchor] = target!.split("#") as [string, string | undefined];
      const resolved = path === "" ? file : new URL(path, new URL(file, ROOT)).pathname
        .slice(ROOT.pathname.length);
      let exists = true;
      try {
        Deno.statSync(new URL(resolved, ROOT));
      } catch {
        exists = false;
      }
      assert.ok(exists, `${file} links to ${target}, which does not exist`);
      if (anchor !== undefined && resolved.endsWith(".md")) {
        assert.ok(anchors(resolved).has(anchor), `${file} links to ${target}: no such heading`);
      }
      checked++;
    }
  }
  assert.ok(checked > 10, `only ${checked} links checked`);
});

/** Flags the docs mention that belong to other programs (Deno, Chromium,
 * redis-server, systemctl, the benchmark), and `--help`, which every
 * program has. */
const NOT_OURS = new Set([
  "check",
  "appendonly",
  "save",
  "now",
  "clients",
  "rounds",
  "duration",
  "json",
  "scenario",
  "perf-basic-prof",
  "allow-net",
  "allow-read",
  "allow-write",
  "allow-env",
  "allow-run",
  "allow-all",
  "unstable-net",
  "v8-flags",
  "max-semi-space-size",
  "memory-reducer-delay-ms",
  "expose-gc",
  "snapshot",
  "gc-memory-reducer-start-delay-ms",
  "trace-gc",
  "no-check",
  "no-sandbox",
  "disable-gpu",
  "output",
  "include",
  "compare",
  "floor",
  "help",
]);

Deno.test("the docs name only flags the server has, and list every one it has", () => {
  const ours = new Set<string>(FLAGS.map((f) => f.flag));
  for (const file of DOCS) {
    for (const [, flag] of read(file).matchAll(/(?<![\w-])--([a-z][a-z0-9-]*[a-z0-9])/g)) {
      if (NOT_OURS.has(flag!)) continue;
      assert.ok(ours.has(flag!), `${file} names --${flag}, which the server does not have`);
    }
  }
  const table = read("docs/operations.md");
  for (const flag of ours) {
    assert.ok(table.includes(`| \`--${flag}\``), `--${flag} is missing from docs/operations.md`);
  }
});

Deno.test("the README is a five-minute read: under 200 lines", () => {
  const lines = read("README.md").split("\n").length;
  assert.ok(lines < 200, `${lines} lines`);
});
