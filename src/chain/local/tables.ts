/**
 * Typed access to the local chain's tables (schema.ts). The `Store` knows rows, not rules: it
 * reads and writes objects, balances and accounting, and enforces only the invariants no call may
 * break whatever its rules (balances never negative, amounts within u64-of-Move/2^63). The rules
 * of the calls live in blobs.ts, staking.ts and epochs.ts, which run inside a transaction opened by
 * `LocalChain.submit`.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { ChainAbortError, TuskInputError } from '../../errors.ts';
import type {
  Address,
  BlobObject,
  CommitteeInfo,
  CommitteeNode,
  EpochState,
  ObjectId,
  StakedWal,
  StorageNodeInfo,
  StorageResource,
} from '../types.ts';

/** Largest amount the chain stores: 2^63 − 1 FROST (SQLite's signed 64-bit range; far above WAL's supply). */
export const MAX_AMOUNT = (1n << 63n) - 1n;

/** True for a Sui-style address / object ID: `0x` + 64 lowercase hex digits. */
export function isAddress(v: unknown): v is string {
  return typeof v === 'string' && /^0x[0-9a-f]{64}$/.test(v);
}

/** Throws `EOverflow` when `x` leaves [0, MAX_AMOUNT]. */
export function checkAmount(x: bigint, what: string): bigint {
  if (x < 0n) throw new ChainAbortError('EInsufficientFunds', `${what} would be negative (${x})`);
  if (x > MAX_AMOUNT) throw new ChainAbortError('EOverflow', `${what} exceeds 2^63 − 1 FROST`);
  return x;
}

/** The system parameters kept in `meta` (all mutable ones; read once per call, written back once). */
export interface SystemMeta {
  chainId: string;
  nShards: number;
  epoch: number;
  epochState: EpochState;
  storagePrice: bigint;
  writePrice: bigint;
  totalCapacity: number;
  maxEpochsAhead: number;
  epochDurationMs: number;
  epochStartMs: number;
  faucetGrant: bigint;
  /** Shard weight of the epochSyncDone calls received in the current changeSync. */
  syncWeight: number;
  /** Most members a committee may have (the Move active set's size limit). */
  maxCommitteeSize: number;
  /** Total FROST ever minted by the faucet (the conservation invariant's left side). */
  minted: bigint;
}

const META_NUMBERS = [
  'nShards',
  'epoch',
  'totalCapacity',
  'maxEpochsAhead',
  'epochDurationMs',
  'epochStartMs',
  'syncWeight',
  'maxCommitteeSize',
] as const;
const META_BIGINTS = ['storagePrice', 'writePrice', 'faucetGrant', 'minted'] as const;

interface BlobRow {
  id: string;
  owner: string;
  registered_epoch: number;
  blob_id: Uint8Array;
  root_hash: Uint8Array;
  size: number;
  encoding_type: number;
  certified_epoch: number | null;
  storage_id: string;
  storage_start: number;
  storage_end: number;
  storage_size: number;
  deletable: number;
  attributes: string;
}
interface NodeRow {
  node_id: string;
  seq: number;
  operator: string;
  cap_id: string;
  name: string;
  network_address: string;
  public_key: Uint8Array;
  commission_bps: number;
  storage_price_vote: string;
  write_price_vote: string;
  capacity_vote: number;
  wal_balance: string;
  num_shares: string;
  rewards_pool: string;
  commission_paid: string;
  last_sync_done: number;
}

/** A staking pool's mutable state (the parts of a node row the epoch logic changes). */
export interface PoolRow {
  nodeId: ObjectId;
  seq: number;
  operator: Address;
  capId: ObjectId;
  commissionBps: number;
  storagePriceVote: bigint;
  writePriceVote: bigint;
  capacityVote: number;
  /** WAL the pool's active shares are worth (principal + rewards of active stake). */
  walBalance: bigint;
  numShares: bigint;
  /** Rewards received and not yet paid out with a withdrawal. */
  rewardsPool: bigint;
  commissionPaid: bigint;
  lastSyncDone: number;
}

/**
 * A signed transaction's final rejection as stored: `abort` = a ChainAbortError (`code` is its
 * abort name, `message` the text after "code: "), `input` = a TuskInputError for its arguments
 * (`code` is `EInvalidInput`). Only non-retryable rejections are stored, so none has a retryable flag.
 */
