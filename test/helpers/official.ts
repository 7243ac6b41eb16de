/**
 * Test/benchmark-only wrapper around the OFFICIAL Walrus encoder, the npm package
 * `@mysten/walrus-wasm` 0.3.0 (Rust walrus-core compiled to WebAssembly). It is the oracle that
 * differential tests and `bench/encode.ts` compare Tusk against. Never import this from src/.
 *
 * The package's API (node entry point, see node_modules/@mysten/walrus-wasm/nodejs/walrus_wasm.d.ts
 * and src/*.rs):
 *   - `new BlobEncoder(n_shards: number)` — RS2 encoding config for a committee of n_shards.
 *   - `encoder.encode(data, primaryBuffers: Uint8Array[n], secondaryBuffers: Uint8Array[n])`
 *       writes BCS `SliverData` into the caller's pre-allocated buffers (each buffer's length must be
 *       the exact BCS length, otherwise it throws) and returns `[metadataWithId, rootHash]` as plain
 *       JS values (serde-wasm-bindgen):
 *       `[{ blob_id: number[32], metadata: { V1: { encoding_type: 'RS2', unencoded_length: number,
 *          hashes: { primary_hash: Node, secondary_hash: Node }[n] } } }, Node]`
 *       with `Node = { Digest: number[32] } | 'Empty'`.
 *       NOTE the buffers are indexed by SLIVER PAIR: `primaryBuffers[i]` = primary sliver i,
 *       `secondaryBuffers[i]` = secondary sliver n-1-i (spec §1.4/§2). This wrapper re-indexes the
 *       secondary slivers by sliver index.
 *   - `encoder.compute_metadata(data)` → `[blob_id: number[32], rootHash: Node, unencoded_length:
 *       number, encoding_type: 'RS2']` (no slivers are returned; it still runs the whole RS
 *       expansion internally to hash it).
 *   - `encoder.decode(blob_id: Uint8Array, blob_size: bigint, primarySlivers: Uint8Array[],
 *       output: Uint8Array): void` — blob_id (32 bytes) is parsed but otherwise unused;
 *       primarySlivers are BCS SliverData<Primary>, at least k_p with distinct indices; output must
 *       be exactly blob_size bytes.
 *   - `bls12381_min_pk_verify(signature96, publicKey, msg): boolean`,
 *     `bls12381_min_pk_aggregate(signatures: Uint8Array[]): Uint8Array` (96 bytes),
 *     `bls12381_min_pk_verify_aggregate(publicKeys: Uint8Array[], msg, aggregateSig96): boolean`
 *     (all throw on malformed points).
 *   - Initialisation: none in Node. The package's default export `init()` is a no-op there (the
 *     nodejs build instantiates the wasm synchronously on import); the official TS SDK still calls
 *     `await init({ module_or_path })` because the browser build needs it.
 */
import { BlobEncoder, bls12381_min_pk_aggregate, bls12381_min_pk_verify, bls12381_min_pk_verify_aggregate } from '@mysten/walrus-wasm';

/** The result of one official encode, normalised to the shapes Tusk's tests use. */
export interface OfficialEncoding {
  /** The 32 raw blob-ID bytes (text form: {@link blobIdToBase64Url}). */
  blobId: Uint8Array;
  /** Merkle root over the n sliver-pair hashes (32 bytes). */
  rootHash: Uint8Array;
  unencodedLength: number;
  /** Symbol size S in bytes, as written by the official encoder into the slivers. */
  symbolSize: number;
  /** BCS `SliverData` of primary sliver i (uleb(k_s·S) ‖ data ‖ u16 S ‖ u16 i), indexed by sliver index i. */
  primary: Uint8Array[];
  /** BCS `SliverData` of secondary sliver j (uleb(k_p·S) ‖ data ‖ u16 S ‖ u16 j), indexed by sliver index j. */
  secondary: Uint8Array[];
  /**
   * Metadata hashes of sliver PAIR i: `primary` = hash of primary sliver i, `secondary` = hash of
   * secondary sliver n-1-i (an `Empty` node, which never occurs in practice, becomes 32 zero bytes).
   */
  pairHashes: { primary: Uint8Array; secondary: Uint8Array }[];
  /**
   * BCS `BlobMetadata` WITHOUT the blob id (the body of `PUT /v1/blobs/{id}/metadata`), rebuilt here
   * from the official structure per spec §3.4: 0x00 (V1) ‖ 0x01 (RS2) ‖ u64 L ‖ uleb(n) ‖
   * n × (Node primary ‖ Node secondary). 66,012 bytes at n = 1000.
   */
  metadataBcs: Uint8Array;
}

