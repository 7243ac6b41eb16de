/**
 * Sliver expansion for the storage node on the codec worker pool: the same `expand` stripe task
 * the streaming decoder uses to verify slivers (src/codec/tasks.ts ExpandTask,
 * src/stream/decode-stream.ts), so a node's event loop never runs the RS expansion or the Merkle
 * hashing of a sliver.
 *
 * A request needs its own kernel memory while its task runs, and a kernel's bump allocator is
 * LIFO, so concurrent requests cannot share one. The expander keeps one forked kernel per pool
 * slot and runs each request on a free one (`WasmKernel.exclusive` queues requests per kernel);
 * with as many kernels as workers the pool stays busy while no memory is shared between requests.
 */
import { defaultKernel, type WasmKernel } from '../wasm/kernel.ts';
import type { TaskRunner } from '../codec/tasks.ts';
import type { EncodingConfig } from '../codec/config.ts';
import type { BlobMetadata } from '../codec/metadata.ts';
import { SliverData, type SliverAxis } from '../codec/sliver.ts';
import { type RecoverySymbol, verifyRecoverySymbol } from '../codec/recovery.ts';
import { planDecode, planExpand, sliverSymbols } from '../codec/task-plan.ts';
import { expectedSliverHash } from '../codec/verify.ts';
import { equalBytes } from '../util/bytes.ts';
import { forgetKernel } from '../wasm/memory-release.ts';
import { NotEnoughSymbolsError, SliverVerificationError, TuskInputError } from '../errors.ts';

/** One expanded sliver: its Merkle root and, when asked for, all n symbols and leaf hashes. */
export interface Expansion {
  readonly root: Uint8Array;
  /** n·S bytes: the expanded sliver (only with `keep`). */
  readonly expanded?: Uint8Array;
  /** n·32 bytes: leaf hashes of the expanded sliver (only with `keep`). */
  readonly leaves?: Uint8Array;
}

/** Runs sliver expansions on a codec pool, one forked kernel per pool slot. */
export class PoolExpander {
  private readonly runner: TaskRunner;
  private readonly kernels: WasmKernel[];
  private readonly busy: number[];
  private queued = 0;
  private closed = false;

  /**
   * @param runner the codec pool (owned by the caller; not closed by {@link close}).
   * @param kernels kernel memories to spread requests over (default: the pool's slot count).
   */
  constructor(runner: TaskRunner, kernels = runner.slots) {
    if (!Number.isInteger(kernels) || kernels < 1) throw new TuskInputError(`expander kernels must be a positive integer, got ${kernels}`);
    this.runner = runner;
    const base = defaultKernel();
    this.kernels = Array.from({ length: kernels }, () => base.fork());
    this.busy = this.kernels.map(() => 0);
  }

  /** Expansions waiting or running (for admission control). */
  get pending(): number {
    return this.queued;
  }

  /**
   * Expands `data` (the k source symbols of an `axis` sliver, symbol size S) and returns its Merkle
   * root, plus the expanded symbols and leaf hashes with `keep` (fresh copies owned by the caller),
   * or only the leaf hashes with `keep = 'leaves'` (a challenge proof needs no more: n·32 bytes
   * copied instead of n·S).
   */
  async expand(cfg: EncodingConfig, axis: SliverAxis, data: Uint8Array, S: number, keep: boolean | 'leaves' = false): Promise<Expansion> {
    if (this.closed) throw new TuskInputError('expander is closed');
    const n = cfg.nShards;
    const k = sliverSymbols(cfg, axis);
    if (data.length !== k * S) throw new TuskInputError(`expand: ${axis} sliver data must be ${k * S} bytes, got ${data.length}`);
    return this.onLeastBusy((kernel) =>
      kernel.exclusive(async () => {
        const plan = planExpand(kernel, cfg, axis, S, 1);
        const mark = kernel.mark();
        try {
          const chain = plan.allocChain(kernel);
          const { area, leaves, roots } = chain;
          kernel.u8().set(data, area);
          await this.runner.run(kernel, plan.task(chain, 1));
          const mem = kernel.u8();
          const root = mem.slice(roots, roots + 32);
          if (!keep) return { root };
          if (keep === 'leaves') return { root, leaves: mem.slice(leaves, leaves + n * 32) };
          return { root, expanded: mem.slice(area, area + n * S), leaves: mem.slice(leaves, leaves + n * 32) };
        } finally {
          kernel.release(mark);
        }
      }),
    );
  }

  /**
   * Verifies `sliver` against verified `metadata` (walrus-protocol.md §4.3): index in range, symbol
   * size and length for the blob, and the Merkle root of its expansion equal to the metadata's hash.
   * @returns null when valid, else the reason.
   */
  async verify(cfg: EncodingConfig, metadata: BlobMetadata, sliver: SliverData): Promise<SliverVerificationError | null> {
    const n = cfg.nShards;
    const S = cfg.symbolSize(metadata.unencodedLength);
    if (sliver.index >= n) return new SliverVerificationError(sliver.axis, sliver.index, `index out of range 0…${n - 1}`);
    if (sliver.symbolSize !== S)
      return new SliverVerificationError(sliver.axis, sliver.index, `symbol size ${sliver.symbolSize}, expected ${S}`);
    const want = sliverSymbols(cfg, sliver.axis) * S;
    if (sliver.data.length !== want)
      return new SliverVerificationError(sliver.axis, sliver.index, `length ${sliver.data.length} bytes, expected ${want}`);
    const { root } = await this.expand(cfg, sliver.axis, sliver.data, S);
    if (!equalBytes(root, expectedSliverHash(metadata, sliver.axis, sliver.index))) {
      return new SliverVerificationError(sliver.axis, sliver.index, 'Merkle root of the expanded sliver does not match the metadata');
    }
    return null;
  }

