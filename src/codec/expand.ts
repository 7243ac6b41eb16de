/**
 * Sliver expansion: the "expanded" form of a sliver is the RS encoding of its k symbols to n
 * symbols (walrus-protocol.md §1.6) — a primary sliver (k_s symbols, a row) with the row code,
 * a secondary sliver (k_p symbols, a column) with the column code. Its Merkle root over the n
 * symbols is the sliver's hash in the metadata.
 *
 * Batches of slivers are expanded together (one RS call per stripe of slivers: each sliver is one
 * row of planar shards), which is what verification, consistency checks and recovery-symbol
 * production all need.
 */
import type { WasmKernel } from '../wasm/kernel.ts';
import type { EncodingConfig } from './config.ts';
import type { SliverAxis } from './sliver.ts';
import { runStripeTask } from './tasks.ts';
import { planExpand } from './task-plan.ts';

const STRIPE_BYTES = 8 * 1024;

/** Called for each expanded sliver; the views are valid only during the call. */
export type ExpandedSliverVisitor = (t: number, expandedSymbols: Uint8Array, leafHashes: Uint8Array, root: Uint8Array) => void;

/**
 * Expands slivers (`datas[t]`: k·S bytes each, all on `axis`) and returns the Merkle root of each
 * expanded sliver (fresh 32-byte arrays). `visit`, if given, also sees the n expanded symbols and
 * their n leaf hashes of every sliver.
 */
export function expandSlivers(
  kernel: WasmKernel,
  cfg: EncodingConfig,
  axis: SliverAxis,
  datas: readonly Uint8Array[],
  symbolSize: number,
  visit?: ExpandedSliverVisitor,
): Uint8Array[] {
  const n = cfg.nShards;
  const S = symbolSize;
  const per = Math.max(1, Math.min(datas.length, Math.floor(STRIPE_BYTES / S)));
  const plan = planExpand(kernel, cfg, axis, S, per);
  const roots: Uint8Array[] = [];
  const mark = kernel.mark();
  try {
    const chain = plan.allocChain(kernel);
    const { area, leaves, roots: rootsPtr } = chain;
    for (let t0 = 0; t0 < datas.length; t0 += per) {
      const h = Math.min(per, datas.length - t0);
      let mem = kernel.u8();
      for (let t = 0; t < h; t++) mem.set(datas[t0 + t], area + t * n * S);
      runStripeTask(kernel.exports, plan.task(chain, h), kernel.u8().byteLength);
      for (let t = 0; t < h; t++) {
        // Re-fetched per sliver: a visitor that hashes on this kernel may grow its memory.
        mem = kernel.u8();
        const root = mem.slice(rootsPtr + t * 32, rootsPtr + t * 32 + 32);
        roots.push(root);
        visit?.(
          t0 + t,
          mem.subarray(area + t * n * S, area + (t + 1) * n * S),
          mem.subarray(leaves + t * n * 32, leaves + (t + 1) * n * 32),
          root,
        );
      }
    }
    return roots;
  } finally {
    kernel.release(mark);
  }
}
