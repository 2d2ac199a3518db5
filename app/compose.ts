/**
 * The composition root: what one chat instance is linked to and keeps its
 * state in, built in one place for the process (`run.ts`), each worker of
 * `--workers` (through `run.ts`) and the test harness
 * (`testing/chat_client.ts`), so the tests drive the wiring that ships.
 *
 * A lone server keeps history and accounts in SQLite files in its data
 * directory; a linked one (Redis) keeps both in Redis; a worker is linked
 * to the other workers of its process through the hub, and to other
 * processes through Redis too when asked.
 *
 * @module
 */

import type { Broker, CommunityStore, HistoryStore, Log } from "../chat/ports.ts";
import type { WorkerPorts } from "../cluster/hub.ts";
import { PortBroker, WorkerAndRedisBroker } from "../cluster/port_broker.ts";
import { LocalBroker } from "../cluster/local_broker.ts";
import { RedisBroker } from "../cluster/redis_broker.ts";
import { lockDataDir, makeDataDir } from "../store/data_dir.ts";
import { NumberFile } from "../store/number_file.ts";
import { firstLine, type Gate, StartupError } from "../net/mod.ts";
import { SqliteCommunity } from "../store/sqlite_community.ts";
import { ThreadedHistory } from "../store/history_thread.ts";
import { SqliteHistory } from "../store/sqlite_history.ts";
import { Metrics } from "./metrics.ts";

/** Where a chat's state lives, as the flags say. */
export interface StateConfig {
  /** Link to other processes through this Redis (`ephemeral`: accounts may
   * be kept there although it keeps nothing on disk). */
  redis?: { url: string; ca?: string; ephemeral?: boolean };
  /** Keep room history (in `dataDir`, or in Redis when linked). */
  history?: { dataDir?: string; keep: number; days: number };
  /** Keep accounts and rooms (in `dataDir`, or in Redis when linked). */
  accounts?: { dataDir?: string };
}

/** What a chat instance is wired to. */
export interface Wiring {
  log: Log;
  metrics?: Metrics;
  /** A worker's channels to the hub and the other workers. */
  ports?: WorkerPorts;
}

/** One chat instance's links and stores, and how to close what it opened. */
export interface Composed {
  broker: Broker | undefined;
  history: HistoryStore | undefined;
  community: CommunityStore | undefined;
  /** A worker's admission, shared through the hub (else the chat's own). */
  admission: Gate | undefined;
  /** The worker link, if any (the test harness flushes it). */
  ported: PortBroker | undefined;
  /** Closes the stores this opened (the broker is the chat's to close). */
  close(): Promise<void>;
}

/** Builds the links and stores of one chat instance; throws a one-line
 * `StartupError` when a store cannot be opened. */
export function compose(config: StateConfig, wiring: Wiring): Composed {
  // One process per data directory: a worker's is held by its main thread.
  const instead = config.accounts ? "--accounts off" : "--history off";
  const lock = config.redis || wiring.ports ? undefined : lockDataDir(dataDirOf(config), instead);
  try {
    return composeLocked(config, wiring, lock);
  } catch (error) {
    lock?.close();
    throw error;
  }
}

function composeLocked(
  config: StateConfig,
  wiring: Wiring,
  lock: Deno.FsFile | undefined,
): Composed {
  const { log, metrics } = wiring;
  const ported = wiring.ports && new PortBroker(wiring.ports);
  const redis = config.redis && new RedisBroker({
    serverId: ported?.serverId,
    url: config.redis.url,
    ca: config.redis.ca,
    // Accounts in a Redis that forgets them on restart would let anyone
    // register an owner's name: refused unless the operator says so.
    requirePersistence: config.accounts !== undefined && !config.redis.ephemeral,
    log,
    onDropped: metrics && ((fault) => Metrics.bump(metrics.droppedEvents, fault)),
  });
  const onDropped = metrics && ((lines: number) => (metrics.historyDropped += lines));
  const history = config.history === undefined
    ? undefined
    : redis
    ? redis.history({ keep: config.history.keep, days: config.history.days, log, onDropped })
    : openHistory(config.history, log, onDropped, ported !== undefined);
  let community: SqliteCommunity | undefined;
  try {
    community = config.accounts && !redis ? openCommunity(config.accounts.dataDir) : undefined;
  } catch (error) {
    void history?.close();
    throw error;
  }
  // A lone server with a data directory keeps its user numbers there.
  const dataDir = dataDirOf(config);
  const lone = !ported && !redis && dataDir !== undefined
    ? new LocalBroker(new NumberFile(`${dataDir}/user-numbers`))
    : undefined;
  return {
    broker: ported && redis ? new WorkerAndRedisBroker(ported, redis) : redis ?? ported ?? lone,
    history,
    community: redis && config.accounts ? redis.community() : community,
    admission: ported?.admission({
      log,
      onRefuse: metrics && ((reason) => Metrics.bump(metrics.refused, reason)),
    }),
    ported,
    close: async () => {
      await history?.close();
      await community?.close();
      lock?.close();
    },
  };
}

/** Opens the history store in `dataDir` (creating it), or throws a
 * one-line `StartupError`. A lone server writes on a thread of its own;
 * the workers of `--workers` share the file and write each line at once on
 * their own thread, so that a newcomer on another worker reads it (a line
 * on its way through a writer thread is in one worker's memory only). */
export function openHistory(
  config: { dataDir?: string; keep: number; days: number },
  log: Log,
  onDropped?: (lines: number) => void,
  shared = false,
): HistoryStore & { close(): void | Promise<void> } {
  const dataDir = config.dataDir ?? ".";
  makeDataDir(dataDir, "--history off");
  try {
    const { keep, days } = config;
    const options = { path: `${dataDir}/history.db`, keep, days, log, onDropped, shared };
    return shared ? SqliteHistory.open(options) : ThreadedHistory.open(options);
  } catch (error) {
    throw new StartupError(firstLine(error));
  }
}

/** Opens the account store in `dataDir`, or throws a one-line
 * `StartupError`. */
export function openCommunity(dataDir = "."): SqliteCommunity {
  makeDataDir(dataDir, "--accounts off");
  try {
    return SqliteCommunity.open(`${dataDir}/community.db`);
  } catch (error) {
    throw new StartupError(firstLine(error));
  }
}

/** The data directory a lone server keeps files in, if it keeps any. */
function dataDirOf(config: StateConfig): string | undefined {
  return config.accounts?.dataDir ?? config.history?.dataDir;
}

export { lockDataDir } from "../store/data_dir.ts";
