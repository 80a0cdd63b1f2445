import type { Row } from "../db/schema.ts";

/** What the cloud says about itself before any sync step. */
export interface CloudInfo {
  /** 0 when the cloud has no jdo schema yet. */
  schemaVersion: number;
  /** Random id created with the cloud schema; null before it exists. */
  cloudId: string | null;
  /** The end-to-end check record (JSON) when the cloud is encrypted, else null. */
  encryption?: string | null;
}

/** Position in a table's change feed: the last (_seq, id) read. */
export interface Cursor {
  seq: number;
  id: string;
}

/** What one push did: per row whether it was applied, and the cloud's change sequence after it. */
export interface PushResult {
  applied: boolean[];
  seq: number;
}

/** One row to upsert into a cloud table. */
export interface PushRow {
  table: string;
  row: Row;
}

/** One row's id and version (what `sync repair` compares). */
export interface RowVersion {
  id: string;
  version: string;
  /** The row's per-field versions (`_fv` JSON). */
  fields: string | null;
}

/**
 * Rows per table up to which a pull reads the changes straight from the
 * cloud in one request instead of through the embedded replica. The replica
 * costs a worker start and a frame download (~50 ms however small the
 * change); 500 rows in one HTTP answer cost about as much to read, and above
 * that the replica's frames and set-based merge are cheaper — and keep the
 * replica current for the big pulls (a first download, a long time offline).
 */
export const QUICK_PULL_LIMIT = 500;

/**
 * Rows of one table already encoded by SQLite as a JSON array: by default
 * one array of values per row in `columns` order; "sealable" when the store
 * asked for its own row encoding (CloudStore.encodedRowSql).
 */
export interface EncodedChunk {
  table: string;
  columns: string[];
  rowsJson: string;
  form?: "sealable";
}

/** What a sync's pull will ask quickChanges() for. */
export interface QuickPrefetch {
  tables: string[];
  after: number;
  /** Read the tables' sealed rows (an encrypted cloud) instead of their plain ones. */
  sealed?: boolean;
}

/** A small pull read straight from the cloud: its change sequence and each table's changed rows. */
export interface QuickChanges {
  seq: number;
  /** Table → rows with _seq above the watermark, in (_seq, id) order. */
  rows: Map<string, Row[]>;
}

/**
 * The cloud as the sync engine sees it. The libSQL implementation talks to
 * sqld/Turso; the memory implementation makes property tests fast.
 */
export interface CloudStore {
  /**
   * Reachability, credentials and schema version; throws a JdoError
   * otherwise. `prefetch` lets a store read ahead what the sync's
   * quickChanges() will ask, in the same request.
   */
  info(prefetch?: QuickPrefetch): Promise<CloudInfo>;
  /** Creates or upgrades the cloud schema to this binary's version. */
  migrate(): Promise<void>;
  /**
   * Tables of the database that are not jdo's (another app's data): a
   * database holding them is not one jdo created. Optional (memory stores
   * hold only jdo's tables).
   */
  foreignTables?(): Promise<string[]>;
  /** Throws SYNC_READ_ONLY when the credentials cannot write. */
  assertWritable(): Promise<void>;
  /**
   * Makes the latest cloud state readable; returns the highest change
   * sequence. `mergeFrom`: the caller will read the rows changed after this
   * sequence through replicaFile() (a pull passes its watermark); a store
   * that must prepare that file (the encrypting layer opens the sealed rows
   * into it) prepares only those.
   */
  snapshot(mergeFrom?: number): Promise<number>;
  /**
   * Rows of `table` after the cursor and with _seq <= upTo, ordered by
   * (_seq, id), at most `limit`. Many rows share one _seq (one per push), so
   * the cursor is the (_seq, id) of the last row already read.
   */
  changes(table: string, after: Cursor, upTo: number, limit: number): Promise<Row[]>;
  /**
   * Upserts rows in one atomic step, each applied only when its version is
   * greater than the cloud's and the cloud row was not changed by another
   * device after `watermark`. The whole push gets one new _seq.
   */
  push(rows: PushRow[], watermark: number, deviceId: string): Promise<PushResult>;
  /**
   * The same as push() for one table's rows that the working database
   * encoded itself (no row objects in between, which cost ~20 µs a row in
   * @libsql/client); answers the ids applied.
   */
  pushEncoded?(
    chunk: EncodedChunk,
    watermark: number,
    deviceId: string,
  ): Promise<{ applied: Set<string>; seq: number }>;
  /**
   * pushEncoded() in two steps: the local work (an encrypted cloud seals the
   * rows) now, the request when the answer is called. The push reads and
   * prepares the next chunk while the cloud applies this one.
   */
  preparePushEncoded?(
    chunk: EncodedChunk,
    watermark: number,
    deviceId: string,
  ): () => Promise<{ applied: Set<string>; seq: number }>;
  /**
   * The SQL of one row (alias `c`, the working table's `columns`) as this
   * store wants pushEncoded()'s chunks encoded, when not the default JSON
   * array of every column: an encrypted cloud asks for the payload it seals
   * as one text. Chunks so encoded are marked form "sealable".
   */
  encodedRowSql?(table: string, columns: string[]): string | undefined;
  /**
   * Ids and versions of `table` with id > afterId, ordered by id, at most
   * `limit`: the cloud as of the last snapshot() (keyset pages for `sync repair`).
   */
  versions(table: string, afterId: string, limit: number): Promise<RowVersion[]>;
  /**
   * The rows of `tables` changed after `after`, read in one request, or
   * null when some table has more than the store's limit (QUICK_PULL_LIMIT
   * by default): the engine then pulls through snapshot().
   */
  quickChanges?(tables: string[], after: number): Promise<QuickChanges | null>;
  /**
   * A local SQLite file holding the cloud's tables as of the last
   * snapshot(), when the store has one (the embedded replica): the engine
   * then merges with set-based SQL instead of page by page.
   */
  replicaFile?(): string | undefined;
  /**
   * Whether openedRows() serves: an encrypted cloud with a replica, whose
   * rows a first download into empty tables takes straight from it, while
   * the replica's sync still runs.
   */
  opensRows?(): boolean;
  /**
   * The rows of `table` after the cursor, opened, as JSON pages of
   * [id, version, _fv, payload object] (a first download inserts them with
   * json_each, see openedInsertSql), each with the cursor of its last row. With
   * `upTo`, the rows in (after, upTo] as of the last snapshot(); without,
   * those the replica holds so far while a snapshot() is under way: every
   * row up to some sequence (a row may come again later, changed, at a
   * higher one).
   */
  openedRows?(
    table: string,
    after: Cursor,
    upTo?: number,
  ): AsyncIterable<OpenedPage>;
  /** How many rows of `table` the last snapshot() holds up to `upTo` (with openedRows()). */
  openedRowCount?(table: string, upTo: number): Promise<number>;
  /**
   * Whether the last snapshot() shows the cloud encrypted as it was when
   * this sync began (info()): off still off, the same key still the key.
   * Optional; a store that does not know answers true.
   */
  modeKept?(): Promise<boolean>;
  /**
   * Ctrl-C: stops the local cache's work for good (the replica's worker, a
   * fill of its files) and resolves once nothing of this store writes in
   * cloud/ any more, so the caller may remove it. Later calls that would
   * write there fail with CANCELLED.
   */
  abort?(): Promise<void>;
  close(): void | Promise<void>;
}

