/**
 * Sliver recovery and inconsistency proofs (walrus-protocol.md §4.5–§4.6; the exact Walrus rules
 * are collected in docs/recovery-and-inconsistency.md).
 *
 * Every symbol M[i][j] of the expanded n×n matrix lies on primary sliver i (a row) and secondary
 * sliver j (a column), and both slivers' Merkle trees commit to it. A node holding sliver j of one
 * axis hands out M[·][j] with a proof in its own tree; k such symbols (k_s for a primary target,
 * k_p for a secondary target) decode the target sliver on the other axis. If the decoded sliver
 * does not match the metadata, the same symbols prove that the writer encoded the blob
 * inconsistently.
 */
import { type WasmKernel, defaultKernel } from '../wasm/kernel.ts';
import { NotEnoughSymbolsError, TuskInputError } from '../errors.ts';
import type { EncodingConfig } from './config.ts';
import type { BlobMetadata } from './metadata.ts';
import { SliverData, type SliverAxis } from './sliver.ts';
import { readU16, readUleb, ulebLength, writeU16, writeUleb } from './bcs.ts';
import {
  type MerkleNode,
  merkleProof,
  merkleProofBcsLength,
  merkleProofFromBcs,
  verifyMerkleProof,
  writeMerkleProofBcs,
} from './merkle.ts';
import { expectedSliverHash } from './verify.ts';
import { equalBytes } from '../util/bytes.ts';
import { expandSlivers } from './expand.ts';
import { sliverSymbols } from './task-plan.ts';
import { decodeMissingOriginals } from '../rs/reed-solomon.ts';

/** The other axis. */
export function orthogonal(axis: SliverAxis): SliverAxis {
  return axis === 'primary' ? 'secondary' : 'primary';
}

/**
 * A symbol for recovering a sliver, with its proof (`GeneralRecoverySymbol`).
 * `targetAxis` is the BCS variant: `primary` (0) recovers a primary sliver and its source is a
 * secondary sliver; `secondary` (1) the mirror case.
 */
export interface RecoverySymbol {
  readonly targetAxis: SliverAxis;
  /** Index of the source sliver (on the axis orthogonal to `targetAxis`). */
  readonly sourceIndex: number;
  /** The S symbol bytes (the intersection of source and target). */
  readonly data: Uint8Array;
  /** Leaf of the proof in the source sliver's tree (= the target sliver's index). */
  readonly targetIndex: number;
  readonly proof: readonly MerkleNode[];
}

/**
 * The recovery symbols that a holder of `source` hands out for target slivers `targetIndices` on
 * the orthogonal axis (what a storage node answers to `recoverySymbols?targetSliver=T&targetType=…
 * &proofAxis=<source axis>`). Pre: `source` is a valid sliver for `cfg`.
 */
export function recoverySymbolsFrom(
  cfg: EncodingConfig,
  source: SliverData,
  targetIndices: readonly number[],
  kernel: WasmKernel = defaultKernel(),
): RecoverySymbol[] {
  const n = cfg.nShards;
  for (const t of targetIndices) {
    if (!Number.isInteger(t) || t < 0 || t >= n) throw new TuskInputError(`target sliver index ${t} out of range 0…${n - 1}`);
  }
  const S = source.symbolSize;
  const out: RecoverySymbol[] = [];
  expandSlivers(kernel, cfg, source.axis, [source.data], S, (_t, expanded, leafHashes) => {
    // Copy the leaf hashes: computing proofs runs kernels that may reuse this memory.
    const leaves = leafHashes.slice();
    const symbols = targetIndices.map((t) => expanded.slice(t * S, (t + 1) * S));
    targetIndices.forEach((t, k) => {
      out.push({
        targetAxis: orthogonal(source.axis),
        sourceIndex: source.index,
        data: symbols[k],
        targetIndex: t,
        proof: merkleProof(leaves, n, t, kernel),
      });
    });
  });
  return out;
}

/**
 * Whether `symbol` can be used to recover `targetAxis` sliver `targetIndex`: indices in range, the
 * right size, the usable rule, and a Merkle proof that checks out against the source sliver's hash.
 */
