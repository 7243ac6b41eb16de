/**
 * Loading the AssemblyScript kernels and laying out their memory.
 *
 * The kernels allocate nothing: every buffer they touch is placed by the host through the bump
 * allocator here. Memory is imported (created by us) and shared, so pool workers (src/pool/) run
 * kernels on the same memory.
 *
 * Three flavours are built from the same sources (scripts/build-wasm.ts): `relaxed` (SIMD plus
 * relaxed SIMD: the GF multiply's table lookups are bare byte shuffles, ~28 % faster Reed–Solomon
 * in V8 on x64), `simd` and `scalar`. `auto` picks the first that `WebAssembly.validate` accepts.
 * `TUSK_WASM=relaxed|simd|scalar` forces one; the test suite runs once per flavour that way.
 */
import { readFileSync } from 'node:fs';
import type { GeneratedKernelExports } from './kernel-exports.generated.ts';

/** Which compiled flavour of the kernels to use. */
export type KernelFlavor = 'relaxed' | 'simd' | 'scalar';

/** Every flavour, fastest first. */
export const KERNEL_FLAVORS: readonly KernelFlavor[] = ['relaxed', 'simd', 'scalar'];

/**
 * Raw exports of the kernel module. Pointers and lengths are byte offsets into `memory`. The
 * signatures come from the generated {@link GeneratedKernelExports} (tsc checks the documented
 * members below against them); there is no catch-all, so an unknown export does not type-check.
 */
export interface KernelExports extends GeneratedKernelExports {
  heapBase(): number;
  /** Builds the GF(2^16) tables (EXP, LOG, SKEW; Mul128 rows on first use) at `base` (gf16TableBytes() bytes, 64-aligned). */
  gf16Init(base: number): void;
  /** Uses tables already copied to `base` (same layout as gf16Init). */
  gf16Attach(base: number): void;
  gf16TableBytes(): number;
  /** Builds the decoder's LOG_WALSH table at `ptr` (128 KiB); needs gf16Init first. */
  gf16InitLogWalsh(ptr: number): void;
  /** Builds the GF(2^8) tables (RS8) at `base` (gf8TableBytes() bytes). */
  gf8Init(base: number): void;
  gf8Attach(base: number): void;
  gf8TableBytes(): number;
  gf16AttachLogWalsh(ptr: number): void;
  gf16ExpPtr(): number;
  gf16LogPtr(): number;
  gf16SkewPtr(): number;
  gf16Mul128Ptr(): number;
  /** BLAKE2b-256 of [inPtr, inPtr+len) → 32 bytes at outPtr (assembly/hash/blake2b.ts). */
  blake2b256(inPtr: number, len: number, outPtr: number): void;
  /** Walrus leaf digests BLAKE2b-256(0x00 || symbol) of `count` symbols at srcPtr + k*srcStride → outPtr + k*outStride. */
  hashLeaves(srcPtr: number, symbolSize: number, count: number, srcStride: number, outPtr: number, outStride: number): void;
  /** Inner nodes BLAKE2b-256(0x01 || src[64k..64k+64)) → outPtr + 32k; outPtr may equal srcPtr. */
  hashInnerNodes(srcPtr: number, count: number, outPtr: number): void;
  /** Walrus Merkle root of `count` 32-byte digests at leafHashesPtr + i*stride; scratch ceil(count/2)*32 bytes. */
  merkleRoot(leafHashesPtr: number, count: number, stride: number, scratchPtr: number, outPtr: number): void;
  /** merkleRoot for tree t in [0, treeCount) at leafHashesPtr + t*treeStride → outPtr + 32t; same scratch. */
  merkleRoots(
    leafHashesPtr: number,
    count: number,
    leafStride: number,
    treeCount: number,
    treeStride: number,
    scratchPtr: number,
    outPtr: number,
  ): void;
}

const WASM_PAGE = 65536;
/** EXP, LOG and SKEW (65536 u16 each) at the start of the GF(2^16) table region (assembly/gf16/tables.ts). */
const GF16_COPY_BYTES = 3 * 65536 * 2;
const LOG_WALSH_BYTES = 65536 * 2;
const MAX_PAGES = 65536; // 4 GiB: the wasm32 ceiling.

const bytesCache = new Map<KernelFlavor, Uint8Array>();
const moduleCache = new Map<KernelFlavor, WebAssembly.Module>();

function wasmPath(flavor: KernelFlavor): URL {
  return new URL(`../../build/tusk-${flavor}.wasm`, import.meta.url);
}

