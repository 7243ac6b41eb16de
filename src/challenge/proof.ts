/**
 * Storage-challenge answers (docs/challenges.md §3): the commit digest a node posts first, and the
 * per-item proof it reveals after, checked against the blob's on-chain root hash. Shared by the
 * chain (verification) and storage nodes (construction), so one module owns the format.
 *
 * Proof of one item: the symbol; the Merkle path of the symbol in its expanded sliver's tree (leaf
 * = the symbol, index = its position), up to `sliverHash`; and the path of the pair leaf
 * (primary_hash ‖ secondary_hash, as the blob's metadata has it) in the tree of n pair leaves, up
 * to the blob's root hash. Tree rules are Walrus's (src/codec/merkle.ts).
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { TuskInputError } from '../errors.ts';
import { merkleProof, verifyMerkleProof, type MerkleNode } from '../codec/merkle.ts';
import type { BlobMetadata } from '../codec/metadata.ts';
import type { EncodingConfig } from '../codec/config.ts';
import { expandSlivers } from '../codec/expand.ts';
import { defaultKernel, type WasmKernel } from '../wasm/kernel.ts';
import type { ChallengeItem } from './sampler.ts';

/** A node's answer to one item. `symbol === null` declares the item absent. */
export interface ChallengeItemProof {
  readonly t: number;
  readonly symbol: Uint8Array | null;
  /** Root of the expanded sliver's tree (the metadata's primary or secondary hash of the pair). */
  readonly sliverHash: Uint8Array;
  readonly sliverPath: readonly MerkleNode[];
  /** The pair's other hash (secondary for a primary item, primary for a secondary one). */
  readonly otherHash: Uint8Array;
  readonly pairPath: readonly MerkleNode[];
}

const COMMIT_DOMAIN = new TextEncoder().encode('tusk/chal/commit/v1');

/**
 * D = BLAKE2b-256("tusk/chal/commit/v1" ‖ seed ‖ nodeId ‖ item_0 ‖ … ‖ item_{s−1}), item =
 * 0x01 ‖ u32le(len) ‖ symbol, or 0x00 for an absent one. Binds the symbols the node had at commit
 * time, so a node cannot fetch what it lacks between commit and reveal.
 */
export function commitDigest(seed: Uint8Array, nodeId: Uint8Array, symbols: readonly (Uint8Array | null)[]): Uint8Array {
  const h = blake2b.create({ dkLen: 32 });
  h.update(COMMIT_DOMAIN).update(seed).update(nodeId);
  for (const s of symbols) {
    if (s === null) h.update(new Uint8Array([0]));
    else {
      const head = new Uint8Array(5);
      head[0] = 1;
      new DataView(head.buffer).setUint32(1, s.length, true);
      h.update(head).update(s);
    }
  }
  return h.digest();
}

/** Verdict on one revealed item. */
export type ItemVerdict = 'valid' | 'absent' | 'invalid';

/**
 * Checks `proof` for `item` (the chain's own item, never the node's claims) against
 * `item.rootHash` for a committee of `nShards`. Malformed proofs are `invalid`, never thrown.
 */
export function verifyItemProof(
  item: ChallengeItem,
  proof: ChallengeItemProof,
  nShards: number,
  kernel: WasmKernel = defaultKernel(),
): ItemVerdict {
  if (proof.symbol === null) return 'absent';
  try {
    if (proof.symbol.length !== item.symbolSize || proof.sliverHash.length !== 32 || proof.otherHash.length !== 32) return 'invalid';
    if (!verifyMerkleProof(proof.sliverHash, proof.symbol, item.position, nShards, proof.sliverPath, kernel)) return 'invalid';
    const leaf = new Uint8Array(64);
    leaf.set(item.axis === 'primary' ? proof.sliverHash : proof.otherHash, 0);
    leaf.set(item.axis === 'primary' ? proof.otherHash : proof.sliverHash, 32);
    return verifyMerkleProof(item.rootHash, leaf, item.pair, nShards, proof.pairPath, kernel) ? 'valid' : 'invalid';
  } catch (e) {
    if (e instanceof TuskInputError) return 'invalid';
    throw e;
  }
}

/** H(0x00 ‖ primary ‖ secondary) for every pair of `metadata`, back to back (the root tree's leaves). */
function pairLeafHashes(metadata: BlobMetadata): Uint8Array {
  const n = metadata.hashes.length;
  const out = new Uint8Array(n * 32);
  const leaf = new Uint8Array(65);
  metadata.hashes.forEach((h, i) => {
    leaf.set(h.primary, 1);
    leaf.set(h.secondary, 33);
    out.set(blake2b(leaf, { dkLen: 32 }), i * 32);
  });
  return out;
}

