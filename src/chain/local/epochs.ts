/**
 * Epoch changes of the local chain: reward distribution, committee selection by stake (D'Hondt
 * with a per-node cap), shard transitions that keep shards in place where possible, and the
 * prices and capacity voted by the new committee. The rules follow system_state_inner.move
 * (`advance_epoch`), staking_inner.move (`dhondt`, `max_shards_per_node`, `quorum_above`,
 * `quorum_below`, `epoch_sync_done`), staking_pool.move (`advance_epoch`, `process_pending_stake`)
 * and committee.move (`initialize`, `transition`).
 *
 * Where the local chain differs from Move, on purpose (one process, one clock, no voting phase):
 *  - the next committee is selected at the change itself, from each pool's stake for the new
 *    epoch (pending stake in, requested withdrawals out, this epoch's rewards included);
 *  - every pool is advanced at every change (Move advances only committee members and joiners;
 *    the result for stakers is the same, and this keeps pending stake of idle pools moving);
 *  - commission is paid straight to the operator's balance (Move keeps it in the pool until the
 *    operator collects it);
 *  - prices and capacity are set from the new committee's votes at the change (Move now applies
 *    price votes as they are cast);
 *  - with no stake anywhere and no committee yet, epochs advance with an empty committee (dev
 *    chains need time to pass before any node exists); once a committee exists, an empty next one
 *    aborts `ENoStake` as Move's `dhondt` does.
 */
import { ChainAbortError } from '../../errors.ts';
import { isQuorum } from '../../protocol/certificate.ts';
import type { CommitteeInfo, CommitteeNode, ObjectId, ShardMove } from '../types.ts';
import type { ExecContext } from './context.ts';
import { toShares, toWal } from './tables.ts';
import { N_BASIS_POINTS } from './staking.ts';
import { applyVotes, burn, isJailed, recordCommissionBurned, settleEpoch, slashPool } from './challenges.ts';

/** Move constants (staking_inner.move). */
/** From this many nodes on, a node holds at most n/SHARDS_LIMIT_DENOMINATOR shards. */
export const MIN_NODES_FOR_SHARDS_LIMIT = 20;
/** The per-node cap's denominator (10 → 10 % of the shards). */
export const SHARDS_LIMIT_DENOMINATOR = 10;
/** Move's active set size limit (TEMP_ACTIVE_SET_SIZE_LIMIT): the most members a committee may have. */
export const DEFAULT_MAX_COMMITTEE_SIZE = 150;

/** Most shards one node may hold: n/10 with ≥ 20 nodes, else ⌈20·n / (10·nodes)⌉ (no real cap). */
export function maxShardsPerNode(nNodes: number, nShards: number): number {
  if (nNodes >= MIN_NODES_FOR_SHARDS_LIMIT) return Math.floor(nShards / SHARDS_LIMIT_DENOMINATOR);
  return Math.ceil((nShards * MIN_NODES_FOR_SHARDS_LIMIT) / (nNodes * SHARDS_LIMIT_DENOMINATOR));
}

interface QuotientEntry {
  q: bigint;
  tie: number;
  index: number;
}

function higher(a: QuotientEntry, b: QuotientEntry): boolean {
  return a.q > b.q || (a.q === b.q && a.tie > b.tie);
}

