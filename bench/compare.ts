/**
 * `deno task bench --compare`: Marquee beside the C epoll reference server,
 * in one run. It hands the work to `shared/tools/chatload/compare.sh` (which
 * builds the C server and the C load generator with `cc`, and runs every
 * scenario against each server in turn, alternating, for several rounds),
 * runs Marquee exactly as `deno task chat` does (its permissions, its V8
 * setting, accounts on; history off and flood control off, as the
 * scenarios need), and prints the medians as ratios to the C server: the
 * only comparison this project quotes, since figures from different runs
 * or machines are not comparable.
 *
 * @module
 */

/** Where the reference tools live: beside the repository, in `shared/`. */
const COMPARE_SCRIPT = new URL("../../shared/tools/chatload/compare.sh", import.meta.url).pathname;

/** One server's medians for one scenario, as compare.sh prints them. */
export interface Medians {
  server: string;
  scenario: string;
  connectSeconds: number;
  deliveriesPerSecond: number;
  loss: number;
  p99Ms: number;
  p999Ms: number;
  rssPerConnectionBytes: number;
}

/** Reads compare.sh's summary table (markdown) into rows. */
export function parseSummary(text: string): Medians[] {
  const rows: Medians[] = [];
  const lines = text.split("\n").filter((l) => l.startsWith("| ") && !l.startsWith("| server"));
  for (const line of lines) {
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    if (cells.length < 19) continue;
    const number = (i: number) => Number.parseFloat(cells[i] ?? "");
    rows.push({
      server: cells[0]!,
      scenario: cells[1]!,
      connectSeconds: number(4),
      deliveriesPerSecond: number(6),
      loss: number(7),
      p99Ms: number(10),
      p999Ms: number(11),
      rssPerConnectionBytes: number(18),
    });
  }
  return rows;
}

/** One line of the ratio table. */
export interface Ratio {
  scenario: string;
  measure: string;
  reference: number;
  marquee: number;
  /** Marquee / reference. */
  ratio: number;
}

/** What each scenario is judged by (the targets of the Performance II issue). */
const MEASURES: { scenario: string; measure: string; pick: (m: Medians) => number }[] = [
  { scenario: "A", measure: "deliveries/s", pick: (m) => m.deliveriesPerSecond },
  { scenario: "A", measure: "loss", pick: (m) => m.loss },
  { scenario: "B", measure: "p99 ms", pick: (m) => m.p99Ms },
  { scenario: "B", measure: "p999 ms", pick: (m) => m.p999Ms },
  { scenario: "B", measure: "loss", pick: (m) => m.loss },
  { scenario: "C", measure: "10,000 connected, s", pick: (m) => m.connectSeconds },
  { scenario: "C", measure: "RSS per connection, B", pick: (m) => m.rssPerConnectionBytes },
  { scenario: "D", measure: "p99 ms", pick: (m) => m.p99Ms },
];

/** Marquee's medians over the reference server's, per measure. */
export function ratios(rows: Medians[], marquee = "marquee", reference = "c-epoll"): Ratio[] {
  const out: Ratio[] = [];
  for (const { scenario, measure, pick } of MEASURES) {
    const ours = rows.find((r) => r.server === marquee && r.scenario === scenario);
    const theirs = rows.find((r) => r.server === reference && r.scenario === scenario);
    if (ours === undefined || theirs === undefined) continue;
    const [a, b] = [pick(ours), pick(theirs)];
    out.push({
      scenario,
      measure,
      reference: b,
      marquee: a,
      ratio: b === 0 ? Number.NaN : a / b,
    });
  }
  return out;
}

/** The ratio table, as markdown; with `floor` (the runtime floor's ratios
 * from the same run), two more columns that show how much of each ratio is
 * the runtime's. */
export function ratioTable(
  list: Ratio[],
  cores: number,
  floor?: Ratio[],
  names: { ours: string; theirs: string } = { ours: "Marquee", theirs: "C epoll" },
): string {
  const { ours, theirs } = names;
  const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 2 });
  const times = (r: Ratio) => Number.isFinite(r.ratio) ? `${r.ratio.toFixed(2)}×` : "-";
  const floorOf = (r: Ratio) =>
    floor?.find((f) => f.scenario === r.scenario && f.measure === r.measure);
  const extra = (r: Ratio) => {
    if (floor === undefined) return "";
    const f = floorOf(r);
    return f === undefined ? " - | - |" : ` ${fmt(f.marquee)} | ${times(f)} |`;
  };
  return [
    `${ours} / ${theirs}, one run, medians, ${cores} cores:`,
    "",
    `| scenario | measure | ${theirs} | ${ours} | ${ours} / ${theirs} |` +
    (floor ? " Deno floor | floor / C |" : ""),
    "| -------- | ------- | ------- | ------- | ----------- |" +
    (floor ? " ---------- | --------- |" : ""),
    ...list.map((r) =>
      `| ${r.scenario} | ${r.measure} | ${fmt(r.reference)} | ${fmt(r.marquee)} | ${times(r)} |` +
      extra(r)
    ),
  ].join("\n");
}

