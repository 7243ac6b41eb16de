/**
 * Storage challenges on the local chain (docs/challenges.md): rounds seeded by the chain's
 * randomness, commit-then-reveal answers verified against each blob's on-chain root hash,
 * per-node outcomes, and their consequences at the epoch change (reward withholding, jail,
 * commission burning).
 *
 * A round: `startRound` (the chain's clock or a dev call) draws a 32-byte seed and assigns each
 * committee node `symbolsPerRound` items (src/challenge/sampler.ts) of its challengeable slivers.
 * The node's operator then calls `commitChallenge` with the digest of its symbols before
 * `commitWindowMs` has passed, and `proveChallenge` with the symbols and Merkle proofs before
 * `proofWindowMs`. A round is closed by the next round's start or by the epoch change: a node
 * that did not commit `missed` it; one that committed but did not prove all items `failed` it.
 *
 * Settlement (`settleEpoch`, run by advanceEpoch before rewards): the share of scheduled rounds a
 * node did not pass is withheld from its reward (the withholding hook; withheld FROST roll forward
 * to the next epoch); an offence jails the node (left out of the next `jailEpochs` committees) and
 * burns the commission its operator would have been paid for the epoch. Offences:
 *  - data loss: items declared absent or proven invalid in ≥ `lossRoundsToJail` rounds over this
 *    and the previous epoch, or ≥ `lossItemsToJail` such items in one round;
 *  - unavailability: passed at most half of ≥ `minRoundsForUnavailable` rounds scheduled over
 *    this and the previous epoch.
 * Data loss, and unavailability again within two epochs of a jail term's end (persistent
 * failure), also slash the pool: `slashPool` burns `slashBps` of its active stake, which lowers the
 * pool's exchange rate, so every staker of that node (and only of that node) loses the same
 * fraction when withdrawing (staking.ts `positionValue`). Evidence counts once: the window of an
 * offence starts after the node's previous one.
 */
import { randomBytes } from 'node:crypto';
import { ChainAbortError, TuskInputError } from '../../errors.ts';
import { BlobWeights, sampleItems, type ChallengeableBlob, type ChallengeItem } from '../../challenge/sampler.ts';
import { commitDigest, verifyItemProof, type ChallengeItemProof } from '../../challenge/proof.ts';
import { equalBytes } from '../../util/bytes.ts';
import { decodeChainJson, encodeChainJson } from '../json.ts';
import type { ChallengeOutcome, ChallengePenaltyRecord, ChallengeSummary, ObjectId } from '../types.ts';
import { argAddress, argBytes, argUint, requireOwner, type ExecContext } from './context.ts';
import type { PoolRow, Store } from './tables.ts';
import { adjustReserve } from './staking.ts';
import type { CommitteeInfo } from '../types.ts';
import { quorumBelow } from './epochs.ts';

/** Challenge and penalty parameters (fixed at genesis; stored in the chain's meta table). */
export interface ChallengeParams {
  /** Items per node per round (s). 0 turns challenges off. */
  readonly symbolsPerRound: number;
  /** Rounds the chain's clock starts per epoch, evenly spaced (R). */
  readonly roundsPerEpoch: number;
  /** How long after a round starts a commit is accepted (W1). */
  readonly commitWindowMs: number;
  /** How long after a round starts the proof is accepted (W2 ≥ W1). */
  readonly proofWindowMs: number;
  /** Committees a jailed node is left out of. */
  readonly jailEpochs: number;
  /** Rounds with absent or invalid items (this and the previous epoch) that jail a node. */
  readonly lossRoundsToJail: number;
  /** Absent or invalid items in one round that jail a node. */
  readonly lossItemsToJail: number;
  /** Scheduled rounds (this and the previous epoch) before unavailability (≤ 50 % passed) counts. */
  readonly minRoundsForUnavailable: number;
  /** Basis points of a pool's active stake burnt for data loss or persistent unavailability (0: never slash). */
  readonly slashBps: number;
}

/** Defaults: s = 32 and R = 4 give P(caught) = 1 − 0.9^128 ≈ 1 − 1.4·10⁻⁶ per epoch at 10 % loss. */
export const DEFAULT_CHALLENGE_PARAMS: ChallengeParams = {
  symbolsPerRound: 32,
  roundsPerEpoch: 4,
  commitWindowMs: 20_000,
  proofWindowMs: 5 * 60_000,
  jailEpochs: 1,
  lossRoundsToJail: 2,
  lossItemsToJail: 8,
  minRoundsForUnavailable: 2,
  slashBps: 1000,
};

