/**
 * Shared pieces of the storage challenge tests: real RS2 blobs, simulated storage nodes that
 * answer challenge items from what they hold (with real Merkle proofs), and a chain with a
 * 4-node committee and those blobs certified.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import type { LocalChain } from '../../src/chain/local/index.ts';
import type { ChallengeAnswer, ChallengeItemView } from '../../src/chain/local/challenges.ts';
import { encodedBlobLength } from '../../src/chain/local/blobs.ts';
import { EncodingConfig } from '../../src/codec/config.ts';
import { encodeBlob, type EncodedBlob } from '../../src/codec/encode.ts';
import { merkleProof, type MerkleNode } from '../../src/codec/merkle.ts';
import { recoverySymbolsFrom } from '../../src/codec/recovery.ts';
import { leafHash } from '../../src/hash/blake2b.ts';
import { blobIdRotation } from '../../src/codec/blob-id.ts';
import { pairForShard } from '../../src/protocol/placement.ts';
import { storageConfirmationMessage } from '../../src/protocol/messages.ts';
import { certificate, fundedAccount, openTestChain, setupCommittee, type TestNode } from './local-helpers.ts';

export const N = 10;
const BLOBS = 10;
const BLOB_SIZE = 3000;
export const cfg = new EncodingConfig(N);
export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A deterministic PRNG (xorshift32) for the cheaters' choices. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

export const seedOf = (tag: string, i: number) => blake2b(new TextEncoder().encode(`sim:${tag}:${i}`), { dkLen: 32 });

/** The test blobs (equal sizes, so a fraction of units is the same fraction of bytes). */
export const encoded: EncodedBlob[] = [];
const answerCache = new Map<string, ChallengeAnswer>();
const pairLeaves = new Map<string, Uint8Array>();

for (let i = 0; i < BLOBS; i++) {
  const data = new Uint8Array(BLOB_SIZE);
  const r = prng(1000 + i);
  for (let j = 0; j < data.length; j++) data[j] = Math.floor(r() * 256);
  encoded.push(encodeBlob(data, { nShards: N }));
}

function blobOf(blobId: Uint8Array): EncodedBlob {
  const b = encoded.find((e) => hex(e.blobId) === hex(blobId));
  if (!b) throw new Error('unknown blob');
  return b;
}

/** What an honest holder answers for `item`: the symbol, its sliver path, the pair leaf and its path. */
export function honestAnswer(item: ChallengeItemView): ChallengeAnswer {
  const key = `${hex(item.blobId)}:${item.axis}:${item.sliverIndex}:${item.position}`;
  let a = answerCache.get(key);
  if (!a) {
    const enc = blobOf(item.blobId);
    const sliver = item.axis === 'primary' ? enc.primarySlivers[item.sliverIndex] : enc.secondarySlivers[item.sliverIndex];
    const [rs] = recoverySymbolsFrom(cfg, sliver, [item.position]);
    let leaves = pairLeaves.get(hex(item.blobId));
    if (!leaves) {
      leaves = new Uint8Array(32 * N);
      enc.metadata.hashes.forEach((h, i) => {
        const leaf = new Uint8Array(64);
        leaf.set(h.primary, 0);
        leaf.set(h.secondary, 32);
        leaves!.set(leafHash(leaf), 32 * i);
      });
      pairLeaves.set(hex(item.blobId), leaves);
    }
    const h = enc.metadata.hashes[item.pair];
    a = {
      index: 0,
      symbol: rs.data,
      sliverProof: rs.proof as MerkleNode[],
      primaryHash: h.primary,
      secondaryHash: h.secondary,
      pairProof: merkleProof(leaves, N, item.pair),
    };
    answerCache.set(key, a);
  }
  return { ...a, index: item.index };
}

/** A simulated node: answers honestly except for the (blob, pair) units it deleted. */
export function answers(items: readonly ChallengeItemView[], deleted: ReadonlySet<string>): ChallengeAnswer[] {
  return items.map((it) => (deleted.has(`${hex(it.blobId)}:${it.pair}`) ? { index: it.index } : honestAnswer(it)));
}

/** Exactly 10 % (rounded) of a node's (blob, pair) units, chosen by `rand`. */
export function deleteTenPercent(shards: readonly number[], rand: () => number): Set<string> {
  const units: string[] = [];
  for (const e of encoded) for (const s of shards) units.push(`${hex(e.blobId)}:${pairForShard(s, blobIdRotation(e.blobId, N), N)}`);
  for (let i = units.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [units[i], units[j]] = [units[j], units[i]];
  }
  return new Set(units.slice(0, Math.round(units.length / 10)));
}

export async function chainWithBlobs(): Promise<{ chain: LocalChain; nodes: TestNode[] }> {
  const { chain } = await openTestChain({ maxEpochsAhead: 1000 });
  const nodes = await setupCommittee(chain, [10n ** 12n, 10n ** 12n, 10n ** 12n, 10n ** 12n]);
  const owner = await fundedAccount(chain, 10n ** 17n);
  const epoch = (await chain.systemState()).epoch;
  for (const e of encoded) {
    const { blob } = await chain.registerBlob(owner, {
      storage: { size: encodedBlobLength(e.unencodedLength, 1, N), epochsAhead: 1000 },
      blobId: e.blobId,
      rootHash: e.rootHash,
      size: e.unencodedLength,
      encodingType: 1,
      deletable: false,
    });
    await chain.certifyBlob(
      owner,
      blob.id,
      await certificate(chain, nodes, storageConfirmationMessage(epoch, e.blobId, { kind: 'permanent' })),
    );
  }
  await chain.advanceEpoch(); // blobs certified in an earlier epoch become challengeable
  return { chain, nodes };
}

/** Reports epochSyncDone for every member of the new committee when the change moved shards. */
export async function syncAll(chain: LocalChain, nodes: readonly TestNode[]): Promise<void> {
  const st = await chain.systemState();
  if (st.epochState !== 'changeSync') return;
  for (const m of st.committee.members) {
    const n = nodes.find((x) => x.nodeId === m.nodeId)!;
    await chain.epochSyncDone(n.operator, n.nodeId, st.epoch);
  }
}
