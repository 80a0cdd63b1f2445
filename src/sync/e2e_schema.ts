/**
 * What an end-to-end encrypted cloud holds besides jdo's tables: one table of
 * sealed rows for every synced kind, and triggers that refuse plain rows in
 * the plain tables once the cloud is encrypted (a device without the key, or
 * an older jdo, then fails its push instead of uploading plain text).
 *
 * Why one table of sealed rows and not the synced tables themselves: their
 * NOT NULL, CHECK and FOREIGN KEY constraints are on columns that are now
 * inside the ciphertext. Why not one sealed table per kind: every kind holds
 * the same five columns, so one table (keyed by kind and id, indexed by kind
 * and change sequence) is one statement to create and one query shape to
 * read, and adding a kind later costs nothing in the cloud.
 */
import { SYNCED_TABLES } from "../db/migrations.ts";

export const SEALED_TABLE = "_jdo_rows";

/** The _jdo_meta key holding the check record (present: the cloud is encrypted). */
export const E2E_META_KEY = "e2e";

export const REFUSED_PLAIN = "jdo: end-to-end encrypted cloud, plain rows refused";

export const REFUSED_SEALED = "jdo: encryption was turned off, sealed rows refused";

export const REFUSED_OTHER_KEY = "jdo: rows sealed under another key refused";

/**
 * Sealed rows under a key other than the check record's are refused: a
 * device that read the record just before another rotated the key would
 * otherwise leave rows that no device can open. (Part of E2E_SCHEMA; `sync
 * key rotate` creates them too, for clouds encrypted before they existed.)
 */
export const KEY_GUARD: string[] = (["INSERT", "UPDATE"] as const).map((op) =>
  `CREATE TRIGGER IF NOT EXISTS _jdo_e2e_key_${op.toLowerCase()}
BEFORE ${op} ON ${SEALED_TABLE}
WHEN EXISTS (SELECT 1 FROM _jdo_meta WHERE key = '${E2E_META_KEY}'
  AND json_extract(value, '$.key_id') IS NOT substr(NEW.data, 4, 16))
BEGIN SELECT RAISE(ABORT, '${REFUSED_OTHER_KEY}'); END`
);

/** Sealed rows refused once encryption is off (a device still sealing retries in the clear). */
const SEALED_REFUSAL: string[] = (["INSERT", "UPDATE"] as const).map((op) =>
  `CREATE TRIGGER IF NOT EXISTS _jdo_e2e_off_${op.toLowerCase()}
BEFORE ${op} ON _jdo_rows
WHEN NOT EXISTS (SELECT 1 FROM _jdo_meta WHERE key = 'e2e')
BEGIN SELECT RAISE(ABORT, '${REFUSED_SEALED}'); END`
);

/**
 * `sync encrypt off`, one batch: the check record goes, plain rows are
 * accepted again, sealed ones refused (they are deleted once every row is
 * back in the clear).
 */
export const E2E_OFF: string[] = [
  ...SEALED_REFUSAL,
  ...SYNCED_TABLES.flatMap((table) =>
    ["insert", "update"].map((op) => `DROP TRIGGER IF EXISTS _jdo_e2e_${op}_${table}`)
  ),
  "DELETE FROM _jdo_meta WHERE key = 'e2e'",
];

export const E2E_SCHEMA: string[] = [
  "DROP TRIGGER IF EXISTS _jdo_e2e_off_insert",
  "DROP TRIGGER IF EXISTS _jdo_e2e_off_update",
  `CREATE TABLE IF NOT EXISTS ${SEALED_TABLE} (
  tbl TEXT NOT NULL,
  id TEXT NOT NULL,
  version TEXT NOT NULL,
  _fv TEXT,
  data TEXT NOT NULL,
  _seq INTEGER NOT NULL,
  _by TEXT,
  PRIMARY KEY (tbl, id)
)`,
  `CREATE INDEX IF NOT EXISTS ${SEALED_TABLE}_seq ON ${SEALED_TABLE} (tbl, _seq, id)`,
  ...KEY_GUARD,
  ...SYNCED_TABLES.flatMap((table) =>
    (["INSERT", "UPDATE"] as const).map((op) =>
      `CREATE TRIGGER IF NOT EXISTS _jdo_e2e_${op.toLowerCase()}_${table}
BEFORE ${op} ON ${table}
WHEN EXISTS (SELECT 1 FROM _jdo_meta WHERE key = '${E2E_META_KEY}')
BEGIN SELECT RAISE(ABORT, '${REFUSED_PLAIN}'); END`
    )
  ),
];

/**
 * Upsert of one table's sealed rows (arguments: table, device, rows JSON of
 * [id, version, _fv, data], watermark, device). The cloud cannot merge what
 * it cannot read: a row replaces the cloud's only when it is newer or equal
 * in every field group and newer in one (a device that merged the cloud's
 * row holds such a row), and when the device has seen the cloud row's last
 * change or made it. Anything else is refused: the device pulls, merges and
 * pushes again. Nothing is returned: which rows the cloud took is asked
 * next (SEALED_HELD_SQL), by key, which also counts replays of a lost answer.
 */
export function sealedUpsertSql(): string {
  const seq = "(SELECT CAST(value AS INTEGER) FROM _jdo_meta WHERE key = 'seq')";
  const group = (of: string) => `coalesce(json_extract(${of}._fv, '$."' || c.key || '"'), '')`;
  const t = SEALED_TABLE;
  return `INSERT INTO ${t} (tbl, id, version, _fv, data, _seq, _by)
SELECT ?, json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
  json_extract(value, '$[3]'), ${seq}, ?
FROM json_each(?) WHERE true
ON CONFLICT (tbl, id) DO UPDATE SET version = excluded.version, _fv = excluded._fv,
  data = excluded.data, _seq = excluded._seq, _by = excluded._by
WHERE (CASE WHEN excluded._fv IS NULL OR ${t}._fv IS NULL THEN excluded.version > ${t}.version
  ELSE NOT EXISTS (SELECT 1 FROM json_each(${t}._fv) c WHERE c.value > ${group("excluded")})
   AND EXISTS (SELECT 1 FROM json_each(excluded._fv) c WHERE c.value > ${group(t)}) END)
  AND (${t}._seq <= ? OR ${t}._by = ?)`;
}

/**
 * Which pushed rows the cloud now holds at exactly their version and field
 * versions (arguments: rows JSON, table): those just written, and replays of
 * a push whose answer was lost. The outbox lets them go; equal versions are
 * equal rows whatever the nonce. (CROSS JOIN: the pushed rows drive the
 * loop, each one a primary-key lookup, never a scan of the table per row.)
 */
export const SEALED_HELD_SQL = `SELECT r.id FROM json_each(?) j CROSS JOIN ${SEALED_TABLE} r
WHERE r.tbl = ? AND r.id = json_extract(j.value, '$[0]')
  AND r.version = json_extract(j.value, '$[1]') AND r._fv IS json_extract(j.value, '$[2]')`;
