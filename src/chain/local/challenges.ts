/**
 * Storage challenges on the local chain (issue #16; design in docs/challenges.md, research in
 * the shared spec challenges.md §6). Once per epoch the chain draws a random seed and, for every
 * committee node that holds shards, `samples` items: byte-weighted random source symbols of the
 * node's slivers of certified blobs. The node answers each item with the symbol, its Merkle path
 * in the expanded sliver tree, both sliver roots of the pair and the pair's path to the blob's
 * on-chain `rootHash`, so the chain checks every answer against its own commitment and trusts no
 * peer. When the round is finished, a node that did not answer every item correctly fails it:
 * its whole reward for the epoch is withheld (the existing withholding hook), and a node failing
 * `jailThreshold` of its last `jailWindow` rounds is jailed (left out of the next committee) and
 * loses `slashBps` of its pool's stake, which is burnt and counted in the supply audit.
 *
 * Everything here runs inside one `ExecContext` (one SQLite transaction), like the other modules.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { ChainAbortError, TuskInputError } from '../../errors.ts';
import { EncodingConfig, ENCODING_TYPE_RS2 } from '../../codec/config.ts';
import { blobIdRotation } from '../../codec/blob-id.ts';
import { type MerkleNode, verifyMerkleProof } from '../../codec/merkle.ts';
import { pairForShard } from '../../protocol/placement.ts';
import type { ChallengeNodeStatus, ObjectId } from '../types.ts';
import type { ExecContext } from './context.ts';
import type { Store } from './tables.ts';
import { N_BASIS_POINTS } from './staking.ts';

/** Challenge parameters, fixed at chain creation (meta keys `challenge.*`). */
export interface ChallengeParams {
  /** Items (source symbols) drawn per node per round. */
  readonly samples: number;
  /** Failed rounds within the last `jailWindow` rounds of a node that jail and slash it. */
  readonly jailThreshold: number;
  readonly jailWindow: number;
  /** Basis points of the pool's stake burnt when the node is jailed. */
  readonly slashBps: number;
}

/**
 * Defaults: 128 samples per round (one round per epoch) catch a node missing 10 % of its bytes
 * with probability 1 − 0.9^128 ≈ 1 − 1.4·10⁻⁶ in one round; 2 failures in the last 3 rounds
 * jail it and burn 1 % of its pool's stake.
 */
export const CHALLENGE_DEFAULTS: ChallengeParams = { samples: 128, jailThreshold: 2, jailWindow: 3, slashBps: 100 };

const META_KEYS = {
  samples: 'challenge.samples',
  jailThreshold: 'challenge.jailThreshold',
  jailWindow: 'challenge.jailWindow',
  slashBps: 'challenge.slashBps',
} as const;

/** Validates `p` (merged over the defaults). @throws TuskInputError for a bad value. */
export function checkChallengeParams(p: Partial<ChallengeParams> | undefined): ChallengeParams {
  const out = { ...CHALLENGE_DEFAULTS, ...(p ?? {}) };
  const int = (name: keyof ChallengeParams, lo: number, hi: number) => {
    const v = out[name];
    if (!Number.isSafeInteger(v) || v < lo || v > hi)
      throw new TuskInputError(`challenges.${name} must be an integer in ${lo}…${hi}, got ${v}`);
  };
  int('samples', 1, 4096);
  int('jailWindow', 1, 1000);
  int('jailThreshold', 1, out.jailWindow);
  int('slashBps', 0, N_BASIS_POINTS);
  return out;
}

/** Writes the parameters of a new chain. */
export function writeChallengeParams(store: Store, p: ChallengeParams): void {
  for (const k of Object.keys(META_KEYS) as (keyof ChallengeParams)[]) store.setMetaValue(META_KEYS[k], String(p[k]));
}

/** The chain's parameters (defaults for chains created before challenges existed). */
export function readChallengeParams(store: Store): ChallengeParams {
  const get = (k: keyof ChallengeParams) => {
    const v = store.getMetaValue(META_KEYS[k]);
    return v === undefined ? CHALLENGE_DEFAULTS[k] : Number(v);
  };
  return { samples: get('samples'), jailThreshold: get('jailThreshold'), jailWindow: get('jailWindow'), slashBps: get('slashBps') };
}

