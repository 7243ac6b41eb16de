/**
 * The `walrus::staking` calls of the local chain: node registration (with a BLS proof of
 * possession), node updates, staking and withdrawal, and `epoch_sync_done`.
 *
 * Pools follow Move's share model (staking_pool.move): a pool has a WAL balance and a number of
 * shares; the exchange rate (WAL per share) is recorded at the start of every epoch; rewards grow
 * the WAL balance and slashes (challenges.ts) shrink it, so a stake's worth at withdrawal is its
 * shares at the withdrawal epoch's rate, for better or worse (`positionValue`).
 *
 * Epochs of a stake. The local chain selects the next committee at the epoch change itself
 * (there is no separate voting phase), so Move's "committee already selected" branch never applies:
 *  - `stake` in epoch E: the stake activates at E + 1 and counts for the committee chosen when
 *    E ends (the committee of E + 1); it earns from epoch E + 1 on.
 *  - Before activation (still E) it can be withdrawn directly with `withdrawStake` (principal back);
 *    `requestWithdrawStake` then aborts `EWithdrawDirectly`, as in Move.
 *  - Active stake of a node in the current committee: `requestWithdrawStake` in epoch E stops it
 *    counting for the next selection; it is withdrawable from E + 1 (`withdrawableEpoch`) with
 *    the rewards earned up to then.
 *  - Active stake of a node outside the committee: `withdrawStake` works in one step.
 */
import { ChainAbortError } from '../../errors.ts';
import { blsVerify } from '../../crypto/bls.ts';
import { proofOfPossessionMessage } from '../../protocol/messages.ts';
import { isQuorum } from '../../protocol/certificate.ts';
import type { ObjectId, StakedWal, StakedWalValue } from '../types.ts';
import {
  argAddress,
  argAmount,
  argBytes,
  argString,
  argUint,
  notFound,
  optAmount,
  optUint,
  requireOwner,
  type ExecContext,
} from './context.ts';
import { toShares, toWal, type PoolRow, type Store } from './tables.ts';

/** Longest node name, in characters (staking_pool.move). */
export const MAX_NODE_NAME_LENGTH = 100;
/** Longest network address, in characters (staking_pool.move). */
export const MAX_NETWORK_ADDRESS_LENGTH = 259;
/** 100 % in basis points (commission rates, reward withholding). */
export const N_BASIS_POINTS = 10_000;

function getPool(ctx: ExecContext, nodeId: ObjectId): PoolRow {
  const p = ctx.store.getPool(nodeId);
  if (!p) throw new ChainAbortError('EPoolNotFound', `no storage node ${nodeId}`);
  return p;
}

function inCurrentCommittee(ctx: ExecContext, nodeId: ObjectId): boolean {
  return ctx.store.committee(ctx.meta.epoch, ctx.meta.nShards)!.members.some((m) => m.nodeId === nodeId);
}

