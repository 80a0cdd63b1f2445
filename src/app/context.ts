import type { Client } from "@libsql/client";
import { loadSettings, type Settings } from "../config/settings.ts";
import { type Paths, resolvePaths } from "../config/paths.ts";
import {
  authFileStore,
  keyringWanted,
  osKeyring,
  type SecretStore,
  SYNC_KEY_PROVIDER,
  TokenVault,
  TURSO_PROVIDER,
} from "../config/secret_store.ts";
import { closeDatabase, openWorkingDatabase, type SqliteEngine } from "../db/database.ts";
import { Store, type WallClock } from "../db/store.ts";
import { assertTimeZone, systemTimeZone } from "../domain/dates.ts";
import { JdoError } from "../errors.ts";
import type { Io } from "./io.ts";
import type { Prompter } from "./prompter.ts";
import { type Interrupts, signalInterrupts } from "./interrupt.ts";

export type Env = Record<string, string | undefined>;

/**
 * Everything a command needs, built once in main.ts and passed down. The
 * database is opened lazily so `jdo --help` touches neither disk nor network.
 */
export interface AppContext {
  readonly env: Env;
  readonly paths: Paths;
  readonly io: Io;
  readonly clock: WallClock;
  /** Added to the cloud's clock as read (tests only, see LibsqlCloudOptions). */
  readonly cloudClockOffsetMs: number;
  readonly prompter: Prompter;
  /** Where the cloud token is kept: the OS keyring, else auth.json. */
  readonly tokens: TokenVault;
  /** Where the end-to-end data key (its recovery phrase) is kept: the OS keyring, else auth.json. */
  readonly syncKeys: TokenVault;
  /** The program's own argv prefix to re-run jdo (for background sync). */
  readonly selfCommand: string[];
  /** What Ctrl-C does during cloud work (see interrupt.ts). */
  readonly interrupts: Interrupts;
  timeZone(): string;
  settings(): Promise<Settings>;
  /** Replace the cached settings after they were saved. */
  setSettings(settings: Settings): void;
  store(): Promise<Store>;
  /**
   * The SQLite library store() opens jdo.db with (default libSQL); only
   * before the store is opened. node:sqlite only in processes that never
   * sync (src/cli/fast_commands.ts decides).
   */
  useSqliteEngine(engine: SqliteEngine): void;
  /** The store if it was opened by this process, without opening it. */
  openedStore(): Store | undefined;
  /** Closes the database, emptying its WAL first (see closeDatabase). */
  close(): Promise<void>;
}

export interface ContextOptions {
  env: Env;
  io: Io;
  clock: WallClock;
  /** Default 0: the cloud's clock as it reads. */
  cloudClockOffsetMs?: number;
  prompter: Prompter;
  selfCommand: string[];
  /** The keyring to use; null for none; default: the OS keyring where one can answer. */
  keyring?: SecretStore | null;
  /**
   * The keyring entry of the end-to-end key; default: the OS keyring's when
   * `keyring` is the default, else none (a test's fake keyring holds the token).
   */
  keyKeyring?: SecretStore | null;
  /** Ctrl-C handling; default: SIGINT listeners on this process. */
  interrupts?: Interrupts;
}

export function createContext(options: ContextOptions): AppContext {
  const paths = resolvePaths(options.env);
  let settings: Settings | undefined;
  let store: Store | undefined;
  let client: Client | undefined;
  let zone: string | undefined;
  let engine: SqliteEngine = "libsql";
  const keyring = options.keyring === undefined
    ? keyringWanted(options.env) ? osKeyring(`turso:${paths.home}`) : undefined
    : options.keyring ?? undefined;
  return {
    env: options.env,
    paths,
    io: options.io,
    clock: options.clock,
    cloudClockOffsetMs: options.cloudClockOffsetMs ?? 0,
    prompter: options.prompter,
    tokens: new TokenVault(keyring, authFileStore(paths.auth, TURSO_PROVIDER)),
    syncKeys: new TokenVault(
      options.keyKeyring === undefined
        ? options.keyring === undefined && keyringWanted(options.env)
          ? osKeyring(`e2e:${paths.home}`)
          : undefined
        : options.keyKeyring ?? undefined,
      authFileStore(paths.auth, SYNC_KEY_PROVIDER),
    ),
    selfCommand: options.selfCommand,
    interrupts: options.interrupts ?? signalInterrupts({ io: options.io }),
    timeZone() {
      if (zone) return zone;
      const wanted = options.env.JDO_TIMEZONE || systemTimeZone();
      try {
        zone = assertTimeZone(wanted);
      } catch {
        throw new JdoError(
          "CONFIG_INVALID",
          `JDO_TIMEZONE is not a known time zone: "${wanted}"`,
        );
      }
      return zone;
    },
    async settings() {
      settings ??= await loadSettings(paths.settings);
      return settings;
    },
    setSettings(next) {
      settings = next;
    },
    async store() {
      if (store) return store;
      client = await openWorkingDatabase(paths.database, () => options.clock.now(), engine);
      store = new Store(client, options.clock, paths.database);
      return store;
    },
    useSqliteEngine(wanted) {
      if (client && wanted !== engine) throw new Error("the database is open already");
      engine = wanted;
    },
    openedStore: () => store,
    async close() {
      const open = client;
      client = undefined;
      store = undefined;
      if (open) await closeDatabase(open, paths.database);
    },
  };
}