/** Source-symbol counts for a committee (spec §1.1): k_p = n − 2f (primary), k_s = n − f (secondary). */
export function sourceSymbols(nShards: number): { kPrimary: number; kSecondary: number } {
  const f = Math.floor((nShards - 1) / 3);
  return { kPrimary: nShards - 2 * f, kSecondary: nShards - f };
}

/** Symbol size S for a blob of `length` bytes (spec §1.2). Throws if the blob is too large. */
export function symbolSizeFor(length: number, nShards: number): number {
  const { kPrimary, kSecondary } = sourceSymbols(nShards);
  let s = Math.ceil(Math.max(length, 1) / (kPrimary * kSecondary));
  if (s % 2 === 1) s++;
  if (s > 65534) throw new Error(`blob of ${length} bytes is too large for n_shards=${nShards}`);
  return s;
}

function ulebSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Length of BCS SliverData holding `dataLength` bytes: uleb(len) + len + u16 symbol_size + u16 index. */
export function sliverBcsLength(dataLength: number): number {
  return ulebSize(dataLength) + dataLength + 4;
}

type WasmNode = { Digest: ArrayLike<number> } | 'Empty';

function nodeBytes(node: WasmNode): Uint8Array {
  if (node === 'Empty') return new Uint8Array(32);
  if (node && typeof node === 'object' && 'Digest' in node) return Uint8Array.from(node.Digest);
  throw new Error(`unexpected Merkle node from the official encoder: ${JSON.stringify(node)}`);
}

function writeNode(out: Uint8Array, off: number, node: WasmNode): number {
  if (node === 'Empty') {
    out[off] = 0;
    return off + 1;
  }
  out[off] = 1;
  out.set(nodeBytes(node), off + 1);
  return off + 33;
}

function writeUleb(out: Uint8Array, off: number, v: number): number {
  while (v >= 0x80) {
    out[off++] = (v & 0x7f) | 0x80;
    v = Math.floor(v / 128);
  }
  out[off++] = v;
  return off;
}

function writeU64(out: Uint8Array, off: number, v: number): number {
  new DataView(out.buffer, out.byteOffset, out.byteLength).setBigUint64(off, BigInt(v), true);
  return off + 8;
}

/** The official SDK encode call (`@mysten/walrus` `encodeBlob` equivalent); buffers in PAIR order. */
function rawEncode(data: Uint8Array, nShards: number) {
  const { kPrimary, kSecondary } = sourceSymbols(nShards);
  const s = symbolSizeFor(data.length, nShards);
  const pLen = sliverBcsLength(kSecondary * s);
  const sLen = sliverBcsLength(kPrimary * s);
  const primaryBuffers: Uint8Array[] = new Array(nShards);
  const secondaryBuffers: Uint8Array[] = new Array(nShards);
  for (let i = 0; i < nShards; i++) {
    primaryBuffers[i] = new Uint8Array(pLen);
    secondaryBuffers[i] = new Uint8Array(sLen);
  }
  const encoder = new BlobEncoder(nShards);
  try {
    const [withId, root] = encoder.encode(data, primaryBuffers, secondaryBuffers);
    return { withId, root: root as WasmNode, primaryBuffers, secondaryBuffers };
  } finally {
    encoder.free();
  }
}

/**
 * Encodes `data` for a committee of `nShards` with the official encoder and returns every sliver
 * (BCS, indexed by sliver index on each axis), the pair hashes, root hash, blob id and metadata BCS.
 * Memory: the official encoder's WebAssembly memory never shrinks, it stays at its high-water mark
 * for the life of the process (measured at n = 1000: 47 MiB after a 1 MiB blob, 114 MiB after
 * 16 MiB, i.e. growing by ~4.5× the blob size), so run large sizes in a child process.
 */