/** `register_candidate`: a new pool; the sender holds its operator capability. */
export function registerNode(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { nodeId: ObjectId } {
  const name = argString(args, 'name');
  const networkAddress = argString(args, 'networkAddress');
  const publicKey = argBytes(args, 'publicKey');
  const pop = argBytes(args, 'proofOfPossession');
  const commissionBps = argUint(args, 'commissionRateBps', 0xffff);
  const storagePriceVote = argAmount(args, 'storagePriceVote');
  const writePriceVote = argAmount(args, 'writePriceVote');
  const capacityVote = argUint(args, 'capacityVote');
  if (publicKey.length !== 48) throw new ChainAbortError('EInvalidKeyLength', `BLS public key must be 48 bytes, got ${publicKey.length}`);
  // The PoP binds the key to this sender and this epoch, so a key cannot be registered by someone
  // who merely saw it (rogue-key attacks on the aggregate signatures need exactly that).
  if (!blsVerify(pop, publicKey, proofOfPossessionMessage(ctx.meta.epoch, ctx.sender, publicKey))) {
    throw new ChainAbortError('EInvalidProofOfPossession', 'proof of possession does not verify for this sender, key and epoch');
  }
  if ([...name].length > MAX_NODE_NAME_LENGTH) throw new ChainAbortError('EInvalidNameLength', `name longer than ${MAX_NODE_NAME_LENGTH}`);
  if ([...networkAddress].length > MAX_NETWORK_ADDRESS_LENGTH)
    throw new ChainAbortError('EInvalidNetworkAddressLength', `network address longer than ${MAX_NETWORK_ADDRESS_LENGTH}`);
  if (commissionBps > N_BASIS_POINTS)
    throw new ChainAbortError('EIncorrectCommissionRate', `commission ${commissionBps} bps exceeds ${N_BASIS_POINTS}`);
  const nodeId = ctx.newId();
  ctx.store.insertNode({
    nodeId,
    operator: ctx.sender,
    capId: ctx.newId(),
    name,
    networkAddress,
    publicKey: publicKey.slice(),
    commissionBps,
    storagePriceVote,
    writePriceVote,
    capacityVote,
  });
  ctx.emit({ type: 'StorageNodeRegistered', epoch: ctx.meta.epoch, nodeId });
  return { nodeId };
}

function operatorPool(ctx: ExecContext, args: Readonly<Record<string, unknown>>): PoolRow {
  const nodeId = argAddress(args, 'nodeId');
  const p = getPool(ctx, nodeId);
  // The operator capability is an owned object: only its holder can pass it to a call.
  requireOwner(ctx, p.operator, `StorageNodeCap of ${nodeId}`);
  return p;
}

/** The operator's parameter updates; votes and commission count from the next epoch change. */
export function updateNode(ctx: ExecContext, args: Readonly<Record<string, unknown>>): object {
  const p = operatorPool(ctx, args);
  if (args.networkAddress !== undefined) {
    const a = argString(args, 'networkAddress');
    if ([...a].length > MAX_NETWORK_ADDRESS_LENGTH)
      throw new ChainAbortError('EInvalidNetworkAddressLength', `network address longer than ${MAX_NETWORK_ADDRESS_LENGTH}`);
    ctx.store.setNodeNetworkAddress(p.nodeId, a);
  }
  const commission = optUint(args, 'commissionRateBps', 0xffff);
  if (commission !== undefined && commission > N_BASIS_POINTS)
    throw new ChainAbortError('EIncorrectCommissionRate', `commission ${commission} bps exceeds ${N_BASIS_POINTS}`);
  ctx.store.putPool({
    ...p,
    commissionBps: commission ?? p.commissionBps,
    storagePriceVote: optAmount(args, 'storagePriceVote') ?? p.storagePriceVote,
    writePriceVote: optAmount(args, 'writePriceVote') ?? p.writePriceVote,
    capacityVote: optUint(args, 'capacityVote') ?? p.capacityVote,
  });
  return {};
}

/** `stake_with_pool`: locks `amount` with the node from the next epoch. */
export function stake(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { stakedWal: StakedWal } {
  const nodeId = argAddress(args, 'nodeId');
  const amount = argAmount(args, 'amount');
  getPool(ctx, nodeId);
  if (amount === 0n) throw new ChainAbortError('EZeroStake', 'cannot stake 0');
  ctx.store.debit(ctx.sender, amount, 'stake');
  const activationEpoch = ctx.meta.epoch + 1;
  ctx.store.addPendingStake(nodeId, activationEpoch, amount);
  const stakedWal: StakedWal = { id: ctx.newId(), owner: ctx.sender, nodeId, principal: amount, activationEpoch, withdrawableEpoch: null };
  ctx.store.putStakedWal(stakedWal);
  return { stakedWal };
}

function ownedStakedWal(ctx: ExecContext, args: Readonly<Record<string, unknown>>): StakedWal {
  const id = argAddress(args, 'stakedWalId');
  const s = ctx.store.getStakedWal(id);
  if (!s) notFound('StakedWal', id);
  requireOwner(ctx, s.owner, `StakedWal ${id}`);
  return s;
}

/** Move `can_withdraw_early` with no committee pre-selected: not yet active and not withdrawing. */
function canWithdrawEarly(ctx: ExecContext, s: StakedWal): boolean {
  return s.withdrawableEpoch === null && s.activationEpoch === ctx.meta.epoch + 1;
}

/** `request_withdraw_stake`: the stake stops counting; withdrawable from the next epoch. */
export function requestWithdrawStake(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { stakedWal: StakedWal } {
  const s = ownedStakedWal(ctx, args);
  if (s.withdrawableEpoch !== null) throw new ChainAbortError('ENotStaked', `StakedWal ${s.id} is already withdrawing`);
  if (canWithdrawEarly(ctx, s)) throw new ChainAbortError('EWithdrawDirectly', 'stake is not active yet: withdraw it directly');
  if (s.activationEpoch > ctx.meta.epoch)
    throw new ChainAbortError('EActivationEpochNotReached', `stake activates at epoch ${s.activationEpoch}`);
  if (!inCurrentCommittee(ctx, s.nodeId))
    throw new ChainAbortError('EWithdrawDirectly', 'the node is not in the committee: withdraw directly');
  const withdrawEpoch = ctx.meta.epoch + 1;
  const shares = activeShares(ctx, s);
  if (shares === 0n && !wipedSince(ctx.store, s, ctx.meta.epoch)) throw new ChainAbortError('EZeroShares', 'stake is worth no pool shares');
  if (shares > 0n) ctx.store.addPendingWithdraw(s.nodeId, withdrawEpoch, shares);
  const updated: StakedWal = { ...s, withdrawableEpoch: withdrawEpoch };
  ctx.store.putStakedWal(updated);
  return { stakedWal: updated };
}

/**
 * `withdraw_stake`: pays the position's value to the sender. A stake that never became active is
 * paid its principal. An active one is worth its pool shares at the exchange rate of its withdrawal
 * epoch: while the pool's rate has not fallen below its activation rate that is Move's principal
 * plus rewards (rewards capped by the pool's rewards); after a slash it is the lower value at the
 * rate, and the shortfall settles the pool's slash debt (see `adjustReserve`).
 */
export function withdrawStake(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { amount: bigint } {
  const s = ownedStakedWal(ctx, args);
  const epoch = ctx.meta.epoch;
  const pool = getPool(ctx, s.nodeId);
  let value = s.principal;
  if (canWithdrawEarly(ctx, s)) {
    ctx.store.addPendingStake(s.nodeId, s.activationEpoch, -s.principal);
  } else if (s.withdrawableEpoch === null && !inCurrentCommittee(ctx, s.nodeId)) {
    // One-step withdrawal from a node outside the committee: leaves the pool at the next change.
    if (s.activationEpoch > epoch) {
      ctx.store.addPendingStake(s.nodeId, s.activationEpoch, -s.principal);
    } else {
      const shares = activeShares(ctx, s);
      if (shares > 0n) ctx.store.addPendingWithdraw(s.nodeId, epoch, shares);
      value = positionValue(ctx.store, s, pool, epoch);
    }
  } else {
    if (s.withdrawableEpoch === null)
      throw new ChainAbortError('ENotWithdrawing', `StakedWal ${s.id} is active: request the withdrawal first`);
    if (s.withdrawableEpoch > epoch)
      throw new ChainAbortError('EWithdrawEpochNotReached', `withdrawable from epoch ${s.withdrawableEpoch}, now ${epoch}`);
    if (s.activationEpoch > epoch) throw new ChainAbortError('EActivationEpochNotReached', `stake activates at epoch ${s.activationEpoch}`);
    value = positionValue(ctx.store, s, pool, s.withdrawableEpoch);
  }
  const amount = payable(ctx.store, pool, value);
  ctx.store.putPool(adjustReserve(ctx.store, pool, s.principal - amount));
  ctx.store.deleteStakedWal(s.id);
  ctx.store.credit(ctx.sender, amount);
  return { amount };
}

/** `value`, but never more than the pool holds (its principals and rewards, less its slash debt). */
function payable(store: Store, pool: PoolRow, value: bigint): bigint {
  const holds = store.poolPrincipal(pool.nodeId) + pool.rewardsPool - store.slashDebt(pool.nodeId);
  return value < holds ? value : holds > 0n ? holds : 0n;
}

/** Is rate `a` (WAL per share) below rate `b`? An unrecorded rate ({0, 0}) is 1:1. */
function rateBelow(a: { wal: bigint; shares: bigint }, b: { wal: bigint; shares: bigint }): boolean {
  const [aw, as] = a.shares === 0n ? [1n, 1n] : [a.wal, a.shares];
  const [bw, bs] = b.shares === 0n ? [1n, 1n] : [b.wal, b.shares];
  return aw * bs < bw * as;
}

/**
 * What the active position `s` is worth when it leaves at `withdrawEpoch`: its shares (bought at
 * the activation epoch's rate) at the withdrawal epoch's rate. Without a slash in between this is
 * staking_pool::calculate_rewards' principal + rewards (never below the principal; rewards at most
 * the pool's rewards pool). A pool slashed to nothing in between pays 0 even if new stake refilled it.
 */
export function positionValue(store: Store, s: StakedWal, pool: PoolRow, withdrawEpoch: number): bigint {
  const atActivation = store.exchangeRate(s.nodeId, s.activationEpoch);
  const atWithdrawal = store.exchangeRate(s.nodeId, withdrawEpoch);
  const shares = toShares(atActivation, s.principal);
  if (wipedSince(store, s, withdrawEpoch)) return 0n;
  const wal = toWal(atWithdrawal, shares);
  if (rateBelow(atWithdrawal, atActivation)) return wal; // slashed since activation: the value at the rate
  const rewards = wal > s.principal ? wal - s.principal : 0n;
  return s.principal + (rewards < pool.rewardsPool ? rewards : pool.rewardsPool);
}

/**
 * Was the pool of active position `s` slashed to nothing after `s` activated (a rate of 0 WAL for
 * outstanding shares recorded in activation < epoch ≤ `upTo`)? Its shares are then worth nothing
 * for good: the pool's share count restarts from the stake that refills it.
 */
function wipedSince(store: Store, s: StakedWal, upTo: number): boolean {
  return (
    store
      .q(`SELECT 1 FROM exchange_rates WHERE node_id = ? AND epoch > ? AND epoch <= ? AND wal = '0' AND shares != '0' LIMIT 1`)
      .get(s.nodeId, s.activationEpoch, upTo) !== undefined
  );
}

/** The pool shares active position `s` holds now (0 once its pool was slashed to nothing). */
function activeShares(ctx: ExecContext, s: StakedWal): bigint {
  if (wipedSince(ctx.store, s, ctx.meta.epoch)) return 0n;
  return toShares(ctx.store.exchangeRate(s.nodeId, s.activationEpoch), s.principal);
}

/**
 * Moves `delta` FROST into (> 0) or out of (< 0) what the pool holds beyond its StakedWal
 * principals: its rewards pool while that stays ≥ 0, its slash debt (principal already burnt, to be
 * settled by lower-valued withdrawals) below that. Exact: `principals + rewardsPool − debt` is what
 * the pool holds. Writes the debt; the caller writes the returned pool.
 */
export function adjustReserve(store: Store, pool: PoolRow, delta: bigint): PoolRow {
  const net = pool.rewardsPool - store.slashDebt(pool.nodeId) + delta;
  store.setSlashDebt(pool.nodeId, net < 0n ? -net : 0n);
  return { ...pool, rewardsPool: net > 0n ? net : 0n };
}

/**
 * `epoch_sync_done`: the operator reports its node holds its shards for `epoch`. Once the
 * reporting members' shards reach a quorum the epoch change is done (`EpochChangeDone`).
 */
export function epochSyncDone(ctx: ExecContext, args: Readonly<Record<string, unknown>>): object {
  const p = operatorPool(ctx, args);
  const epoch = argUint(args, 'epoch', 0xffffffff);
  if (epoch !== ctx.meta.epoch)
    throw new ChainAbortError('EInvalidSyncEpoch', `sync done for epoch ${epoch}, the current epoch is ${ctx.meta.epoch}`);
  if (p.lastSyncDone >= ctx.meta.epoch) throw new ChainAbortError('EDuplicateSyncDone', `node ${p.nodeId} already reported epoch ${epoch}`);
  ctx.store.putPool({ ...p, lastSyncDone: ctx.meta.epoch });
  const member = ctx.store.committee(ctx.meta.epoch, ctx.meta.nShards)!.members.find((m) => m.nodeId === p.nodeId);
  if (!member) throw new ChainAbortError('ENotInCommittee', `node ${p.nodeId} is not in the committee of epoch ${epoch}`);
  if (ctx.meta.epochState === 'changeSync') {
    ctx.meta.syncWeight += member.weight;
    if (isQuorum(ctx.meta.syncWeight, ctx.meta.nShards)) {
      ctx.meta.epochState = 'active';
      ctx.emit({ type: 'EpochChangeDone', epoch });
    }
  }
  ctx.emit({ type: 'ShardsReceived', epoch, nodeId: p.nodeId, shards: member.shards });
  return {};
}

/**
 * What `s` is worth in `epoch` (the current one): its principal while not yet active; else its
 * shares at the rate of its withdrawal epoch once that has come (what `withdrawStake` pays), or at
 * the current rate (rewards and slashes at later epoch changes still move it).
 */
export function stakedWalValue(store: Store, s: StakedWal, epoch: number): StakedWalValue {
  const pool = store.getPool(s.nodeId)!;
  const state = s.withdrawableEpoch !== null ? 'withdrawing' : s.activationEpoch > epoch ? 'pending' : 'active';
  const at = s.withdrawableEpoch !== null && s.withdrawableEpoch <= epoch ? s.withdrawableEpoch : epoch;
  const value = payable(store, pool, s.activationEpoch > epoch ? s.principal : positionValue(store, s, pool, at));
  return { stakedWalId: s.id, nodeId: s.nodeId, principal: s.principal, state, value, valuedAtEpoch: at };
}
