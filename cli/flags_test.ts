import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "../chat/limits.ts";
import { ConfigError, envName, FLAGS, parseConfig, usage } from "./flags.ts";

const noEnv = () => undefined;
const env = (vars: Record<string, string>) => (name: string) => vars[name];

/** Each flag, a valid value, and where it lands in the config. */
const EXAMPLES: Record<string, [string, (c: ReturnType<typeof parseConfig>) => unknown, unknown]> =
  {
    "host": ["0.0.0.0", (c) => c.host, "0.0.0.0"],
    "port": ["9000", (c) => c.port, 9000],
    "max-line-bytes": ["100", (c) => c.limits.maxLineBytes, 100],
    "flood-rate": ["0", (c) => c.limits.floodRate, 0],
    "flood-burst": ["5", (c) => c.limits.floodBurst, 5],
    "send-queue-bytes": ["2048", (c) => c.limits.maxQueuedBytes, 2048],
    "max-connections": ["10", (c) => c.limits.maxConnections, 10],
    "max-per-address": ["3", (c) => c.limits.maxConnectionsPerAddress, 3],
    "connects-per-minute": ["6", (c) => c.limits.connectsPerMinute, 6],
    "limit-loopback": ["", (c) => c.limits.exemptLoopback, false],
    "redis-ephemeral": ["", (c) => c.redisEphemeral, true],
    "ws-origins": [
      "https://a.example, http://b.example:8080",
      (c) => c.allowedOrigins,
      ["https://a.example", "http://b.example:8080"],
    ],
    "public-host": [
      "Chat.Example.org, irc.example.org",
      (c) => c.publicHosts,
      ["chat.example.org", "irc.example.org"],
    ],
    "idle-timeout": ["1.5", (c) => c.limits.idleTimeoutMs, 1500],
    "shutdown-timeout": ["2", (c) => c.limits.flushMs, 2000],
    "redis": ["redis://127.0.0.1:6379", (c) => c.redis, "redis://127.0.0.1:6379"],
    "redis-ca": ["ca.pem", (c) => c.redisCa, "ca.pem"],
    "tls-port": ["8443", (c) => c.tls, undefined], // needs cert and key: tested below
    "tls-cert": ["c.pem", (c) => c.tls, undefined],
    "tls-key": ["k.pem", (c) => c.tls, undefined],
    "irc-port": ["6667", (c) => c.irc.port, 6667],
    "irc-tls-port": ["6697", (c) => c.irc.tlsPort, 6697], // needs the TLS files: tested below
    "irc-name": ["irc.example.org", (c) => c.irc.name, "irc.example.org"],
    "http-port": ["8081", (c) => c.web, { hostname: "127.0.0.1", port: 8081 }],
    "http-host": ["::1", (c) => c.web, undefined],
    "metrics-port": ["9090", (c) => c.metrics, { hostname: "127.0.0.1", port: 9090 }],
    "metrics-host": ["0.0.0.0", (c) => c.metrics, undefined],
    "data-dir": ["/var/lib/marquee", (c) => [c.dataDir, c.history?.dataDir], [
      "/var/lib/marquee",
      "/var/lib/marquee",
    ]],
    "accounts": ["off", (c) => c.accounts, false],
    "operators": ["/etc/marquee/operators", (c) => c.operators, "/etc/marquee/operators"],
    "history": ["off", (c) => c.history, undefined],
    "workers": ["4", (c) => c.workers, 4],
    "history-on-join": ["0", (c) => c.history?.onJoin, 0],
    "history-keep": ["500", (c) => c.history?.keep, 500],
    "history-days": ["7", (c) => c.history?.days, 7],
    "log-format": ["json", (c) => c.logFormat, "json"],
    "log-level": ["warn", (c) => c.logLevel, "warn"],
    "reuse-port": ["", (c) => c.reusePort, true],
  };

const TLS_FLAGS = new Set(["tls-port", "tls-cert", "tls-key", "irc-tls-port"]);

Deno.test("parseConfig gives the documented defaults with no flags and no environment", () => {
  const config = parseConfig([], noEnv);
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.port, 8080);
  assert.deepEqual(config.limits, DEFAULT_LIMITS);
  assert.equal(config.redis, "");
  assert.equal(config.reusePort, false);
  assert.equal(config.tls, undefined);
  assert.equal(config.web, undefined);
  assert.equal(config.metrics, undefined);
  assert.equal(config.logFormat, "text");
  assert.equal(config.logLevel, "info");
  assert.equal(config.help, false);
});

Deno.test("parseConfig reads every flag, from the command line and from its environment variable", () => {
  assert.deepEqual(Object.keys(EXAMPLES).sort(), FLAGS.map((f) => f.flag).sort(), "every flag");
  for (const [flag, [value, pick, expected]] of Object.entries(EXAMPLES)) {
    if (TLS_FLAGS.has(flag)) continue;
    const args = value === "" ? [`--${flag}`] : [`--${flag}`, value];
    assert.deepEqual(pick(parseConfig(args, noEnv)), expected, `--${flag}`);
    const fromEnv = parseConfig([], env({ [envName(flag)]: value === "" ? "true" : value }));
    assert.deepEqual(pick(fromEnv), expected, envName(flag));
  }
});

Deno.test("IRC over TLS needs the TLS files; the IRC name must be a host name", () => {
  assert.throws(() => parseConfig(["--irc-tls-port", "6697"], noEnv), {
    message: "--irc-tls-port needs --tls-port, --tls-cert and --tls-key",
  });
  const tls = ["--tls-port", "8443", "--tls-cert", "c.pem", "--tls-key", "k.pem"];
  assert.equal(parseConfig([...tls, "--irc-tls-port", "6697"], noEnv).irc.tlsPort, 6697);
  assert.throws(() => parseConfig(["--irc-name", "two words"], noEnv), {
    message: 'Invalid --irc-name "two words": expected a host name such as irc.example.org',
  });
});