/** Bytes of a compiled flavour. Throws with a hint when `npm run build:wasm` has not run. */
export function kernelBytes(flavor: KernelFlavor): Uint8Array {
  let b = bytesCache.get(flavor);
  if (!b) {
    try {
      b = new Uint8Array(readFileSync(wasmPath(flavor)));
    } catch (e) {
      throw new Error(`tusk: missing WebAssembly kernel build/tusk-${flavor}.wasm; run \`npm run build:wasm\` (${(e as Error).message})`);
    }
    bytesCache.set(flavor, b);
  }
  return b;
}

let autoFlavor: KernelFlavor | undefined;

/** Resolves `auto` (or the TUSK_WASM environment variable) to a concrete flavour. */
export function resolveFlavor(flavor: KernelFlavor | 'auto' = 'auto'): KernelFlavor {
  if (flavor !== 'auto') return flavor;
  const forced = process.env.TUSK_WASM;
  if (forced === 'relaxed' || forced === 'simd' || forced === 'scalar') return forced;
  if (autoFlavor === undefined) {
    autoFlavor = KERNEL_FLAVORS.find((f) => f === 'scalar' || WebAssembly.validate(kernelBytes(f) as BufferSource))!;
  }
  return autoFlavor;
}

/** The compiled module of a flavour, compiled once per thread. */
export function kernelModule(flavor: KernelFlavor): WebAssembly.Module {
  let m = moduleCache.get(flavor);
  if (!m) {
    m = new WebAssembly.Module(kernelBytes(flavor) as BufferSource);
    moduleCache.set(flavor, m);
  }
  return m;
}

/** Where an instance's tables live; enough for another thread to attach to the same memory. */
export interface KernelLayout {
  readonly flavor: KernelFlavor;
  readonly gf16Base: number;
  readonly logWalshBase: number;
  readonly gf8Base: number;
}

let nextKernelId = 1;

/**
 * Instantiates the kernels on an existing (shared) memory whose tables were built by another
 * instance, without allocating: how pool workers run tasks on the main thread's memory.
 */
export function attachKernel(memory: WebAssembly.Memory, layout: KernelLayout, module = kernelModule(layout.flavor)): KernelExports {
  const instance = new WebAssembly.Instance(module, { env: { memory, abort: kernelAbort } });
  const k = instance.exports as unknown as KernelExports;
  k.gf16Attach(layout.gf16Base);
  k.gf16AttachLogWalsh(layout.logWalshBase);
  k.gf8Attach(layout.gf8Base);
  return k;
}

function kernelAbort(_msg: number, _file: number, line: number, col: number): never {
  throw new Error(`tusk kernel abort at ${line}:${col}`);
}

/**
 * One instance of the kernels with its own linear memory and a bump allocator.
 *
 * Ownership: views returned by `u8()` are invalidated by any `alloc` that grows memory; take a
 * fresh view after allocating. Allocations are released in LIFO order with `mark`/`release`.
 */
export class WasmKernel implements KernelLayout {
  /** Process-unique id of this instance's memory (pool workers cache their instances by it). */
  readonly id = nextKernelId++;
  readonly flavor: KernelFlavor;
  readonly memory: WebAssembly.Memory;
  readonly exports: KernelExports;
  /** Offset of the GF(2^16) tables. */
  readonly gf16Base: number;
  /** Offset of the decoder's LOG_WALSH table (65536 u16). */
  readonly logWalshBase: number;
  /** Offset of the GF(2^8) tables (RS8). */
  readonly gf8Base: number;
  private top: number;
  private view: Uint8Array;
  /** The mark right after the tables: what {@link recycle} resets to. */
  private readonly base: number;

  /**
   * @param flavor which build to run (`auto`: the fastest the engine validates, see {@link resolveFlavor}).
   * @param tablesFrom an instance of the same flavour whose tables are copied instead of rebuilt.
   */
  constructor(flavor: KernelFlavor | 'auto' = 'auto', tablesFrom?: WasmKernel) {
    this.flavor = resolveFlavor(flavor);
    // Shared, so worker threads can run kernels on the same memory (src/pool/); single-threaded
    // use is unaffected. `buffer` is then a SharedArrayBuffer.
    this.memory = new WebAssembly.Memory({ initial: 2, maximum: MAX_PAGES, shared: true });
    const instance = new WebAssembly.Instance(kernelModule(this.flavor), { env: { memory: this.memory, abort: kernelAbort } });
    this.exports = instance.exports as unknown as KernelExports;
    this.top = align(this.exports.heapBase(), 64);
    this.view = new Uint8Array(this.memory.buffer);
    const tableBytes = this.exports.gf16TableBytes();
    this.gf16Base = this.alloc(tableBytes);
    this.logWalshBase = this.alloc(LOG_WALSH_BYTES);
    const gf8Bytes = this.exports.gf8TableBytes();
    this.gf8Base = this.alloc(gf8Bytes);
    if (tablesFrom && tablesFrom.flavor === this.flavor) {
      const from = tablesFrom.u8();
      const to = this.u8();
      // EXP, LOG and SKEW only: the Mul128 rows are built on first use, and this memory's BUILT
      // bitmap is zero (fresh memory), so copying 8 MiB of rows would only fault pages in.
      to.set(from.subarray(tablesFrom.gf16Base, tablesFrom.gf16Base + GF16_COPY_BYTES), this.gf16Base);
      to.set(from.subarray(tablesFrom.logWalshBase, tablesFrom.logWalshBase + LOG_WALSH_BYTES), this.logWalshBase);
      to.set(from.subarray(tablesFrom.gf8Base, tablesFrom.gf8Base + gf8Bytes), this.gf8Base);
      this.exports.gf16Attach(this.gf16Base);
      this.exports.gf16AttachLogWalsh(this.logWalshBase);
      this.exports.gf8Attach(this.gf8Base);
    } else {
      this.exports.gf16Init(this.gf16Base);
      this.exports.gf16InitLogWalsh(this.logWalshBase);
      this.exports.gf8Init(this.gf8Base);
    }
    this.base = this.top;
  }