const PARAMS_KEY = 'challengeParams';
const BURNED_KEY = 'burned';
const SLASHED_KEY = 'slashed';

/** Checks and completes `p` over the defaults. @throws TuskInputError for a bad value. */
export function challengeParams(p: Partial<ChallengeParams> = {}): ChallengeParams {
  const out = { ...DEFAULT_CHALLENGE_PARAMS, ...p };
  for (const [k, v] of Object.entries(out))
    if (!Number.isSafeInteger(v) || (v as number) < 0)
      throw new TuskInputError(`challenge parameter ${k} must be a non-negative integer, got ${v}`);
  if (out.symbolsPerRound > 1024) throw new TuskInputError('symbolsPerRound must be at most 1024');
  if (out.slashBps > 10_000) throw new TuskInputError('slashBps must be at most 10000 (100 %)');
  if (out.proofWindowMs < out.commitWindowMs) throw new TuskInputError('proofWindowMs must be at least commitWindowMs');
  return out;
}

/** The chain's parameters (defaults for chains created before challenges existed). */
export function readParams(store: Store): ChallengeParams {
  const v = store.getMetaValue(PARAMS_KEY);
  return v === undefined ? DEFAULT_CHALLENGE_PARAMS : challengeParams(JSON.parse(v) as Partial<ChallengeParams>);
}

/** Stores `p` at genesis. */
export function writeParams(store: Store, p: ChallengeParams): void {
  store.setMetaValue(PARAMS_KEY, JSON.stringify(p));
}

/** FROST burnt by penalties so far (part of the supply audit). */
export function burned(store: Store): bigint {
  return BigInt(store.getMetaValue(BURNED_KEY) ?? '0');
}

/** Adds `amount` to the burnt total. */
export function burn(store: Store, amount: bigint): void {
  store.setMetaValue(BURNED_KEY, (burned(store) + amount).toString());
}

/** FROST burnt by stake slashing so far (included in `burned`). */
export function slashedTotal(store: Store): bigint {
  return BigInt(store.getMetaValue(SLASHED_KEY) ?? '0');
}

/** Why a pool was slashed: proven data loss, or unavailability again soon after a jail term. */
export type SlashReason = 'dataLoss' | 'persistentFailure';

/**
 * Slashes `pool` for `reason` (advanceEpoch, before the epoch's rewards and before withdrawals
 * leave, so stake active in the offending epoch bears it): burns `slashBps` of its active stake
 * (`walBalance`, shares unchanged, so the exchange rate drops), taken from its rewards pool first
 * and beyond that recorded as slash debt against the principals (staking.ts `adjustReserve`).
 * Pending stake (not yet active) is untouched.
 * @returns the pool as slashed (the caller writes it).
 */
export function slashPool(ctx: ExecContext, pool: PoolRow, epoch: number, reason: SlashReason): PoolRow {
  const amount = (pool.walBalance * BigInt(readParams(ctx.store).slashBps)) / 10_000n;
  if (amount === 0n) return pool;
  const out = adjustReserve(ctx.store, { ...pool, walBalance: pool.walBalance - amount }, -amount);
  burn(ctx.store, amount);
  ctx.store.setMetaValue(SLASHED_KEY, (slashedTotal(ctx.store) + amount).toString());
  ctx.store.q('UPDATE challenge_penalties SET slashed = ? WHERE node_id = ? AND epoch = ?').run(amount.toString(), pool.nodeId, epoch);
  ctx.emit({ type: 'NodeSlashed', epoch, nodeId: pool.nodeId, reason, amount });
  return out;
}

/** Records the commission burnt for `nodeId`'s offence in `epoch` (advanceEpoch). */
export function recordCommissionBurned(store: Store, nodeId: ObjectId, epoch: number, amount: bigint): void {
  store.q('UPDATE challenge_penalties SET commission_burned = ? WHERE node_id = ? AND epoch = ?').run(amount.toString(), nodeId, epoch);
}

/** One round as stored. */
export interface ChallengeRoundRow {
  readonly epoch: number;
  readonly round: number;
  readonly seed: Uint8Array;
  readonly startedMs: number;
  readonly closed: boolean;
}

/** One node's assignment in a round, with its outcome once known. */
export interface ChallengeAssignment {
  readonly epoch: number;
  readonly round: number;
  readonly nodeId: ObjectId;
  readonly items: ChallengeItem[];
  readonly committed: boolean;
  readonly outcome: ChallengeOutcome | null;
  readonly absent: number;
  readonly invalid: number;
}

