/**
 * Reed–Solomon over GF(2^16), byte-identical to reed-solomon-simd 3.1 (the code Walrus RS2 uses).
 *
 * Shards use the crate's byte format (shared/spec/reed-solomon.md §2): even length > 0; each
 * full 64-byte block holds 32 low bytes then 32 high bytes; a final partial block of 2t bytes
 * holds t low bytes then t high bytes. This module converts between that format and the kernels'
 * planar layout (every block padded to 64 bytes) and runs the kernels.
 */
import { type WasmKernel, defaultKernel } from '../wasm/kernel.ts';
import { TuskInputError } from '../errors.ts';

/** Options for {@link encodeRecoveryShards}. */
export interface ReedSolomonOptions {
  /** Kernel instance to run on; defaults to the calling thread's. */
  kernel?: WasmKernel;
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

/** True when reed-solomon-simd supports `originalCount` : `recoveryCount` (§3.1). */
export function supportsCounts(originalCount: number, recoveryCount: number, kernel = defaultKernel()): boolean {
  return (
    Number.isInteger(originalCount) && Number.isInteger(recoveryCount) &&
    originalCount >= 1 && recoveryCount >= 1 && originalCount <= 65535 && recoveryCount <= 65535 &&
    kernel.exports.rsSupports(originalCount, recoveryCount) !== 0
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
  const o = originals.length;
  if (o === 0) throw new TuskInputError('reed-solomon: at least one original shard is required');
  const shardBytes = originals[0].length;
  if (shardBytes === 0 || shardBytes % 2 !== 0) {
    throw new TuskInputError(`reed-solomon: shard size must be even and non-zero, got ${shardBytes}`);
  }
  for (const s of originals) {
    if (s.length !== shardBytes) throw new TuskInputError('reed-solomon: all shards must have the same length');
  }
  if (!supportsCounts(o, recoveryCount, kernel)) {
    throw new TuskInputError(`reed-solomon: unsupported counts ${o} original : ${recoveryCount} recovery`);
  }
  const stride = planarShardBytes(shardBytes);
  const mark = kernel.mark();
  try {
    const workShards = kernel.exports.rsWorkShards(o, recoveryCount);
    const base = kernel.alloc(workShards * stride);
    let mem = kernel.u8();
    for (let i = 0; i < o; i++) shardToPlanar(originals[i], mem.subarray(base + i * stride, base + (i + 1) * stride));
    kernel.exports.rsEncode(base, stride, stride, o, recoveryCount);
    mem = kernel.u8();
    const out: Uint8Array[] = [];
    for (let j = 0; j < recoveryCount; j++) {
      const shard = new Uint8Array(shardBytes);
      planarToShard(mem.subarray(base + j * stride, base + (j + 1) * stride), shard);
      out.push(shard);
    }
    return out;
  } finally {
    kernel.release(mark);
  }
}
