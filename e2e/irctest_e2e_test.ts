/**
 * The IRC face against irctest, the conformance suite IRC servers run
 * (`../shared/tools/irctest`, Debian's `python3-pytest`): the selection of
 * `docs/irc.md` runs against a real server process, and the tests that
 * fail, and those skipped, must be exactly the ones `docs/irc.md` lists,
 * each with its reason. A new failure or skip fails this test; so does a
 * listed one that now passes (the docs must stay true).
 *
 * Skipped where Python or the suite is missing, unless
 * `MARQUEE_REQUIRE_IRCTEST=1` (CI sets it).
 */

import assert from "node:assert/strict";
import { startServerProcess } from "../testing/server_process.ts";
import { ScryptPasswords } from "../store/passwords.ts";

const SUITE = Deno.env.get("MARQUEE_IRCTEST_DIR") ??
  new URL("../../shared/tools/irctest/", import.meta.url).pathname;
const REQUIRED = Deno.env.get("MARQUEE_REQUIRE_IRCTEST") === "1";
const DOCS = new URL("../docs/irc.md", import.meta.url);

/** Whether the suite and its Python can run here. */
function available(): boolean {
  try {
    Deno.statSync(`${SUITE}/irctest/server_tests`);
    const probe = new Deno.Command("/usr/bin/python3", {
      args: ["-c", "import pytest"],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return probe.success;
  } catch {
    return false;
  }
}

/** The selection, the expected failures and the skipped tests, as
 * `docs/irc.md` lists them. */
function documented(): { files: string[]; failures: Set<string>; skips: Set<string> } {
  const text = Deno.readTextFileSync(DOCS);
  const section = (heading: string) => {
    const start = text.indexOf(heading);
    assert.ok(start !== -1, `docs/irc.md has ${heading}`);
    const end = text.indexOf("\n#", start + heading.length);
    return text.slice(start, end === -1 ? undefined : end);
  };
  const files = [...section("### The selection").matchAll(/^- `(\S+\.py)`/gm)].map((m) => m[1]!);
  const tests = (heading: string) =>
    new Set([...section(heading).matchAll(/^- `(\S+::\S+)`/gm)].map((m) => m[1]!));
  return { files, failures: tests("### Expected failures"), skips: tests("### Skipped tests") };
}

/** Each test's outcome from pytest's JUnit XML: `file.py::Class::test`. */
function outcomes(xml: string): Map<string, "passed" | "failed" | "skipped"> {
  const found = new Map<string, "passed" | "failed" | "skipped">();
  const cases = /<testcase classname="([^"]+)" name="([^"]+)"[^>]*?(\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const [, classname, name, , body] of xml.matchAll(cases)) {
    const parts = classname!.replace(/^irctest\.server_tests\./, "").split(".");
    const test = `${parts.slice(0, -1).join("/")}.py::${parts.at(-1)}::${name}`;
    const outcome = body === undefined
      ? "passed"
      : /<(failure|error)\b/.test(body)
      ? "failed"
      : /<skipped\b/.test(body)
      ? "skipped"
      : "passed";
    found.set(test, outcome);
  }
  return found;
}

/** A working directory whose operators file has irctest's operator. */
async function workDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "marquee-irctest-" });
  await Deno.mkdir(`${dir}/marquee-data`);
  const hash = await new ScryptPasswords().hash("operpassword");
  await Deno.writeTextFile(`${dir}/marquee-data/operators`, `operuser ${hash}\n`);
  return dir;
}

Deno.test({
  name: "the IRC face fails no irctest test of its selection but those docs/irc.md lists",
  ignore: !REQUIRED && !available(),
  async fn() {
    const { files, failures, skips } = documented();
    assert.ok(files.length >= 20, `a selection of ${files.length} files`);
    const cwd = await workDir();
    const server = await startServerProcess([
      "--irc-port",
      "0",
      "--irc-name",
      "My.Little.Server",
      "--flood-rate",
      "0",
      "--operators",
      "./marquee-data/operators",
    ], { cwd });
    try {
      const line = await server.waitForLog((l) => l.startsWith("IRC on "));
      const port = /:(\d+)$/.exec(line)![1]!;
      const xml = `${cwd}/irctest.xml`;
      const run = await new Deno.Command("/usr/bin/python3", {
        args: [
          ...["-m", "pytest", "-p", "no:cacheprovider", "-q", "-rfE"],
          ...["--controller", "irctest.controllers.external_server"],
          ...["-k", "not deprecated and not strict", `--junitxml=${xml}`],
          ...files.map((f) => `irctest/server_tests/${f}`),
        ],
        cwd: SUITE,
        env: { IRCTEST_SERVER_HOSTNAME: "127.0.0.1", IRCTEST_SERVER_PORT: port },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const results = outcomes(await Deno.readTextFile(xml));
      const count = (o: string) => [...results.values()].filter((v) => v === o).length;
      console.log(
        `irctest: ${count("passed")} passed, ${count("failed")} failed, ${
          count("skipped")
        } skipped`,
      );
      const failed = [...results].filter(([, o]) => o === "failed").map(([t]) => t).sort();
      const unexpected = failed.filter((t) => !failures.has(t));
      const nowPassing = [...failures].filter((t) => results.get(t) !== "failed").sort();
      const tail = new TextDecoder().decode(run.stdout).split("\n")
        .filter((l) => /^(FAILED|ERROR) /.test(l)).join("\n");
      assert.deepEqual(unexpected, [], `failures docs/irc.md does not list:\n${tail}`);
      assert.deepEqual(nowPassing, [], "listed as failing in docs/irc.md, but did not fail");
      const skipped = [...results].filter(([, o]) => o === "skipped").map(([t]) => t).sort();
      assert.deepEqual(skipped, [...skips].sort(), "skipped, as docs/irc.md lists them");
    } finally {
      await server.stop();
      await Deno.remove(cwd, { recursive: true });
    }
  },
});
