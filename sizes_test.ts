/**
 * Modules stay short enough to read at a glance: no source file over 400
 * lines (tests, e2e and the benchmark excepted). A file that grows past it
 * is split by what it does, not trimmed.
 */

import assert from "node:assert/strict";
import { ROOT, sourceFiles } from "./testing/source_files.ts";

const MAX_LINES = 400;
const FOLDERS = ["actors", "net", "chat", "cluster", "irc", "store", "cli", "app", "testing"];

Deno.test("no source file is over 400 lines", () => {
  const files = ["main.ts", ...FOLDERS.flatMap(sourceFiles)];
  assert.ok(files.length > 80, `only ${files.length} files were found`);
  const long = files
    .map((file) => [file, lineCount(Deno.readTextFileSync(new URL(file, ROOT)))] as const)
    .filter(([, lines]) => lines > MAX_LINES);
  assert.deepEqual(long, [], `files over ${MAX_LINES} lines`);
});

/** Lines as `wc -l` counts them: a final newline ends a line, it starts none. */
function lineCount(text: string): number {
  const parts = text.split("\n").length;
  return text.endsWith("\n") ? parts - 1 : parts;
}
