/**
 * Where a blob's slivers live: the committee's shard assignment and the blob ID's rotation
 * (walrus-protocol.md §2) decide, for each node, which sliver pairs it stores. Pair p of a blob
 * sits on shard (p + offset) mod n, offset = blob ID (big-endian) mod n; the node holding that
 * shard keeps primary sliver p and secondary sliver n − 1 − p.
 */
import { blobIdRotation, type BlobId } from '../codec/blob-id.ts';
import type { Committee } from './certificate.ts';
import { TuskInputError } from '../errors.ts';

/** What placement reads of a committee member (chain/types.ts `CommitteeNode` is one). */
export interface PlacementMember {
  /** 48-byte compressed BLS12-381 G1 public key. */
  readonly publicKey: Uint8Array;
  /** Shard indices held in the committee's epoch. */
  readonly shards: readonly number[];
}

/** What placement reads of a committee (chain/types.ts `CommitteeInfo` is one). */
export interface PlacementCommittee<N extends PlacementMember = PlacementMember> {
  readonly epoch: number;
  readonly nShards: number;
  readonly members: readonly N[];
}

/** One committee member and the sliver pairs of a given blob that it stores. */
export interface NodePlacement<N extends PlacementMember = PlacementMember> {
  /** Position in `committee.members` (= signer index in certificates). */
  readonly member: number;
  readonly node: N;
  /** Pair indices, one per shard the node holds (same order as `node.shards`). */
  readonly pairs: readonly number[];
}

/** The pair index stored on `shard` for a blob whose rotation offset is `offset`. */
export function pairForShard(shard: number, offset: number, nShards: number): number {
  return (nShards + shard - offset) % nShards;
}

/** The shard holding pair `pair` for rotation offset `offset`. */
export function shardForPair(pair: number, offset: number, nShards: number): number {
  return (pair + offset) % nShards;
}

/**
 * Every member's pairs for `blobId`. @throws TuskInputError when the committee does not hold each
 * shard exactly once (a chain bug or a committee read mid-change).
 */
export function placeBlob<N extends PlacementMember>(committee: PlacementCommittee<N>, blobId: BlobId): NodePlacement<N>[] {
  const n = committee.nShards;
  const offset = blobIdRotation(blobId, n);
  const seen = new Uint8Array(n);
  const out = committee.members.map((node, member) => ({
    member,
    node,
    pairs: node.shards.map((s) => {
      if (!Number.isInteger(s) || s < 0 || s >= n || seen[s])
        throw new TuskInputError(`committee of epoch ${committee.epoch} assigns shard ${s} twice or out of range`);
      seen[s] = 1;
      return pairForShard(s, offset, n);
    }),
  }));
  if (seen.some((v) => v === 0)) throw new TuskInputError(`committee of epoch ${committee.epoch} leaves shards unassigned`);
  return out;
}

/** The committee in the form certificates are checked against (weights = shard counts). */
export function certificateCommittee(committee: PlacementCommittee): Committee {
  return {
    epoch: committee.epoch,
    nShards: committee.nShards,
    members: committee.members.map((m) => ({ publicKey: m.publicKey, weight: m.shards.length })),
  };
}