Deno.test("parseConfig lets a flag win over the environment, and REDIS_URL stand in for CHAT_REDIS", () => {
  assert.equal(parseConfig(["--port", "1"], env({ CHAT_PORT: "2" })).port, 1);
  const url = "redis://10.0.0.1:6379";
  assert.equal(parseConfig([], env({ REDIS_URL: url })).redis, url);
  assert.equal(parseConfig([], env({ REDIS_URL: url, CHAT_REDIS: "" })).redis, "");
});

Deno.test("parseConfig takes the HTTP and metrics hosts with their ports", () => {
  const config = parseConfig(
    ["--http-port", "0", "--http-host", "::1", "--metrics-port", "0", "--metrics-host", "0.0.0.0"],
    noEnv,
  );
  assert.deepEqual(config.web, { hostname: "::1", port: 0 });
  assert.deepEqual(config.metrics, { hostname: "0.0.0.0", port: 0 });
});

Deno.test("parseConfig needs all three TLS flags or none", () => {
  const all = parseConfig(
    ["--tls-port", "8443", "--tls-cert", "c.pem", "--tls-key", "k.pem"],
    noEnv,
  );
  assert.deepEqual(all.tls, { port: 8443, cert: "c.pem", key: "k.pem" });
  for (const args of [["--tls-port", "8443"], ["--tls-cert", "c", "--tls-key", "k"]]) {
    assert.throws(() => parseConfig(args, noEnv), {
      name: "ConfigError",
      message: "TLS needs all of --tls-port, --tls-cert and --tls-key",
    });
  }
});

Deno.test("parseConfig refuses bad values, naming the flag they came from", () => {
  const cases: [string[], string][] = [
    [["--port", "99999"], 'Invalid --port "99999": expected a port from 0 to 65535'],
    [["--port", "abc"], 'Invalid --port "abc": expected a port from 0 to 65535'],
    [["--tls-port", "-1"], 'Invalid --tls-port "-1": expected a port from 0 to 65535'],
    [["--idle-timeout", "-5"], 'Invalid --idle-timeout "-5": expected a number of seconds'],
    [["--max-line-bytes", "0"], 'Invalid --max-line-bytes "0": it must be at least 1'],
    [["--flood-rate", "1.5"], 'Invalid --flood-rate "1.5": expected a whole number'],
    [["--idle-timeout", "soon"], 'Invalid --idle-timeout "soon": expected a number of seconds'],
    [["--redis", "http://x"], 'Invalid --redis "http://x": expected redis://host:port'],
    [["--log-format", "xml"], 'Invalid --log-format "xml": expected text or json'],
    [["--log-level", "loud"], 'Invalid --log-level "loud": expected debug, info, warn or error'],
    [["--host", " "], 'Invalid --host " ": it cannot be empty'],
    [["--bogus"], "Unknown option '--bogus'"],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseConfig(args, noEnv), (error: unknown) => {
      assert.ok(error instanceof ConfigError, args.join(" "));
      assert.ok(error.message.startsWith(message), `${args.join(" ")}: ${error.message}`);
      assert.ok(!error.message.includes("\n"), "one line");
      return true;
    });
  }
});

Deno.test("parseConfig names the environment variable when the bad value came from there", () => {
  const cases: [Record<string, string>, string][] = [
    [{ CHAT_PORT: "nope" }, 'Invalid CHAT_PORT "nope": expected a port from 0 to 65535'],
    [{ CHAT_FLOOD_BURST: "0" }, 'Invalid CHAT_FLOOD_BURST "0": it must be at least 1'],
    [{ CHAT_MAX_PER_ADDRESS: "0" }, 'Invalid CHAT_MAX_PER_ADDRESS "0": it must be at least 1'],
    [{ CHAT_REUSE_PORT: "maybe" }, 'Invalid CHAT_REUSE_PORT "maybe": expected true or false'],
    [{ REDIS_URL: "localhost" }, 'Invalid REDIS_URL "localhost": expected redis://host:port'],
    [{ CHAT_LOG_LEVEL: "" }, "Invalid CHAT_LOG_LEVEL: expected debug, info, warn or error"],
  ];
  for (const [vars, message] of cases) {
    assert.throws(() => parseConfig([], env(vars)), { name: "ConfigError", message });
  }
});

Deno.test("usage lists every flag with its argument, default and environment variable", () => {
  const text = usage();
  for (const f of FLAGS) {
    const row = text.split("\n").find((line) => line.startsWith(`  --${f.flag} `));
    assert.ok(row, `--${f.flag}`);
    assert.ok(row.includes(`env ${envName(f.flag)}`), row);
    assert.ok(row.includes(`(default ${f.fallback || "none"};`), row);
  }
  assert.ok(text.includes("or REDIS_URL"));
  assert.equal(parseConfig(["--help"], noEnv).help, true);
});

Deno.test("the operations guide's flags table lists every flag with its environment variable", () => {
  const readme = Deno.readTextFileSync(new URL("../docs/operations.md", import.meta.url));
  const section = readme.slice(readme.indexOf("## Flags and environment"));
  const table = section.slice(0, section.indexOf("\n\n", section.indexOf("| flag")));
  for (const f of FLAGS) {
    const row = table.split("\n").find((l) => l.startsWith(`| \`--${f.flag}\``));
    assert.ok(row, `--${f.flag} is in the table`);
    assert.ok(row.includes(`\`${envName(f.flag)}\``), `--${f.flag}'s row names ${envName(f.flag)}`);
  }
});