/**
 * Builds the proof of `item` from the node's copy of the sliver (`sliverSource`: the k source
 * symbols of that sliver, k·S bytes, as stored) and the blob's verified `metadata`. Expands the
 * sliver once to get its leaf hashes. Nothing is kept; the result is owned by the caller.
 * @param pairLeaves optional cache of the metadata's pair-leaf hashes (reused across items of a blob).
 */
export function buildItemProof(
  cfg: EncodingConfig,
  item: ChallengeItem,
  sliverSource: Uint8Array,
  metadata: BlobMetadata,
  kernel: WasmKernel = defaultKernel(),
  pairLeaves: Uint8Array = pairLeafHashes(metadata),
): ChallengeItemProof {
  const n = cfg.nShards;
  const S = item.symbolSize;
  let sliverPath: MerkleNode[] = [];
  expandSlivers(kernel, cfg, item.axis, [sliverSource], S, (_t, _symbols, leafHashes) => {
    sliverPath = merkleProof(leafHashes.slice(), n, item.position, kernel);
  });
  const h = metadata.hashes[item.pair];
  return {
    t: item.t,
    symbol: sliverSource.slice(item.position * S, (item.position + 1) * S),
    sliverHash: item.axis === 'primary' ? h.primary : h.secondary,
    sliverPath,
    otherHash: item.axis === 'primary' ? h.secondary : h.primary,
    pairPath: merkleProof(pairLeaves, n, item.pair, kernel),
  };
}

/**
 * The proof of `item` when the caller has already expanded the sliver elsewhere (a storage node
 * does it on its codec pool, off the event loop): `symbol` is the item's source symbol and
 * `sliverLeaves` the n·32 leaf hashes of the expanded sliver. Same result as `buildItemProof`.
 * @param pairLeaves the metadata's pair-leaf hashes (`pairLeafHashes`).
 */
export function itemProofFromLeaves(
  item: ChallengeItem,
  symbol: Uint8Array,
  sliverLeaves: Uint8Array,
  metadata: BlobMetadata,
  pairLeaves: Uint8Array,
  kernel: WasmKernel = defaultKernel(),
): ChallengeItemProof {
  const n = metadata.hashes.length;
  if (sliverLeaves.length !== n * 32) throw new TuskInputError(`sliver leaves must be ${n * 32} bytes, got ${sliverLeaves.length}`);
  const h = metadata.hashes[item.pair];
  return {
    t: item.t,
    symbol,
    sliverHash: item.axis === 'primary' ? h.primary : h.secondary,
    sliverPath: merkleProof(sliverLeaves, n, item.position, kernel),
    otherHash: item.axis === 'primary' ? h.secondary : h.primary,
    pairPath: merkleProof(pairLeaves, n, item.pair, kernel),
  };
}

/** The metadata's pair-leaf hashes, for reuse by several `buildItemProof` calls on one blob. */
export { pairLeafHashes };

/** What a node has of one challenged sliver: its source symbols and the blob's verified metadata. */
export interface HeldSliver {
  readonly cfg: EncodingConfig;
  /** The sliver's k source symbols (k·S bytes), as stored. */
  readonly data: Uint8Array;
  readonly metadata: BlobMetadata;
}

/**
 * A node's whole answer to a round: the proof of every item it holds, `absent` (symbol null, no
 * paths) for every item `lookup` cannot find. `digest` is what it commits first.
 * @param lookup returns the node's copy of the item's sliver, or null when it lacks it.
 */
export function answerRound(
  seed: Uint8Array,
  nodeId: Uint8Array,
  items: readonly ChallengeItem[],
  lookup: (item: ChallengeItem) => HeldSliver | null,
  kernel: WasmKernel = defaultKernel(),
): { digest: Uint8Array; proofs: ChallengeItemProof[] } {
  const leavesCache = new Map<BlobMetadata, Uint8Array>();
  const proofs = items.map((item): ChallengeItemProof => {
    const held = lookup(item);
    if (held === null)
      return { t: item.t, symbol: null, sliverHash: new Uint8Array(32), sliverPath: [], otherHash: new Uint8Array(32), pairPath: [] };
    let leaves = leavesCache.get(held.metadata);
    if (!leaves) leavesCache.set(held.metadata, (leaves = pairLeafHashes(held.metadata)));
    return buildItemProof(held.cfg, item, held.data, held.metadata, kernel, leaves);
  });
  return {
    digest: commitDigest(
      seed,
      nodeId,
      proofs.map((p) => p.symbol),
    ),
    proofs,
  };
}