interface AssignmentRow {
  epoch: number;
  round: number;
  node_id: string;
  items: string;
  commit_digest: Uint8Array | null;
  outcome: string | null;
  absent: number;
  invalid: number;
}

function toAssignment(r: AssignmentRow): ChallengeAssignment {
  return {
    epoch: r.epoch,
    round: r.round,
    nodeId: r.node_id,
    items: decodeChainJson(r.items) as ChallengeItem[],
    committed: r.commit_digest !== null,
    outcome: r.outcome as ChallengeOutcome | null,
    absent: r.absent,
    invalid: r.invalid,
  };
}

/** The last round of `epoch`, or null. */
export function lastRound(store: Store, epoch: number): ChallengeRoundRow | null {
  const r = store.q('SELECT * FROM challenge_rounds WHERE epoch = ? ORDER BY round DESC LIMIT 1').get(epoch) as
    { epoch: number; round: number; seed: Uint8Array; started_ms: number; closed: number } | undefined;
  return r ? { epoch: r.epoch, round: r.round, seed: new Uint8Array(r.seed), startedMs: r.started_ms, closed: r.closed !== 0 } : null;
}

/** Rounds of `epoch`, oldest first. */
export function roundsOf(store: Store, epoch: number): ChallengeRoundRow[] {
  return (
    store.q('SELECT * FROM challenge_rounds WHERE epoch = ? ORDER BY round').all(epoch) as {
      epoch: number;
      round: number;
      seed: Uint8Array;
      started_ms: number;
      closed: number;
    }[]
  ).map((r) => ({ epoch: r.epoch, round: r.round, seed: new Uint8Array(r.seed), startedMs: r.started_ms, closed: r.closed !== 0 }));
}

/** Assignments of a round (all nodes, or one). */
export function assignments(store: Store, epoch: number, round: number, nodeId?: ObjectId): ChallengeAssignment[] {
  const rows = (nodeId === undefined
    ? store.q('SELECT * FROM challenge_assignments WHERE epoch = ? AND round = ? ORDER BY node_id').all(epoch, round)
    : store
        .q('SELECT * FROM challenge_assignments WHERE epoch = ? AND round = ? AND node_id = ?')
        .all(epoch, round, nodeId)) as unknown as AssignmentRow[];
  return rows.map(toAssignment);
}

/** Every assignment of `nodeId` in epochs from…to (inclusive). */
export function nodeAssignments(store: Store, nodeId: ObjectId, fromEpoch: number, toEpoch: number): ChallengeAssignment[] {
  return (
    store
      .q('SELECT * FROM challenge_assignments WHERE node_id = ? AND epoch BETWEEN ? AND ? ORDER BY epoch, round')
      .all(nodeId, fromEpoch, toEpoch) as unknown as AssignmentRow[]
  ).map(toAssignment);
}

/** Live certified blobs certified before `epoch` and not invalidated, one per blob ID. */
function challengeableBlobs(store: Store, epoch: number): ChallengeableBlob[] {
  const rows = store
    .q(
      `SELECT blob_id, MIN(root_hash) AS root_hash, MIN(size) AS size, MIN(encoding_type) AS encoding_type FROM blobs
       WHERE certified_epoch IS NOT NULL AND certified_epoch < ? AND storage_end > ?
         AND blob_id NOT IN (SELECT blob_id FROM invalid_blob_ids)
       GROUP BY blob_id ORDER BY blob_id`,
    )
    .all(epoch, epoch) as { blob_id: Uint8Array; root_hash: Uint8Array; size: number; encoding_type: number }[];
  return rows.map((r) => ({
    blobId: new Uint8Array(r.blob_id),
    rootHash: new Uint8Array(r.root_hash),
    size: r.size,
    encodingType: r.encoding_type,
  }));
}

/** Is `blobId` still a live, certified, valid blob in `epoch` (else its items are waived)? */
function stillLive(store: Store, blobId: Uint8Array, epoch: number): boolean {
  const r = store
    .q(
      `SELECT 1 FROM blobs WHERE blob_id = ? AND certified_epoch IS NOT NULL AND storage_end > ?
         AND blob_id NOT IN (SELECT blob_id FROM invalid_blob_ids) LIMIT 1`,
    )
    .get(blobId, epoch);
  return r !== undefined;
}

function hexToBytes(id: string): Uint8Array {
  return Uint8Array.from(Buffer.from(id.slice(2), 'hex'));
}