/** A page of opened rows (openedRows()) as JSON, and where the next page starts. */
export interface OpenedPage {
  rowsJson: string;
  last: Cursor;
}

/** A sealed row as a page of the replica holds it: id, version, _fv, data, _seq, _by. */
export type SealedPageRow = [
  id: string,
  version: string,
  fv: string | null,
  data: string,
  seq: number,
  by: string | null,
];

/** A chunk of one table's rows sealed for the cloud, as the sealed upsert takes it. */
export interface SealedChunk {
  /** [[id, version, _fv, data], …] */
  rowsJson: string;
  /** [[id, version, _fv], …]: what the check of held rows needs. */
  keysJson: string;
}

/**
 * A row of an encrypted cloud as the store under the encrypting layer moves
 * it: id, version and field versions in clear, every other column in `data`
 * (one envelope); `_seq` and `_by` when read back.
 */
export type SealedCloudRow = Row;

/**
 * What an encrypting store needs of the store it wraps (LibsqlCloud, the
 * memory cloud): the same operations on sealed rows, and the switch that
 * makes a cloud encrypted.
 */
export interface SealedRowStore extends CloudStore {
  /** info(), with `prefetch.sealed` reading the sealed rows ahead. */
  info(prefetch?: QuickPrefetch): Promise<CloudInfo>;
  sealedChanges(table: string, after: Cursor, upTo: number, limit: number): Promise<Row[]>;
  /** sealedChanges() as tuples, without row objects (optional: the fill of an opened copy). */
  sealedTuples?(
    table: string,
    after: Cursor,
    upTo: number,
    limit: number,
  ): Promise<SealedPageRow[]>;
  /**
   * sealedTuples() of what the local copy holds so far while a snapshot()
   * is under way (every row up to some sequence, none after); optional: a
   * first download opens rows while the replica's sync still runs.
   */
  sealedTuplesSoFar?(table: string, after: Cursor, limit: number): Promise<SealedPageRow[]>;
  /** How many sealed rows of `table` the last snapshot() holds up to `upTo`. */
  sealedCount?(table: string, upTo: number): Promise<number>;
  /** A `_jdo_meta` value as the last snapshot() holds it (null: none; undefined: no snapshot). */
  replicaMeta?(key: string): Promise<string | null | undefined>;
  sealedQuickChanges(tables: string[], after: number): Promise<QuickChanges | null>;
  /** Rows are { id, version, _fv, data }; the same guard as push() plus "dominates the cloud's row". */
  pushSealed(rows: PushRow[], watermark: number, deviceId: string): Promise<PushResult>;
  /** One table's rows sealed as JSON, pushed like pushSealed() (optional); answers the ids applied. */
  pushSealedJson?(
    table: string,
    sealed: SealedChunk,
    watermark: number,
    deviceId: string,
  ): Promise<{ applied: Set<string>; seq: number }>;
  sealedVersions(table: string, afterId: string, limit: number): Promise<RowVersion[]>;
  /** Whether any plain table holds a row (setup --encrypt wants an empty cloud). */
  hasPlainRows(): Promise<boolean>;
  /**
   * Creates the sealed table and the triggers refusing plain rows and stores
   * `record` unless the cloud has one already; answers the record in place.
   */
  enableEncryption(record: string): Promise<string>;
}
