/**
 * The streaming RedStuff decoder: rebuilds a blob of any size from a sliver directory (the
 * `tusk encode` layout) into a file, with kernel memory bounded by a budget like the encoder.
 *
 *  1. Metadata is read and checked against its blob ID.
 *  2. Sliver files are read and verified in small batches, systematic ones first, until k_p valid
 *     primary slivers (else k_s valid secondary slivers) are found; the rest are not read.
 *  3. Stripes of symbol positions: one positional read per chosen sliver straight into kernel
 *     memory, a `decode` task on the pool, and positional writes of the blob bytes to a temporary
 *     output file. Reconstructed source slivers are also collected in a temporary file.
 *  4. Consistency check ("default"): every reconstructed source sliver is re-expanded and compared
 *     with the metadata. Only then is the output handed over (src/stream/output.ts): renamed into
 *     place for a regular file, copied in place to stdout, a device, a FIFO or a link.
 */
import { closeSync, openSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareOutput, type OutputTarget } from './output.ts';
import { makeTempDir, sweepStaleTempDirs } from './temp-dirs.ts';
import { defaultKernel, type WasmKernel } from '../wasm/kernel.ts';
import { InconsistentBlobError, NotEnoughSliversError, SliverVerificationError, TuskError, TuskInputError } from '../errors.ts';
import { readDirectoryMetadata } from './sliver-dir.ts';
import { SliverData, type SliverAxis } from '../codec/sliver.ts';
import { expectedSliverHash, verifyMetadata } from '../codec/verify.ts';
import { equalBytes } from '../util/bytes.ts';
import type { TaskRunner } from '../codec/tasks.ts';
import type { DecodeTask } from '../codec/tasks.ts';
import { defaultPool } from '../pool/codec-pool.ts';
import { inSlots } from '../util/slots.ts';
import { forgetKernel } from '../wasm/memory-release.ts';
import { readAll, writeAll } from './file-io.ts';
import { planExpand } from '../codec/expand.ts';
import { ulebLength } from '../codec/bcs.ts';

/** A progress report of {@link decodeDirectory}. */
export interface DecodeProgress {
  phase: 'verify' | 'decode' | 'check';
  bytesDone: number;
  bytesTotal: number;
}

/** Options for {@link decodeDirectory}. */
export interface StreamDecodeOptions {
  pool?: TaskRunner;
  /** Kernel memory budget in bytes (default 1 GiB). */
  memoryBudget?: number;
  /** `default` (re-expand reconstructed slivers) or `skip`. */
  consistencyCheck?: 'default' | 'skip';
  /** Replace an existing output file (default: refuse). */
  overwrite?: boolean;
  tempDir?: string;
  signal?: AbortSignal;
  onProgress?: (progress: DecodeProgress) => void;
  /** Called for every sliver that is skipped (unreadable, invalid or duplicate). */
  onRejected?: (error: SliverVerificationError | TuskError) => void;
  kernel?: WasmKernel;
}

/** What {@link decodeDirectory} did. */
export interface DecodeDirectoryResult {
  blobId: string;
  bytes: number;
  axis: SliverAxis;
  /** Source slivers that were reconstructed (not present and valid on disk). */
  reconstructed: number;
  rejected: number;
}

const DEFAULT_BUDGET = 1 << 30;
const VERIFY_BATCH = 8;
/** Bytes per decoder shard in one stripe: large enough for few, large reads per sliver file. */
const STRIPE_TARGET = 64 * 1024;

/**
 * Decodes the sliver directory `dir` into `out`: a path (src/stream/output.ts: a regular file is
 * written atomically; `-`, a device, FIFO or link in place once verified), or a target prepared
 * by the caller with `prepareOutput` (committed on success, its partial file discarded on failure;
 * the caller releases it).
 * @throws MetadataVerificationError, NotEnoughSliversError (retryable), InconsistentBlobError,
 *   TuskInputError for a bad directory or an existing output; the signal's reason when aborted.
 */
export async function decodeDirectory(
  dir: string,
  out: string | OutputTarget,
  options: StreamDecodeOptions = {},
): Promise<DecodeDirectoryResult> {
  options.signal?.throwIfAborted();
  if (typeof out !== 'string') return decodeInto(dir, out, options);
  // Temporary folders of decodes and reads that were killed would otherwise stay forever.
  await sweepStaleTempDirs(options.tempDir);
  const target = await prepareOutput(out, { overwrite: options.overwrite, tempDir: options.tempDir });
  try {
    return await decodeInto(dir, target, options);
  } finally {
    await target.release();
  }
}

