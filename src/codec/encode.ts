/**
 * The RS2 (RedStuff) encoder: blob → sliver pairs, metadata, blob ID
 * (walrus-protocol.md §1–§3), byte-identical to the official Walrus encoder.
 *
 * Pipeline (all heavy work in the WebAssembly kernels, memory bounded per stripe):
 *  A. Row stripes of the k_p × k_s message matrix: transpose the rows into the column-major
 *     "secondary area" (the top k_p rows of every column = every secondary sliver), gather them into
 *     planar shards (shard = column), run the row code RS(k_s → n) and scatter its f recovery
 *     columns into the secondary area.
 *  B. Column stripes: gather k_p symbols of each column (shard = row), run the column code
 *     RS(k_p → n) and scatter the 2f recovery rows; their first k_s symbols finish the primary
 *     slivers of rows ≥ k_p.
 *  Leaves: every one of the n² symbols is hashed once (H(0x00 ‖ symbol)); the leaf digest feeds
 *  both its row tree (primary hash) and its column tree (secondary hash).
 *  C. 2n Merkle roots, the root over the pair hashes, the blob ID.
 *
 * Each element position of a planar shard is an independent codeword, so one RS call encodes a
 * whole stripe of rows (or columns); stripes are sized so an RS call's work array stays in cache.
 */
import { type WasmKernel, defaultKernel } from '../wasm/kernel.ts';
import { TuskInputError } from '../errors.ts';
import { EncodingConfig } from './config.ts';
import { SliverData, type SliverPair } from './sliver.ts';
import { BlobMetadata, BlobMetadataWithId, type SliverPairHashes } from './metadata.ts';
import { type BlobId, blobIdToString, deriveBlobId } from './blob-id.ts';

/** Options for {@link encodeBlob} and {@link computeBlobMetadata}. */
export interface EncodeOptions {
  /** Committee size (number of shards), e.g. 1000 on Walrus Mainnet/Testnet. */
  nShards: number;
  /** Kernel instance to run on; defaults to the calling thread's. */
  kernel?: WasmKernel;
  /**
   * Target bytes per planar shard in one RS call (default 8 KiB). Smaller keeps the FFT work
   * array in cache; larger means fewer kernel calls.
   */
  stripeShardBytes?: number;
}

/** The blob ID and the metadata it commits to. Arrays are owned by the caller. */
export interface EncodedMetadata {
  readonly blobId: BlobId;
  /** URL-safe base64 text form of the blob ID. */
  readonly blobIdString: string;
  readonly rootHash: Uint8Array;
  readonly metadata: BlobMetadata;
  readonly unencodedLength: number;
  readonly symbolSize: number;
  readonly nShards: number;
  /** Metadata with its blob ID (BCS: `metadataWithId.toBcs()`). */
  readonly metadataWithId: BlobMetadataWithId;
}

/** Everything the encoder produces for one blob. Arrays are owned by the caller. */
export interface EncodedBlob extends EncodedMetadata {
  /** Sliver pair i = (primary sliver i, secondary sliver n − 1 − i), i = 0 … n−1. */
  readonly pairs: readonly SliverPair[];
  /** Primary slivers by sliver index. */
  readonly primarySlivers: readonly SliverData[];
  /** Secondary slivers by sliver index. */
  readonly secondarySlivers: readonly SliverData[];
}

const DEFAULT_STRIPE_SHARD_BYTES = 8 * 1024;

/**
 * Encodes `data` with RS2 for a committee of `options.nShards` shards.
 *
 * Pre: 4 ≤ nShards ≤ MAX_N_SHARDS, data.length ≤ the committee's max blob size.
 * Post: `data` is not modified; every returned array is freshly allocated.
 * @throws TuskInputError / BlobTooLargeError on bad input.
 */
export function encodeBlob(data: Uint8Array, options: EncodeOptions): EncodedBlob {
  return runEncode(data, options, true) as EncodedBlob;
}

/**
 * Computes only the blob ID and metadata of `data` (the same work as {@link encodeBlob} minus
 * copying slivers out).
 */
export function computeBlobMetadata(data: Uint8Array, options: EncodeOptions): EncodedMetadata {
  return runEncode(data, options, false);
}

function checkData(data: unknown): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TuskInputError('blob data must be a Uint8Array');
}

