/**
 * Walrus Merkle proofs (walrus-core `merkle.rs`; facts and citations in
 * docs/recovery-and-inconsistency.md §1 and walrus-protocol.md §3.1).
 *
 * Tree rules (shared with `merkleRootOfLeafHashes` in src/hash/blake2b.ts): leaf digest
 * H(0x00 ‖ leaf), inner node H(0x01 ‖ left ‖ right), H = BLAKE2b-256; the tree is built level by
 * level and a level with an odd number of nodes gets one **Empty** node (hashed as 32 zero bytes)
 * appended before pairing. A proof is the list of sibling nodes from the leaf level upwards; a
 * sibling that is such a padding node is Empty (BCS `0x00`), every other sibling is a digest
 * (BCS `0x01` ‖ 32 bytes).
 *
 * All hashing runs on the WebAssembly kernels (kernel memory is released before each function
 * returns, as in src/hash/blake2b.ts).
 */
import { TuskInputError } from '../errors.ts';
import { DIGEST_BYTES } from '../hash/blake2b.ts';
import { defaultKernel, type WasmKernel } from '../wasm/kernel.ts';
import { readUleb, ulebLength, writeUleb } from './bcs.ts';

/**
 * Re-export of the Merkle root over concatenated 32-byte leaf digests (src/hash/blake2b.ts), the
 * root that {@link merkleProof}'s proofs verify against.
 */
export { merkleRootOfLeafHashes } from '../hash/blake2b.ts';

/**
 * One node of a Walrus Merkle proof: a 32-byte digest (`Node::Digest`), or `null` for
 * `Node::Empty` (a padding node; it is hashed as 32 zero bytes). A digest of 32 zero bytes and
 * `null` hash identically but have different BCS (`0x01`+zeros vs `0x00`).
 */
export type MerkleNode = Uint8Array | null;

/** BCS tag of `Node::Empty`. */
const TAG_EMPTY = 0x00;
/** BCS tag of `Node::Digest([u8; 32])`. */
const TAG_DIGEST = 0x01;

/**
 * Longest path Walrus accepts for a tree of `leafCount` leaves: 0 for ≤ 1 leaf, otherwise
 * ⌈log2(leafCount)⌉ (= ⌊log2(leafCount − 1)⌋ + 1, `merkle.rs` `path_length`). It is also the exact
 * length of every proof `merkleProof` produces for that tree.
 *
 * @throws TuskInputError unless `leafCount` is a non-negative safe integer.
 */
export function merklePathLength(leafCount: number): number {
  checkCount('leafCount', leafCount);
  let len = 0;
  for (let m = leafCount; m > 1; m = Math.ceil(m / 2)) len++;
  return len;
}

/**
 * The Walrus Merkle proof (`MerkleTree::get_proof`) for leaf `index` of the tree over `count`
 * leaf digests: the sibling of the leaf, then of its parent, … up to (excluding) the root; a
 * sibling is `null` exactly where the level had an odd node count and the sibling is its Empty
 * padding node. A one-leaf tree gives `[]`.
 *
 * @param leafHashes `count` leaf digests (H(0x00 ‖ leaf)), 32 bytes each, back to back;
 *   `leafHashes.length` must be `count * 32`. Only read.
 * @param count Number of leaves (≥ 1).
 * @param index Leaf index, 0 ≤ index < count.
 * @param kernel Kernel to hash on (defaults to the thread's shared one).
 * @returns `merklePathLength(count)` fresh nodes owned by the caller.
 * @throws TuskInputError on a bad count, length or index.
 */
