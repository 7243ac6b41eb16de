/**
 * The streaming RedStuff encoder: blobs of any size up to the protocol maximum (≈13.6 GiB at
 * n = 1000), with kernel memory bounded by a budget (default 1 GiB) instead of the blob size.
 *
 * The 2D code forces two rounds over the data; what only completes at the end goes to temporary
 * files in a private directory (removed afterwards, also on failure or abort):
 *  A. Rows are read in order into per-slot staging areas laid out as primary SliverData frames.
 *     A `rows` task (on the pool) produces each row's n symbols and their leaf hashes. The rows
 *     are primary slivers 0…k_p−1: they go to the sink at once, zero-copy. The rows' symbols per
 *     column are appended to the column file (column-major: column c's k_p symbols contiguous).
 *  B. Stripes of columns are read back as secondary SliverData frames. A `cols` task produces the
 *     2f recovery rows for those columns and their leaf hashes. The columns are complete secondary
 *     slivers: they go to the sink. The recovery rows' first k_s symbols are written to the row
 *     file (row-major).
 *  C. Merkle roots on the pool; then primary slivers k_p…n−1 are read back from the row file and
 *     delivered; then the metadata.
 * With a sink that takes in-place writes (the sliver directory, src/stream/intermediates.ts) the
 * column file IS the secondary sliver files and the row file the primary slivers k_p…n−1: they
 * are written positionally into the sink's files and never delivered again (the disk sees each
 * sliver byte once).
 * Output is byte-identical to the in-memory encoder for the same input.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultKernel, type WasmKernel } from '../wasm/kernel.ts';
import { TuskInputError } from '../errors.ts';
import { EncodingConfig, assertEncoderCommittee } from '../codec/config.ts';
import type { EncodingName, EncodingScheme } from '../codec/encodings/index.ts';
import { SliverData, writeSliverFrames } from '../codec/sliver.ts';
import { ulebLength, writeU16 } from '../codec/bcs.ts';
import { finishMetadata, type EncodedMetadata } from '../codec/encode.ts';
import { type TaskRunner } from '../codec/tasks.ts';
import type { ColsTask, RowsTask, StripeTask } from '../codec/tasks.ts';
import { defaultPool } from '../pool/codec-pool.ts';
import { openBlobSource, type BlobInput, type BlobSource } from './source.ts';
import { isInPlaceSink, type SliverSink } from './sink.ts';
import { inSlots } from '../util/slots.ts';
import { forgetKernel } from '../wasm/memory-release.ts';
import { inPlaceIntermediates, metadataOnlyIntermediates, tempFileIntermediates, type Intermediates } from './intermediates.ts';
import { leafLayout, recoveryRootsTask, stripeLeafFields } from '../codec/leaf-layout.ts';

/** A progress report: `phase` and how far it is, in bytes of that phase's work. */
export interface EncodeProgress {
  phase: 'rows' | 'columns' | 'slivers';
  bytesDone: number;
  bytesTotal: number;
}

/** Options for {@link encodeStream}. */
export interface StreamEncodeOptions {
  nShards: number;
  encoding?: EncodingScheme | EncodingName | Lowercase<EncodingName>;
  /** Where slivers and metadata go (see src/stream/sink.ts). */
  sink: SliverSink;
  /** Total input length; required to avoid spooling a stream without one to a temporary file. */
  length?: number;
  /** Where tasks run (default: the process-wide pool sized to the machine's cores). */
  pool?: TaskRunner;
  /** Kernel memory budget in bytes (default 1 GiB). Slivers stream through it in stripes. */
  memoryBudget?: number;
  /** Parent of the temporary directory (default: the OS temp dir). */
  tempDir?: string;
  signal?: AbortSignal;
  onProgress?: (progress: EncodeProgress) => void;
  /** Kernel to copy tables from (default: the calling thread's). */
  kernel?: WasmKernel;
}

const DEFAULT_BUDGET = 1 << 30;
// Larger than the in-memory encoder's 8 KiB: fewer, larger file writes per stripe. Each chain's
// row frames and column staging scale with it (fresh memory: page faults). Measured at 256 MiB,
// n = 1000, 6 alternating runs: 64 → 32 KiB, page faults 77k → 50k, peak RSS 337 → 235 MB, the
// same wall time on ext4 and tmpfs; 16 KiB was slower (4× the writes of 64).
const STRIPE_TARGET = 32 * 1024;
// The RS calls within a stripe, though, stay at the in-memory encoder's 8 KiB per shard: the RS
// work array (1024 shards at n = 1000) scales with the call, not the I/O. At 64 KiB calls it was
// 67 MB of fresh memory per chain at 256 MiB — page faults ~12 µs each on slow-fault VMs.
const RS_TARGET = 8 * 1024;