// --- sampling (pure) ---------------------------------------------------------------------------

/** A challengeable blob: its ID, on-chain root and unencoded size. */
export interface ChallengeBlob {
  readonly blobId: Uint8Array;
  readonly rootHash: Uint8Array;
  readonly size: number;
}

/** One drawn item: a source symbol of one of the node's slivers. */
export interface ChallengeItem {
  readonly index: number;
  /** Position of the blob in the round's blob list. */
  readonly blob: number;
  readonly pair: number;
  readonly axis: 'primary' | 'secondary';
  /** Sliver index on `axis` (primary: pair; secondary: n − 1 − pair). */
  readonly sliverIndex: number;
  /** Leaf index in the expanded sliver tree (always a source position). */
  readonly position: number;
}

function u32le(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex.replace(/^0x/, ''), 'hex'));
}

/**
 * The items of node `nodeId` for a round with `seed`: item t is drawn from
 * BLAKE2b-256("tusk/chal/item/v1" ‖ seed ‖ nodeId ‖ u16le t): a blob with probability
 * proportional to its sliver-pair bytes, one of the node's shards uniformly, then one of the
 * k_s + k_p source symbols of that pair uniformly — so every stored source byte is equally likely.
 * Pre: `blobs` non-empty, `shards` non-empty. Deterministic in its inputs.
 */
export function drawChallengeItems(
  cfg: EncodingConfig,
  seed: Uint8Array,
  nodeId: ObjectId,
  shards: readonly number[],
  blobs: readonly ChallengeBlob[],
  samples: number,
): ChallengeItem[] {
  const n = cfg.nShards;
  const a = cfg.secondarySymbols; // source symbols of a primary sliver
  const b = cfg.primarySymbols; // source symbols of a secondary sliver
  const prefix: bigint[] = [];
  let total = 0n;
  for (const bl of blobs) {
    total += BigInt((a + b) * cfg.symbolSize(bl.size));
    prefix.push(total);
  }
  const id = hexBytes(nodeId);
  const tag = new TextEncoder().encode('tusk/chal/item/v1');
  const items: ChallengeItem[] = [];
  for (let t = 0; t < samples; t++) {
    const input = new Uint8Array(tag.length + seed.length + id.length + 2);
    input.set(tag, 0);
    input.set(seed, tag.length);
    input.set(id, tag.length + seed.length);
    input[input.length - 2] = t & 0xff;
    input[input.length - 1] = t >> 8;
    const r = blake2b(input, { dkLen: 32 });
    const x = BigInt('0x' + Buffer.from(r.subarray(0, 16)).toString('hex')) % total;
    let lo = 0;
    let hi = prefix.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (prefix[mid] > x) hi = mid;
      else lo = mid + 1;
    }
    const shard = shards[u32le(r, 16) % shards.length];
    const pair = pairForShard(shard, blobIdRotation(blobs[lo].blobId, n), n);
    const v = u32le(r, 20) % (a + b);
    items.push(
      v < a
        ? { index: t, blob: lo, pair, axis: 'primary', sliverIndex: pair, position: v }
        : { index: t, blob: lo, pair, axis: 'secondary', sliverIndex: n - 1 - pair, position: v - a },
    );
  }
  return items;
}

/** A node's answer to one item; `symbol` undefined declares the item missing. */
export interface ChallengeAnswer {
  readonly index: number;
  readonly symbol?: Uint8Array;
  /** Path of `symbol` at `position` in the expanded sliver tree. */
  readonly sliverProof?: readonly MerkleNode[];
  /** Roots of the pair's primary and secondary slivers (the pair leaf). */
  readonly primaryHash?: Uint8Array;
  readonly secondaryHash?: Uint8Array;
  /** Path of the pair leaf at `pair` in the blob's root tree. */
  readonly pairProof?: readonly MerkleNode[];
}