export function merkleProof(leafHashes: Uint8Array, count: number, index: number, kernel: WasmKernel = defaultKernel()): MerkleNode[] {
  checkCount('count', count);
  if (!(leafHashes instanceof Uint8Array) || leafHashes.length !== count * DIGEST_BYTES) {
    throw new TuskInputError(`merkleProof: leafHashes must be ${count} × ${DIGEST_BYTES} bytes, got ${leafHashes?.length}`);
  }
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
    throw new TuskInputError(`merkleProof: leaf index ${index} out of range for ${count} leaves`);
  }
  const path: MerkleNode[] = [];
  if (count === 1) return path;
  const mark = kernel.mark();
  try {
    // One extra slot for the Empty padding node of an odd level.
    const level = kernel.alloc((count + 1) * DIGEST_BYTES);
    kernel.u8().set(leafHashes, level);
    let m = count;
    let i = index;
    while (m > 1) {
      const mem = kernel.u8();
      const sib = i ^ 1;
      if (sib < m) {
        const at = level + sib * DIGEST_BYTES;
        path.push(mem.slice(at, at + DIGEST_BYTES));
      } else {
        path.push(null); // i is the last node of an odd level: its sibling is the Empty padding.
      }
      if (m % 2 === 1) mem.fill(0, level + m * DIGEST_BYTES, level + (m + 1) * DIGEST_BYTES);
      const parents = (m + 1) >>> 1;
      // In place: parent j (32 bytes at 32j) is written after its children (64 bytes at 64j) are read.
      kernel.exports.hashInnerNodes(level, parents, level);
      m = parents;
      i >>>= 1;
    }
    return path;
  } finally {
    kernel.release(mark);
  }
}

/**
 * Walrus proof verification (`MerkleAuth::verify_proof`), bit for bit:
 *  1. reject if `proof.length > merklePathLength(leafCount)`;
 *  2. reject if `index >> proof.length != 0` (i.e. index ≥ 2^proof.length) — note that Walrus does
 *     not otherwise compare `index` with `leafCount`, and accepts shorter paths;
 *  3. cur = H(0x00 ‖ leafBytes); for each sibling s (Empty = 32 zero bytes), with i = index
 *     shifted right once per level: cur = H(0x01 ‖ cur ‖ s) if i is even, else H(0x01 ‖ s ‖ cur);
 *  4. accept iff cur equals `root`. A `null` (Empty) root never matches: Walrus compares
 *     `Node` values and the computed root is always a digest.
 *
 * @param root Expected root: 32-byte digest, or `null` for `Node::Empty`.
 * @param leafBytes The raw leaf (e.g. one symbol); it is hashed here as H(0x00 ‖ leafBytes).
 * @param index Leaf index the proof claims.
 * @param leafCount Leaf count of the tree the verifier expects (n_shards for sliver trees).
 * @param proof Sibling nodes, bottom-up.
 * @returns true iff Walrus would accept the proof.
 * @throws TuskInputError if `index`/`leafCount` are not non-negative safe integers, or a
 *   non-null root / proof node is not 32 bytes (malformed input, not a failed proof).
 */
export function verifyMerkleProof(
  root: MerkleNode,
  leafBytes: Uint8Array,
  index: number,
  leafCount: number,
  proof: readonly MerkleNode[],
  kernel: WasmKernel = defaultKernel(),
): boolean {
  checkCount('index', index);
  if (!(leafBytes instanceof Uint8Array)) throw new TuskInputError('leafBytes must be a Uint8Array');
  const maxLen = merklePathLength(leafCount);
  if (root !== null) checkDigest(root, 'root');
  for (const node of proof) if (node !== null) checkDigest(node, 'proof node');
  if (proof.length > maxLen) return false;
  if (Math.floor(index / 2 ** proof.length) !== 0) return false;
  if (root === null) return false;
  const mark = kernel.mark();
  try {
    const leafPtr = kernel.put(leafBytes);
    // pair = [left 32 | right 32]; cur lives in one half, the sibling is written into the other.
    const pair = kernel.alloc(2 * DIGEST_BYTES);
    const cur = kernel.alloc(DIGEST_BYTES);
    const kx = kernel.exports;
    kx.hashLeaves(leafPtr, leafBytes.length, 1, leafBytes.length, cur, DIGEST_BYTES);
    let i = index;
    for (const sib of proof) {
      const mem = kernel.u8();
      const curAt = i % 2 === 0 ? pair : pair + DIGEST_BYTES;
      const sibAt = i % 2 === 0 ? pair + DIGEST_BYTES : pair;
      mem.copyWithin(curAt, cur, cur + DIGEST_BYTES);
      if (sib === null) mem.fill(0, sibAt, sibAt + DIGEST_BYTES);
      else mem.set(sib, sibAt);
      kx.hashInnerNodes(pair, 1, cur);
      i = Math.floor(i / 2);
    }
    const mem = kernel.u8();
    let diff = 0;
    for (let b = 0; b < DIGEST_BYTES; b++) diff |= mem[cur + b] ^ root[b];
    return diff === 0;
  } finally {
    kernel.release(mark);
  }
}

