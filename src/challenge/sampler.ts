/**
 * Storage-challenge sampling (docs/challenges.md §2): which source symbols a committee node must
 * produce in one round. Every stored source byte of the node's challengeable slivers is equally
 * likely to be drawn (byte weighting), so "a node deleting x of its bytes" fails one item with
 * probability x. Items are derived from the round's seed and the node ID alone, so the chain and
 * the node compute the same list independently.
 *
 * Pure functions, no I/O; the chain (src/chain/local/challenges.ts) and storage nodes share them.
 */
import { blake2b } from '@noble/hashes/blake2.js';
import { TuskInputError } from '../errors.ts';
import { EncodingConfig } from '../codec/config.ts';
import { encodingByType } from '../codec/encodings/index.ts';
import { blobIdRotation } from '../codec/blob-id.ts';
import { sliverSymbols } from '../codec/task-plan.ts';
import type { SliverAxis } from '../codec/sliver.ts';
import { pairForShard } from '../protocol/placement.ts';

/** One certified blob that may be challenged (from the chain's blob table). */
export interface ChallengeableBlob {
  /** 32-byte blob ID. */
  readonly blobId: Uint8Array;
  /** 32-byte metadata root hash registered on chain: every proof is checked against it. */
  readonly rootHash: Uint8Array;
  /** Unencoded length in bytes. */
  readonly size: number;
  /** Encoding type byte (RS2, RS8). */
  readonly encodingType: number;
}

/** One challenged symbol: source symbol `position` of the `axis` sliver of `pair` of `blobId`. */
export interface ChallengeItem {
  /** Item index t in the round (0 … s − 1). */
  readonly t: number;
  readonly blobId: Uint8Array;
  readonly rootHash: Uint8Array;
  readonly shard: number;
  readonly pair: number;
  readonly axis: SliverAxis;
  /** Index of the symbol in its sliver (a source position: < k of that axis). */
  readonly position: number;
  /** Bytes of one symbol of this blob. */
  readonly symbolSize: number;
}

const ITEM_DOMAIN = new TextEncoder().encode('tusk/chal/item/v1');

/** r_{j,t} = BLAKE2b-256("tusk/chal/item/v1" ‖ seed ‖ nodeId ‖ u16le t). */
export function itemRandomness(seed: Uint8Array, nodeId: Uint8Array, t: number): Uint8Array {
  const buf = new Uint8Array(ITEM_DOMAIN.length + seed.length + nodeId.length + 2);
  buf.set(ITEM_DOMAIN, 0);
  buf.set(seed, ITEM_DOMAIN.length);
  buf.set(nodeId, ITEM_DOMAIN.length + seed.length);
  buf[buf.length - 2] = t & 0xff;
  buf[buf.length - 1] = (t >>> 8) & 0xff;
  return blake2b(buf, { dkLen: 32 });
}

function uintLe(bytes: Uint8Array, from: number, to: number): bigint {
  let v = 0n;
  for (let i = to - 1; i >= from; i--) v = (v << 8n) | BigInt(bytes[i]);
  return v;
}

/** Per-blob weights (bytes of one sliver pair's source symbols) and their prefix sums. */
export class BlobWeights {
  readonly blobs: readonly ChallengeableBlob[];
  readonly configs: readonly EncodingConfig[];
  readonly symbolSizes: readonly number[];
  /** prefix[i] = Σ weights of blobs < i; prefix[len] = total. */
  private readonly prefix: bigint[];

  /** @pre every blob's size is encodable by a committee of `nShards` in its encoding. */
  constructor(blobs: readonly ChallengeableBlob[], nShards: number) {
    this.blobs = blobs;
    const cache = new Map<number, EncodingConfig>();
    this.configs = blobs.map((b) => {
      let c = cache.get(b.encodingType);
      if (!c) cache.set(b.encodingType, (c = new EncodingConfig(nShards, encodingByType(b.encodingType))));
      return c;
    });
    this.symbolSizes = blobs.map((b, i) => this.configs[i].symbolSize(b.size));
    this.prefix = [0n];
    let sum = 0n;
    blobs.forEach((_, i) => {
      const c = this.configs[i];
      sum += BigInt((c.primarySymbols + c.secondarySymbols) * this.symbolSizes[i]);
      this.prefix.push(sum);
    });
  }

  get total(): bigint {
    return this.prefix[this.prefix.length - 1];
  }

  /** The blob whose weight interval holds `x` (0 ≤ x < total). */
  find(x: bigint): number {
    let lo = 0,
      hi = this.blobs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.prefix[mid + 1] > x) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/**
 * The `count` items node `nodeId` must answer for a round of `seed`, drawn from `weights`' blobs
 * on the node's challengeable `shards`. Empty when there is nothing to challenge (a void round).
 * @throws TuskInputError for a seed or node ID that is not 32 bytes.
 */
export function sampleItems(
  seed: Uint8Array,
  nodeId: Uint8Array,
  weights: BlobWeights,
  shards: readonly number[],
  nShards: number,
  count: number,
): ChallengeItem[] {
  if (seed.length !== 32 || nodeId.length !== 32) throw new TuskInputError('challenge seed and node ID must be 32 bytes');
  if (shards.length === 0 || weights.total === 0n) return [];
  const items: ChallengeItem[] = [];
  for (let t = 0; t < count; t++) {
    const r = itemRandomness(seed, nodeId, t);
    const b = weights.find(uintLe(r, 0, 16) % weights.total);
    const blob = weights.blobs[b];
    const cfg = weights.configs[b];
    const view = new DataView(r.buffer, r.byteOffset, r.byteLength);
    const shard = shards[view.getUint32(16, true) % shards.length];
    const pair = pairForShard(shard, blobIdRotation(blob.blobId, nShards), nShards);
    const kPrimaryAxis = sliverSymbols(cfg, 'primary');
    const v = view.getUint32(20, true) % (kPrimaryAxis + sliverSymbols(cfg, 'secondary'));
    const axis: SliverAxis = v < kPrimaryAxis ? 'primary' : 'secondary';
    items.push({
      t,
      blobId: blob.blobId,
      rootHash: blob.rootHash,
      shard,
      pair,
      axis,
      position: axis === 'primary' ? v : v - kPrimaryAxis,
      symbolSize: weights.symbolSizes[b],
    });
  }
  return items;
}