/** Whether `answer` proves `item` of a blob with `rootHash` and symbol size `S`. Never throws. */
export function verifyChallengeAnswer(
  cfg: EncodingConfig,
  item: ChallengeItem,
  rootHash: Uint8Array,
  S: number,
  answer: ChallengeAnswer,
): boolean {
  try {
    const { symbol, sliverProof, primaryHash, secondaryHash, pairProof } = answer;
    if (!symbol || !sliverProof || !primaryHash || !secondaryHash || !pairProof || symbol.length !== S) return false;
    if (primaryHash.length !== 32 || secondaryHash.length !== 32) return false;
    const n = cfg.nShards;
    const sliverRoot = item.axis === 'primary' ? primaryHash : secondaryHash;
    if (!verifyMerkleProof(sliverRoot, symbol, item.position, n, sliverProof)) return false;
    const leaf = new Uint8Array(64);
    leaf.set(primaryHash, 0);
    leaf.set(secondaryHash, 32);
    return verifyMerkleProof(rootHash, leaf, item.pair, n, pairProof);
  } catch {
    return false; // malformed proof nodes are a failed answer, not a chain error
  }
}

/** Whether a node with `results` (newest last; true = passed) is jailed under `p`. */
export function shouldJail(results: readonly boolean[], p: ChallengeParams): boolean {
  const recent = results.slice(-p.jailWindow);
  return recent.filter((ok) => !ok).length >= p.jailThreshold;
}

// --- chain calls -------------------------------------------------------------------------------

/** Blobs challengeable in `epoch`: RS2, certified in an earlier epoch, still stored; one per blob ID. */
export function challengeableBlobs(store: Store, epoch: number): ChallengeBlob[] {
  const rows = store
    .q(
      `SELECT blob_id, root_hash, size FROM blobs WHERE certified_epoch IS NOT NULL AND certified_epoch < ? AND storage_end > ?
       AND encoding_type = ? GROUP BY blob_id ORDER BY blob_id`,
    )
    .all(epoch, epoch, ENCODING_TYPE_RS2) as { blob_id: Uint8Array; root_hash: Uint8Array; size: number }[];
  return rows.map((r) => ({ blobId: new Uint8Array(r.blob_id), rootHash: new Uint8Array(r.root_hash), size: Number(r.size) }));
}

/** Whether `epoch` has a started, unfinished round (advanceEpoch finishes it first). */
export function hasOpenRound(store: Store, epoch: number): boolean {
  return openRound(store, epoch) !== null;
}

/** The open round of the current epoch, if any. */
function openRound(store: Store, epoch: number): { seed: Uint8Array } | null {
  const r = store.q('SELECT seed FROM challenge_rounds WHERE epoch = ? AND finished = 0').get(epoch) as { seed: Uint8Array } | undefined;
  return r ? { seed: new Uint8Array(r.seed) } : null;
}

/**
 * Starts the challenge round of the current epoch with `seed` (32 bytes from the chain's CSPRNG):
 * draws and stores every committee node's items. Nodes without shards, or an epoch without
 * challengeable blobs, get no items (their round is void and counts as neither pass nor fail).
 * @throws ChainAbortError EChallengeRoundExists if this epoch already had its round.
 */
export function startChallengeRound(ctx: ExecContext, seed: Uint8Array): { epoch: number; nodes: number; items: number } {
  const { store, meta } = ctx;
  if (seed.length !== 32) throw new TuskInputError('challenge seed must be 32 bytes');
  if (store.q('SELECT 1 FROM challenge_rounds WHERE epoch = ?').get(meta.epoch))
    throw new ChainAbortError('EChallengeRoundExists', `epoch ${meta.epoch} already had its challenge round`);
  store.q('INSERT INTO challenge_rounds(epoch, seed, finished) VALUES (?, ?, 0)').run(meta.epoch, seed);
  const blobs = challengeableBlobs(store, meta.epoch);
  const committee = store.committee(meta.epoch, meta.nShards)!;
  const p = readChallengeParams(store);
  let nodes = 0;
  let count = 0;
  if (blobs.length > 0) {
    const cfg = new EncodingConfig(meta.nShards);
    const ins = store.q(
      'INSERT INTO challenge_items(epoch, node_id, idx, blob_id, root_hash, size, pair, axis, sliver_index, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    for (const m of committee.members) {
      if (m.shards.length === 0) continue;
      nodes++;
      for (const it of drawChallengeItems(cfg, seed, m.nodeId, m.shards, blobs, p.samples)) {
        const bl = blobs[it.blob];
        ins.run(meta.epoch, m.nodeId, it.index, bl.blobId, bl.rootHash, bl.size, it.pair, it.axis, it.sliverIndex, it.position);
        count++;
      }
    }
  }
  return { epoch: meta.epoch, nodes, items: count };
}

