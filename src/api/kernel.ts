/**
 * `tusk/kernel`: the advanced tier — the WebAssembly kernels (SIMD and scalar builds of assembly/)
 * and the raw Reed–Solomon functions over them. Not needed to encode or decode blobs.
 */
export { WasmKernel, defaultKernel } from '../wasm/kernel.ts';
export type { KernelFlavor } from '../wasm/kernel.ts';
export { encodeRecoveryShards, supportsCounts } from '../rs/reed-solomon.ts';