function runEncode(data: Uint8Array, options: EncodeOptions, keep: boolean): EncodedMetadata | EncodedBlob {
  checkData(data);
  if (options === null || typeof options !== 'object') throw new TuskInputError('encode options are required ({ nShards })');
  const cfg = new EncodingConfig(options.nShards);
  const kernel = options.kernel ?? defaultKernel();
  const k = kernel.exports;
  const n = cfg.nShards;
  const kP = cfg.primarySymbols;
  const kS = cfg.secondarySymbols;
  const L = data.length;
  const S = cfg.symbolSize(L);
  const E = S / 2;
  const rowBytes = kS * S; // one message row = one primary source sliver
  const colBytes = kP * S; // one column's top k_p symbols = one secondary sliver
  const target = options.stripeShardBytes ?? DEFAULT_STRIPE_SHARD_BYTES;
  const planar = (symbols: number) => Math.ceil((symbols * E) / 32) * 64;

  // Caller-side outputs: one buffer per axis holding every sliver's BCS frame back to back.
  let primary: SliverData[] = [];
  let secondary: SliverData[] = [];
  if (keep) {
    primary = framedSlivers('primary', n, rowBytes, S);
    secondary = framedSlivers('secondary', n, colBytes, S);
    for (let i = 0; i < kP; i++) {
      const start = i * rowBytes;
      if (start < L) primary[i].data.set(data.subarray(start, Math.min(L, start + rowBytes)));
    }
  }

  const mark = kernel.mark();
  try {
    const leafHashes = kernel.alloc(n * n * 32);
    // Secondary area: column c's top k_p symbols at secArea + c·colBytes (= secondary sliver c).
    const secArea = kernel.alloc(n * colBytes);

    // Phase A: row code over stripes of message rows.
    const rowsPerStripe = Math.max(1, Math.min(kP, Math.floor(target / S)));
    const rowWorkShards = k.rsWorkShards(kS, n - kS);
    const strideA = planar(rowsPerStripe);
    const inA = kernel.alloc(rowsPerStripe * rowBytes);
    const workA = kernel.alloc(rowWorkShards * strideA);
    for (let r0 = 0; r0 < kP; r0 += rowsPerStripe) {
      const h = Math.min(rowsPerStripe, kP - r0);
      const mem = kernel.u8();
      const start = r0 * rowBytes;
      const avail = Math.max(0, Math.min(L, start + h * rowBytes) - start);
      if (avail > 0) mem.set(data.subarray(start, start + avail), inA);
      mem.fill(0, inA + avail, inA + h * rowBytes);
      k.copySymbols(inA, rowBytes, S, h, kS, S, secArea + r0 * S, S, colBytes);
      k.symbolsToShards(inA, rowBytes, S, h, kS, S, workA, strideA);
      k.rsEncode(workA, strideA, planar(h), kS, n - kS);
      k.shardsToSymbols(workA, strideA, h, n - kS, S, secArea + kS * colBytes + r0 * S, S, colBytes);
    }
    for (let r = 0; r < kP; r++) k.hashLeaves(secArea + r * S, S, n, colBytes, leafHashes + r * n * 32, 32);

    // Phase B: column code over stripes of columns.
    const colsPerStripe = Math.max(1, Math.min(n, Math.floor(target / S)));
    const colWorkShards = k.rsWorkShards(kP, n - kP);
    const strideB = planar(colsPerStripe);
    const workB = kernel.alloc(colWorkShards * strideB);
    const rowOut = kernel.alloc((n - kP) * colsPerStripe * S);
    for (let c0 = 0; c0 < n; c0 += colsPerStripe) {
      const w = Math.min(colsPerStripe, n - c0);
      k.symbolsToShards(secArea + c0 * colBytes, colBytes, S, w, kP, S, workB, strideB);
      k.rsEncode(workB, strideB, planar(w), kP, n - kP);
      k.shardsToSymbols(workB, strideB, w, n - kP, S, rowOut, S, w * S);
      for (let j = 0; j < n - kP; j++) {
        k.hashLeaves(rowOut + j * w * S, S, w, S, leafHashes + ((kP + j) * n + c0) * 32, 32);
      }
      if (keep && c0 < kS) {
        const take = (Math.min(c0 + w, kS) - c0) * S;
        const mem = kernel.u8();
        for (let j = 0; j < n - kP; j++) {
          const from = rowOut + j * w * S;
          primary[kP + j].data.set(mem.subarray(from, from + take), c0 * S);
        }
      }
    }

    if (keep) {
      const mem = kernel.u8();
      for (let c = 0; c < n; c++) secondary[c].data.set(mem.subarray(secArea + c * colBytes, secArea + (c + 1) * colBytes));
    }

    // Phase C: Merkle roots. pairHashes[i] = primary_hash[i] ‖ secondary_hash[i] (64 bytes).
    const pairHashes = kernel.alloc(n * 64);
    const scratch = kernel.alloc((n + 1) * 32);
    for (let i = 0; i < n; i++) {
      k.merkleRoot(leafHashes + i * n * 32, n, 32, scratch, pairHashes + i * 64);
      k.merkleRoot(leafHashes + (n - 1 - i) * 32, n, n * 32, scratch, pairHashes + i * 64 + 32);
    }
    const rootLeaves = kernel.alloc(n * 32);
    const rootPtr = kernel.alloc(32);
    k.hashLeaves(pairHashes, 64, n, 64, rootLeaves, 32);
    k.merkleRoot(rootLeaves, n, 32, scratch, rootPtr);

    const mem = kernel.u8();
    const rootHash = mem.slice(rootPtr, rootPtr + 32);
    const hashes: SliverPairHashes[] = [];
    for (let i = 0; i < n; i++) {
      const p = pairHashes + i * 64;
      hashes.push({ primary: mem.slice(p, p + 32), secondary: mem.slice(p + 32, p + 64) });
    }
    const metadata = new BlobMetadata(cfg.encodingType, L, hashes);
    const blobId = deriveBlobId(cfg.encodingType, L, rootHash);
    const result: EncodedMetadata = {
      blobId,
      blobIdString: blobIdToString(blobId),
      rootHash,
      metadata,
      metadataWithId: new BlobMetadataWithId(blobId, metadata),
      unencodedLength: L,
      symbolSize: S,
      nShards: n,
    };
    if (!keep) return result;
    const pairs: SliverPair[] = primary.map((p, i) => ({ index: i, primary: p, secondary: secondary[n - 1 - i] }));
    return { ...result, pairs, primarySlivers: primary, secondarySlivers: secondary };
  } finally {
    kernel.release(mark);
  }
}

/** n slivers of one axis laid out as BCS frames in one buffer. */
function framedSlivers(axis: 'primary' | 'secondary', n: number, dataBytes: number, symbolSize: number): SliverData[] {
  const frame = SliverData.bcsLength(dataBytes);
  const buf = new Uint8Array(n * frame);
  const out: SliverData[] = [];
  for (let i = 0; i < n; i++) {
    out.push(SliverData.inFrame(axis, buf.subarray(i * frame, (i + 1) * frame), dataBytes, symbolSize, i));
  }
  return out;
}