/** An item as served to the challenged node. */
export interface ChallengeItemView extends Omit<ChallengeItem, 'blob'> {
  readonly blobId: Uint8Array;
  readonly size: number;
}

/** The items of `nodeId` in the open round of the current epoch (empty when none). */
export function challengeItemsOf(store: Store, epoch: number, nodeId: ObjectId): ChallengeItemView[] {
  const rows = store
    .q('SELECT idx, blob_id, size, pair, axis, sliver_index, position FROM challenge_items WHERE epoch = ? AND node_id = ? ORDER BY idx')
    .all(epoch, nodeId) as {
    idx: number;
    blob_id: Uint8Array;
    size: number;
    pair: number;
    axis: string;
    sliver_index: number;
    position: number;
  }[];
  return rows.map((r) => ({
    index: r.idx,
    blobId: new Uint8Array(r.blob_id),
    size: r.size,
    pair: r.pair,
    axis: r.axis as 'primary' | 'secondary',
    sliverIndex: r.sliver_index,
    position: r.position,
  }));
}

/**
 * Records `nodeId`'s answers in the open round: each item is verified now and its verdict stored
 * (a later answer to the same item replaces it). @returns how many answers verified.
 * @throws ChainAbortError ENoChallengeRound when no round is open.
 */
export function answerChallenge(ctx: ExecContext, nodeId: ObjectId, answers: readonly ChallengeAnswer[]): { verified: number } {
  const { store, meta } = ctx;
  if (!openRound(store, meta.epoch)) throw new ChainAbortError('ENoChallengeRound', `no challenge round is open in epoch ${meta.epoch}`);
  const cfg = new EncodingConfig(meta.nShards);
  const get = store.q(
    'SELECT root_hash, size, pair, axis, sliver_index, position FROM challenge_items WHERE epoch = ? AND node_id = ? AND idx = ?',
  );
  const set = store.q('UPDATE challenge_items SET ok = ? WHERE epoch = ? AND node_id = ? AND idx = ?');
  let verified = 0;
  for (const a of answers) {
    const r = get.get(meta.epoch, nodeId, a.index) as
      { root_hash: Uint8Array; size: number; pair: number; axis: string; sliver_index: number; position: number } | undefined;
    if (!r) continue;
    const item: ChallengeItem = {
      index: a.index,
      blob: 0,
      pair: r.pair,
      axis: r.axis as 'primary' | 'secondary',
      sliverIndex: r.sliver_index,
      position: r.position,
    };
    const ok = verifyChallengeAnswer(cfg, item, new Uint8Array(r.root_hash), cfg.symbolSize(r.size), a);
    set.run(ok ? 1 : 0, meta.epoch, nodeId, a.index);
    if (ok) verified++;
  }
  return { verified };
}

/** Outcome of one node in a finished round. */
export interface ChallengeOutcome {
  readonly nodeId: ObjectId;
  readonly passed: boolean;
  readonly jailed: boolean;
  readonly slashed: bigint;
}

/**
 * Finishes the open round: a node passes iff every one of its items verified. A failing node's
 * reward for the epoch is withheld in full; a node whose recent failures reach the threshold is
 * jailed for the next epoch and `slashBps` of its pool's stake is burnt (principal of every stake
 * in the pool and the pool's balance shrink by the same total, recorded in `challenge_slashes`).
 */