export interface StoredAbort {
  readonly kind: 'abort' | 'input';
  readonly code: string;
  readonly message: string;
}

/** Row-level access for one open database. Statements are prepared once per store. */
export class Store {
  readonly db: DatabaseSync;
  private readonly stmts = new Map<string, StatementSync>();

  constructor(db: DatabaseSync) {
    this.db = db;
  }

  /** A cached prepared statement for `sql`. */
  q(sql: string): StatementSync {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  // --- meta ------------------------------------------------------------------------------------
  getMetaValue(key: string): string | undefined {
    const row = this.q('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }
  setMetaValue(key: string, value: string): void {
    this.q('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
  }
  readMeta(): SystemMeta {
    const rows = this.q('SELECT key, value FROM meta').all() as { key: string; value: string }[];
    const m = new Map(rows.map((r) => [r.key, r.value]));
    const get = (k: string) => {
      const v = m.get(k);
      if (v === undefined) throw new TuskInputError(`local chain database lacks meta.${k}: not a Tusk chain file or damaged`);
      return v;
    };
    const out: Record<string, unknown> = { chainId: get('chainId'), epochState: get('epochState') };
    for (const k of META_NUMBERS) out[k] = Number(get(k));
    for (const k of META_BIGINTS) out[k] = BigInt(get(k));
    return out as unknown as SystemMeta;
  }
  writeMeta(m: SystemMeta): void {
    this.setMetaValue('chainId', m.chainId);
    this.setMetaValue('epochState', m.epochState);
    for (const k of META_NUMBERS) this.setMetaValue(k, String(m[k]));
    for (const k of META_BIGINTS) this.setMetaValue(k, m[k].toString());
  }

  // --- accounts --------------------------------------------------------------------------------
  balance(address: Address): bigint {
    const row = this.q('SELECT balance FROM accounts WHERE address = ?').get(address) as { balance: string } | undefined;
    return row ? BigInt(row.balance) : 0n;
  }
  private setBalance(address: Address, value: bigint): void {
    this.q('INSERT INTO accounts(address, balance) VALUES (?, ?) ON CONFLICT(address) DO UPDATE SET balance = excluded.balance').run(
      address,
      checkAmount(value, `balance of ${address}`).toString(),
    );
  }
  /** Adds `amount` (≥ 0) to `address`. */
  credit(address: Address, amount: bigint): void {
    if (amount < 0n) throw new TuskInputError('credit of a negative amount');
    if (amount === 0n) return;
    this.setBalance(address, this.balance(address) + amount);
  }
  /** Takes `amount` (≥ 0) from `address`. @throws ChainAbortError EInsufficientFunds */
  debit(address: Address, amount: bigint, what: string): void {
    if (amount < 0n) throw new TuskInputError('debit of a negative amount');
    const b = this.balance(address);
    if (b < amount) throw new ChainAbortError('EInsufficientFunds', `${what} costs ${amount} FROST, ${address} has ${b}`);
    if (amount > 0n) this.setBalance(address, b - amount);
  }
  totalBalances(): bigint {
    let s = 0n;
    for (const r of this.q('SELECT balance FROM accounts').all() as { balance: string }[]) s += BigInt(r.balance);
    return s;
  }

  // --- future accounting -----------------------------------------------------------------------
  accounting(epoch: number): { usedCapacity: number; rewards: bigint } {
    const row = this.q('SELECT used_capacity, rewards FROM accounting WHERE epoch = ?').get(epoch) as
      { used_capacity: number; rewards: string } | undefined;
    return row ? { usedCapacity: row.used_capacity, rewards: BigInt(row.rewards) } : { usedCapacity: 0, rewards: 0n };
  }
  setAccounting(epoch: number, a: { usedCapacity: number; rewards: bigint }): void {
    this.q(
      'INSERT INTO accounting(epoch, used_capacity, rewards) VALUES (?, ?, ?) ON CONFLICT(epoch) DO UPDATE SET used_capacity = excluded.used_capacity, rewards = excluded.rewards',
    ).run(epoch, a.usedCapacity, checkAmount(a.rewards, `rewards of epoch ${epoch}`).toString());
  }
  deleteAccounting(epoch: number): void {
    this.q('DELETE FROM accounting WHERE epoch = ?').run(epoch);
  }
  /** Payments not yet distributed (every epoch's rewards still in the accounting). */
  totalAccountingRewards(): bigint {
    let s = 0n;
    for (const r of this.q('SELECT rewards FROM accounting').all() as { rewards: string }[]) s += BigInt(r.rewards);
    return s;
  }

  // --- storage resources -----------------------------------------------------------------------
  getStorage(id: ObjectId): StorageResource | null {
    const r = this.q('SELECT id, owner, start_epoch, end_epoch, size FROM storage WHERE id = ?').get(id) as
      { id: string; owner: string; start_epoch: number; end_epoch: number; size: number } | undefined;
    return r ? { id: r.id, owner: r.owner, startEpoch: r.start_epoch, endEpoch: r.end_epoch, storageSize: r.size } : null;
  }
  putStorage(s: StorageResource): void {
    this.q(
      'INSERT INTO storage(id, owner, start_epoch, end_epoch, size) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET owner = excluded.owner, start_epoch = excluded.start_epoch, end_epoch = excluded.end_epoch, size = excluded.size',
    ).run(s.id, s.owner, s.startEpoch, s.endEpoch, s.storageSize);
  }
  deleteStorage(id: ObjectId): void {
    this.q('DELETE FROM storage WHERE id = ?').run(id);
  }
  storageOwnedBy(owner: Address): StorageResource[] {
    return (this.q('SELECT id FROM storage WHERE owner = ? ORDER BY id').all(owner) as { id: string }[]).map((r) => this.getStorage(r.id)!);
  }

  // --- blobs -----------------------------------------------------------------------------------
  private blobFromRow(r: BlobRow): BlobObject {
    return {
      id: r.id,
      owner: r.owner,
      registeredEpoch: r.registered_epoch,
      blobId: new Uint8Array(r.blob_id),
      rootHash: new Uint8Array(r.root_hash),
      size: r.size,
      encodingType: r.encoding_type,
      certifiedEpoch: r.certified_epoch,
      storage: { id: r.storage_id, startEpoch: r.storage_start, endEpoch: r.storage_end, storageSize: r.storage_size },
      deletable: r.deletable === 1,
      attributes: JSON.parse(r.attributes) as Record<string, string>,
    };
  }
  getBlob(id: ObjectId): BlobObject | null {
    const r = this.q('SELECT * FROM blobs WHERE id = ?').get(id) as BlobRow | undefined;
    return r ? this.blobFromRow(r) : null;
  }
  putBlob(b: BlobObject): void {
    this.q(
      `INSERT INTO blobs(id, owner, registered_epoch, blob_id, root_hash, size, encoding_type, certified_epoch, storage_id,
        storage_start, storage_end, storage_size, deletable, attributes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET owner = excluded.owner, certified_epoch = excluded.certified_epoch, storage_start = excluded.storage_start,
        storage_end = excluded.storage_end, storage_size = excluded.storage_size, attributes = excluded.attributes`,
    ).run(
      b.id,
      b.owner,
      b.registeredEpoch,
      b.blobId,
      b.rootHash,
      b.size,
      b.encodingType,
      b.certifiedEpoch,
      b.storage.id,
      b.storage.startEpoch,
      b.storage.endEpoch,
      b.storage.storageSize,
      b.deletable ? 1 : 0,
      JSON.stringify(b.attributes),
    );
  }
  deleteBlob(id: ObjectId): void {
    this.q('DELETE FROM blobs WHERE id = ?').run(id);
  }
  blobsOwnedBy(owner: Address): BlobObject[] {
    return (this.q('SELECT * FROM blobs WHERE owner = ? ORDER BY id').all(owner) as unknown as BlobRow[]).map((r) => this.blobFromRow(r));
  }
  blobsWithBlobId(blobId: Uint8Array): BlobObject[] {
    return (this.q('SELECT * FROM blobs WHERE blob_id = ? ORDER BY id').all(blobId) as unknown as BlobRow[]).map((r) =>
      this.blobFromRow(r),
    );
  }

  // --- nodes and pools -------------------------------------------------------------------------
  private poolFromRow(r: NodeRow): PoolRow {
    return {
      nodeId: r.node_id,
      seq: r.seq,
      operator: r.operator,
      capId: r.cap_id,
      commissionBps: r.commission_bps,
      storagePriceVote: BigInt(r.storage_price_vote),
      writePriceVote: BigInt(r.write_price_vote),
      capacityVote: r.capacity_vote,
      walBalance: BigInt(r.wal_balance),
      numShares: BigInt(r.num_shares),
      rewardsPool: BigInt(r.rewards_pool),
      commissionPaid: BigInt(r.commission_paid),
      lastSyncDone: r.last_sync_done,
    };
  }
  private nodeRow(nodeId: ObjectId): NodeRow | undefined {
    return this.q('SELECT * FROM nodes WHERE node_id = ?').get(nodeId) as NodeRow | undefined;
  }
  getPool(nodeId: ObjectId): PoolRow | null {
    const r = this.nodeRow(nodeId);
    return r ? this.poolFromRow(r) : null;
  }
  /** Every pool in registration order. */
  pools(): PoolRow[] {
    return (this.q('SELECT * FROM nodes ORDER BY seq').all() as unknown as NodeRow[]).map((r) => this.poolFromRow(r));
  }
  putPool(p: PoolRow): void {
    this.q(
      `UPDATE nodes SET commission_bps = ?, storage_price_vote = ?, write_price_vote = ?, capacity_vote = ?, wal_balance = ?,
      num_shares = ?, rewards_pool = ?, commission_paid = ?, last_sync_done = ? WHERE node_id = ?`,
    ).run(
      p.commissionBps,
      p.storagePriceVote.toString(),
      p.writePriceVote.toString(),
      p.capacityVote,
      checkAmount(p.walBalance, 'pool balance').toString(),
      checkAmount(p.numShares, 'pool shares').toString(),
      checkAmount(p.rewardsPool, 'pool rewards').toString(),
      checkAmount(p.commissionPaid, 'commission').toString(),
      p.lastSyncDone,
      p.nodeId,
    );
  }
  insertNode(n: {
    nodeId: ObjectId;
    operator: Address;
    capId: ObjectId;
    name: string;
    networkAddress: string;
    publicKey: Uint8Array;
    commissionBps: number;
    storagePriceVote: bigint;
    writePriceVote: bigint;
    capacityVote: number;
  }): void {
    const seq = (this.q('SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM nodes').get() as { s: number }).s;
    this.q(
      `INSERT INTO nodes(node_id, seq, operator, cap_id, name, network_address, public_key, commission_bps, storage_price_vote,
        write_price_vote, capacity_vote, wal_balance, num_shares, rewards_pool, commission_paid, last_sync_done)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '0', '0', '0', '0', -1)`,
    ).run(
      n.nodeId,
      seq,
      n.operator,
      n.capId,
      n.name,
      n.networkAddress,
      n.publicKey,
      n.commissionBps,
      n.storagePriceVote.toString(),
      n.writePriceVote.toString(),
      n.capacityVote,
    );
  }
  setNodeNetworkAddress(nodeId: ObjectId, networkAddress: string): void {
    this.q('UPDATE nodes SET network_address = ? WHERE node_id = ?').run(networkAddress, nodeId);
  }
  /** The public view of a node; `stake` is the stake that counts at the next committee selection. */
  getNode(nodeId: ObjectId): StorageNodeInfo | null {
    const r = this.nodeRow(nodeId);
    if (!r) return null;
    const p = this.poolFromRow(r);
    return {
      nodeId: r.node_id,
      operator: r.operator,
      name: r.name,
      networkAddress: r.network_address,
      publicKey: new Uint8Array(r.public_key),
      commissionRateBps: r.commission_bps,
      storagePriceVote: p.storagePriceVote,
      writePriceVote: p.writePriceVote,
      capacityVote: r.capacity_vote,
      stake: this.projectedStake(p),
      rewards: p.rewardsPool,
      commission: p.commissionPaid,
    };
  }
  nodesList(): StorageNodeInfo[] {
    return (this.q('SELECT node_id FROM nodes ORDER BY node_id').all() as { node_id: string }[]).map((r) => this.getNode(r.node_id)!);
  }
  nodeCapsOwnedBy(owner: Address): { nodeId: ObjectId; id: ObjectId }[] {
    return (
      this.q('SELECT node_id, cap_id FROM nodes WHERE operator = ? ORDER BY node_id').all(owner) as { node_id: string; cap_id: string }[]
    ).map((r) => ({ nodeId: r.node_id, id: r.cap_id }));
  }

  // --- staking bookkeeping ---------------------------------------------------------------------
  pendingStake(nodeId: ObjectId, epoch: number): bigint {
    const r = this.q('SELECT amount FROM pending_stake WHERE node_id = ? AND epoch = ?').get(nodeId, epoch) as
      { amount: string } | undefined;
    return r ? BigInt(r.amount) : 0n;
  }
  addPendingStake(nodeId: ObjectId, epoch: number, delta: bigint): void {
    const v = checkAmount(this.pendingStake(nodeId, epoch) + delta, 'pending stake');
    this.q(
      'INSERT INTO pending_stake(node_id, epoch, amount) VALUES (?, ?, ?) ON CONFLICT(node_id, epoch) DO UPDATE SET amount = excluded.amount',
    ).run(nodeId, epoch, v.toString());
  }
  /** Removes and returns the stake pending for epochs ≤ `epoch`. */
  flushPendingStake(nodeId: ObjectId, epoch: number): bigint {
    let s = 0n;
    for (const r of this.q('SELECT amount FROM pending_stake WHERE node_id = ? AND epoch <= ?').all(nodeId, epoch) as { amount: string }[])
      s += BigInt(r.amount);
    this.q('DELETE FROM pending_stake WHERE node_id = ? AND epoch <= ?').run(nodeId, epoch);
    return s;
  }
  addPendingWithdraw(nodeId: ObjectId, epoch: number, shares: bigint): void {
    const r = this.q('SELECT shares FROM pending_withdraw WHERE node_id = ? AND epoch = ?').get(nodeId, epoch) as
      { shares: string } | undefined;
    const v = checkAmount((r ? BigInt(r.shares) : 0n) + shares, 'pending withdrawal');
    this.q(
      'INSERT INTO pending_withdraw(node_id, epoch, shares) VALUES (?, ?, ?) ON CONFLICT(node_id, epoch) DO UPDATE SET shares = excluded.shares',
    ).run(nodeId, epoch, v.toString());
  }
  /** Shares withdrawn at epochs ≤ `epoch`, without removing them. */
  pendingWithdrawShares(nodeId: ObjectId, epoch: number): bigint {
    let s = 0n;
    for (const r of this.q('SELECT shares FROM pending_withdraw WHERE node_id = ? AND epoch <= ?').all(nodeId, epoch) as {
      shares: string;
    }[])
      s += BigInt(r.shares);
    return s;
  }
  flushPendingWithdraw(nodeId: ObjectId, epoch: number): bigint {
    const s = this.pendingWithdrawShares(nodeId, epoch);
    this.q('DELETE FROM pending_withdraw WHERE node_id = ? AND epoch <= ?').run(nodeId, epoch);
    return s;
  }
  setExchangeRate(nodeId: ObjectId, epoch: number, wal: bigint, shares: bigint): void {
    this.q('INSERT OR REPLACE INTO exchange_rates(node_id, epoch, wal, shares) VALUES (?, ?, ?, ?)').run(
      nodeId,
      epoch,
      wal.toString(),
      shares.toString(),
    );
  }
  /** The pool's rate at `epoch`: the latest recorded at or before it; 1:1 if none (Move's default). */
  exchangeRate(nodeId: ObjectId, epoch: number): { wal: bigint; shares: bigint } {
    const r = this.q('SELECT wal, shares FROM exchange_rates WHERE node_id = ? AND epoch <= ? ORDER BY epoch DESC LIMIT 1').get(
      nodeId,
      epoch,
    ) as { wal: string; shares: string } | undefined;
    return r ? { wal: BigInt(r.wal), shares: BigInt(r.shares) } : { wal: 0n, shares: 0n };
  }
  /**
   * Stake of the pool at the next committee selection: its WAL balance plus stake activating next
   * epoch, minus withdrawals taking effect by then (Move `wal_balance_at_epoch(epoch + 1)`).
   */
  projectedStake(p: PoolRow): bigint {
    const next = this.currentEpoch() + 1;
    let pending = 0n;
    for (const r of this.q('SELECT amount FROM pending_stake WHERE node_id = ? AND epoch <= ?').all(p.nodeId, next) as { amount: string }[])
      pending += BigInt(r.amount);
    const out = toWal({ wal: p.walBalance, shares: p.numShares }, this.pendingWithdrawShares(p.nodeId, next));
    const v = p.walBalance + pending - out;
    return v < 0n ? 0n : v;
  }
  private currentEpoch(): number {
    return Number(this.getMetaValue('epoch') ?? 0);
  }

  getStakedWal(id: ObjectId): StakedWal | null {
    const r = this.q('SELECT * FROM staked_wal WHERE id = ?').get(id) as
      | { id: string; owner: string; node_id: string; principal: string; activation_epoch: number; withdraw_epoch: number | null }
      | undefined;
    return r
      ? {
          id: r.id,
          owner: r.owner,
          nodeId: r.node_id,
          principal: BigInt(r.principal),
          activationEpoch: r.activation_epoch,
          withdrawableEpoch: r.withdraw_epoch,
        }
      : null;
  }
  putStakedWal(s: StakedWal): void {
    this.q(
      `INSERT INTO staked_wal(id, owner, node_id, principal, activation_epoch, withdraw_epoch) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET owner = excluded.owner, withdraw_epoch = excluded.withdraw_epoch`,
    ).run(s.id, s.owner, s.nodeId, checkAmount(s.principal, 'stake').toString(), s.activationEpoch, s.withdrawableEpoch);
  }
  deleteStakedWal(id: ObjectId): void {
    this.q('DELETE FROM staked_wal WHERE id = ?').run(id);
  }
  stakedWalOwnedBy(owner: Address): StakedWal[] {
    return (this.q('SELECT id FROM staked_wal WHERE owner = ? ORDER BY id').all(owner) as { id: string }[]).map((r) =>
      this.getStakedWal(r.id)!,
    );
  }
  totalStakedPrincipal(): bigint {
    let s = 0n;
    for (const r of this.q('SELECT principal FROM staked_wal').all() as { principal: string }[]) s += BigInt(r.principal);
    return s;
  }
  /** Principal of the pool's StakedWal objects (pending, active and withdrawing). */
  poolPrincipal(nodeId: ObjectId): bigint {
    let s = 0n;
    for (const r of this.q('SELECT principal FROM staked_wal WHERE node_id = ?').all(nodeId) as { principal: string }[])
      s += BigInt(r.principal);
    return s;
  }
  /** FROST slashed from the pool beyond its rewards pool and not yet settled by withdrawals (staking.ts). */
  slashDebt(nodeId: ObjectId): bigint {
    const r = this.q('SELECT debt FROM pool_slash_debt WHERE node_id = ?').get(nodeId) as { debt: string } | undefined;
    return r ? BigInt(r.debt) : 0n;
  }
  setSlashDebt(nodeId: ObjectId, debt: bigint): void {
    if (debt === 0n) this.q('DELETE FROM pool_slash_debt WHERE node_id = ?').run(nodeId);
    else
      this.q('INSERT OR REPLACE INTO pool_slash_debt(node_id, debt) VALUES (?, ?)').run(nodeId, checkAmount(debt, 'slash debt').toString());
  }
  totalSlashDebt(): bigint {
    let s = 0n;
    for (const r of this.q('SELECT debt FROM pool_slash_debt').all() as { debt: string }[]) s += BigInt(r.debt);
    return s;
  }
  totalRewardPools(): bigint {
    let s = 0n;
    for (const r of this.q('SELECT rewards_pool FROM nodes').all() as { rewards_pool: string }[]) s += BigInt(r.rewards_pool);
    return s;
  }

  // --- committees ------------------------------------------------------------------------------
  /** The stored committee of `epoch` (members by node ID), or null when none was recorded. */
  committee(epoch: number, nShards: number): CommitteeInfo | null {
    const rows = this.q('SELECT node_id, public_key, shards, network_address, name FROM committees WHERE epoch = ? ORDER BY position').all(
      epoch,
    ) as { node_id: string; public_key: Uint8Array; shards: string; network_address: string; name: string }[];
    if (rows.length === 0) {
      // Epochs with an empty committee have no rows; any epoch up to the current one existed.
      return epoch <= this.currentEpoch() ? { epoch, nShards, members: [] } : null;
    }
    const members: CommitteeNode[] = rows.map((r) => {
      // The chain keeps each node's shards in Move's order (it decides which shards move next);
      // readers get them sorted, as CommitteeNode promises.
      const shards = (JSON.parse(r.shards) as number[]).sort((a, b) => a - b);
      return {
        nodeId: r.node_id,
        publicKey: new Uint8Array(r.public_key),
        shards,
        weight: shards.length,
        networkAddress: r.network_address,
        name: r.name,
      };
    });
    return { epoch, nShards, members };
  }
  /** Each member's shards of `epoch` in the chain's own order (for the next transition). */
  committeeShardOrder(epoch: number): Map<ObjectId, number[]> {
    const rows = this.q('SELECT node_id, shards FROM committees WHERE epoch = ? ORDER BY position').all(epoch) as {
      node_id: string;
      shards: string;
    }[];
    return new Map(rows.map((r) => [r.node_id, JSON.parse(r.shards) as number[]]));
  }
  putCommittee(c: CommitteeInfo): void {
    c.members.forEach((m, i) => {
      this.q(
        'INSERT INTO committees(epoch, position, node_id, public_key, shards, network_address, name) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(c.epoch, i, m.nodeId, m.publicKey, JSON.stringify(m.shards), m.networkAddress, m.name);
    });
  }

  // --- penalties hook --------------------------------------------------------------------------
  withholdingBps(nodeId: ObjectId, epoch: number): number {
    const r = this.q('SELECT bps FROM withholding WHERE node_id = ? AND epoch = ?').get(nodeId, epoch) as { bps: number } | undefined;
    return r?.bps ?? 0;
  }
  setWithholdingBps(nodeId: ObjectId, epoch: number, bps: number): void {
    this.q('INSERT OR REPLACE INTO withholding(node_id, epoch, bps) VALUES (?, ?, ?)').run(nodeId, epoch, bps);
  }

  // --- transactions and events -----------------------------------------------------------------
  txResult(digest: string): string | null {
    const r = this.q('SELECT result FROM txs WHERE digest = ?').get(digest) as { result: string } | undefined;
    return r?.result ?? null;
  }
  putTx(digest: string, sender: string, call: string, result: string): void {
    this.q('INSERT INTO txs(digest, sender, call, result) VALUES (?, ?, ?, ?)').run(digest, sender, call, result);
  }
  /** The stored rejection of a signed transaction (see `aborted_txs` in schema.ts), or null. */
  abortedTx(digest: string): StoredAbort | null {
    const r = this.q('SELECT kind, code, message FROM aborted_txs WHERE digest = ?').get(digest) as
      { kind: string; code: string; message: string } | undefined;
    if (!r) return null;
    if (r.kind !== 'abort' && r.kind !== 'input')
      throw new TuskInputError(`aborted_txs row of ${digest} has unknown kind ${JSON.stringify(r.kind)}: damaged chain file`);
    return { kind: r.kind, code: r.code, message: r.message };
  }
  /** Records the final rejection of `digest`; the first record stays (a digest is rejected once). */
  putAbortedTx(digest: string, sender: string, call: string, abort: StoredAbort): void {
    this.q('INSERT OR IGNORE INTO aborted_txs(digest, sender, call, kind, code, message) VALUES (?, ?, ?, ?, ?, ?)').run(
      digest,
      sender,
      call,
      abort.kind,
      abort.code,
      abort.message,
    );
  }
  /** Appends an event; returns its sequence number (the cursor). */
  appendEvent(txDigest: string, eventSeq: number, timestampMs: number, body: string): number {
    const r = this.q('INSERT INTO events(tx_digest, event_seq, timestamp_ms, body) VALUES (?, ?, ?, ?)').run(
      txDigest,
      eventSeq,
      timestampMs,
      body,
    );
    return Number(r.lastInsertRowid);
  }
  eventsAfter(seq: number, limit: number): { seq: number; tx_digest: string; event_seq: number; timestamp_ms: number; body: string }[] {
    return this.q('SELECT seq, tx_digest, event_seq, timestamp_ms, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?').all(
      seq,
      limit,
    ) as { seq: number; tx_digest: string; event_seq: number; timestamp_ms: number; body: string }[];
  }
}

/** Pool shares for `amount` WAL at `rate` (1:1 for an empty pool), rounded down (Move PoolExchangeRate). */
export function toShares(rate: { wal: bigint; shares: bigint }, amount: bigint): bigint {
  if (rate.wal === 0n || rate.shares === 0n) return amount;
  return (amount * rate.shares) / rate.wal;
}

/**
 * WAL for `shares` at `rate` (1:1 for an empty pool), rounded down. A pool slashed to nothing
 * (no WAL, shares outstanding) values every share at 0.
 */
export function toWal(rate: { wal: bigint; shares: bigint }, shares: bigint): bigint {
  if (rate.shares === 0n) return shares;
  if (rate.wal === 0n) return 0n;
  return (shares * rate.wal) / rate.shares;
}