/**
 * Encodes `input` and delivers every sliver and then the metadata to `options.sink`.
 * @returns the blob ID and metadata.
 * @throws TuskInputError / BlobTooLargeError for bad input; the signal's reason when aborted. On
 *   any failure the sink is closed with `ok = false` and temporary files are removed.
 */
export async function encodeStream(input: BlobInput, options: StreamEncodeOptions): Promise<EncodedMetadata> {
  return encodeWith(input, options, false);
}

/** Options for {@link computeStreamMetadata}: those of encodeStream without a sink. */
export type StreamMetadataOptions = Omit<StreamEncodeOptions, 'sink'>;

/**
 * The blob ID and metadata of `input` with bounded memory, like {@link encodeStream} but keeping no
 * sliver: only the columns go to a temporary file (phase B needs them); the recovery rows are
 * hashed and dropped. For inputs too large for computeFileMetadata (kernel memory ≈ 1.5× the blob).
 */
export async function computeStreamMetadata(input: BlobInput, options: StreamMetadataOptions): Promise<EncodedMetadata> {
  return encodeWith(input, { ...options, sink: { writeSliver: () => {}, writeMetadata: () => {} } }, true);
}

async function encodeWith(input: BlobInput, options: StreamEncodeOptions, metadataOnly: boolean): Promise<EncodedMetadata> {
  const { sink, signal } = options;
  let temp: string | undefined;
  const tempDir = async () => (temp ??= await mkdtemp(join(options.tempDir ?? tmpdir(), 'tusk-encode-')));
  let source: BlobSource | undefined;
  let kernel: WasmKernel | undefined;
  let store: Intermediates | undefined;
  try {
    signal?.throwIfAborted();
    source = await openBlobSource(input, options.length, tempDir, signal);
    const cfg = new EncodingConfig(options.nShards, options.encoding);
    assertEncoderCommittee(cfg.nShards);
    cfg.symbolSize(source.length); // size checks before any work
    kernel = (options.kernel ?? defaultKernel()).fork();
    const runner = options.pool ?? defaultPool();
    const layout = { n: cfg.nShards, kP: cfg.primarySymbols, kS: cfg.secondarySymbols, S: cfg.symbolSize(source.length) };
    store = metadataOnly
      ? metadataOnlyIntermediates(await tempDir(), layout)
      : isInPlaceSink(sink)
        ? inPlaceIntermediates(sink, layout)
        : tempFileIntermediates(await tempDir(), layout);
    const result = await run(cfg, source, kernel, runner, sink, store, options);
    store.close(); // in place: the sliver files are complete before the sink commits them
    await sink.close?.(true);
    return result;
  } catch (e) {
    await Promise.resolve(sink.close?.(false)).catch(() => {});
    throw e;
  } finally {
    // Each step on its own: one failing must not skip the others.
    try {
      store?.close();
    } catch {}
    await source?.close().catch(() => {});
    if (temp) await rm(temp, { recursive: true, force: true }).catch(() => {});
    if (kernel) {
      forgetKernel(kernel.id);
      kernel.recycle(); // its memory serves the next encode or decode (no fresh pages)
    }
  }
}