export function finishChallengeRound(ctx: ExecContext): { epoch: number; outcomes: ChallengeOutcome[] } {
  const { store, meta } = ctx;
  if (!openRound(store, meta.epoch)) throw new ChainAbortError('ENoChallengeRound', `no challenge round is open in epoch ${meta.epoch}`);
  const p = readChallengeParams(store);
  const rows = store
    .q(
      'SELECT node_id, COUNT(*) AS n, SUM(CASE WHEN ok = 1 THEN 1 ELSE 0 END) AS good FROM challenge_items WHERE epoch = ? GROUP BY node_id ORDER BY node_id',
    )
    .all(meta.epoch) as { node_id: string; n: number; good: number }[];
  const outcomes: ChallengeOutcome[] = [];
  for (const r of rows) {
    const passed = Number(r.good) === Number(r.n);
    store.q('INSERT INTO challenge_results(epoch, node_id, passed) VALUES (?, ?, ?)').run(meta.epoch, r.node_id, passed ? 1 : 0);
    let jailed = false;
    let slashed = 0n;
    if (!passed) {
      store.setWithholdingBps(r.node_id, meta.epoch, N_BASIS_POINTS);
      const history = (
        store.q('SELECT passed FROM challenge_results WHERE node_id = ? ORDER BY epoch DESC LIMIT ?').all(r.node_id, p.jailWindow) as {
          passed: number;
        }[]
      )
        .map((h) => h.passed === 1)
        .reverse();
      if (shouldJail(history, p)) {
        jailed = true;
        store.q('INSERT OR REPLACE INTO jail(node_id, until_epoch) VALUES (?, ?)').run(r.node_id, meta.epoch + 1);
        slashed = slashPool(store, r.node_id, meta.epoch, p.slashBps);
      }
    }
    outcomes.push({ nodeId: r.node_id, passed, jailed, slashed });
  }
  store.q('UPDATE challenge_rounds SET finished = 1 WHERE epoch = ?').run(meta.epoch);
  return { epoch: meta.epoch, outcomes };
}

/** Burns `bps` of every stake's principal in `nodeId`'s pool; @returns the FROST burnt. */
function slashPool(store: Store, nodeId: ObjectId, epoch: number, bps: number): bigint {
  const stakes = store.q('SELECT id, principal FROM staked_wal WHERE node_id = ?').all(nodeId) as { id: string; principal: string }[];
  let burnt = 0n;
  const upd = store.q('UPDATE staked_wal SET principal = ? WHERE id = ?');
  for (const s of stakes) {
    const principal = BigInt(s.principal);
    const cut = (principal * BigInt(bps)) / BigInt(N_BASIS_POINTS);
    if (cut === 0n) continue;
    upd.run((principal - cut).toString(), s.id);
    burnt += cut;
  }
  const pool = store.getPool(nodeId);
  if (pool) store.putPool({ ...pool, walBalance: pool.walBalance > burnt ? pool.walBalance - burnt : 0n });
  if (burnt > 0n) store.q('INSERT INTO challenge_slashes(node_id, epoch, amount) VALUES (?, ?, ?)').run(nodeId, epoch, burnt.toString());
  return burnt;
}

/** Whether `nodeId` is jailed for `epoch` (left out of that epoch's committee). */
export function isJailed(store: Store, nodeId: ObjectId, epoch: number): boolean {
  const r = store.q('SELECT until_epoch FROM jail WHERE node_id = ?').get(nodeId) as { until_epoch: number } | undefined;
  return r !== undefined && epoch <= r.until_epoch;
}

/** Total FROST burnt by slashing (a term of the supply audit). */
export function totalSlashed(store: Store): bigint {
  let s = 0n;
  for (const r of store.q('SELECT amount FROM challenge_slashes').all() as { amount: string }[]) s += BigInt(r.amount);
  return s;
}

/** Every registered node's record, in registration order. */
export function challengeStatus(store: Store, epoch: number): ChallengeNodeStatus[] {
  const rows = store
    .q(
      `SELECT n.node_id AS id, n.name AS name,
        (SELECT COUNT(*) FROM challenge_results r WHERE r.node_id = n.node_id AND r.passed = 1) AS passed,
        (SELECT COUNT(*) FROM challenge_results r WHERE r.node_id = n.node_id AND r.passed = 0) AS failed
       FROM nodes n ORDER BY n.seq`,
    )
    .all() as { id: string; name: string; passed: number; failed: number }[];
  return rows.map((r) => {
    let slashed = 0n;
    for (const s of store.q('SELECT amount FROM challenge_slashes WHERE node_id = ?').all(r.id) as { amount: string }[])
      slashed += BigInt(s.amount);
    return {
      nodeId: r.id,
      name: r.name,
      roundsPassed: Number(r.passed),
      roundsFailed: Number(r.failed),
      jailed: isJailed(store, r.id, epoch) || isJailed(store, r.id, epoch + 1),
      slashed,
    };
  });
}

export type { ChallengeNodeStatus };