/** A binary max-heap on (quotient, tie-breaker), as Move's apportionment_queue orders entries. */
class QuotientHeap {
  private readonly h: QuotientEntry[] = [];
  get size(): number {
    return this.h.length;
  }
  push(e: QuotientEntry): void {
    const h = this.h;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!higher(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  pop(): QuotientEntry {
    const h = this.h;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1,
          r = l + 1;
        let m = i;
        if (l < h.length && higher(h[l], h[m])) m = l;
        if (r < h.length && higher(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}

/**
 * D'Hondt apportionment of `nShards` to nodes by `stake`, capped per node by
 * `maxShardsPerNode`. Ties between equal quotients go to the higher `priorities` value. Quotients
 * are Move's UQ64.64 fixed point (`stake · 2^64 / (shards + 1)`, rounded down), so ties are
 * decided exactly as on chain.
 * @pre priorities, stake have the same length; stake values ≥ 0.
 * @throws ChainAbortError ENoStake when the total stake is 0.
 */
export function dhondt(priorities: readonly number[], nShards: number, stake: readonly bigint[]): number[] {
  const nNodes = stake.length;
  if (nNodes === 0) return [];
  const total = stake.reduce((a, b) => a + b, 0n);
  if (total === 0n) throw new ChainAbortError('ENoStake', 'no stake to apportion shards by');
  const maxShards = maxShardsPerNode(nNodes, nShards);
  // Hagenbach-Bischoff start: stake / (total/(n+1) + 1) shards are certain for each node.
  const distribution = total / BigInt(nShards + 1) + 1n;
  const shards = stake.map((s) => Math.min(Number(s / distribution), maxShards));
  const heap = new QuotientHeap();
  const quotient = (i: number) => (stake[i] << 64n) / BigInt(shards[i] + 1);
  for (let i = 0; i < nNodes; i++) if (shards[i] !== maxShards) heap.push({ q: quotient(i), tie: priorities[i], index: i });
  let distributed = shards.reduce((a, b) => a + b, 0);
  while (distributed !== nShards) {
    if (heap.size === 0)
      throw new ChainAbortError('EPopFromEmptyHeap', `${nNodes} nodes capped at ${maxShards} shards cannot hold ${nShards}`);
    const { tie, index } = heap.pop();
    shards[index]++;
    if (shards[index] !== maxShards) heap.push({ q: quotient(index), tie, index });
    distributed++;
  }
  return shards;
}

/** committee::initialize: shards 0, 1, … handed out in node-ID order. */
export function initialAssignment(counts: ReadonlyMap<ObjectId, number>): Map<ObjectId, number[]> {
  const out = new Map<ObjectId, number[]>();
  let next = 0;
  for (const id of [...counts.keys()].sort()) {
    const n = counts.get(id)!;
    out.set(
      id,
      Array.from({ length: n }, () => next++),
    );
  }
  return out;
}

/**
 * committee::transition: nodes keep their shards where their count allows; surplus shards (from
 * nodes that shrink or leave, taken from the end of their lists) go to nodes that grow or join.
 * @param old the previous assignment (each node's shards in chain order).
 * @param counts the new shard counts, in apportionment order (Move's VecMap order matters for
 *   which node receives which freed shard).
 * @pre Σ counts = Σ old shard counts.
 */
export function transitionAssignment(
  old: ReadonlyMap<ObjectId, readonly number[]>,
  counts: ReadonlyMap<ObjectId, number>,
): Map<ObjectId, number[]> {
  const pending = new Map(counts);
  const toMove: number[] = [];
  const out = new Map<ObjectId, number[]>();
  let oldTotal = 0;
  for (const id of [...old.keys()].sort()) {
    const prev = old.get(id)!;
    oldTotal += prev.length;
    const assigned = pending.get(id);
    pending.delete(id);
    if (assigned === undefined || assigned === 0) {
      toMove.push(...prev);
      continue;
    }
    if (prev.length === assigned) out.set(id, [...prev]);
    if (prev.length > assigned) {
      const kept = [...prev];
      for (let k = 0; k < prev.length - assigned; k++) toMove.push(kept.pop()!);
      out.set(id, kept);
    }
    // Growing nodes go to the back of the queue, as Move re-inserts them into the VecMap.
    if (prev.length < assigned) pending.set(id, assigned);
  }
  const newTotal = [...counts.values()].reduce((a, b) => a + b, 0);
  if (newTotal !== oldTotal)
    throw new ChainAbortError('EInvalidShardAssignment', `new committee has ${newTotal} shards, the old ${oldTotal}`);
  for (const [id, count] of pending) {
    if (count === 0) continue;
    const shards = [...(old.get(id) ?? [])];
    while (shards.length < count) shards.push(toMove.pop()!);
    out.set(id, shards);
  }
  return out;
}

/** Largest vote such that members voting at least it hold a quorum (Move `quorum_above`). */
export function quorumAbove(votes: readonly { value: bigint; weight: number }[], nShards: number): bigint {
  const sorted = [...votes].sort((a, b) => (a.value < b.value ? 1 : a.value > b.value ? -1 : 0));
  let sum = 0;
  for (const v of sorted) {
    sum += v.weight;
    if (isQuorum(sum, nShards)) return v.value;
  }
  throw new ChainAbortError('EPopFromEmptyHeap', 'votes do not reach a quorum');
}

/** Smallest vote that a quorum of members votes at most (Move `quorum_below`). */
export function quorumBelow(votes: readonly { value: bigint; weight: number }[], nShards: number): bigint {
  const sorted = [...votes].sort((a, b) => (a.value < b.value ? 1 : a.value > b.value ? -1 : 0));
  let sum = nShards;
  for (const v of sorted) {
    sum -= v.weight;
    if (!isQuorum(sum, nShards)) return v.value;
  }
  throw new ChainAbortError('EPopFromEmptyHeap', 'votes do not reach a quorum');
}

/**
 * Ends the current epoch: distributes its storage payments to its committee, advances every pool,
 * selects the next committee, moves shards, sets prices and capacity, and emits the events.
 * @returns the new epoch.
 * @throws ChainAbortError EWrongEpochState while the previous change is still syncing.
 */
export function advanceEpoch(ctx: ExecContext): { epoch: number } {
  const { store, meta } = ctx;
  if (meta.epochState === 'changeSync') {
    throw new ChainAbortError('EWrongEpochState', `epoch ${meta.epoch} is still syncing shards (waiting for epochSyncDone from a quorum)`, {
      retryable: true,
    });
  }
  const oldEpoch = meta.epoch;
  const newEpoch = oldEpoch + 1;
  const oldCommittee = store.committee(oldEpoch, meta.nShards)!;
  // Storage challenges first: their withholding applies to this epoch's rewards below.
  const { burnCommission, slash } = settleEpoch(ctx);

  // --- rewards of the ending epoch (system_state_inner::advance_epoch) ---------------------------
  const acct = store.accounting(oldEpoch);
  store.deleteAccounting(oldEpoch);
  const total = acct.rewards;
  const weighted = oldCommittee.members.map((m) => BigInt(m.weight) * BigInt(acct.usedCapacity));
  let totalWeighted = weighted.reduce((a, b) => a + b, 0n);
  if (totalWeighted === 0n) totalWeighted = 1n; // nothing stored: every share is 0, all rolls forward
  let leftover = total;
  const rewards = new Map<ObjectId, bigint>();
  oldCommittee.members.forEach((m, i) => {
    let r = (weighted[i] * total) / totalWeighted;
    leftover -= r;
    // Penalty hook: withheld basis points of this node's reward stay in the system.
    const bps = store.withholdingBps(m.nodeId, oldEpoch);
    if (bps > 0) {
      const withheld = (r * BigInt(bps)) / BigInt(N_BASIS_POINTS);
      r -= withheld;
      leftover += withheld;
    }
    rewards.set(m.nodeId, r);
  });

  // --- pools (staking_pool::advance_epoch + process_pending_stake) -------------------------------
  const paidOut = new Map<ObjectId, bigint>();
  for (const before of store.pools()) {
    // A slash (challenges.ts) lands first: on the stake active in the offending epoch.
    const reason = slash.get(before.nodeId);
    const pool = reason === undefined ? before : slashPool(ctx, before, oldEpoch, reason);
    let r = rewards.get(pool.nodeId) ?? 0n;
    if (r > 0n && pool.walBalance === 0n) {
      // Nobody left to earn it (Move asserts this away); keep it in the system.
      leftover += r;
      r = 0n;
    }
    const commission = (r * BigInt(pool.commissionBps)) / BigInt(N_BASIS_POINTS);
    const toPool = r - commission;
    if (commission > 0n && burnCommission.has(pool.nodeId)) {
      // An offence this epoch (challenges.ts): the operator's commission is burnt, not paid.
      burn(store, commission);
      recordCommissionBurned(store, pool.nodeId, oldEpoch, commission);
      ctx.emit({ type: 'CommissionBurned', epoch: oldEpoch, nodeId: pool.nodeId, amount: commission });
    } else if (commission > 0n) store.credit(pool.operator, commission);
    if (rewards.has(pool.nodeId)) paidOut.set(pool.nodeId, r);
    let wal = pool.walBalance + toPool;
    const rate = { wal, shares: pool.numShares };
    store.setExchangeRate(pool.nodeId, newEpoch, wal, pool.numShares);
    wal += store.flushPendingStake(pool.nodeId, newEpoch);
    const out = toWal(rate, store.flushPendingWithdraw(pool.nodeId, newEpoch));
    if (out > wal) throw new ChainAbortError('ECalculationError', `pool ${pool.nodeId} would pay out more than it holds`);
    wal -= out;
    store.putPool({
      ...pool,
      walBalance: wal,
      numShares: toShares(rate, wal),
      rewardsPool: pool.rewardsPool + toPool,
      commissionPaid: pool.commissionPaid + commission,
    });
  }
  // One event per member of the ending committee, in committee order: the reward its pool received
  // (commission included, withheld part excluded).
  for (const m of oldCommittee.members)
    ctx.emit({ type: 'RewardsDistributed', epoch: oldEpoch, nodeId: m.nodeId, amount: paidOut.get(m.nodeId) ?? 0n });
  const next = store.accounting(newEpoch);
  store.setAccounting(newEpoch, { usedCapacity: next.usedCapacity, rewards: next.rewards + leftover });

  // --- committee selection ---------------------------------------------------------------------
  const staked = store.pools().filter((p) => p.walBalance > 0n);
  // Jailed nodes (challenges.ts) sit out; if that left no one, liveness wins and they stay.
  const free = staked.filter((p) => !isJailed(store, p.nodeId, newEpoch));
  let candidates = free.length > 0 ? free : staked;
  if (candidates.length > meta.maxCommitteeSize) {
    // The active set keeps the largest stakes (earlier registration wins ties), in registration order.
    const keep = new Set(
      [...candidates]
        .sort((a, b) => (a.walBalance > b.walBalance ? -1 : a.walBalance < b.walBalance ? 1 : a.seq - b.seq))
        .slice(0, meta.maxCommitteeSize)
        .map((p) => p.nodeId),
    );
    candidates = candidates.filter((p) => keep.has(p.nodeId));
  }
  if (candidates.length === 0 && oldCommittee.members.length > 0) {
    throw new ChainAbortError('ENoStake', `no node has stake for epoch ${newEpoch}: the committee cannot be empty once it existed`);
  }
  const counts = new Map<ObjectId, number>();
  if (candidates.length > 0) {
    const shards = dhondt(
      candidates.map((_, i) => candidates.length - i),
      meta.nShards,
      candidates.map((p) => p.walBalance),
    );
    candidates.forEach((p, i) => {
      if (shards[i] > 0) counts.set(p.nodeId, shards[i]);
    });
  }
  const oldAssignment = store.committeeShardOrder(oldEpoch);
  const assignment =
    counts.size === 0
      ? new Map<ObjectId, number[]>()
      : oldAssignment.size === 0
        ? initialAssignment(counts)
        : transitionAssignment(oldAssignment, counts);

  const members: CommitteeNode[] = [...assignment.keys()].sort().map((id) => {
    const n = store.getNode(id)!;
    const shards = assignment.get(id)!;
    return { nodeId: id, publicKey: n.publicKey, shards, weight: shards.length, networkAddress: n.networkAddress, name: n.name };
  });
  const committee: CommitteeInfo = { epoch: newEpoch, nShards: meta.nShards, members };
  store.putCommittee(committee);

  const owner = new Map<number, ObjectId>();
  for (const [id, shards] of oldAssignment) for (const s of shards) owner.set(s, id);
  const moves: ShardMove[] = [];
  for (const [id, shards] of assignment) {
    for (const s of shards) {
      const from = owner.get(s) ?? null;
      if (from !== id) moves.push({ shard: s, from, to: id });
    }
  }
  moves.sort((a, b) => a.shard - b.shard);

  // --- parameters voted by the new committee ---------------------------------------------------
  if (members.length > 0) {
    const votes = members.map((m) => ({ m, p: store.getPool(m.nodeId)! }));
    meta.storagePrice = quorumBelow(
      votes.map(({ m, p }) => ({ value: p.storagePriceVote, weight: m.weight })),
      meta.nShards,
    );
    meta.writePrice = quorumBelow(
      votes.map(({ m, p }) => ({ value: p.writePriceVote, weight: m.weight })),
      meta.nShards,
    );
    const capacity = quorumAbove(
      votes.map(({ m, p }) => ({ value: (BigInt(p.capacityVote) * BigInt(meta.nShards)) / BigInt(m.weight), weight: m.weight })),
      meta.nShards,
    );
    const used = store.accounting(newEpoch).usedCapacity;
    meta.totalCapacity = Math.max(Number(capacity > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : capacity), used);
  }

  applyVotes(store, committee);

  meta.epoch = newEpoch;
  meta.epochStartMs = ctx.nowMs;
  meta.syncWeight = 0;
  // Nodes only need to sync when shards change hands between nodes; first assignments need no sync.
  meta.epochState = moves.some((m) => m.from !== null) ? 'changeSync' : 'active';
  ctx.emit({ type: 'EpochParametersSelected', nextEpoch: newEpoch });
  ctx.emit({ type: 'EpochChangeStart', epoch: newEpoch, shardMoves: moves });
  if (meta.epochState === 'active') ctx.emit({ type: 'EpochChangeDone', epoch: newEpoch });
  return { epoch: newEpoch };
}