async function decodeInto(dir: string, target: OutputTarget, options: StreamDecodeOptions): Promise<DecodeDirectoryResult> {
  const { signal } = options;
  const withId = await readDirectoryMetadata(dir);
  const meta = withId.metadata;
  const kernel = (options.kernel ?? defaultKernel()).fork();
  const cfg = verifyMetadata(withId, meta.hashes.length, kernel);
  const L = meta.unencodedLength;
  const S = cfg.symbolSize(L);
  const n = cfg.nShards,
    kP = cfg.primarySymbols,
    kS = cfg.secondarySymbols;
  const rejectedErrors: (SliverVerificationError | TuskError)[] = [];
  const reject = (e: SliverVerificationError | TuskError) => {
    rejectedErrors.push(e);
    options.onRejected?.(e);
  };

  const runner = options.pool ?? defaultPool();
  const budget = options.memoryBudget ?? DEFAULT_BUDGET;

  /**
   * Runs `work` on up to `chainsWanted` concurrent chains, giving each an `expand(datas)` that
   * expands a batch of `ax` slivers on the pool and returns their Merkle roots. Buffers come from
   * the budget and are released afterwards.
   */
  async function onPool(
    ax: SliverAxis,
    work: (expand: (datas: Uint8Array[]) => Promise<Uint8Array[]>, chain: number) => Promise<void>,
    chainsWanted: number,
  ): Promise<void> {
    const k = ax === 'primary' ? kS : kP;
    // Kernel buffers per chain (codec/expand.ts sizes them, with 64 bytes of alignment slack), plus
    // the batch's sliver files held in JS memory while they are checked.
    const need = (h: number) => planExpand(kernel, cfg, ax, S, h).chainBytes(h) + 64 + h * k * S;
    const avail = budget - 4 * 2 ** 20;
    if (avail < need(1))
      throw new TuskInputError(
        `memory budget of ${budget} bytes is too small to verify slivers of this blob: it needs at least ${need(1) + 4 * 2 ** 20} bytes`,
      );
    const chains = Math.max(1, Math.min(chainsWanted, runner.slots, Math.floor(avail / need(1))));
    let per = VERIFY_BATCH;
    while (per > 1 && need(per) * chains > avail) per = Math.floor(per / 2);
    const plan = planExpand(kernel, cfg, ax, S, per);
    const mark = kernel.mark();
    try {
      const slots = Array.from({ length: chains }, () => plan.allocChain(kernel));
      await inSlots(chains, chains, async (c) => {
        const sl = slots[c];
        const expand = async (datas: Uint8Array[]): Promise<Uint8Array[]> => {
          const roots: Uint8Array[] = [];
          for (let t0 = 0; t0 < datas.length; t0 += per) {
            const h = Math.min(per, datas.length - t0);
            for (let t = 0; t < h; t++) kernel.u8().set(datas[t0 + t], sl.area + t * n * S);
            await runner.run(kernel, plan.task(sl, h));
            for (let t = 0; t < h; t++) roots.push(kernel.u8().slice(sl.roots + t * 32, sl.roots + (t + 1) * 32));
          }
          return roots;
        };
        await work(expand, c);
      });
    } finally {
      kernel.release(mark);
    }
  }

  // 1–2. Choose and verify slivers, systematic first; stop reading once k are valid.
  const chosen = await chooseSlivers().catch((e) => {
    forgetKernel(kernel.id); // the decode below (whose cleanup does this) will not run
    throw e;
  });
  const axis = chosen.axis;
  const o = axis === 'primary' ? kP : kS;
  const symbols = axis === 'primary' ? kS : kP; // per sliver
  const r = n - o;

  const temp = await makeTempDir('decode', options.tempDir);
  const partial = target.partialPath;
  const fds: number[] = [];
  try {
    const outFd = openSync(partial, 'w+');
    fds.push(outFd);
    const restoredFd = openSync(join(temp, 'reconstructed.bin'), 'w+');
    fds.push(restoredFd);
    const sliverFds = new Map<number, number>();
    for (const { index, file } of chosen.files) {
      const fd = openSync(file, 'r');
      fds.push(fd);
      sliverFds.set(index, fd);
    }
    // Every chosen sliver was checked to hold exactly `symbols`·S data bytes, and SliverData BCS
    // has a canonical ULEB length: the data starts at the same offset in every file.
    const dataStart = ulebLength(symbols * S);
    const missing: number[] = [];
    for (let i = 0; i < o; i++) if (!sliverFds.has(i)) missing.push(i);

    // 3. Stripes of w symbol positions.
    const k = kernel.exports;
    const scheme = cfg.scheme;
    const nDecode = k.rsDecodeWorkShards(o, r);
    // Per chain: the raw stripe of every decoder position, the RS work array, the restored
    // originals and (secondary axis) the stripe's rows. As many chains as the budget holds.
    const avail = budget - 4 * 2 ** 20;
    const need = (ww: number) =>
      nDecode * ww * S + nDecode * scheme.planarBytes(ww, S) + scheme.erasureBytes + o * ww * S + (axis === 'secondary' ? ww * kS * S : 0);
    if (avail < need(1)) {
      throw new TuskInputError(
        `memory budget of ${budget} bytes is too small to decode this blob: it needs at least ${need(1) + 4 * 2 ** 20} bytes`,
      );
    }
    const slots = Math.max(1, Math.min(runner.slots, Math.floor(avail / need(1))));
    let w = Math.max(1, Math.min(symbols, Math.floor(STRIPE_TARGET / S)));
    while (w > 1 && need(w) * slots > avail) w = Math.floor(w / 2);
    // Sliver index = received-map index (original i < o; recovery j at o + j).
    const present: number[] = [...sliverFds.keys()];
    const decodeMark = kernel.mark();
    const received = kernel.alloc(o + r, 1);
    kernel.u8().fill(0, received, received + o + r);
    for (const idx of present) kernel.u8()[received + idx] = 1;
    const slot = Array.from({ length: slots }, () => ({
      raw: kernel.alloc(nDecode * w * S),
      work: kernel.alloc(nDecode * scheme.planarBytes(w, S)),
      erasures: kernel.alloc(scheme.erasureBytes),
      restored: kernel.alloc(o * w * S),
      rows: axis === 'secondary' ? kernel.alloc(w * kS * S) : 0, // the stripe's rows, row-major
    }));
    const stripes = Math.ceil(symbols / w);
    let done = 0;
    const writeClipped = (ptr: number, length: number, position: number) => {
      const len = Math.min(length, L - position);
      if (len > 0) writeAll(outFd, kernel.u8(), ptr, len, position);
    };
    await inSlots(slots, stripes, async (s, slotIndex) => {
      signal?.throwIfAborted();
      const p0 = s * w,
        ww = Math.min(w, symbols - p0);
      const sl = slot[slotIndex];
      for (const [idx, fd] of sliverFds) {
        const x = idx < o ? k.rsDecodePosition(o, r, false, idx) : k.rsDecodePosition(o, r, true, idx - o);
        readAll(fd, kernel.u8(), sl.raw + x * w * S, ww * S, dataStart + p0 * S);
      }
      if (missing.length > 0) {
        const task: DecodeTask = {
          kind: 'decode',
          encoding: scheme.name,
          o,
          r,
          S,
          w: ww,
          raw: sl.raw,
          rawStride: w * S,
          present,
          received,
          erasures: sl.erasures,
          work: sl.work,
          workStride: scheme.planarBytes(w, S),
          restored: sl.restored,
        };
        await runner.run(kernel, task);
      }
      // Source sliver i's symbols [p0, p0+ww): received → raw at its position, else restored.
      const src = (i: number) => (sliverFds.has(i) ? sl.raw + k.rsDecodePosition(o, r, false, i) * w * S : sl.restored + i * w * S);
      for (const i of missing) writeAll(restoredFd, kernel.u8(), sl.restored + i * w * S, ww * S, (i * symbols + p0) * S);
      if (axis === 'primary') {
        for (let i = 0; i < o; i++) writeClipped(src(i), ww * S, (i * kS + p0) * S);
      } else {
        // Columns → rows: row p0 + t is the stripe's symbol t of every source column.
        for (let j = 0; j < o; j++) k.copySymbols(src(j), S, 0, ww, 1, S, sl.rows + j * S, kS * S, 0);
        for (let t = 0; t < ww; t++) writeClipped(sl.rows + t * kS * S, kS * S, (p0 + t) * kS * S);
      }
      done += ww;
      options.onProgress?.({ phase: 'decode', bytesDone: Math.min(L, Math.round((L * done) / symbols)), bytesTotal: L });
    });

    // 4. Consistency check on every reconstructed source sliver.
    if ((options.consistencyCheck ?? 'default') === 'default' && missing.length > 0) {
      kernel.release(decodeMark); // the decode buffers are done with
      let next = 0,
        checked = 0;
      await onPool(
        axis,
        async (expand) => {
          while (next < missing.length) {
            signal?.throwIfAborted();
            const batch = missing.slice(next, next + VERIFY_BATCH);
            next += batch.length;
            const datas = batch.map((i) => {
              const d = new Uint8Array(symbols * S);
              readAll(restoredFd, d, 0, d.length, i * symbols * S);
              return d;
            });
            const roots = await expand(datas);
            batch.forEach((i, t) => {
              if (!equalBytes(roots[t], expectedSliverHash(meta, axis, i))) {
                throw new InconsistentBlobError(
                  `blob ${withId.blobIdString} is inconsistently encoded: reconstructed ${axis} sliver ${i} does not match its metadata hash`,
                );
              }
            });
            checked += batch.length;
            options.onProgress?.({ phase: 'check', bytesDone: checked, bytesTotal: missing.length });
          }
        },
        Math.ceil(missing.length / VERIFY_BATCH),
      );
    }
    for (const fd of fds.splice(0)) closeSync(fd);
    await target.commit();
    return { blobId: withId.blobIdString, bytes: L, axis, reconstructed: missing.length, rejected: rejectedErrors.length };
  } finally {
    for (const fd of fds) closeSync(fd);
    await target.discard().catch(() => {});
    await rm(temp, { recursive: true, force: true }).catch(() => {});
    forgetKernel(kernel.id);
  }

  /** Reads and verifies candidate slivers until one axis has k valid ones (distinct indices). */
  async function chooseSlivers(): Promise<{ axis: SliverAxis; files: { index: number; file: string }[] }> {
    const found: Record<SliverAxis, number> = { primary: 0, secondary: 0 };
    for (const ax of ['primary', 'secondary'] as const) {
      const need = ax === 'primary' ? kP : kS;
      const names = await readdir(join(dir, ax)).catch(() => [] as string[]);
      const candidates: { index: number; file: string }[] = [];
      for (const name of names) {
        const m = /^(0|[1-9]\d*)\.bcs$/.exec(name); // canonical only: "7.bcs", never "07.bcs"
        if (m && Number(m[1]) < n) candidates.push({ index: Number(m[1]), file: join(dir, ax, name) });
        else reject(new TuskError(`skipping ${join(dir, ax, name)}: not a <index>.bcs file of this committee`));
      }
      candidates.sort((a, b) => a.index - b.index);
      const valid = new Map<number, string>();
      const k = ax === 'primary' ? kS : kP;
      let next = 0;
      await onPool(
        ax,
        async (expand) => {
          while (valid.size < need && next < candidates.length) {
            signal?.throwIfAborted();
            const batch = candidates.slice(next, next + Math.min(VERIFY_BATCH, need - valid.size));
            next += batch.length;
            const slivers: SliverData[] = [];
            const files: string[] = [];
            for (const c of batch) {
              try {
                const sliver = SliverData.fromBcs(ax, new Uint8Array(await readFile(c.file)));
                if (sliver.index !== c.index)
                  throw new TuskInputError(`file name says index ${c.index} but the sliver says ${sliver.index}`);
                if (sliver.symbolSize !== S) throw new TuskInputError(`symbol size ${sliver.symbolSize}, expected ${S}`);
                if (sliver.data.length !== k * S) throw new TuskInputError(`length ${sliver.data.length} bytes, expected ${k * S}`);
                slivers.push(sliver);
                files.push(c.file);
              } catch (e) {
                reject(new SliverVerificationError(ax, c.index, `invalid (${(e as Error).message})`));
              }
            }
            const roots = await expand(slivers.map((x) => x.data));
            slivers.forEach((sliver, t) => {
              if (!equalBytes(roots[t], expectedSliverHash(meta, ax, sliver.index))) {
                reject(new SliverVerificationError(ax, sliver.index, 'Merkle root of the expanded sliver does not match the metadata'));
              } else if (valid.has(sliver.index)) reject(new SliverVerificationError(ax, sliver.index, 'duplicate index (ignored)'));
              else if (valid.size < need) valid.set(sliver.index, files[t]);
            });
            options.onProgress?.({ phase: 'verify', bytesDone: valid.size, bytesTotal: need });
          }
        },
        runner.slots,
      );
      found[ax] = valid.size;
      if (valid.size >= need) return { axis: ax, files: [...valid].map(([index, file]) => ({ index, file })) };
    }
    throw new NotEnoughSliversError(
      `not enough valid slivers to decode: ${found.primary} of ${kP} primary and ${found.secondary} of ${kS} secondary needed` +
        (rejectedErrors.length ? ` (${rejectedErrors.length} rejected)` : ''),
      rejectedErrors.filter((e): e is SliverVerificationError => e instanceof SliverVerificationError),
    );
  }
}