/**
 * Starts the next round of the current epoch with `seed` (default: 32 bytes from the CSPRNG),
 * closing the previous open one first. Each committee node gets its items for the shards it also
 * held in the previous epoch or has reported synced (`epochSyncDone`); a node with none gets no
 * assignment (a void round for it).
 * @throws ChainAbortError EWrongEpochState during an epoch change (rounds are void then), and
 *   EChallengesOff when symbolsPerRound is 0.
 */
export function startRound(ctx: ExecContext, seed: Uint8Array = randomBytes(32)): { epoch: number; round: number; nodes: number } {
  const { store, meta } = ctx;
  const params = readParams(store);
  if (params.symbolsPerRound === 0) throw new ChainAbortError('EChallengesOff', 'storage challenges are off on this chain');
  if (meta.epochState !== 'active')
    throw new ChainAbortError('EWrongEpochState', `epoch ${meta.epoch} is changing committees: no challenge round until it is done`, {
      retryable: true,
    });
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new TuskInputError('challenge seed must be 32 bytes');
  const prev = lastRound(store, meta.epoch);
  if (prev && !prev.closed) closeRound(ctx, prev);
  const round = prev ? prev.round + 1 : 0;
  store
    .q('INSERT INTO challenge_rounds(epoch, round, seed, started_ms, closed) VALUES (?, ?, ?, ?, 0)')
    .run(meta.epoch, round, seed, ctx.nowMs);
  const committee = store.committee(meta.epoch, meta.nShards)!;
  const before = meta.epoch > 0 ? store.committee(meta.epoch - 1, meta.nShards) : null;
  const weights = new BlobWeights(challengeableBlobs(store, meta.epoch), meta.nShards);
  let nodes = 0;
  for (const m of committee.members) {
    const synced = (store.getPool(m.nodeId)?.lastSyncDone ?? -1) >= meta.epoch;
    const held = new Set(before?.members.find((b) => b.nodeId === m.nodeId)?.shards ?? []);
    const shards = synced ? m.shards : m.shards.filter((s) => held.has(s));
    const items = sampleItems(seed, hexToBytes(m.nodeId), weights, shards, meta.nShards, params.symbolsPerRound);
    if (items.length === 0) continue;
    store
      .q('INSERT INTO challenge_assignments(epoch, round, node_id, items) VALUES (?, ?, ?, ?)')
      .run(meta.epoch, round, m.nodeId, encodeChainJson(items));
    nodes++;
  }
  ctx.emit({
    type: 'ChallengeRoundStarted',
    epoch: meta.epoch,
    round,
    seed,
    commitDeadlineMs: ctx.nowMs + params.commitWindowMs,
    proofDeadlineMs: ctx.nowMs + params.proofWindowMs,
  });
  return { epoch: meta.epoch, round, nodes };
}

function setOutcome(ctx: ExecContext, a: ChallengeAssignment, outcome: ChallengeOutcome, absent: number, invalid: number): void {
  ctx.store
    .q('UPDATE challenge_assignments SET outcome = ?, absent = ?, invalid = ? WHERE epoch = ? AND round = ? AND node_id = ?')
    .run(outcome, absent, invalid, a.epoch, a.round, a.nodeId);
  ctx.emit({ type: 'ChallengeResult', epoch: a.epoch, round: a.round, nodeId: a.nodeId, outcome, absent, invalid });
}

/** Closes `r`: unanswered assignments become `missed` (no commit) or `failed` (no proof). */
export function closeRound(ctx: ExecContext, r: ChallengeRoundRow): void {
  for (const a of assignments(ctx.store, r.epoch, r.round))
    if (a.outcome === null) setOutcome(ctx, a, a.committed ? 'failed' : 'missed', 0, 0);
  ctx.store.q('UPDATE challenge_rounds SET closed = 1 WHERE epoch = ? AND round = ?').run(r.epoch, r.round);
}

