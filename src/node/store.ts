/**
 * The storage node's durable store: one SQLite database (`node:sqlite`) in the node's data
 * directory holding
 *
 *  - `blob_objects`: the live Blob objects seen in chain events (registration, certification, end
 *    epoch, deletable) — the node's view of which blob IDs are registered and certified;
 *  - `invalid_blobs`: blob IDs invalidated on chain (their data is dropped and never accepted again);
 *  - `metadata` and `slivers`: verified BCS bytes per blob and per (blob, pair, axis);
 *  - `shards`: the shards this node holds per epoch;
 *  - `kv`: the event cursor and the current epoch.
 *
 * Durability: WAL journal with `synchronous=FULL`, so a commit is on disk (fsynced WAL) before the
 * call returns — an upload acknowledged after `putSliver` survives kill -9 and power loss, and a
 * crash mid-transaction rolls back to the previous commit (nothing half-written). Chain events are
 * applied in one transaction together with the cursor that follows them, so after a crash the node
 * resumes exactly after the last applied event: no event is applied twice or lost.
 *
 * All calls are synchronous (node:sqlite's DatabaseSync) and short; the caller (one process) owns
 * the database. Byte arrays returned are fresh copies owned by the caller.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { TuskInputError } from '../errors.ts';
import type { EventId, ObjectId } from '../chain/types.ts';
import type { SliverAxis } from '../codec/sliver.ts';
import { readU16, readUleb } from '../codec/bcs.ts';

/**
 * Whether `e` says the storage is full: SQLite's SQLITE_FULL (errcode 13: the disk, or the cap of
 * {@link NodeStore.limitSize}) or a file system's ENOSPC/EDQUOT. Such a write rolled back whole.
 */
export function isStorageFull(e: unknown): boolean {
  const err = e as { errcode?: unknown; code?: unknown } | null;
  return (
    err !== null &&
    typeof err === 'object' &&
    ((err.errcode !== undefined && (Number(err.errcode) & 0xff) === 13) || err.code === 'ENOSPC' || err.code === 'EDQUOT')
  );
}

/** Blob-level status (the `GET /v1/blobs/{id}/status` data, walrus-protocol.md §5 #12). */
export type BlobStatus =
  | 'nonexistent'
  | { invalid: { event: EventIdJson } }
  | {
      permanent: {
        endEpoch: number;
        isCertified: boolean;
        statusEvent: EventIdJson;
        deletableCounts: DeletableCounts;
        initialCertifiedEpoch: number | null;
      };
    }
  | { deletable: { initialCertifiedEpoch: number | null; deletableCounts: DeletableCounts } };

/** Walrus's JSON of a Sui event ID: `eventSeq` is a decimal string. */
export interface EventIdJson {
  txDigest: string;
  eventSeq: string;
}

/** Counts of live deletable Blob objects of a blob ID (snake_case keys, as Walrus serializes them). */
export interface DeletableCounts {
  count_deletable_total: number;
  count_deletable_certified: number;
}

/** A live Blob object as the node knows it from events. */
export interface BlobObjectRecord {
  readonly objectId: ObjectId;
  readonly deletable: boolean;
  readonly endEpoch: number;
  readonly certifiedEpoch: number | null;
  readonly statusEvent: EventId;
}

/** Result of a put: newly stored, or the same bytes were already there. */
export type PutResult = 'stored' | 'alreadyStored';

const AXIS_CODE: Record<SliverAxis, number> = { primary: 0, secondary: 1 };

/**
 * The slivers table: a rowid table with the key in a UNIQUE index, so the ~0.4–1 MB BCS rows sit
 * in the table's B-tree and a key lookup reads only the small index. Until 2026-12 it was a
 * WITHOUT ROWID table keyed by (blob_id, pair, axis); there each step of a key search read the
 * whole row from its overflow pages (SQLite compares index keys on the full record). Measured with
 * node:sqlite, 2000 rows of 600 KB: inserts 7.2 → 3.0 s of CPU, lookups 2.7 → 0.38 s.
 * {@link NodeStore.open} migrates an old table.
 */