export function verifyRecoverySymbol(
  cfg: EncodingConfig,
  metadata: BlobMetadata,
  symbol: RecoverySymbol,
  targetAxis: SliverAxis,
  targetIndex: number,
  kernel: WasmKernel = defaultKernel(),
): boolean {
  const n = cfg.nShards;
  const S = cfg.symbolSize(metadata.unencodedLength);
  if (symbol.sourceIndex >= n || symbol.targetIndex >= n || symbol.data.length !== S) return false;
  // Usable: on the orthogonal axis for this target, or the target sliver's own symbol.
  const usable = (symbol.targetAxis === targetAxis && symbol.targetIndex === targetIndex) || symbol.sourceIndex === targetIndex;
  if (!usable) return false;
  const root = expectedSliverHash(metadata, orthogonal(symbol.targetAxis), symbol.sourceIndex);
  return verifyMerkleProof(root, symbol.data, symbol.targetIndex, n, symbol.proof, kernel);
}

/** Proof that a blob was encoded inconsistently: k symbols that decode to a sliver not in the metadata. */
export interface InconsistencyProof {
  readonly axis: SliverAxis;
  readonly targetIndex: number;
  /** Exactly k_s (primary) or k_p (secondary) symbols, proofs at leaf `targetIndex`. */
  readonly symbols: readonly { sourceIndex: number; data: Uint8Array; proof: readonly MerkleNode[] }[];
}

/** Outcome of {@link recoverSliver}: the sliver, or proof that the metadata is inconsistent. */
export type RecoveryResult =
  { sliver: SliverData; inconsistencyProof?: undefined } | { sliver?: undefined; inconsistencyProof: InconsistencyProof };

/**
 * Recovers `targetAxis` sliver `targetIndex` from recovery symbols (any order; unusable or invalid
 * ones are skipped). Needs k distinct valid symbols: k_s for a primary target, k_p for a secondary
 * target. The recovered sliver is verified against the metadata; a mismatch yields an
 * inconsistency proof instead.
 * @throws NotEnoughSymbolsError (retryable) when fewer than k distinct valid symbols are given.
 */
export function recoverSliver(
  cfg: EncodingConfig,
  metadata: BlobMetadata,
  targetAxis: SliverAxis,
  targetIndex: number,
  symbols: readonly RecoverySymbol[],
  kernel: WasmKernel = defaultKernel(),
): RecoveryResult {
  const k = sliverSymbols(cfg, targetAxis);
  const chosen = new Map<number, RecoverySymbol>();
  for (const s of symbols) {
    if (chosen.size === k) break;
    // Orthogonal-axis symbols only: their source indices are the codeword positions.
    if (s.targetAxis !== targetAxis || s.targetIndex !== targetIndex || chosen.has(s.sourceIndex)) continue;
    if (verifyRecoverySymbol(cfg, metadata, s, targetAxis, targetIndex, kernel)) chosen.set(s.sourceIndex, s);
  }
  if (chosen.size < k) {
    throw new NotEnoughSymbolsError(`recovering ${targetAxis} sliver ${targetIndex} needs ${k} distinct valid symbols, got ${chosen.size}`);
  }
  const proofSymbols = [...chosen.values()].map((s) => ({ sourceIndex: s.sourceIndex, data: s.data, proof: s.proof }));
  const data = decodeSliverData(cfg, targetAxis, proofSymbols, kernel);
  const S = cfg.symbolSize(metadata.unencodedLength);
  const sliver = SliverData.create(targetAxis, data, S, targetIndex);
  const [root] = expandSlivers(kernel, cfg, targetAxis, [data], S);
  if (equalBytes(root, expectedSliverHash(metadata, targetAxis, targetIndex))) return { sliver };
  return { inconsistencyProof: { axis: targetAxis, targetIndex, symbols: proofSymbols } };
}