/** The command compare.sh runs for Marquee with `workers` workers, as
 * shipped (history on, in a data directory of its own that each start
 * empties) or with `--history off`: `deno task chat`'s flags, its data
 * directory moved. */
export async function marqueeCommand(workers: number, history = true): Promise<string> {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const task: string = config.tasks.chat;
  const name = marqueeName(workers, history);
  const dir = `\${TMPDIR:-/tmp}/marquee-bench-${name}`;
  const flags = task.split(" ").filter((w) => w.startsWith("--")).map((flag) =>
    flag.startsWith("--allow-write=")
      ? `--allow-write=${dir}`
      : flag.startsWith("--allow-read=")
      ? flag.replace("./marquee-data", dir)
      : flag
  );
  const main = new URL("../main.ts", import.meta.url).pathname;
  const args = `--history ${history ? "on" : "off"} --data-dir ${dir} ` +
    "--flood-rate 0 --max-connections 20000 --port {port}";
  const run = `${Deno.execPath()} run ${flags.join(" ")} ${main} ${args} --workers ${workers}`;
  return `${name}=sh -c 'rm -rf "${dir}" && mkdir -p "${dir}" && exec ${run}'`;
}

/** What compare.sh calls Marquee with `workers` workers: `marquee` (one)
 * or `marquee-wN`, and `-history-off` after it without history. */
export function marqueeName(workers: number, history = true): string {
  return (workers === 1 ? "marquee" : `marquee-w${workers}`) + (history ? "" : "-history-off");
}

/** What compare.sh calls the runtime floor (bench/floor.ts). */
export const FLOOR_NAME = "deno-floor";

/** The command compare.sh runs for the runtime floor: only the permission
 * it needs, and the V8 setting Marquee runs with. */
function floorCommand(): string {
  const floor = new URL("./floor.ts", import.meta.url).pathname;
  return `${FLOOR_NAME}=${Deno.execPath()} run --v8-flags=--max-semi-space-size=2 ` +
    `--allow-net=127.0.0.1 ${floor} {port}`;
}

/** Runs the comparison (Marquee with each count of `workers` beside the C
 * server, and the runtime floor if `floor`); resolves with the exit code. */
export async function compare(
  rounds: number,
  scenarios: string[],
  workers: number[] = [1],
  floor = false,
): Promise<number> {
  const child = new Deno.Command("bash", {
    args: [
      COMPARE_SCRIPT,
      "-r",
      String(rounds),
      "-s",
      scenarios.join(" "),
      "c-epoll",
      ...await Promise.all(workers.map((n) => marqueeCommand(n))),
      await marqueeCommand(1, false),
      ...(floor ? [floorCommand()] : []),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    const part = decoder.decode(chunk, { stream: true });
    text += part;
    await Deno.stderr.write(chunk); // progress and the full table, as compare.sh prints them
  }
  const status = await child.status;
  if (!status.success) {
    console.error(
      `bench: ${COMPARE_SCRIPT} failed (exit ${status.code}); is shared/tools/chatload beside the repository, with cc and python3?`,
    );
    return 2;
  }
  const rows = parseSummary(text);
  // Not for C: the floor announces each join to everyone in a line of its
  // own and reads into 16 KiB, so its C (23 s, 37 KiB a connection in its
  // first run) measures what Marquee's join batches and small buffers
  // avoid, not what the runtime costs.
  const floorRatios = floor
    ? ratios(rows, FLOOR_NAME).filter((r) => r.scenario !== "C")
    : undefined;
  for (const n of workers) {
    console.log(`\n--workers ${n} (history on, as shipped):`);
    console.log(
      ratioTable(ratios(rows, marqueeName(n)), navigator.hardwareConcurrency, floorRatios),
    );
  }
  console.log("\n--workers 1, --history off:");
  console.log(ratioTable(ratios(rows, marqueeName(1, false)), navigator.hardwareConcurrency));
  console.log("");
  const history = ratios(rows, marqueeName(1), marqueeName(1, false));
  const names = { ours: "history on", theirs: "history off" };
  console.log(ratioTable(history, navigator.hardwareConcurrency, undefined, names));
  return 0;
}