const SLIVERS_TABLE = (name: string) => `CREATE TABLE IF NOT EXISTS ${name} (
  blob_id BLOB NOT NULL,
  pair INTEGER NOT NULL,
  axis INTEGER NOT NULL,
  bcs BLOB NOT NULL,
  UNIQUE (blob_id, pair, axis)
) STRICT`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS blob_objects (
  object_id TEXT PRIMARY KEY,
  blob_id BLOB NOT NULL,
  deletable INTEGER NOT NULL,
  end_epoch INTEGER NOT NULL,
  certified_epoch INTEGER,
  event_tx TEXT NOT NULL,
  event_seq INTEGER NOT NULL
) STRICT;
CREATE INDEX IF NOT EXISTS blob_objects_by_blob ON blob_objects(blob_id);
CREATE INDEX IF NOT EXISTS blob_objects_by_end ON blob_objects(end_epoch);
CREATE TABLE IF NOT EXISTS invalid_blobs (blob_id BLOB PRIMARY KEY, event_tx TEXT NOT NULL, event_seq INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS metadata (blob_id BLOB PRIMARY KEY, bcs BLOB NOT NULL) STRICT;
${SLIVERS_TABLE('slivers')};
CREATE TABLE IF NOT EXISTS shards (epoch INTEGER NOT NULL, shard INTEGER NOT NULL, PRIMARY KEY (epoch, shard)) STRICT, WITHOUT ROWID;
`;

/**
 * Rewrites a slivers table of the old layout (WITHOUT ROWID, see {@link SLIVERS_TABLE}) into the
 * current one, in one transaction: a crash leaves the old table whole, and the next open migrates
 * again. A no-op for a current table.
 */
function migrateSliversTable(db: DatabaseSync): void {
  const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'slivers'").get() as { sql: string } | undefined;
  if (!row || !/WITHOUT\s+ROWID/i.test(row.sql)) return;
  db.exec('BEGIN IMMEDIATE');
  try {
    db.exec(`DROP TABLE IF EXISTS slivers_migrating; ${SLIVERS_TABLE('slivers_migrating')};
      INSERT INTO slivers_migrating (blob_id, pair, axis, bcs) SELECT blob_id, pair, axis, bcs FROM slivers;
      DROP TABLE slivers;
      ALTER TABLE slivers_migrating RENAME TO slivers;
      COMMIT`);
  } catch (e) {
    db.exec('ROLLBACK');
    throw e;
  }
}

/** The node's database. Open with {@link NodeStore.open}; close with {@link NodeStore.close}. */
export class NodeStore {
  readonly path: string;
  private readonly db: DatabaseSync;
  private readonly stmts: Record<string, StatementSync>;
  private inTransaction = false;

  private constructor(path: string, db: DatabaseSync) {
    this.path = path;
    this.db = db;
    const s = (sql: string) => db.prepare(sql);
    this.stmts = {
      kvGet: s('SELECT value FROM kv WHERE key = ?'),
      kvSet: s('INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      objInsert: s(
        `INSERT INTO blob_objects (object_id, blob_id, deletable, end_epoch, certified_epoch, event_tx, event_seq)
         VALUES (?, ?, ?, ?, NULL, ?, ?) ON CONFLICT(object_id) DO NOTHING`,
      ),
      objCertify: s(
        `UPDATE blob_objects SET certified_epoch = COALESCE(certified_epoch, ?), end_epoch = ?, event_tx = ?, event_seq = ? WHERE object_id = ?`,
      ),
      objDelete: s('DELETE FROM blob_objects WHERE object_id = ? RETURNING blob_id'),
      objByBlob: s('SELECT object_id, deletable, end_epoch, certified_epoch, event_tx, event_seq FROM blob_objects WHERE blob_id = ?'),
      objExpire: s('DELETE FROM blob_objects WHERE end_epoch <= ? RETURNING blob_id'),
      objCountLive: s('SELECT COUNT(*) AS c FROM blob_objects WHERE blob_id = ? AND end_epoch > ?'),
      invalidInsert: s('INSERT INTO invalid_blobs (blob_id, event_tx, event_seq) VALUES (?, ?, ?) ON CONFLICT(blob_id) DO NOTHING'),
      invalidGet: s('SELECT event_tx, event_seq FROM invalid_blobs WHERE blob_id = ?'),
      metaGet: s('SELECT bcs FROM metadata WHERE blob_id = ?'),
      metaHas: s('SELECT 1 AS one FROM metadata WHERE blob_id = ?'),
      metaInsert: s('INSERT INTO metadata (blob_id, bcs) VALUES (?, ?) ON CONFLICT(blob_id) DO NOTHING'),
      metaDelete: s('DELETE FROM metadata WHERE blob_id = ?'),
      sliverGet: s('SELECT bcs FROM slivers WHERE blob_id = ? AND pair = ? AND axis = ?'),
      // SQLite's substr is 1-based on BLOBs; the head holds the ULEB data length, the tail the
      // symbol size and index (SliverData BCS: uleb(len) ‖ data ‖ u16 symbolSize ‖ u16 index).
      sliverFrame: s(
        'SELECT substr(bcs, 1, 5) AS head, substr(bcs, -4, 4) AS tail FROM slivers WHERE blob_id = ? AND pair = ? AND axis = ?',
      ),
      sliverBytes: s('SELECT substr(bcs, ?, ?) AS part FROM slivers WHERE blob_id = ? AND pair = ? AND axis = ?'),
      sliverHas: s('SELECT 1 AS one FROM slivers WHERE blob_id = ? AND pair = ? AND axis = ?'),
      sliverInsert: s('INSERT INTO slivers (blob_id, pair, axis, bcs) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING'),
      sliverKeys: s('SELECT pair, axis FROM slivers WHERE blob_id = ?'),
      sliverDeleteBlob: s('DELETE FROM slivers WHERE blob_id = ?'),
      sliverDelete: s('DELETE FROM slivers WHERE blob_id = ? AND pair = ? AND axis = ?'),
      sliverKeysAfter: s(
        'SELECT blob_id, pair, axis FROM slivers WHERE (blob_id, pair, axis) > (?, ?, ?) ORDER BY blob_id, pair, axis LIMIT ?',
      ),
      shardInsert: s('INSERT INTO shards (epoch, shard) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      shardDeleteEpoch: s('DELETE FROM shards WHERE epoch = ?'),
      shardsOf: s('SELECT shard FROM shards WHERE epoch = ? ORDER BY shard'),
      certifiedBlobs: s(
        `SELECT DISTINCT blob_id FROM blob_objects WHERE end_epoch > ? AND certified_epoch IS NOT NULL
         AND blob_id NOT IN (SELECT blob_id FROM invalid_blobs)`,
      ),
      countSlivers: s('SELECT COUNT(*) AS c FROM slivers'),
      countMeta: s('SELECT COUNT(*) AS c FROM metadata'),
    };
  }

  /**
   * Opens (creating if needed) the database at `path`.
   * @throws TuskInputError when the file is not a database this code can use.
   */
  static open(path: string): NodeStore {
    if (typeof path !== 'string' || path.length === 0) throw new TuskInputError('node store: path must be a non-empty string');
    const db = new DatabaseSync(path);
    try {
      // One node process per data directory: the first connection keeps the database locked for
      // as long as it is open (the OS drops the lock if the process dies, so kill -9 is fine).
      db.exec('PRAGMA locking_mode = EXCLUSIVE');
      db.exec('PRAGMA journal_mode = WAL');
      // FULL: every commit fsyncs the WAL, so an acknowledged write survives a crash.
      db.exec('PRAGMA synchronous = FULL');
      db.exec('PRAGMA foreign_keys = ON');
      db.exec(SCHEMA);
      migrateSliversTable(db);
      db.exec('BEGIN IMMEDIATE; COMMIT'); // take the write lock now, not at the first upload
    } catch (e) {
      db.close();
      const busy = /locked|busy/i.test((e as Error).message);
      throw new TuskInputError(
        busy
          ? `node store ${path} is in use by another process (one node per data directory)`
          : `node store ${path}: ${(e as Error).message}`,
      );
    }
    return new NodeStore(path, db);
  }

  /**
   * Caps the database file at about `maxBytes` (SQLite's `max_page_count`; never below its current
   * size), or lifts the cap with null. A write beyond it fails exactly as on a full disk
   * (SQLITE_FULL, see {@link isStorageFull}) and rolls back: an operator's quota, and how the
   * full-disk tests fill a node without root.
   */
  limitSize(maxBytes: number | null): void {
    const pageSize = Number((this.db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size);
    const pages = maxBytes === null ? 4_294_967_294 : Math.max(1, Math.floor(maxBytes / pageSize));
    this.db.exec(`PRAGMA max_page_count = ${pages}`);
  }

  /** Size of the database's pages in use, in bytes (the file may be larger: free pages, WAL). */
  usedBytes(): number {
    const one = (sql: string) => Number(Object.values(this.db.prepare(sql).get() as Record<string, number>)[0]);
    return (one('PRAGMA page_count') - one('PRAGMA freelist_count')) * one('PRAGMA page_size');
  }

  /** Closes the database (idempotent). */
  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /**
   * Runs `work` in one IMMEDIATE transaction: either all of its writes commit (durably) or none.
   * Nested calls join the outer transaction.
   */
  transaction<T>(work: () => T): T {
    if (this.inTransaction) return work();
    this.db.exec('BEGIN IMMEDIATE');
    this.inTransaction = true;
    try {
      const result = work();
      this.db.exec('COMMIT');
      return result;
    } catch (e) {
      // A failed COMMIT (disk full, I/O error) may already have ended the transaction, so the
      // ROLLBACK can fail too; the caller must see the original error, not "no transaction is active".
      try {
        if (this.db.isTransaction) this.db.exec('ROLLBACK');
      } catch {
        /* the original error is the one that matters */
      }
      throw e;
    } finally {
      this.inTransaction = false;
    }
  }

  // ---- key/value ------------------------------------------------------------------------------

  private kvGet(key: string): string | null {
    const row = this.stmts.kvGet.get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  private kvSet(key: string, value: string): void {
    this.stmts.kvSet.run(key, value);
  }

  /** The persisted event cursor (null before the first event was applied). */
  eventCursor(): string | null {
    return this.kvGet('event_cursor');
  }

  /** Sets the event cursor (call inside the transaction that applies the events before it). */
  setEventCursor(cursor: string): void {
    this.kvSet('event_cursor', cursor);
  }

  /** Number of events applied so far (for health reporting). */
  eventsApplied(): number {
    return Number(this.kvGet('events_applied') ?? '0');
  }

  /** Adds `count` to the applied-events counter. */
  countEvents(count: number): void {
    this.kvSet('events_applied', String(this.eventsApplied() + count));
  }

  /** The current epoch as last learned from the chain (null if never learned). */
  currentEpoch(): number | null {
    const v = this.kvGet('epoch');
    return v === null ? null : Number(v);
  }

  /** Records the current epoch. */
  setCurrentEpoch(epoch: number): void {
    assertU32(epoch, 'epoch');
    this.kvSet('epoch', String(epoch));
  }

  /** A small string value of the node's own (node ID, etc.). */
  getValue(key: string): string | null {
    return this.kvGet(`node:${key}`);
  }

  /** Sets a small string value (durably). */
  setValue(key: string, value: string): void {
    this.kvSet(`node:${key}`, value);
  }

  // ---- shards ---------------------------------------------------------------------------------

  /** Records the shards this node holds in `epoch` (replacing any previous record). */
  setShards(epoch: number, shards: readonly number[]): void {
    assertU32(epoch, 'epoch');
    this.transaction(() => {
      this.stmts.shardDeleteEpoch.run(epoch);
      for (const s of shards) this.stmts.shardInsert.run(epoch, s);
      this.kvSet(`shards_known:${epoch}`, '1');
    });
  }

  /** The shards held in `epoch` (sorted), or null when the node has not recorded that epoch. */
  shards(epoch: number): number[] | null {
    if (this.stmts.kvGet.get(`shards_known:${epoch}`) === undefined) return null;
    return (this.stmts.shardsOf.all(epoch) as { shard: number }[]).map((r) => r.shard);
  }

  // ---- blob registrations (from events) -------------------------------------------------------

  /** A `BlobRegistered` event: a new live Blob object. */
  registerObject(blobId: Uint8Array, objectId: ObjectId, deletable: boolean, endEpoch: number, event: EventId): void {
    this.stmts.objInsert.run(objectId, blobId, deletable ? 1 : 0, endEpoch, event.txDigest, event.eventSeq);
  }

  /** A `BlobCertified` event (also extensions): certified epoch (kept from the first), new end epoch. */
  certifyObject(blobId: Uint8Array, objectId: ObjectId, deletable: boolean, epoch: number, endEpoch: number, event: EventId): void {
    // An object first seen at certification (registered before this node followed the chain).
    this.stmts.objInsert.run(objectId, blobId, deletable ? 1 : 0, endEpoch, event.txDigest, event.eventSeq);
    this.stmts.objCertify.run(epoch, endEpoch, event.txDigest, event.eventSeq, objectId);
  }

  /** A `BlobDeleted` event. Returns whether the blob's data was garbage-collected. */
  deleteObject(objectId: ObjectId, currentEpoch: number): boolean {
    const row = this.stmts.objDelete.get(objectId) as { blob_id: Uint8Array } | undefined;
    if (!row) return false;
    return this.collectIfUnregistered(row.blob_id, currentEpoch);
  }

  /** An `InvalidBlobID` event: marks the blob invalid and drops its data. */
  invalidate(blobId: Uint8Array, event: EventId): void {
    this.transaction(() => {
      this.stmts.invalidInsert.run(blobId, event.txDigest, event.eventSeq);
      this.dropData(blobId);
    });
  }

  /**
   * Epoch `epoch` began: Blob objects whose end epoch has passed expire, and blobs left without a
   * live object lose their data. Returns the number of blobs whose data was collected.
   */
  expire(epoch: number): number {
    const rows = this.stmts.objExpire.all(epoch) as { blob_id: Uint8Array }[];
    let collected = 0;
    const seen = new Set<string>();
    for (const r of rows) {
      const key = Buffer.from(r.blob_id).toString('hex');
      if (seen.has(key)) continue;
      seen.add(key);
      if (this.collectIfUnregistered(r.blob_id, epoch)) collected++;
    }
    return collected;
  }

  private collectIfUnregistered(blobId: Uint8Array, epoch: number): boolean {
    const { c } = this.stmts.objCountLive.get(blobId, epoch) as { c: number };
    if (c > 0) return false;
    return this.dropData(blobId);
  }

  private dropData(blobId: Uint8Array): boolean {
    const m = this.stmts.metaDelete.run(blobId);
    const s = this.stmts.sliverDeleteBlob.run(blobId);
    return Number(m.changes) + Number(s.changes) > 0;
  }

  /** Blob IDs with a live certified Blob object in `epoch` (not invalid): the data the committee keeps. */
  certifiedBlobs(epoch: number): Uint8Array[] {
    return (this.stmts.certifiedBlobs.all(epoch) as { blob_id: Uint8Array }[]).map((r) => r.blob_id);
  }

  /** The live Blob objects of `blobId` (end epoch after `epoch`). */
  liveObjects(blobId: Uint8Array, epoch: number): BlobObjectRecord[] {
    return (
      this.stmts.objByBlob.all(blobId) as {
        object_id: string;
        deletable: number;
        end_epoch: number;
        certified_epoch: number | null;
        event_tx: string;
        event_seq: number;
      }[]
    )
      .filter((r) => r.end_epoch > epoch)
      .map((r) => ({
        objectId: r.object_id,
        deletable: r.deletable === 1,
        endEpoch: r.end_epoch,
        certifiedEpoch: r.certified_epoch,
        statusEvent: { txDigest: r.event_tx, eventSeq: r.event_seq },
      }));
  }

  /** The invalidation event of `blobId`, or null when it is not invalid. */
  invalidEvent(blobId: Uint8Array): EventId | null {
    const row = this.stmts.invalidGet.get(blobId) as { event_tx: string; event_seq: number } | undefined;
    return row ? { txDigest: row.event_tx, eventSeq: row.event_seq } : null;
  }

  /** Whether uploads for `blobId` are accepted in `epoch`: registered, live and not invalid. */
  isRegistered(blobId: Uint8Array, epoch: number): boolean {
    if (this.invalidEvent(blobId)) return false;
    return (this.stmts.objCountLive.get(blobId, epoch) as { c: number }).c > 0;
  }

  /** The blob's status in `epoch` as Walrus reports it. */
  blobStatus(blobId: Uint8Array, epoch: number): BlobStatus {
    const inv = this.invalidEvent(blobId);
    if (inv) return { invalid: { event: eventIdJson(inv) } };
    const objects = this.liveObjects(blobId, epoch);
    if (objects.length === 0) return 'nonexistent';
    const deletable = objects.filter((o) => o.deletable);
    const deletableCounts: DeletableCounts = {
      count_deletable_total: deletable.length,
      count_deletable_certified: deletable.filter((o) => o.certifiedEpoch !== null).length,
    };
    const certifiedEpochs = objects.map((o) => o.certifiedEpoch).filter((e): e is number => e !== null);
    const initialCertifiedEpoch = certifiedEpochs.length ? Math.min(...certifiedEpochs) : null;
    const permanent = objects.filter((o) => !o.deletable);
    if (permanent.length === 0) return { deletable: { initialCertifiedEpoch, deletableCounts } };
    // The status reported is that of the "strongest" permanent object: certified beats registered,
    // then the later end epoch wins.
    const certified = permanent.filter((o) => o.certifiedEpoch !== null);
    const pool = certified.length ? certified : permanent;
    const best = pool.reduce((a, b) => (b.endEpoch > a.endEpoch ? b : a));
    return {
      permanent: {
        endEpoch: best.endEpoch,
        isCertified: certified.length > 0,
        statusEvent: eventIdJson(best.statusEvent),
        deletableCounts,
        initialCertifiedEpoch,
      },
    };
  }

  // ---- metadata and slivers ----------------------------------------------------------------------

  /** Stores verified metadata (BCS `BlobMetadata`, without the ID). Durable on return. */
  putMetadata(blobId: Uint8Array, bcs: Uint8Array): PutResult {
    assertBlobId(blobId);
    return Number(this.stmts.metaInsert.run(blobId, bcs).changes) === 1 ? 'stored' : 'alreadyStored';
  }

  /** The stored BCS `BlobMetadata` of `blobId`, or null. */
  getMetadata(blobId: Uint8Array): Uint8Array | null {
    const row = this.stmts.metaGet.get(blobId) as { bcs: Uint8Array } | undefined;
    return row ? row.bcs : null;
  }

  /** Whether metadata of `blobId` is stored. */
  hasMetadata(blobId: Uint8Array): boolean {
    return this.stmts.metaHas.get(blobId) !== undefined;
  }

  private sliverFilter: ((blobId: Uint8Array, pair: number, axis: SliverAxis) => boolean) | null = null;

  /**
   * Fault injection only (./faults.ts, the drop fault): slivers `refuse` selects are not written
   * (`putSliver` reports them stored and keeps nothing), so a node that "lost" them never gets
   * them back from blob sync, shard recovery or the scrubber. null removes the filter.
   */
  setSliverFilter(refuse: ((blobId: Uint8Array, pair: number, axis: SliverAxis) => boolean) | null): void {
    this.sliverFilter = refuse;
  }

  /** Stores a verified sliver (BCS `SliverData`) of pair `pair`. Durable on return. */
  putSliver(blobId: Uint8Array, pair: number, axis: SliverAxis, bcs: Uint8Array): PutResult {
    assertBlobId(blobId);
    if (this.sliverFilter?.(blobId, pair, axis)) return 'stored';
    return Number(this.stmts.sliverInsert.run(blobId, pair, AXIS_CODE[axis], bcs).changes) === 1 ? 'stored' : 'alreadyStored';
  }

  /** The stored BCS `SliverData`, or null. */
  getSliver(blobId: Uint8Array, pair: number, axis: SliverAxis): Uint8Array | null {
    const row = this.stmts.sliverGet.get(blobId, pair, AXIS_CODE[axis]) as { bcs: Uint8Array } | undefined;
    return row ? row.bcs : null;
  }

  /**
   * Symbols `positions` of a stored sliver, read from the database without materialising the
   * whole sliver in JavaScript (decodingSymbols needs one symbol of each of many slivers).
   * @returns the sliver's index and one fresh array per position, or null when the sliver is not
   *   stored. @throws TuskInputError for a position beyond the sliver's symbols or a corrupt frame.
   */
  sliverSymbolsAt(
    blobId: Uint8Array,
    pair: number,
    axis: SliverAxis,
    positions: readonly number[],
  ): { index: number; symbols: Uint8Array[] } | null {
    const frame = this.stmts.sliverFrame.get(blobId, pair, AXIS_CODE[axis]) as { head: Uint8Array; tail: Uint8Array } | undefined;
    if (!frame) return null;
    let len: number, headLen: number;
    try {
      ({ value: len, next: headLen } = readUleb(frame.head, 0));
    } catch {
      throw new TuskInputError('stored sliver: malformed length prefix');
    }
    const symbolSize = readU16(frame.tail, 0);
    const index = readU16(frame.tail, 2);
    if (symbolSize === 0 || len % symbolSize !== 0)
      throw new TuskInputError('stored sliver: data length is not a multiple of its symbol size');
    const symbols = positions.map((p) => {
      if (!Number.isInteger(p) || p < 0 || (p + 1) * symbolSize > len)
        throw new TuskInputError(`symbol ${p} is beyond the sliver's ${len / symbolSize} symbols`);
      const row = this.stmts.sliverBytes.get(headLen + p * symbolSize + 1, symbolSize, blobId, pair, AXIS_CODE[axis]) as
        { part: Uint8Array } | undefined;
      if (!row || row.part.length !== symbolSize) throw new TuskInputError('stored sliver vanished or is truncated');
      return row.part;
    });
    return { index, symbols };
  }

  /** Whether a sliver is stored. */
  hasSliver(blobId: Uint8Array, pair: number, axis: SliverAxis): boolean {
    return this.stmts.sliverHas.get(blobId, pair, AXIS_CODE[axis]) !== undefined;
  }

  /** The (pair, axis) keys stored for `blobId`, as `"<pair>:<p|s>"` strings. */
  storedSliverKeys(blobId: Uint8Array): Set<string> {
    const rows = this.stmts.sliverKeys.all(blobId) as { pair: number; axis: number }[];
    return new Set(rows.map((r) => `${r.pair}:${r.axis === 0 ? 'p' : 's'}`));
  }

  /**
   * Up to `limit` stored sliver keys after `after` in key order (the scrubber walks the whole
   * store in pages this way, resuming where it stopped).
   */
  sliverKeysAfter(after: StoredSliverKey | null, limit: number): StoredSliverKey[] {
    const from = after ?? { blobId: new Uint8Array(0), pair: -1, axis: 'primary' as SliverAxis };
    const rows = this.stmts.sliverKeysAfter.all(from.blobId, from.pair, AXIS_CODE[from.axis], limit) as {
      blob_id: Uint8Array;
      pair: number;
      axis: number;
    }[];
    return rows.map((r) => ({ blobId: new Uint8Array(r.blob_id), pair: r.pair, axis: r.axis === 0 ? 'primary' : 'secondary' }));
  }

  /** Removes one stored sliver (a rotten one, before it is rebuilt from peers). */
  deleteSliver(blobId: Uint8Array, pair: number, axis: SliverAxis): boolean {
    return Number(this.stmts.sliverDelete.run(blobId, pair, AXIS_CODE[axis]).changes) === 1;
  }

  /** Counts for health reporting. */
  counts(): { metadata: number; slivers: number } {
    return {
      metadata: (this.stmts.countMeta.get() as { c: number }).c,
      slivers: (this.stmts.countSlivers.get() as { c: number }).c,
    };
  }
}

/** The key of one stored sliver. */
export interface StoredSliverKey {
  readonly blobId: Uint8Array;
  readonly pair: number;
  readonly axis: SliverAxis;
}

/** Walrus's JSON form of an event ID. */
export function eventIdJson(id: EventId): EventIdJson {
  return { txDigest: id.txDigest, eventSeq: String(id.eventSeq) };
}

function assertBlobId(blobId: Uint8Array): void {
  if (!(blobId instanceof Uint8Array) || blobId.length !== 32) throw new TuskInputError('blob ID must be 32 bytes');
}

function assertU32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new TuskInputError(`${what} must be a u32, got ${v}`);
}
