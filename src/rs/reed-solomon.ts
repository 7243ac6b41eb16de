/**
 * Additive-FFT Reed–Solomon over two fields (shared/spec/reed-solomon.md):
 *  - `gf16` (default): byte-identical to reed-solomon-simd 3.1, the code Walrus RS2 uses. Shards
 *    use the crate's byte format (§2): even length > 0; each full 64-byte block holds 32 low bytes
 *    then 32 high bytes; a final partial block of 2t bytes holds t low bytes then t high bytes.
 *  - `gf8`: Leopard's GF(2^8) code (§1.6) with the same rate rule (Tusk RS8). One byte is one
 *    element; shards may have any length > 0. At most 255 shards of each kind, and
 *    min(P(o), P(r)) + max(o, r) ≤ 256.
 * This module converts between those formats and the kernels' planar layout (blocks padded to
 * 64 bytes) and runs the kernels.
 */
import { type WasmKernel, defaultKernel } from '../wasm/kernel.ts';
import { TuskInputError } from '../errors.ts';

/** The field a code runs over. */
export type RsField = 'gf16' | 'gf8';

function nextPow2(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

/** reed-solomon-simd's count rule for a field of `order` elements (§3.1 of the RS spec). */
export function countsFit(o: number, r: number, order: number): boolean {
  return o >= 1 && r >= 1 && o < order && r < order && Math.min(nextPow2(o), nextPow2(r)) + Math.max(o, r) <= order;
}

/** Options for the Reed–Solomon functions. */
export interface ReedSolomonOptions {
  /** Kernel instance to run on; defaults to the calling thread's. */
  kernel?: WasmKernel;
  /** Field (default `gf16`, the Walrus code). */
  field?: RsField;
}

/** Field-specific pieces behind one shape. */
interface FieldOps {
  encode(base: number, stride: number, bytes: number, o: number, r: number): void;
  decode(base: number, stride: number, bytes: number, o: number, r: number, received: number, erasures: number): void;
  erasureBytes: number;
  checkShardBytes(b: number): void;
  toPlanar(src: Uint8Array, dst: Uint8Array): void;
  fromPlanar(src: Uint8Array, dst: Uint8Array): void;
}

function fieldOps(kernel: WasmKernel, field: RsField = 'gf16'): FieldOps {
  const k = kernel.exports;
  if (field === 'gf16') {
    return {
      encode: k.rsEncode,
      decode: k.rsDecode,
      erasureBytes: 65536 * 2,
      checkShardBytes: (b) => {
        if (b === 0 || b % 2 !== 0) throw new TuskInputError(`reed-solomon: shard size must be even and non-zero, got ${b}`);
      },
      toPlanar: shardToPlanar,
      fromPlanar: planarToShard,
    };
  }
  if (field === 'gf8') {
    return {
      encode: k.rs8Encode,
      decode: k.rs8Decode,
      erasureBytes: 256 * 2,
      checkShardBytes: (b) => {
        if (b === 0) throw new TuskInputError('reed-solomon: shard size must be non-zero');
      },
      toPlanar: (src, dst) => {
        dst.set(src);
        dst.fill(0, src.length);
      },
      fromPlanar: (src, dst) => dst.set(src.subarray(0, dst.length)),
    };
  }
  throw new TuskInputError(`reed-solomon: unknown field ${String(field)}`);
}

/** Bytes of a shard once padded to whole 64-byte planar blocks. */
export function planarShardBytes(shardBytes: number): number {
  return Math.ceil(shardBytes / 64) * 64;
}

/**
 * Copies one shard in crate byte format into planar layout at `dst` (planarShardBytes long).
 * Padding lanes of the last block are zeroed.
 */
export function shardToPlanar(src: Uint8Array, dst: Uint8Array): void {
  const full = src.length & ~63;
  dst.set(src.subarray(0, full));
  const tail = src.length - full;
  if (tail === 0) return;
  const t = tail >> 1;
  dst.fill(0, full, full + 64);
  dst.set(src.subarray(full, full + t), full);
  dst.set(src.subarray(full + t, full + tail), full + 32);
}

/** Inverse of {@link shardToPlanar}: writes `dst.length` bytes of crate format from planar `src`. */
export function planarToShard(src: Uint8Array, dst: Uint8Array): void {
  const full = dst.length & ~63;
  dst.set(src.subarray(0, full));
  const tail = dst.length - full;
  if (tail === 0) return;
  const t = tail >> 1;
  dst.set(src.subarray(full, full + t), full);
  dst.set(src.subarray(full + 32, full + 32 + t), full + t);
}

/** True when `originalCount` : `recoveryCount` is supported over `field` (§3.1; the rule lives with the encodings). */
export function supportsCounts(originalCount: number, recoveryCount: number, field: RsField = 'gf16'): boolean {
  return (
    Number.isInteger(originalCount) &&
    Number.isInteger(recoveryCount) &&
    countsFit(originalCount, recoveryCount, field === 'gf8' ? 256 : 65536)
  );
}

/**
 * Computes the `recoveryCount` recovery shards of `originals`, exactly as
 * `ReedSolomonEncoder::new(o, r, b)` + `add_original_shard`… + `encode()` + `recovery_iter()`.
 *
 * Pre: 1 ≤ originals.length, recoveryCount; counts supported (§3.1); all shards the same even,
 * non-zero length. Post: fresh arrays, owned by the caller; inputs are not modified.
 */
export function encodeRecoveryShards(
  originals: readonly Uint8Array[],
  recoveryCount: number,
  options: ReedSolomonOptions = {},
): Uint8Array[] {
  const kernel = options.kernel ?? defaultKernel();
  const ops = fieldOps(kernel, options.field);
  const o = originals.length;
  if (o === 0) throw new TuskInputError('reed-solomon: at least one original shard is required');
  const shardBytes = originals[0].length;
  ops.checkShardBytes(shardBytes);
  for (const s of originals) {
    if (s.length !== shardBytes) throw new TuskInputError('reed-solomon: all shards must have the same length');
  }
  if (!supportsCounts(o, recoveryCount, options.field)) {
    throw new TuskInputError(`reed-solomon: unsupported counts ${o} original : ${recoveryCount} recovery`);
  }
  const stride = planarShardBytes(shardBytes);
  const mark = kernel.mark();
  try {
    const workShards = kernel.exports.rsWorkShards(o, recoveryCount);
    const base = kernel.alloc(workShards * stride);
    let mem = kernel.u8();
    for (let i = 0; i < o; i++) ops.toPlanar(originals[i], mem.subarray(base + i * stride, base + (i + 1) * stride));
    ops.encode(base, stride, stride, o, recoveryCount);
    mem = kernel.u8();
    const out: Uint8Array[] = [];
    for (let j = 0; j < recoveryCount; j++) {
      const shard = new Uint8Array(shardBytes);
      ops.fromPlanar(mem.subarray(base + j * stride, base + (j + 1) * stride), shard);
      out.push(shard);
    }
    return out;
  } finally {
    kernel.release(mark);
  }
}

/**
 * Restores missing original shards from any `originalCount` received shards, exactly as
 * reed-solomon-simd's decoder (any correct erasure decoder returns the same bytes).
 *
 * @param originals original shards by index (`undefined` = missing)
 * @param recovery recovery shards by index (`undefined` = missing); its length is the recovery count
 * @returns a map from each missing original's index to its restored bytes (fresh arrays)
 * @throws TuskInputError when fewer than `originalCount` shards are present, sizes differ or are odd,
 *   or the counts are unsupported.
 */
export function decodeMissingOriginals(
  originalCount: number,
  originals: readonly (Uint8Array | undefined)[],
  recovery: readonly (Uint8Array | undefined)[],
  options: ReedSolomonOptions = {},
): Map<number, Uint8Array> {
  const kernel = options.kernel ?? defaultKernel();
  const ops = fieldOps(kernel, options.field);
  const o = originalCount,
    r = recovery.length;
  if (!supportsCounts(o, r, options.field)) throw new TuskInputError(`reed-solomon: unsupported counts ${o} original : ${r} recovery`);
  if (originals.length > o) throw new TuskInputError(`reed-solomon: ${originals.length} originals given for ${o}`);
  let shardBytes = -1;
  let present = 0;
  for (const s of [...originals, ...recovery]) {
    if (!s) continue;
    present++;
    if (shardBytes < 0) shardBytes = s.length;
    else if (s.length !== shardBytes) throw new TuskInputError('reed-solomon: all shards must have the same length');
  }
  if (present < o) throw new TuskInputError(`reed-solomon: need ${o} shards, got ${present}`);
  ops.checkShardBytes(shardBytes);
  const result = new Map<number, Uint8Array>();
  const missing: number[] = [];
  for (let i = 0; i < o; i++) if (!originals[i]) missing.push(i);
  if (missing.length === 0) return result;
  const stride = planarShardBytes(shardBytes);
  const k = kernel.exports;
  const mark = kernel.mark();
  try {
    const n = k.rsDecodeWorkShards(o, r);
    const base = kernel.alloc(n * stride);
    const received = kernel.alloc(o + r, 1);
    const erasures = kernel.alloc(ops.erasureBytes);
    let mem = kernel.u8();
    mem.fill(0, received, received + o + r);
    const place = (shard: Uint8Array | undefined, isRecovery: boolean, i: number) => {
      if (!shard) return;
      const x = k.rsDecodePosition(o, r, isRecovery, i);
      ops.toPlanar(shard, mem.subarray(base + x * stride, base + (x + 1) * stride));
      mem[received + (isRecovery ? o : 0) + i] = 1;
    };
    originals.forEach((s, i) => place(s, false, i));
    recovery.forEach((s, j) => place(s, true, j));
    ops.decode(base, stride, stride, o, r, received, erasures);
    mem = kernel.u8();
    for (const i of missing) {
      const x = k.rsDecodePosition(o, r, false, i);
      const out = new Uint8Array(shardBytes);
      ops.fromPlanar(mem.subarray(base + x * stride, base + (x + 1) * stride), out);
      result.set(i, out);
    }
    return result;
  } finally {
    kernel.release(mark);
  }
}
