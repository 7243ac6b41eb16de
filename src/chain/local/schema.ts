/**
 * The local chain's SQLite schema. One database file holds the whole chain: the system
 * parameters (`meta`), accounts, objects, staking pools, committees, per-epoch storage accounting,
 * executed transactions and the event log. Every state change of one call happens inside one
 * `BEGIN IMMEDIATE … COMMIT`, and the file runs in WAL mode with `synchronous=FULL`, so a call
 * acknowledged to its caller is on disk and survives kill -9 (WAL + FULL fsyncs the log on every
 * commit), and a crash mid-call leaves nothing of it.
 *
 * Money columns are TEXT holding a decimal `bigint` (SQLite's INTEGER is a signed 64-bit value,
 * and reading it through node:sqlite as a JS number would silently lose precision above 2^53).
 */
import { DatabaseSync } from 'node:sqlite';

/** Version of the schema written into `meta.schemaVersion`; a file of another version is refused. */
export const SCHEMA_VERSION = 1;

const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (address TEXT PRIMARY KEY, balance TEXT NOT NULL);
-- Future storage accounting (Move FutureAccountingRingBuffer, keyed by absolute epoch):
-- the capacity reserved in that epoch and the storage payments that epoch's committee will earn.
CREATE TABLE IF NOT EXISTS accounting (epoch INTEGER PRIMARY KEY, used_capacity INTEGER NOT NULL, rewards TEXT NOT NULL);
-- Free-standing Storage resources (a blob's storage lives in its blob row).
CREATE TABLE IF NOT EXISTS storage (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, start_epoch INTEGER NOT NULL, end_epoch INTEGER NOT NULL, size INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS storage_owner ON storage(owner);
CREATE TABLE IF NOT EXISTS blobs (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, registered_epoch INTEGER NOT NULL, blob_id BLOB NOT NULL, root_hash BLOB NOT NULL,
  size INTEGER NOT NULL, encoding_type INTEGER NOT NULL, certified_epoch INTEGER, storage_id TEXT NOT NULL,
  storage_start INTEGER NOT NULL, storage_end INTEGER NOT NULL, storage_size INTEGER NOT NULL, deletable INTEGER NOT NULL,
  attributes TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS blobs_owner ON blobs(owner);
CREATE INDEX IF NOT EXISTS blobs_blob_id ON blobs(blob_id);
-- Storage nodes and their staking pools. seq = registration order (the active set's order).
CREATE TABLE IF NOT EXISTS nodes (
  node_id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, operator TEXT NOT NULL, cap_id TEXT NOT NULL, name TEXT NOT NULL,
  network_address TEXT NOT NULL, public_key BLOB NOT NULL, commission_bps INTEGER NOT NULL,
  storage_price_vote TEXT NOT NULL, write_price_vote TEXT NOT NULL, capacity_vote INTEGER NOT NULL,
  wal_balance TEXT NOT NULL, num_shares TEXT NOT NULL, rewards_pool TEXT NOT NULL, commission_paid TEXT NOT NULL,
  last_sync_done INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS nodes_operator ON nodes(operator);
-- Stake joining a pool at the start of an epoch, and pool shares leaving it then.
CREATE TABLE IF NOT EXISTS pending_stake (node_id TEXT NOT NULL, epoch INTEGER NOT NULL, amount TEXT NOT NULL, PRIMARY KEY (node_id, epoch));
CREATE TABLE IF NOT EXISTS pending_withdraw (node_id TEXT NOT NULL, epoch INTEGER NOT NULL, shares TEXT NOT NULL, PRIMARY KEY (node_id, epoch));
-- A pool's exchange rate (WAL per share) recorded at the start of each epoch.
CREATE TABLE IF NOT EXISTS exchange_rates (node_id TEXT NOT NULL, epoch INTEGER NOT NULL, wal TEXT NOT NULL, shares TEXT NOT NULL, PRIMARY KEY (node_id, epoch));
CREATE TABLE IF NOT EXISTS staked_wal (
  id TEXT PRIMARY KEY, owner TEXT NOT NULL, node_id TEXT NOT NULL, principal TEXT NOT NULL, activation_epoch INTEGER NOT NULL,
  withdraw_epoch INTEGER);
CREATE INDEX IF NOT EXISTS staked_wal_owner ON staked_wal(owner);
-- Every epoch's committee, kept forever (committee(epoch) of past epochs). position = signer index.
CREATE TABLE IF NOT EXISTS committees (
  epoch INTEGER NOT NULL, position INTEGER NOT NULL, node_id TEXT NOT NULL, public_key BLOB NOT NULL, shards TEXT NOT NULL,
  network_address TEXT NOT NULL, name TEXT NOT NULL, PRIMARY KEY (epoch, position));
-- Penalty hook: basis points of a node's reward for an epoch that are withheld (rolled forward).
CREATE TABLE IF NOT EXISTS withholding (node_id TEXT NOT NULL, epoch INTEGER NOT NULL, bps INTEGER NOT NULL, PRIMARY KEY (node_id, epoch));
-- Executed transactions: a repeated digest returns the stored result.
CREATE TABLE IF NOT EXISTS txs (digest TEXT PRIMARY KEY, sender TEXT NOT NULL, call TEXT NOT NULL, result TEXT NOT NULL);
-- Signed transactions the chain rejected for good (a non-retryable abort or invalid arguments):
-- a repeated digest gets the same rejection forever, so bytes once refused can never be replayed
-- into success after the state changes. Added without a schema version bump: CREATE IF NOT EXISTS
-- adds it to files of earlier builds on open (a missing table only means no rejection was stored).
CREATE TABLE IF NOT EXISTS aborted_txs (
  digest TEXT PRIMARY KEY, sender TEXT NOT NULL, call TEXT NOT NULL, kind TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL);
-- Walrus Sites (chain/local/sites.ts): the Site object (fields, routes, redirects as chain JSON)
-- and one row per Resource dynamic field. Added like aborted_txs, without a schema version bump.
CREATE TABLE IF NOT EXISTS sites (id TEXT PRIMARY KEY, owner TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sites_owner ON sites(owner);
CREATE TABLE IF NOT EXISTS site_resources (site_id TEXT NOT NULL, path TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (site_id, path));
-- Storage challenges (challenges.ts; added without a version bump: CREATE IF NOT EXISTS adds them
-- to files of earlier builds). One row per round, one per (round, challenged node).
CREATE TABLE IF NOT EXISTS challenge_rounds (
  epoch INTEGER NOT NULL, round INTEGER NOT NULL, seed BLOB NOT NULL, started_ms INTEGER NOT NULL, closed INTEGER NOT NULL,
  PRIMARY KEY (epoch, round));
CREATE TABLE IF NOT EXISTS challenge_assignments (
  epoch INTEGER NOT NULL, round INTEGER NOT NULL, node_id TEXT NOT NULL, items TEXT NOT NULL, commit_digest BLOB,
  outcome TEXT, absent INTEGER NOT NULL DEFAULT 0, invalid INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (epoch, round, node_id));
-- Each node operator's vote on the challenge and penalty parameters (JSON of ChallengeParams fields).
CREATE TABLE IF NOT EXISTS challenge_votes (node_id TEXT PRIMARY KEY, params TEXT NOT NULL);
-- Nodes left out of committee selection for epochs < until_epoch.
-- Blob IDs invalidated by a committee certificate: never challenged again.
CREATE TABLE IF NOT EXISTS invalid_blob_ids (blob_id BLOB PRIMARY KEY);
CREATE TABLE IF NOT EXISTS jail (node_id TEXT PRIMARY KEY, until_epoch INTEGER NOT NULL);
-- Stake slashing (staking.ts, challenges.ts; added like the challenge tables). A pool's slash debt:
-- FROST burnt from its stake beyond its rewards pool, still inside StakedWal principals; settled
-- when those positions are withdrawn at the (lowered) exchange rate.
CREATE TABLE IF NOT EXISTS pool_slash_debt (node_id TEXT PRIMARY KEY, debt TEXT NOT NULL);
-- Each committee member's settlement per epoch: its rounds, withholding and penalties.
CREATE TABLE IF NOT EXISTS challenge_penalties (
  node_id TEXT NOT NULL, epoch INTEGER NOT NULL, scheduled INTEGER NOT NULL, passed INTEGER NOT NULL, failed INTEGER NOT NULL,
  missed INTEGER NOT NULL, withholding_bps INTEGER NOT NULL, offence TEXT, jailed_until INTEGER,
  commission_burned TEXT NOT NULL DEFAULT '0', slashed TEXT NOT NULL DEFAULT '0', PRIMARY KEY (node_id, epoch));
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, tx_digest TEXT NOT NULL, event_seq INTEGER NOT NULL, timestamp_ms INTEGER NOT NULL, body TEXT NOT NULL);
`;

/**
 * Opens (creating if needed) the database at `path` (`':memory:'` for a throw-away chain) with the
 * durability settings above and the schema in place.
 * @post the caller owns the returned handle and must close it.
 */
export function openDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  try {
    // WAL lets readers of other connections proceed during a write; FULL makes each commit durable.
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = FULL');
    db.exec('PRAGMA foreign_keys = OFF');
    // Another process holding the write lock (a second opener of the same file) is waited for.
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec(DDL);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}
