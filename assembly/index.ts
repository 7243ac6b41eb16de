// Entry point of the Tusk kernels. Every export is a pure kernel over host-laid-out memory:
// nothing here allocates (runtime "stub", no `new` on hot paths). See src/wasm/kernel.ts.

export { gf16Init, gf16Attach, gf16TableBytes, gf16ExpPtr, gf16LogPtr, gf16SkewPtr, gf16Mul128Ptr } from './gf16/tables';

/** First byte the host may use: everything below is the module's static data. */
export function heapBase(): usize {
  return __heap_base;
}
export { xorInto, mulAddInto, mulInPlace, fftButterfly, ifftButterfly } from './gf16/kernels';
export { fft, ifft } from './rs/fft16';
export { rsSupports, rsUseHighRate, rsWorkShards, rsEncode } from './rs/encode16';
export { symbolsToShards, shardsToSymbols, copySymbols } from './codec/layout';
export { blake2b256, hashLeaves, hashInnerNodes, merkleRoot, merkleRoots } from './hash/blake2b';
export { rsDecode, rsDecodeChunk, rsDecodeWorkShards, rsDecodePosition, fwht, gf16InitLogWalsh, gf16AttachLogWalsh } from './rs/decode16';
