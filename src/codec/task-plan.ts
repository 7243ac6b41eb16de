/**
 * The one planner of per-sliver kernel work: how `expand` tasks (verify a sliver, produce recovery
 * symbols, check a reconstructed sliver) and `decode` tasks (rebuild missing source symbols of a
 * codeword family) are sized, which kernel buffers one chain of them needs, and how a task is built
 * from those buffers. The in-memory codec (expand.ts, decode.ts), the node's pool expander and the
 * streaming decoder all plan here, so a layout change is made once and `checkTask` (tasks.ts)
 * checks every task the same way.
 *
 * A *chain* is one set of buffers that runs one task at a time; callers allocate as many chains as
 * they run tasks at once (typically one per pool slot) and release them with their kernel mark.
 */
import type { WasmKernel } from '../wasm/kernel.ts';
import type { EncodingConfig } from './config.ts';
import type { SliverAxis } from './sliver.ts';
import type { DecodeTask, ExpandTask } from './tasks.ts';
import { merkleScratchBytes } from '../hash/blake2b.ts';

/** Source symbols of a sliver on `axis`: k_s for primary, k_p for secondary. */
export function sliverSymbols(cfg: EncodingConfig, axis: SliverAxis): number {
  return axis === 'primary' ? cfg.secondarySymbols : cfg.primarySymbols;
}

/** One chain's kernel buffers for expanding up to `perBatch` slivers at a time (offsets in kernel memory). */
export interface ExpandChain {
  readonly area: number;
  readonly work: number;
  readonly leaves: number;
  readonly roots: number;
  readonly scratch: number;
}

/**
 * Expansion of batches of up to `perBatch` slivers of one axis, symbol size `S`. Each expanded
 * sliver is laid out as its n symbols back to back (k source, then n − k recovery) at
 * `area + t·n·S`; its n leaf hashes at `leaves + t·n·32`, its root at `roots + 32t`.
 */
export interface ExpandPlan {
  readonly n: number;
  /** Source symbols per sliver. */
  readonly k: number;
  readonly S: number;
  readonly perBatch: number;
  /** Kernel bytes one chain of a batch of `h` slivers needs (area, work array, leaves, roots, scratch). */
  chainBytes(h: number): number;
  /** Allocates one chain's buffers on `kernel` (the caller releases them with its mark). */
  allocChain(kernel: WasmKernel): ExpandChain;
  /** The task expanding the `h` ≤ perBatch slivers already placed at `chain.area`. */
  task(chain: ExpandChain, h: number): ExpandTask;
}

/** Plans expansions of `axis` slivers in batches of `perBatch` (≥ 1); `kernel` supplies the RS work-array size. */
export function planExpand(kernel: WasmKernel, cfg: EncodingConfig, axis: SliverAxis, S: number, perBatch: number): ExpandPlan {
  const n = cfg.nShards;
  const k = sliverSymbols(cfg, axis);
  const scheme = cfg.scheme;
  const workShards = kernel.exports.rsWorkShards(k, n - k);
  const workStride = scheme.planarBytes(perBatch, S);
  return {
    n,
    k,
    S,
    perBatch,
    chainBytes: (h) => h * n * S + workShards * scheme.planarBytes(h, S) + h * n * 32 + h * 32 + merkleScratchBytes(n),
    allocChain: (kx) => ({
      area: kx.alloc(perBatch * n * S),
      work: kx.alloc(workShards * workStride),
      leaves: kx.alloc(perBatch * n * 32),
      roots: kx.alloc(perBatch * 32),
      scratch: kx.alloc(merkleScratchBytes(n)),
    }),
    task: (c, h) => ({
      kind: 'expand',
      encoding: scheme.name,
      n,
      k,
      S,
      h,
      area: c.area,
      work: c.work,
      workStride,
      leaves: c.leaves,
      roots: c.roots,
      scratch: c.scratch,
    }),
  };
}

/** Bytes per work shard in one RS decode call (see planDecode). */
const DECODE_RS_BYTES = 8 * 1024;

/** One chain's kernel buffers for decoding stripes of up to `perStripe` symbol positions. */
export interface DecodeChain {
  /** Received symbols: decoder position x at raw + x·rawStride. */
  readonly raw: number;
  readonly work: number;
  /** Restored original i at restored + i·rawStride. */
  readonly restored: number;
}