  /**
   * RS-decodes the k source symbols of an `axis` sliver from k symbols of its expanded form
   * (`sourceIndex` = codeword position: < k original, ≥ k recovery), on the pool: the `decode`
   * stripe task with a stripe one symbol wide. Pre: exactly k symbols with distinct positions,
   * each S bytes. @returns the sliver's k·S data bytes (fresh, owned by the caller).
   */
  async decodeSliverData(
    cfg: EncodingConfig,
    axis: SliverAxis,
    symbols: readonly { sourceIndex: number; data: Uint8Array }[],
    S: number,
  ): Promise<Uint8Array> {
    if (this.closed) throw new TuskInputError('expander is closed');
    const n = cfg.nShards;
    const o = sliverSymbols(cfg, axis);
    const seen = new Set<number>();
    for (const s of symbols) {
      if (!Number.isInteger(s.sourceIndex) || s.sourceIndex < 0 || s.sourceIndex >= n || seen.has(s.sourceIndex) || s.data.length !== S) {
        throw new TuskInputError(`decodeSliverData: symbols must have distinct positions in 0…${n - 1} and ${S} bytes each`);
      }
      seen.add(s.sourceIndex);
    }
    if (symbols.length !== o) throw new TuskInputError(`decodeSliverData: needs exactly ${o} symbols, got ${symbols.length}`);
    return this.onLeastBusy((kernel) =>
      kernel.exclusive(async () => {
        const plan = planDecode(
          kernel,
          cfg,
          o,
          S,
          1,
          symbols.map((s) => s.sourceIndex),
        );
        const mark = kernel.mark();
        try {
          const received = plan.allocShared(kernel);
          const chain = plan.allocChain(kernel);
          let mem = kernel.u8();
          for (const s of symbols) mem.set(s.data, chain.raw + plan.position(s.sourceIndex) * S);
          if (plan.present.some((i) => i >= o)) await this.runner.run(kernel, plan.task(chain, received, 1));
          mem = kernel.u8();
          const out = new Uint8Array(o * S);
          for (let i = 0; i < o; i++) {
            const from = seen.has(i) ? chain.raw + plan.position(i) * S : chain.restored + i * S;
            out.set(mem.subarray(from, from + S), i * S);
          }
          return out;
        } finally {
          kernel.release(mark);
        }
      }),
    );
  }

  /**
   * Rebuilds `targetAxis` sliver `targetIndex` from recovery symbols like `recoverSliver`
   * (src/codec/recovery.ts), with the decode and the expansion on the pool: the first k distinct
   * symbols whose proofs verify are decoded, and the result is checked against the metadata.
   * @returns the sliver, or the symbols used when the decoded sliver does NOT match the metadata
   *   (they form an inconsistency proof).
   * @throws NotEnoughSymbolsError (retryable) with fewer than k distinct valid symbols.
   */
  async recoverSliver(
    cfg: EncodingConfig,
    metadata: BlobMetadata,
    targetAxis: SliverAxis,
    targetIndex: number,
    symbols: readonly RecoverySymbol[],
  ): Promise<
    | { sliver: SliverData; inconsistent?: undefined }
    | { sliver?: undefined; inconsistent: { sourceIndex: number; data: Uint8Array; proof: RecoverySymbol['proof'] }[] }
  > {
    const k = sliverSymbols(cfg, targetAxis);
    const chosen = new Map<number, RecoverySymbol>();
    for (const s of symbols) {
      if (chosen.size === k) break;
      if (s.targetAxis !== targetAxis || s.targetIndex !== targetIndex || chosen.has(s.sourceIndex)) continue;
      // Proof checks hash one symbol and ⌈log2 n⌉ nodes each: cheap enough for this thread.
      if (verifyRecoverySymbol(cfg, metadata, s, targetAxis, targetIndex)) chosen.set(s.sourceIndex, s);
    }
    if (chosen.size < k)
      throw new NotEnoughSymbolsError(
        `recovering ${targetAxis} sliver ${targetIndex} needs ${k} distinct valid symbols, got ${chosen.size}`,
      );
    const used = [...chosen.values()].map((s) => ({ sourceIndex: s.sourceIndex, data: s.data, proof: s.proof }));
    const S = cfg.symbolSize(metadata.unencodedLength);
    const data = await this.decodeSliverData(cfg, targetAxis, used, S);
    const { root } = await this.expand(cfg, targetAxis, data, S);
    if (!equalBytes(root, expectedSliverHash(metadata, targetAxis, targetIndex))) return { inconsistent: used };
    return { sliver: SliverData.create(targetAxis, data, S, targetIndex) };
  }

  /** Runs `work` on the least busy kernel, counting it as queued/running meanwhile. */
  private async onLeastBusy<T>(work: (kernel: WasmKernel) => Promise<T>): Promise<T> {
    const pick = this.leastBusy();
    this.busy[pick]++;
    this.queued++;
    try {
      return await work(this.kernels[pick]);
    } finally {
      this.busy[pick]--;
      this.queued--;
    }
  }

  /** The kernel with the fewest requests queued or running (ties: the first). */
  private leastBusy(): number {
    let pick = 0;
    for (let i = 1; i < this.busy.length; i++) if (this.busy[i] < this.busy[pick]) pick = i;
    return pick;
  }

  /** Releases the kernels (workers drop their instances). The pool itself stays open. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const k of this.kernels) forgetKernel(k.id);
  }
}