/** RS-decodes a target sliver's k source symbols from k symbols of its expanded form. */
function decodeSliverData(
  cfg: EncodingConfig,
  axis: SliverAxis,
  symbols: readonly { sourceIndex: number; data: Uint8Array }[],
  kernel: WasmKernel,
): Uint8Array {
  const n = cfg.nShards;
  const k = sliverSymbols(cfg, axis);
  const S = symbols[0].data.length;
  const originals: (Uint8Array | undefined)[] = new Array(k).fill(undefined);
  const recovery: (Uint8Array | undefined)[] = new Array(n - k).fill(undefined);
  for (const s of symbols) {
    if (s.sourceIndex < k) originals[s.sourceIndex] = s.data;
    else recovery[s.sourceIndex - k] = s.data;
  }
  const restored = decodeMissingOriginals(k, originals, recovery, { kernel, field: cfg.scheme.field });
  const out = new Uint8Array(k * S);
  for (let i = 0; i < k; i++) out.set(originals[i] ?? restored.get(i)!, i * S);
  return out;
}

/**
 * Verifies an inconsistency proof: exactly k symbols, each proven in its source sliver's tree at
 * leaf `targetIndex`, distinct sources, and a decoded sliver whose hash does NOT match the metadata.
 * @returns true when the proof shows the blob is inconsistent.
 */
export function verifyInconsistencyProof(
  cfg: EncodingConfig,
  metadata: BlobMetadata,
  proof: InconsistencyProof,
  kernel: WasmKernel = defaultKernel(),
): boolean {
  const n = cfg.nShards;
  const k = sliverSymbols(cfg, proof.axis);
  if (proof.symbols.length !== k || proof.targetIndex >= n) return false;
  const seen = new Set<number>();
  for (const s of proof.symbols) {
    if (seen.has(s.sourceIndex)) return false;
    seen.add(s.sourceIndex);
    const symbol: RecoverySymbol = {
      targetAxis: proof.axis,
      sourceIndex: s.sourceIndex,
      data: s.data,
      targetIndex: proof.targetIndex,
      proof: s.proof,
    };
    if (!verifyRecoverySymbol(cfg, metadata, symbol, proof.axis, proof.targetIndex, kernel)) return false;
  }
  const data = decodeSliverData(cfg, proof.axis, proof.symbols, kernel);
  const [root] = expandSlivers(kernel, cfg, proof.axis, [data], cfg.symbolSize(metadata.unencodedLength));
  return !equalBytes(root, expectedSliverHash(metadata, proof.axis, proof.targetIndex));
}

// ---- BCS ----------------------------------------------------------------------------------------

function decodingSymbolLength(data: Uint8Array): number {
  return 2 + ulebLength(data.length) + data.length;
}

function writeDecodingSymbol(out: Uint8Array, off: number, index: number, data: Uint8Array): number {
  off = writeU16(out, off, index);
  off = writeUleb(out, off, data.length);
  out.set(data, off);
  return off + data.length;
}

/**
 * BCS of `BTreeMap<u16, Vec<EitherDecodingSymbol>>` (the decodingSymbols answer): ULEB count, then
 * (key u16, ULEB count, symbols) with keys in the order of their serialized bytes (u16
 * little-endian), as Rust's bcs writes maps. Each symbol: axis variant byte (0 = primary target,
 * 1 = secondary) ‖ DecodingSymbol (u16 source index ‖ ULEB length ‖ data).
 */
export function decodingSymbolsToBcs(
  map: ReadonlyMap<number, readonly { sourceIndex: number; data: Uint8Array }[]>,
  targetAxis: SliverAxis,
): Uint8Array {
  const keys = [...map.keys()].sort((a, b) => (a & 0xff) - (b & 0xff) || (a >> 8) - (b >> 8));
  let len = ulebLength(keys.length);
  for (const k of keys) {
    const syms = map.get(k)!;
    len += 2 + ulebLength(syms.length);
    for (const s of syms) len += 1 + decodingSymbolLength(s.data);
  }
  const out = new Uint8Array(len);
  let off = writeUleb(out, 0, keys.length);
  for (const k of keys) {
    const syms = map.get(k)!;
    off = writeU16(out, off, k);
    off = writeUleb(out, off, syms.length);
    for (const s of syms) {
      out[off++] = targetAxis === 'primary' ? 0 : 1;
      off = writeDecodingSymbol(out, off, s.sourceIndex, s.data);
    }
  }
  return out;
}