async function run(
  cfg: EncodingConfig,
  source: BlobSource,
  kernel: WasmKernel,
  runner: TaskRunner,
  sink: SliverSink,
  store: Intermediates,
  options: StreamEncodeOptions,
): Promise<EncodedMetadata> {
  const { signal, onProgress } = options;
  const scheme = cfg.scheme;
  const n = cfg.nShards,
    kP = cfg.primarySymbols,
    kS = cfg.secondarySymbols,
    f2 = n - kP;
  const L = source.length;
  const S = cfg.symbolSize(L);
  const rowBytes = kS * S,
    colBytes = kP * S;
  const pFrame = SliverData.bcsLength(rowBytes),
    sFrame = SliverData.bcsLength(colBytes);
  const pHead = ulebLength(rowBytes),
    sHead = ulebLength(colBytes);
  const slots = runner.slots;
  const k = kernel.exports;
  const workA = k.rsWorkShards(kS, n - kS),
    workB = k.rsWorkShards(kP, f2);

  // Phases run one after another, so each phase's buffers are allocated, used and released in
  // turn. Within the budget: as many concurrent chains as fit (at most the pool's slots), each
  // with stripes as tall as fit (at most STRIPE_TARGET bytes per shard).
  const budget = options.memoryBudget ?? DEFAULT_BUDGET;
  // Leaf digests (src/codec/leaf-layout.ts): Phase A's k_p rows, the recovery rows' block nodes,
  // and at worst (stripes narrower than a block) every recovery-row leaf.
  const maxLeaves = leafLayout(n, kP, kS, 1);
  const fixed = maxLeaves.leafBytes + maxLeaves.rowNodeBytes + maxLeaves.partialBytes + n * 64 + 4 * 2 ** 20;
  const avail = budget - fixed;
  const planar = (count: number) => scheme.planarBytes(count, S);
  // Rows (Phase A) and columns (Phase B) per RS call.
  const rsMax = Math.max(1, Math.floor(RS_TARGET / S));
  const needA = (hh: number) => hh * pFrame + n * hh * S + workA * planar(Math.min(hh, rsMax));
  const needB = (ww: number) => ww * sFrame + workB * planar(Math.min(ww, rsMax)) + f2 * ww * S + ww * n * 32;
  if (avail < Math.max(needA(1), needB(1))) {
    throw new TuskInputError(
      `memory budget of ${budget} bytes is too small for this blob at n_shards = ${n}: it needs at least ${fixed + Math.max(needA(1), needB(1))} bytes`,
    );
  }
  const cache = Math.max(1, Math.floor(STRIPE_TARGET / S));
  const fit = (need: (x: number) => number, max: number, chains: number) => {
    let x = Math.min(max, cache);
    while (x > 1 && need(x) * chains > avail) x = Math.floor(x / 2);
    return x;
  };
  const chainsA = Math.max(1, Math.min(slots, Math.floor(avail / needA(1))));
  const chainsB = Math.max(1, Math.min(slots, Math.floor(avail / needB(1))));
  const h = fit(needA, kP, chainsA);
  const w = fit(needB, Math.min(kS, maxLeaves.blockSize), chainsB);

  const leaves = leafLayout(n, kP, kS, w);
  const leafHashes = kernel.alloc(leaves.leafBytes);
  const rowNodes = kernel.alloc(leaves.rowNodeBytes);
  const partial = leaves.partialBytes > 0 ? kernel.alloc(leaves.partialBytes) : 0;
  const pairHashes = kernel.alloc(n * 64);
  const regions = { leafHashes, rowNodes, partial, pairHashes };
  // The layout's scratch size: the column trees' merkleNodes reduce three blocks at once.
  const scratch = Array.from({ length: slots }, () => kernel.alloc(leaves.scratchBytes));
  const phaseMark = kernel.mark();
  const mem = () => kernel.u8();
  const exec = (t: StripeTask) => {
    signal?.throwIfAborted();
    return runner.run(kernel, t);
  };
  const report = (phase: EncodeProgress['phase'], done: number, total: number) =>
    onProgress?.({ phase, bytesDone: done, bytesTotal: total });

  // Phase A. The source is sequential, so stripe i reads only after stripe i−1 has (a chain may
  // reach stripe i first); otherwise chains run their stripes concurrently.
  const hRs = Math.min(h, rsMax);
  const slotA = Array.from({ length: chainsA }, () => ({
    rows: kernel.alloc(h * pFrame, 8),
    cols: kernel.alloc(n * h * S),
    work: kernel.alloc(workA * planar(hRs)),
  }));
  for (const sl of slotA) writeSliverFrames(mem(), sl.rows, h, pFrame, rowBytes, S);
  const reads = new Gates();
  let rowsDone = 0;
  await inSlots(
    chainsA,
    Math.ceil(kP / h),
    async (i, s) => {
      const r0 = i * h,
        hh = Math.min(h, kP - r0);
      const { rows, cols, work } = slotA[s];
      await reads.wait(i - 1);
      {
        for (let t = 0; t < hh; t++) {
          const start = Math.min(L, (r0 + t) * rowBytes);
          const count = Math.min(L, start + rowBytes) - start;
          const frame = rows + t * pFrame;
          const view = mem().subarray(frame + pHead, frame + pHead + rowBytes);
          await source.read(view, count);
          view.fill(0, count);
          writeU16(mem(), frame + pHead + rowBytes + 2, r0 + t);
        }
      }
      reads.open(i);
      // One task per RS call of ≤ hRs rows, in turn on this chain's work array.
      for (let off = 0; off < hh; off += hRs) {
        const task: RowsTask = {
          kind: 'rows',
          encoding: scheme.name,
          n,
          kP,
          kS,
          S,
          r0: r0 + off,
          h: Math.min(hRs, hh - off),
          rows: rows + off * pFrame + pHead,
          rowStride: pFrame,
          // The stripe's columns live at cols + c·(hh·S) + (r − r0)·S.
          colBase: cols - r0 * S,
          colStride: hh * S,
          work,
          workStride: planar(hRs),
          leafHashes,
          pairHashes,
          scratch: scratch[s],
        };
        await exec(task);
      }
      for (let t = 0; t < hh && store.deliver; t++) {
        await sink.writeSliver(SliverData.fromBcs('primary', mem().subarray(rows + t * pFrame, rows + (t + 1) * pFrame)));
      }
      const m = mem();
      for (let c = 0; c < n; c++) store.writeColumn(m, cols + c * hh * S, hh * S, c, r0);
      rowsDone += hh;
      report('rows', Math.min(L, rowsDone * rowBytes), L);
    },
    (e) => reads.fail(e),
  );
  kernel.release(phaseMark);

  // Phase B. Column stripes lie in one leaf block and do not straddle column k_s (recovery rows
  // of columns ≥ k_s are only hashed).
  const stripes = leaves.stripes;
  const wRs = Math.min(w, rsMax);
  const slotB = Array.from({ length: chainsB }, () => ({
    frames: kernel.alloc(w * sFrame, 8),
    work: kernel.alloc(workB * planar(wRs)),
    out: kernel.alloc(f2 * w * S),
    columnLeaves: kernel.alloc(leaves.columnLeafBytes),
  }));
  for (const sl of slotB) writeSliverFrames(mem(), sl.frames, w, sFrame, colBytes, S);
  let colsDone = 0;
  await inSlots(chainsB, stripes.length, async (i, s) => {
    const { c0, w: ww } = stripes[i];
    const { frames, out, work, columnLeaves } = slotB[s];
    for (let t = 0; t < ww; t++) {
      const frame = frames + t * sFrame;
      store.readColumn(mem(), frame + sHead, c0 + t);
      writeU16(mem(), frame + sHead + colBytes + 2, c0 + t);
    }
    const task: ColsTask = {
      kind: 'cols',
      encoding: scheme.name,
      n,
      kP,
      S,
      c0,
      w: ww,
      rsCols: wRs,
      colBase: frames + sHead - c0 * sFrame,
      colStride: sFrame,
      work,
      workStride: planar(wRs),
      out,
      outStride: ww * S,
      outAdvance: S,
      ...stripeLeafFields(leaves, regions, c0, columnLeaves, scratch[s]),
    };
    await exec(task);
    // In place, the columns read above are the secondary sliver files themselves: nothing to deliver.
    for (let t = 0; t < ww && !store.columnsInPlace; t++) {
      await sink.writeSliver(SliverData.fromBcs('secondary', mem().subarray(frames + t * sFrame, frames + (t + 1) * sFrame)));
    }
    if (c0 < kS) {
      const m = mem();
      for (let j = 0; j < f2; j++) store.writeRecoveryRow(m, out + j * ww * S, ww * S, j, c0);
    }
    colsDone += ww;
    report('columns', colsDone * colBytes, n * colBytes);
  });
  kernel.release(phaseMark);

  // Phase C: the recovery rows' roots on the pool, then the primary slivers k_p … n−1 from the row file.
  const perRoots = Math.ceil(f2 / (slots * 4));
  await inSlots(slots, Math.ceil(f2 / perRoots), async (i, s) => {
    const first = i * perRoots;
    await exec(recoveryRootsTask(leaves, regions, first, Math.min(perRoots, f2 - first), scratch[s]));
  });
  const frame = kernel.alloc(pFrame, 8);
  writeSliverFrames(mem(), frame, 1, pFrame, rowBytes, S);
  for (let j = 0; j < f2 && !store.rowsInPlace; j++) {
    signal?.throwIfAborted();
    store.readRecoveryRow(mem(), frame + pHead, j);
    writeU16(mem(), frame + pHead + rowBytes + 2, kP + j);
    await sink.writeSliver(SliverData.fromBcs('primary', mem().subarray(frame, frame + pFrame)));
    report('slivers', (j + 1) * rowBytes, f2 * rowBytes);
  }
  const result = finishMetadata(kernel, cfg, L, pairHashes, scratch[0]);
  await sink.writeMetadata(result);
  return result;
}

/**
 * Gate i opens once; waiting on a gate before it exists works (gate −1 is always open). After
 * `fail`, every wait rejects, so no chain waits forever on a stripe that will never be read.
 */
class Gates {
  private readonly gates = new Map<number, { promise: Promise<void>; resolve: () => void; reject: (e: unknown) => void }>();
  private failure: { error: unknown } | undefined;
  private get(i: number) {
    let g = this.gates.get(i);
    if (!g) {
      let resolve!: () => void, reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      promise.catch(() => {}); // a gate nobody waits on must not be an unhandled rejection
      g = { promise, resolve, reject };
      this.gates.set(i, g);
      if (this.failure) reject(this.failure.error);
    }
    return g;
  }
  wait(i: number): Promise<void> {
    return i < 0 ? Promise.resolve() : this.get(i).promise;
  }
  open(i: number): void {
    this.get(i).resolve();
  }
  fail(error: unknown): void {
    this.failure ??= { error };
    for (const g of this.gates.values()) g.reject(error);
  }
}