/** Byte length of the BCS encoding of `proof` (`merkleProofToBcs(proof).length`). */
export function merkleProofBcsLength(proof: readonly MerkleNode[]): number {
  let n = ulebLength(proof.length);
  for (const node of proof) n += node === null ? 1 : 1 + DIGEST_BYTES;
  return n;
}

/**
 * BCS of `MerkleProof { path: Vec<Node> }` (the hash-type marker adds no bytes): ULEB128 node
 * count, then per node `0x00` (Empty, `null`) or `0x01` ‖ 32 digest bytes.
 *
 * @returns A fresh array owned by the caller.
 * @throws TuskInputError if a non-null node is not 32 bytes.
 */
export function merkleProofToBcs(proof: readonly MerkleNode[]): Uint8Array {
  const out = new Uint8Array(merkleProofBcsLength(proof));
  writeMerkleProofBcs(out, 0, proof);
  return out;
}

/**
 * Writes the BCS of `proof` (see {@link merkleProofToBcs}) into `out` at `offset`.
 *
 * @returns The offset after the written bytes.
 * @throws TuskInputError if a non-null node is not 32 bytes; RangeError if `out` is too short.
 */
export function writeMerkleProofBcs(out: Uint8Array, offset: number, proof: readonly MerkleNode[]): number {
  for (const node of proof) if (node !== null) checkDigest(node, 'proof node');
  if (offset + merkleProofBcsLength(proof) > out.length) throw new RangeError('writeMerkleProofBcs: output too short');
  offset = writeUleb(out, offset, proof.length);
  for (const node of proof) {
    if (node === null) {
      out[offset++] = TAG_EMPTY;
    } else {
      out[offset++] = TAG_DIGEST;
      out.set(node, offset);
      offset += DIGEST_BYTES;
    }
  }
  return offset;
}

/**
 * Reads a BCS `MerkleProof` starting at `offset` (see {@link merkleProofToBcs}). Like the Rust
 * `bcs` crate it rejects a non-canonical ULEB128 length and unknown node tags; it does not check
 * the path length against any tree (that is {@link verifyMerkleProof}'s job).
 *
 * @param bytes Input; only read. Digests in the result are copies.
 * @param offset Where the proof starts (default 0).
 * @returns The proof and the offset just after it.
 * @throws TuskInputError on truncated or malformed input.
 */
export function merkleProofFromBcs(bytes: Uint8Array, offset = 0): { proof: MerkleNode[]; next: number } {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > bytes.length) {
    throw new TuskInputError(`merkle proof: offset ${offset} out of range`);
  }
  const { value: count, next: afterLen } = readUleb(bytes, offset); // canonical, ≤ u32
  // Every node takes at least one byte: a larger count cannot be satisfied by the input.
  if (count > bytes.length - afterLen) throw new TuskInputError(`merkle proof: ${count} nodes do not fit in the input`);
  const proof: MerkleNode[] = [];
  let p = afterLen;
  for (let k = 0; k < count; k++) {
    if (p >= bytes.length) throw new TuskInputError('merkle proof: truncated node');
    const tag = bytes[p++];
    if (tag === TAG_EMPTY) {
      proof.push(null);
    } else if (tag === TAG_DIGEST) {
      if (p + DIGEST_BYTES > bytes.length) throw new TuskInputError('merkle proof: truncated digest');
      proof.push(bytes.slice(p, p + DIGEST_BYTES));
      p += DIGEST_BYTES;
    } else {
      throw new TuskInputError(`merkle proof: unknown node tag 0x${tag.toString(16).padStart(2, '0')}`);
    }
  }
  return { proof, next: p };
}

function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new TuskInputError(`${name} must be a non-negative safe integer, got ${value}`);
}

function checkDigest(node: unknown, what: string): asserts node is Uint8Array {
  if (!(node instanceof Uint8Array) || node.length !== DIGEST_BYTES) {
    throw new TuskInputError(`${what} must be a ${DIGEST_BYTES}-byte digest or null`);
  }
}