export function officialEncode(data: Uint8Array, nShards: number): OfficialEncoding {
  const { withId, root, primaryBuffers, secondaryBuffers } = rawEncode(data, nShards);
  const v1 = withId?.metadata?.V1;
  if (!v1 || v1.encoding_type !== 'RS2') {
    throw new Error(`unexpected metadata from the official encoder: ${JSON.stringify(withId?.metadata)?.slice(0, 200)}`);
  }
  const hashes = v1.hashes as { primary_hash: WasmNode; secondary_hash: WasmNode }[];
  if (hashes.length !== nShards) throw new Error(`expected ${nShards} pair hashes, got ${hashes.length}`);
  const unencodedLength = Number(v1.unencoded_length);

  const secondary: Uint8Array[] = new Array(nShards);
  for (let i = 0; i < nShards; i++) secondary[nShards - 1 - i] = secondaryBuffers[i];

  const p0 = primaryBuffers[0];
  const symbolSize = p0[p0.length - 4] | (p0[p0.length - 3] << 8);

  const metadataBcs = new Uint8Array(1 + 1 + 8 + ulebSize(nShards) + 66 * nShards);
  let off = 0;
  metadataBcs[off++] = 0x00; // BlobMetadata::V1
  metadataBcs[off++] = 0x01; // EncodingType::RS2
  off = writeU64(metadataBcs, off, unencodedLength);
  off = writeUleb(metadataBcs, off, nShards);
  for (const h of hashes) {
    off = writeNode(metadataBcs, off, h.primary_hash);
    off = writeNode(metadataBcs, off, h.secondary_hash);
  }

  return {
    blobId: Uint8Array.from(withId.blob_id as ArrayLike<number>),
    rootHash: nodeBytes(root),
    unencodedLength,
    symbolSize,
    primary: primaryBuffers,
    secondary,
    pairHashes: hashes.map((h) => ({ primary: nodeBytes(h.primary_hash), secondary: nodeBytes(h.secondary_hash) })),
    metadataBcs: off === metadataBcs.length ? metadataBcs : metadataBcs.subarray(0, off),
  };
}

/**
 * Blob id, root hash and length via the official `compute_metadata` (no sliver buffers are
 * allocated, but the full RS expansion still runs, so it costs about as much CPU as an encode).
 */
export function officialMetadata(data: Uint8Array, nShards: number): { blobId: Uint8Array; rootHash: Uint8Array; unencodedLength: number } {
  const encoder = new BlobEncoder(nShards);
  try {
    const [blobId, root, unencodedLength, encodingType] = encoder.compute_metadata(data);
    if (encodingType !== 'RS2') throw new Error(`unexpected encoding type ${String(encodingType)}`);
    return { blobId: Uint8Array.from(blobId as ArrayLike<number>), rootHash: nodeBytes(root), unencodedLength: Number(unencodedLength) };
  } finally {
    encoder.free();
  }
}

/** The 32 raw blob-ID bytes computed by the official encoder (see {@link officialMetadata}). */
export function officialBlobId(data: Uint8Array, nShards: number): Uint8Array {
  return officialMetadata(data, nShards).blobId;
}

/**
 * Decodes a blob with the official decoder from BCS `SliverData` of PRIMARY slivers (any order;
 * at least k_p = n − 2f with distinct indices; extra ones are ignored). Returns `unencodedLength`
 * bytes. The official decoder does NOT verify the slivers against metadata or run a consistency
 * check; `blobId` is only parsed by it (defaults to 32 zero bytes).
 */
export function officialDecode(
  primarySlivers: Uint8Array[],
  unencodedLength: number,
  nShards: number,
  blobId: Uint8Array = new Uint8Array(32),
): Uint8Array {
  const out = new Uint8Array(unencodedLength);
  const encoder = new BlobEncoder(nShards);
  try {
    encoder.decode(blobId, BigInt(unencodedLength), primarySlivers, out);
  } finally {
    encoder.free();
  }
  return out;
}

/** Official BLS12-381 min_pk verify (signature 96 B G2, public key 48 B compressed or 96 B uncompressed G1). Throws on malformed points. */
export function officialBlsVerify(signature: Uint8Array, publicKey: Uint8Array, message: Uint8Array): boolean {
  return bls12381_min_pk_verify(signature, publicKey, message);
}

/** Official BLS signature aggregation: sum of the G2 points, 96-byte compressed result. */
export function officialBlsAggregate(signatures: Uint8Array[]): Uint8Array {
  return bls12381_min_pk_aggregate(signatures);
}

/** Official aggregate-signature verification over one message signed by all `publicKeys`. */
export function officialBlsVerifyAggregate(publicKeys: Uint8Array[], message: Uint8Array, aggregate: Uint8Array): boolean {
  return bls12381_min_pk_verify_aggregate(publicKeys, message, aggregate);
}

/** Blob id text form: URL-safe base64 without padding (spec §3.3). */
export function blobIdToBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}
