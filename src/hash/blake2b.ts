/**
 * BLAKE2b-256 and Walrus Merkle roots on top of the WebAssembly kernels (assembly/hash/blake2b.ts).
 *
 * These helpers copy their inputs into kernel memory, run one kernel call and copy the result out;
 * kernel memory they allocate is released before they return (`mark`/`release`), so they must not
 * be called while the same kernel is in the middle of another LIFO allocation sequence that expects
 * to keep allocations made after its mark. Bulk callers (the encoder) should lay out memory
 * themselves and call `kernel.exports.hashLeaves` / `merkleRoots` directly.
 */
import { defaultKernel, type WasmKernel } from '../wasm/kernel.ts';

/** Length in bytes of every digest here. */
export const DIGEST_BYTES = 32;

/**
 * BLAKE2b-256 (RFC 7693, 32-byte digest, no key) of `data`.
 *
 * @param data Any length (0 allowed); only read.
 * @param kernel Kernel instance to run on (defaults to the thread's shared one).
 * @returns A fresh 32-byte array owned by the caller.
 */
export function blake2b256(data: Uint8Array, kernel: WasmKernel = defaultKernel()): Uint8Array {
  const mark = kernel.mark();
  try {
    const inPtr = kernel.put(data);
    const outPtr = kernel.alloc(DIGEST_BYTES);
    kernel.exports.blake2b256(inPtr, data.length, outPtr);
    return kernel.u8().slice(outPtr, outPtr + DIGEST_BYTES);
  } finally {
    kernel.release(mark);
  }
}

/**
 * Walrus leaf digest BLAKE2b-256(0x00 || symbol) of one symbol.
 *
 * @param symbol The symbol bytes; only read.
 * @returns A fresh 32-byte array owned by the caller.
 */
export function leafHash(symbol: Uint8Array, kernel: WasmKernel = defaultKernel()): Uint8Array {
  const mark = kernel.mark();
  try {
    const inPtr = kernel.put(symbol);
    const outPtr = kernel.alloc(DIGEST_BYTES);
    kernel.exports.hashLeaves(inPtr, symbol.length, 1, symbol.length, outPtr, DIGEST_BYTES);
    return kernel.u8().slice(outPtr, outPtr + DIGEST_BYTES);
  } finally {
    kernel.release(mark);
  }
}

/**
 * Walrus Merkle root (core/merkle.rs) over leaf digests: inner node = BLAKE2b-256(0x01 || left ||
 * right), odd levels padded with an all-zero "Empty" node, one leaf → its digest, none → 32 zeros.
 *
 * @param leafHashes Concatenated 32-byte leaf digests (length a multiple of 32); only read.
 * @returns A fresh 32-byte array owned by the caller.
 * @throws RangeError if `leafHashes.length` is not a multiple of 32.
 */
export function merkleRootOfLeafHashes(leafHashes: Uint8Array, kernel: WasmKernel = defaultKernel()): Uint8Array {
  if (leafHashes.length % DIGEST_BYTES !== 0) {
    throw new RangeError(`merkleRootOfLeafHashes: length ${leafHashes.length} is not a multiple of ${DIGEST_BYTES}`);
  }
  const count = leafHashes.length / DIGEST_BYTES;
  const mark = kernel.mark();
  try {
    const leavesPtr = kernel.put(leafHashes);
    const scratchPtr = kernel.alloc(merkleScratchBytes(count));
    const outPtr = kernel.alloc(DIGEST_BYTES);
    kernel.exports.merkleRoot(leavesPtr, count, DIGEST_BYTES, scratchPtr, outPtr);
    return kernel.u8().slice(outPtr, outPtr + DIGEST_BYTES);
  } finally {
    kernel.release(mark);
  }
}

/**
 * Walrus Merkle root over symbols: leaf digests BLAKE2b-256(0x00 || symbol), then as
 * `merkleRootOfLeafHashes`.
 *
 * @param symbols Leaf symbols (any lengths, hashed individually); only read.
 * @returns A fresh 32-byte array owned by the caller.
 */
export function merkleRootOfSymbols(symbols: readonly Uint8Array[], kernel: WasmKernel = defaultKernel()): Uint8Array {
  const mark = kernel.mark();
  try {
    const digestsPtr = kernel.alloc(symbols.length * DIGEST_BYTES);
    for (let i = 0; i < symbols.length; i++) {
      const m = kernel.mark();
      const p = kernel.put(symbols[i]);
      kernel.exports.hashLeaves(p, symbols[i].length, 1, symbols[i].length, digestsPtr + i * DIGEST_BYTES, DIGEST_BYTES);
      kernel.release(m);
    }
    const scratchPtr = kernel.alloc(merkleScratchBytes(symbols.length));
    const outPtr = kernel.alloc(DIGEST_BYTES);
    kernel.exports.merkleRoot(digestsPtr, symbols.length, DIGEST_BYTES, scratchPtr, outPtr);
    return kernel.u8().slice(outPtr, outPtr + DIGEST_BYTES);
  } finally {
    kernel.release(mark);
  }
}

/**
 * Merkle root over `count` contiguous leaves of `leafBytes` bytes at `leavesPtr` in `kernel`
 * memory (each leaf hashed once, then the tree). `scratch`: merkleScratchBytes(count) bytes.
 * Allocates its leaf digests above the caller's allocations and releases them.
 */
export function merkleRootOfLeaves(kernel: WasmKernel, leavesPtr: number, count: number, leafBytes: number, scratch: number): Uint8Array {
  const mark = kernel.mark();
  try {
    const digests = kernel.alloc(count * DIGEST_BYTES);
    const out = kernel.alloc(DIGEST_BYTES);
    // 64-byte leaves (pair hashes) on the inner-node code (kernel hashLeaves64 says why).
    if (leafBytes === 64) kernel.exports.hashLeaves64(leavesPtr, count, digests);
    else kernel.exports.hashLeaves(leavesPtr, leafBytes, count, leafBytes, digests, DIGEST_BYTES);
    kernel.exports.merkleRoot(digests, count, DIGEST_BYTES, scratch, out);
    return kernel.u8().slice(out, out + DIGEST_BYTES);
  } finally {
    kernel.release(mark);
  }
}

/** Scratch bytes the `merkleRoot` / `merkleRoots` kernels need for trees of `count` leaves: ceil(count/2)·32. */
export function merkleScratchBytes(count: number): number {
  return Math.ceil(count / 2) * DIGEST_BYTES;
}