/** The open round `args.epoch/round` and the sender's assignment in it (operator-checked). */
function openAssignment(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { a: ChallengeAssignment; r: ChallengeRoundRow } {
  const nodeId = argAddress(args, 'nodeId');
  const pool = ctx.store.getPool(nodeId);
  if (!pool) throw new ChainAbortError('EPoolNotFound', `no storage node ${nodeId}`);
  requireOwner(ctx, pool.operator, `StorageNodeCap of ${nodeId}`);
  const epoch = argUint(args, 'epoch', 0xffffffff);
  const round = argUint(args, 'round', 0xffffffff);
  const r = lastRound(ctx.store, epoch);
  if (epoch !== ctx.meta.epoch || r === null || r.round !== round || r.closed)
    throw new ChainAbortError('EChallengeClosed', `challenge round ${epoch}/${round} is not open`);
  const [a] = assignments(ctx.store, epoch, round, nodeId);
  if (!a) throw new ChainAbortError('ENotChallenged', `node ${nodeId} has nothing to answer in round ${epoch}/${round}`);
  if (a.outcome !== null)
    throw new ChainAbortError('EChallengeAnswered', `node ${nodeId} already has outcome ${a.outcome} in round ${epoch}/${round}`);
  return { a, r };
}

/** Signed call: the digest of the node's answers, within the commit window. */
export function commitChallenge(ctx: ExecContext, args: Readonly<Record<string, unknown>>): object {
  const { a, r } = openAssignment(ctx, args);
  const digest = argBytes(args, 'digest', 32);
  const params = readParams(ctx.store);
  if (a.committed) throw new ChainAbortError('EChallengeCommitted', `node ${a.nodeId} already committed in round ${a.epoch}/${a.round}`);
  if (ctx.nowMs > r.startedMs + params.commitWindowMs)
    throw new ChainAbortError(
      'EChallengeCommitLate',
      `the commit window of round ${a.epoch}/${a.round} closed ${ctx.nowMs - r.startedMs - params.commitWindowMs} ms ago`,
    );
  ctx.store
    .q('UPDATE challenge_assignments SET commit_digest = ? WHERE epoch = ? AND round = ? AND node_id = ?')
    .run(digest, a.epoch, a.round, a.nodeId);
  return {};
}

function readProofs(args: Readonly<Record<string, unknown>>, count: number): ChallengeItemProof[] {
  const v = args.proofs;
  if (!Array.isArray(v) || v.length !== count) throw new TuskInputError(`proofs must be an array of ${count} item proofs`);
  return v.map((p: unknown, t) => {
    const o = p as Record<string, unknown>;
    const bytes = (x: unknown) => x instanceof Uint8Array;
    const path = (x: unknown) => Array.isArray(x) && x.length <= 32 && x.every((n) => n === null || bytes(n));
    if (
      typeof o !== 'object' ||
      o === null ||
      o.t !== t ||
      !(o.symbol === null || bytes(o.symbol)) ||
      !bytes(o.sliverHash) ||
      !bytes(o.otherHash) ||
      !path(o.sliverPath) ||
      !path(o.pairPath)
    )
      throw new TuskInputError(`proofs[${t}] is not an item proof for item ${t}`);
    return o as unknown as ChallengeItemProof;
  });
}

/**
 * Signed call: the answers. Each item is checked against the chain's own item (blob, pair, axis,
 * position) and the blob's root hash; items of blobs deleted, expired or invalidated since the
 * round started are waived. Passed iff the digest matches the commit and every item is valid.
 */
export function proveChallenge(
  ctx: ExecContext,
  args: Readonly<Record<string, unknown>>,
): { outcome: ChallengeOutcome; absent: number; invalid: number } {
  const { a, r } = openAssignment(ctx, args);
  const params = readParams(ctx.store);
  if (!a.committed)
    throw new ChainAbortError('EChallengeNotCommitted', `node ${a.nodeId} has not committed in round ${a.epoch}/${a.round}`);
  if (ctx.nowMs > r.startedMs + params.proofWindowMs)
    throw new ChainAbortError('EChallengeProofLate', `the proof window of round ${a.epoch}/${a.round} has closed`);
  const proofs = readProofs(args, a.items.length);
  const row = ctx.store
    .q('SELECT commit_digest FROM challenge_assignments WHERE epoch = ? AND round = ? AND node_id = ?')
    .get(a.epoch, a.round, a.nodeId) as { commit_digest: Uint8Array };
  const digestOk = equalBytes(
    new Uint8Array(row.commit_digest),
    commitDigest(
      r.seed,
      hexToBytes(a.nodeId),
      proofs.map((p) => p.symbol),
    ),
  );
  let absent = 0,
    invalid = 0;
  a.items.forEach((item, t) => {
    if (!stillLive(ctx.store, item.blobId, a.epoch)) return; // waived
    const v = verifyItemProof(item, proofs[t], ctx.meta.nShards);
    if (v === 'absent') absent++;
    if (v === 'invalid') invalid++;
  });
  const outcome: ChallengeOutcome = digestOk && absent === 0 && invalid === 0 ? 'passed' : 'failed';
  setOutcome(ctx, a, outcome, absent, invalid);
  return { outcome, absent, invalid };
}

/** Is `nodeId` jailed for (left out of) the committee of `epoch`? */
export function isJailed(store: Store, nodeId: ObjectId, epoch: number): boolean {
  const r = store.q('SELECT until_epoch FROM jail WHERE node_id = ?').get(nodeId) as { until_epoch: number } | undefined;
  return r !== undefined && epoch < r.until_epoch;
}

/** Until which epoch `nodeId` is jailed (exclusive), or null. */
export function jailedUntil(store: Store, nodeId: ObjectId): number | null {
  const r = store.q('SELECT until_epoch FROM jail WHERE node_id = ?').get(nodeId) as { until_epoch: number } | undefined;
  return r?.until_epoch ?? null;
}

/** The counts settlement works from. */
export interface RoundTally {
  readonly scheduled: number;
  readonly passed: number;
  readonly failed: number;
  readonly missed: number;
  /** Rounds with at least one absent or invalid item. */
  readonly lossRounds: number;
  /** Most absent + invalid items in one round. */
  readonly worstLoss: number;
}

/** Counts `as` (one node's assignments). */
export function tally(as: readonly ChallengeAssignment[]): RoundTally {
  let passed = 0,
    failed = 0,
    missed = 0,
    lossRounds = 0,
    worstLoss = 0;
  for (const a of as) {
    if (a.outcome === 'passed') passed++;
    else if (a.outcome === 'failed') failed++;
    else if (a.outcome === 'missed') missed++;
    const loss = a.absent + a.invalid;
    if (loss > 0) lossRounds++;
    worstLoss = Math.max(worstLoss, loss);
  }
  return { scheduled: as.length, passed, failed, missed, lossRounds, worstLoss };
}

/**
 * The penalty rule, a pure function of the counts (the simulation harness runs it directly):
 * withheld bps for the epoch, and the offence (if any) over the two-epoch window.
 */
export function assess(
  params: ChallengeParams,
  epochTally: RoundTally,
  windowTally: RoundTally,
): { withholdingBps: number; offence: 'dataLoss' | 'unavailable' | null } {
  const notPassed = epochTally.failed + epochTally.missed;
  const withholdingBps = epochTally.scheduled === 0 ? 0 : Math.round((10_000 * notPassed) / epochTally.scheduled);
  let offence: 'dataLoss' | 'unavailable' | null = null;
  if (windowTally.lossRounds >= params.lossRoundsToJail || windowTally.worstLoss >= params.lossItemsToJail) offence = 'dataLoss';
  else if (windowTally.scheduled >= params.minRoundsForUnavailable && 2 * windowTally.passed <= windowTally.scheduled)
    offence = 'unavailable';
  return { withholdingBps, offence };
}

/** What settlement decided for the ending epoch (advanceEpoch applies the money parts). */
export interface Settlement {
  /** Nodes whose operator commission for the epoch is burnt (an offence). */
  readonly burnCommission: Set<ObjectId>;
  /** Pools to slash, and why. */
  readonly slash: Map<ObjectId, SlashReason>;
}

/**
 * Whether an offence settled at the end of `epoch` also slashes the pool (a pure rule; the
 * simulation harness runs it too; jail and commission burning apply to every offence): data loss
 * always, unavailability when it comes within two epochs of the end of the node's previous jail
 * term (`previousJailUntil`: its first two epochs back, or while liveness kept it in). Never when
 * `slashBps` is 0.
 */
export function penaltiesFor(
  params: ChallengeParams,
  offence: 'dataLoss' | 'unavailable',
  epoch: number,
  previousJailUntil: number | null,
): { slash: SlashReason | null } {
  const repeat = previousJailUntil !== null && previousJailUntil >= epoch - 1;
  if (params.slashBps === 0) return { slash: null };
  return { slash: offence === 'dataLoss' ? 'dataLoss' : repeat ? 'persistentFailure' : null };
}

/** The last epoch in which `nodeId` committed an offence, or null. */
function lastOffenceEpoch(store: Store, nodeId: ObjectId): number | null {
  const r = store.q('SELECT MAX(epoch) AS e FROM challenge_penalties WHERE node_id = ? AND offence IS NOT NULL').get(nodeId) as
    { e: number | null } | undefined;
  return r?.e ?? null;
}

/**
 * Epoch-change settlement (advanceEpoch calls it first): closes the open round, sets each member's
 * withholding (never lowering a manual value), jails offenders and records the epoch's outcome per
 * node (`challenge_penalties`). The evidence window of an offence is this and the previous epoch,
 * but never reaches back to the node's previous offence (one piece of evidence, one penalty).
 * @returns whose commission to burn and which pools to slash.
 */
export function settleEpoch(ctx: ExecContext): Settlement {
  const { store, meta } = ctx;
  const params = readParams(store);
  const open = lastRound(store, meta.epoch);
  if (open && !open.closed) closeRound(ctx, open);
  const burnCommission = new Set<ObjectId>();
  const slash = new Map<ObjectId, SlashReason>();
  const committee = store.committee(meta.epoch, meta.nShards)!;
  for (const m of committee.members) {
    const epochTally = tally(nodeAssignments(store, m.nodeId, meta.epoch, meta.epoch));
    if (epochTally.scheduled === 0) continue;
    const last = lastOffenceEpoch(store, m.nodeId);
    const windowFrom = Math.max(0, meta.epoch - 1, last === null ? 0 : last + 1);
    const windowTally = tally(nodeAssignments(store, m.nodeId, windowFrom, meta.epoch));
    const { withholdingBps, offence } = assess(params, epochTally, windowTally);
    const bps = Math.max(withholdingBps, store.withholdingBps(m.nodeId, meta.epoch));
    store.setWithholdingBps(m.nodeId, meta.epoch, bps);
    ctx.emit({
      type: 'PerformanceApplied',
      epoch: meta.epoch,
      nodeId: m.nodeId,
      scheduled: epochTally.scheduled,
      passed: epochTally.passed,
      failed: epochTally.failed,
      missed: epochTally.missed,
      withholdingBps: bps,
    });
    let jailTerm: number | null = null;
    if (offence !== null) {
      const previous = jailedUntil(store, m.nodeId);
      if (!isJailed(store, m.nodeId, meta.epoch + 1)) {
        jailTerm = meta.epoch + 1 + params.jailEpochs;
        store.q('INSERT OR REPLACE INTO jail(node_id, until_epoch) VALUES (?, ?)').run(m.nodeId, jailTerm);
        ctx.emit({ type: 'NodeJailed', epoch: meta.epoch, nodeId: m.nodeId, untilEpoch: jailTerm, reason: offence });
        burnCommission.add(m.nodeId);
      }
      const p = penaltiesFor(params, offence, meta.epoch, previous);
      if (p.slash !== null) slash.set(m.nodeId, p.slash);
    }
    store
      .q(
        `INSERT OR REPLACE INTO challenge_penalties(node_id, epoch, scheduled, passed, failed, missed, withholding_bps, offence, jailed_until)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(m.nodeId, meta.epoch, epochTally.scheduled, epochTally.passed, epochTally.failed, epochTally.missed, bps, offence, jailTerm);
  }
  return { burnCommission, slash };
}

/**
 * Signed call: the operator's vote on some of the challenge and penalty parameters (the others keep
 * its earlier vote, or count as the current value). Counts from the next epoch change, like the
 * price votes.
 */
export function voteChallengeParams(ctx: ExecContext, args: Readonly<Record<string, unknown>>): object {
  const nodeId = argAddress(args, 'nodeId');
  const pool = ctx.store.getPool(nodeId);
  if (!pool) throw new ChainAbortError('EPoolNotFound', `no storage node ${nodeId}`);
  requireOwner(ctx, pool.operator, `StorageNodeCap of ${nodeId}`);
  const v = args.params;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TuskInputError('params must be an object of challenge parameters');
  const known = Object.keys(DEFAULT_CHALLENGE_PARAMS);
  for (const k of Object.keys(v)) if (!known.includes(k)) throw new TuskInputError(`unknown challenge parameter ${k}`);
  const prev = ctx.store.q('SELECT params FROM challenge_votes WHERE node_id = ?').get(nodeId) as { params: string } | undefined;
  const merged = { ...(prev ? (JSON.parse(prev.params) as object) : {}), ...(v as object) };
  challengeParams(merged as Partial<ChallengeParams>); // each value checked alone
  ctx.store.q('INSERT OR REPLACE INTO challenge_votes(node_id, params) VALUES (?, ?)').run(nodeId, JSON.stringify(merged));
  return {};
}

/**
 * Applies the new committee's votes (advanceEpoch, after selection): for each parameter, the
 * smallest value that members holding a quorum of shards vote at most (Move's `quorum_below`, the
 * rule of the price votes). Members without a vote on it count as voting the current value, so
 * nothing changes without a quorum behind it. A combination that fails the checks is not applied.
 */
export function applyVotes(store: Store, committee: CommitteeInfo): void {
  if (committee.members.length === 0) return;
  const current = readParams(store);
  const votes = new Map<string, Partial<ChallengeParams>>();
  for (const m of committee.members) {
    const r = store.q('SELECT params FROM challenge_votes WHERE node_id = ?').get(m.nodeId) as { params: string } | undefined;
    if (r) votes.set(m.nodeId, JSON.parse(r.params) as Partial<ChallengeParams>);
  }
  if (votes.size === 0) return;
  const next: Record<string, number> = { ...current };
  for (const k of Object.keys(current) as (keyof ChallengeParams)[]) {
    const value = quorumBelow(
      committee.members.map((m) => ({ value: BigInt(votes.get(m.nodeId)?.[k] ?? current[k]), weight: m.weight })),
      committee.nShards,
    );
    next[k] = Number(value);
  }
  try {
    writeParams(store, challengeParams(next));
  } catch (e) {
    if (!(e instanceof TuskInputError)) throw e;
  }
}

/** Settlements of epochs from…to, of every node or of `nodeId` (the `challenge_penalties` rows). */
export function penalties(store: Store, fromEpoch: number, toEpoch: number, nodeId?: ObjectId): ChallengePenaltyRecord[] {
  const rows = (
    nodeId === undefined
      ? store.q('SELECT * FROM challenge_penalties WHERE epoch BETWEEN ? AND ? ORDER BY epoch, node_id').all(fromEpoch, toEpoch)
      : store
          .q('SELECT * FROM challenge_penalties WHERE epoch BETWEEN ? AND ? AND node_id = ? ORDER BY epoch')
          .all(fromEpoch, toEpoch, nodeId)
  ) as {
    node_id: string;
    epoch: number;
    scheduled: number;
    passed: number;
    failed: number;
    missed: number;
    withholding_bps: number;
    offence: string | null;
    jailed_until: number | null;
    commission_burned: string;
    slashed: string;
  }[];
  return rows.map((r) => ({
    nodeId: r.node_id,
    epoch: r.epoch,
    scheduled: r.scheduled,
    passed: r.passed,
    failed: r.failed,
    missed: r.missed,
    withholdingBps: r.withholding_bps,
    offence: r.offence as ChallengePenaltyRecord['offence'],
    jailedUntilEpoch: r.jailed_until,
    commissionBurned: BigInt(r.commission_burned),
    slashed: BigInt(r.slashed),
  }));
}

/** The chain-wide picture for `tusk info challenges` at `epoch` (the current one). */
export function summary(store: Store, epoch: number): ChallengeSummary {
  const params = readParams(store);
  const r = lastRound(store, epoch);
  const currentRound = r
    ? {
        epoch: r.epoch,
        round: r.round,
        startedMs: r.startedMs,
        closed: r.closed,
        commitDeadlineMs: r.startedMs + params.commitWindowMs,
        proofDeadlineMs: r.startedMs + params.proofWindowMs,
        nodes: assignments(store, r.epoch, r.round).length,
      }
    : null;
  const last = store.q('SELECT epoch, round FROM challenge_rounds WHERE closed = 1 ORDER BY epoch DESC, round DESC LIMIT 1').get() as
    { epoch: number; round: number } | undefined;
  const lastOutcomes = last
    ? {
        epoch: last.epoch,
        round: last.round,
        nodes: assignments(store, last.epoch, last.round)
          .filter((a) => a.outcome !== null)
          .map((a) => ({ nodeId: a.nodeId, outcome: a.outcome!, absent: a.absent, invalid: a.invalid })),
      }
    : null;
  const jailed = (
    store.q('SELECT node_id, until_epoch FROM jail WHERE until_epoch > ? ORDER BY node_id').all(epoch) as {
      node_id: string;
      until_epoch: number;
    }[]
  ).map((j) => ({ nodeId: j.node_id, untilEpoch: j.until_epoch }));
  let commissionBurned = 0n;
  for (const c of store.q('SELECT commission_burned FROM challenge_penalties').all() as { commission_burned: string }[])
    commissionBurned += BigInt(c.commission_burned);
  return {
    epoch,
    params: { ...params },
    currentRound,
    lastOutcomes,
    jailed,
    burned: burned(store),
    slashed: slashedTotal(store),
    commissionBurned,
  };
}