  private lock: Promise<unknown> = Promise.resolve();

  /**
   * Runs `work` when no other `exclusive` work of this kernel is in flight. Async users of one
   * kernel must take turns: the bump allocator is LIFO, and interleaved async allocations would
   * let one call's release free memory another call's workers are still writing. (Synchronous
   * users need no lock: they allocate and release without yielding.)
   */
  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.lock.then(work, work);
    this.lock = run.catch(() => {});
    return run;
  }

  /**
   * An instance of the same flavour sharing nothing with this one but a copy of its tables: a
   * recycled one (see {@link recycle}) when one is spare — its pages are already mapped, so the
   * work that follows pays no first-touch page faults (slow on VMs) — else a new one.
   */
  fork(): WasmKernel {
    const i = spares.findIndex((k) => k.flavor === this.flavor);
    if (i >= 0) return spares.splice(i, 1)[0];
    return new WasmKernel(this.flavor, this);
  }

  /**
   * Hands this instance back for reuse by a later {@link fork} (encodes and decodes on dedicated
   * memory call it when done). Pre: nothing uses its memory any more — no views, no result
   * slivers, no task in flight; pool workers were told to forget it. Everything allocated is freed.
   * At most {@link MAX_SPARE_BYTES} of memory is kept spare (WebAssembly memory never shrinks), the
   * rest is left to the garbage collector. The thread's default kernel is never recycled.
   */
  recycle(): void {
    this.top = this.base;
    if (this === shared || spares.includes(this)) return;
    const spareBytes = spares.reduce((sum, k) => sum + k.memory.buffer.byteLength, 0);
    if (spareBytes + this.memory.buffer.byteLength <= MAX_SPARE_BYTES) spares.push(this);
  }

  /** Reserves `bytes` bytes aligned to `alignment` (a power of two), growing memory as needed. */
  alloc(bytes: number, alignment = 64): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`alloc: bad size ${bytes}`);
    const ptr = align(this.top, alignment);
    const end = ptr + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / WASM_PAGE);
      if (have / WASM_PAGE + pages > MAX_PAGES) {
        throw new RangeError(`tusk: kernel memory would exceed 4 GiB (need ${end} bytes)`);
      }
      this.memory.grow(pages);
    }
    this.top = end;
    return ptr;
  }

  /** Current allocation mark; pass it to `release` to free everything allocated after it. */
  mark(): number {
    return this.top;
  }

  release(mark: number): void {
    this.top = mark;
  }

  /** A byte view of the whole memory (refreshed when memory has grown). */
  u8(): Uint8Array {
    if (this.view.buffer !== this.memory.buffer) this.view = new Uint8Array(this.memory.buffer);
    return this.view;
  }

  /** Copies `data` into kernel memory at a fresh allocation and returns its offset. */
  put(data: Uint8Array, alignment = 64): number {
    const ptr = this.alloc(data.length, alignment);
    this.u8().set(data, ptr);
    return ptr;
  }
}

function align(x: number, a: number): number {
  // Plain arithmetic, not bit masks: offsets can exceed 2^31.
  return Math.ceil(x / a) * a;
}

let shared: WasmKernel | undefined;

/** Recycled instances waiting for a {@link WasmKernel.fork}. */
const spares: WasmKernel[] = [];
/** Kernel memory kept for reuse at most (bytes): one large encode's or decode's worth. */
export const MAX_SPARE_BYTES = 1.25 * 2 ** 30;

/** The calling thread's default kernel instance (created on first use). */
export function defaultKernel(): WasmKernel {
  if (!shared) shared = new WasmKernel();
  return shared;
}