/**
 * Decoding of one Reed–Solomon code of n positions with `o` originals, in stripes of up to
 * `perStripe` symbol positions. Decoding a blob from `axis` slivers uses the code across them
 * (o = k_p for primary slivers, whose codewords are columns; o = k_s for secondary ones: see
 * {@link decodeOriginals}); decoding one sliver from recovery symbols uses its own expansion's
 * code (o = its source symbols, {@link sliverSymbols}). Position i < o is original i, o + j recovery j.
 */
export interface DecodePlan {
  /** Originals (source slivers) per codeword. */
  readonly o: number;
  /** Recovery positions per codeword (n − o). */
  readonly r: number;
  readonly S: number;
  readonly perStripe: number;
  /** Distance between decoder positions in `raw` and between originals in `restored` (perStripe·S). */
  readonly rawStride: number;
  /** The received positions (sliver indices), as given. */
  readonly present: readonly number[];
  /** The decoder position of sliver index `idx` (where its symbols go in a chain's `raw`). */
  position(idx: number): number;
  /** Kernel bytes of the shared received map and erasure locator (one per plan). */
  readonly sharedBytes: number;
  /** Kernel bytes one chain needs. */
  readonly chainBytes: number;
  /**
   * Allocates and fills the received map and computes its erasure locator once (both shared by
   * every chain of the plan, only read by tasks); @returns the map's offset, for {@link task}.
   */
  allocShared(kernel: WasmKernel): number;
  /** Allocates one chain's buffers on `kernel` (the caller releases them with its mark). */
  allocChain(kernel: WasmKernel): DecodeChain;
  /** The task decoding a stripe of `w` ≤ perStripe positions already placed in `chain.raw`. */
  task(chain: DecodeChain, received: number, w: number): DecodeTask;
}

/** Originals of the code across `axis` slivers (what decoding a blob from them runs): k_p for primary, k_s for secondary. */
export function decodeOriginals(cfg: EncodingConfig, axis: SliverAxis): number {
  return axis === 'primary' ? cfg.primarySymbols : cfg.secondarySymbols;
}

/**
 * Plans decodes of the code with `o` originals and n = cfg.nShards positions from the received
 * positions `present` (distinct, each < n), in stripes of up to `perStripe` (≥ 1) symbol
 * positions of size `S`.
 */
export function planDecode(
  kernel: WasmKernel,
  cfg: EncodingConfig,
  o: number,
  S: number,
  perStripe: number,
  present: readonly number[],
): DecodePlan {
  const n = cfg.nShards;
  const r = n - o;
  const scheme = cfg.scheme;
  const kx = kernel.exports;
  const positions = kx.rsDecodeWorkShards(o, r);
  const rawStride = perStripe * S;
  // The RS work array holds every work position (2048 at n = 1000 from primaries), so a task
  // decodes its stripe in calls of ≤ DECODE_RS_BYTES per shard: at 64 KiB stripes one array was
  // 133 MB per chain, all of it fresh memory (page faults) streamed through on every FFT layer.
  const rsWidth = Math.max(1, Math.min(perStripe, Math.floor(DECODE_RS_BYTES / S)));
  const workStride = scheme.planarBytes(rsWidth, S);
  const list = [...present];
  // The erasure locator follows the received map in the shared block, 64-byte aligned.
  const locatorAt = Math.ceil((o + r) / 64) * 64;
  const position = (idx: number) => (idx < o ? kx.rsDecodePosition(o, r, false, idx) : kx.rsDecodePosition(o, r, true, idx - o));
  return {
    o,
    r,
    S,
    perStripe,
    rawStride,
    present: list,
    position,
    sharedBytes: locatorAt + scheme.erasureBytes,
    chainBytes: positions * rawStride + positions * workStride + o * rawStride,
    allocShared: (k) => {
      const received = k.alloc(locatorAt + scheme.erasureBytes);
      const mem = k.u8();
      mem.fill(0, received, received + o + r);
      for (const idx of list) mem[received + idx] = 1;
      scheme.decodeLocator(k.exports, o, r, received, received + locatorAt);
      return received;
    },
    allocChain: (k) => ({
      raw: k.alloc(positions * rawStride),
      work: k.alloc(positions * workStride),
      restored: k.alloc(o * rawStride),
    }),
    task: (c, received, w) => ({
      kind: 'decode',
      encoding: scheme.name,
      o,
      r,
      S,
      w,
      raw: c.raw,
      rawStride,
      present: list,
      received,
      erasures: received + locatorAt,
      work: c.work,
      workStride,
      rsWidth,
      restored: c.restored,
    }),
  };
}