function readDecodingSymbol(bytes: Uint8Array, off: number): { index: number; data: Uint8Array; next: number } {
  const index = readU16(bytes, off);
  const { value: len, next } = readUleb(bytes, off + 2);
  if (next + len > bytes.length) throw new TuskInputError('DecodingSymbol BCS: truncated data');
  return { index, data: bytes.slice(next, next + len), next: next + len };
}

/** BCS of `Vec<GeneralRecoverySymbol>` (the recoverySymbols response body). */
export function recoverySymbolsToBcs(symbols: readonly RecoverySymbol[]): Uint8Array {
  let len = ulebLength(symbols.length);
  for (const s of symbols) len += 1 + decodingSymbolLength(s.data) + 2 + merkleProofBcsLength(s.proof);
  const out = new Uint8Array(len);
  let off = writeUleb(out, 0, symbols.length);
  for (const s of symbols) {
    out[off++] = s.targetAxis === 'primary' ? 0 : 1;
    off = writeDecodingSymbol(out, off, s.sourceIndex, s.data);
    off = writeU16(out, off, s.targetIndex);
    off = writeMerkleProofBcs(out, off, s.proof);
  }
  return out;
}

/** Parses `Vec<GeneralRecoverySymbol>`; throws TuskInputError on malformed input. */
export function recoverySymbolsFromBcs(bytes: Uint8Array): RecoverySymbol[] {
  const { value: count, next } = readUleb(bytes, 0);
  let off = next;
  const out: RecoverySymbol[] = [];
  for (let i = 0; i < count; i++) {
    if (off >= bytes.length) throw new TuskInputError('GeneralRecoverySymbol BCS: truncated');
    const variant = bytes[off++];
    if (variant > 1) throw new TuskInputError(`GeneralRecoverySymbol BCS: unknown axis variant ${variant}`);
    const ds = readDecodingSymbol(bytes, off);
    const targetIndex = readU16(bytes, ds.next);
    const { proof, next: after } = merkleProofFromBcs(bytes, ds.next + 2);
    off = after;
    out.push({ targetAxis: variant === 0 ? 'primary' : 'secondary', sourceIndex: ds.index, data: ds.data, targetIndex, proof });
  }
  if (off !== bytes.length) throw new TuskInputError('GeneralRecoverySymbol BCS: trailing bytes');
  return out;
}

/** BCS of `InconsistencyProof<axis>` (the axis travels in the URL, not the body). */
export function inconsistencyProofToBcs(proof: InconsistencyProof): Uint8Array {
  let len = 2 + ulebLength(proof.symbols.length);
  for (const s of proof.symbols) len += decodingSymbolLength(s.data) + merkleProofBcsLength(s.proof);
  const out = new Uint8Array(len);
  let off = writeU16(out, 0, proof.targetIndex);
  off = writeUleb(out, off, proof.symbols.length);
  for (const s of proof.symbols) {
    off = writeDecodingSymbol(out, off, s.sourceIndex, s.data);
    off = writeMerkleProofBcs(out, off, s.proof);
  }
  return out;
}

/** Parses `InconsistencyProof<axis>`; throws TuskInputError on malformed input. */
export function inconsistencyProofFromBcs(axis: SliverAxis, bytes: Uint8Array): InconsistencyProof {
  const targetIndex = readU16(bytes, 0);
  const { value: count, next } = readUleb(bytes, 2);
  let off = next;
  const symbols: InconsistencyProof['symbols'][number][] = [];
  for (let i = 0; i < count; i++) {
    const ds = readDecodingSymbol(bytes, off);
    const { proof, next: after } = merkleProofFromBcs(bytes, ds.next);
    off = after;
    symbols.push({ sourceIndex: ds.index, data: ds.data, proof });
  }
  if (off !== bytes.length) throw new TuskInputError('InconsistencyProof BCS: trailing bytes');
  return { axis, targetIndex, symbols };
}
