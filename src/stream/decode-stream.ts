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
import { closeSync, fstatSync, openSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareOutput, type OutputTarget } from './output.ts';
import { makeTempDir, sweepStaleTempDirs } from './temp-dirs.ts';
import { defaultKernel, type WasmKernel } from '../wasm/kernel.ts';
import { InconsistentBlobError, NotEnoughSliversError, SliverVerificationError, TuskError, TuskInputError } from '../errors.ts';
import { readDirectoryMetadata } from './sliver-dir.ts';
import type { SliverAxis } from '../codec/sliver.ts';
import { expectedSliverHash, verifyMetadata } from '../codec/verify.ts';
import { equalBytes } from '../util/bytes.ts';
import type { TaskRunner } from '../codec/tasks.ts';
import type { EncodingConfig } from '../codec/config.ts';
import type { BlobMetadataWithId } from '../codec/metadata.ts';
import { defaultPool } from '../pool/codec-pool.ts';
import { inSlots } from '../util/slots.ts';
import { forgetKernel } from '../wasm/memory-release.ts';
import { readAll, writeAll } from './file-io.ts';
import { decodeOriginals, planDecode, planExpand, sliverSymbols } from '../codec/task-plan.ts';
import { readU16, readUleb, ulebLength } from '../codec/bcs.ts';

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

/** What every phase of one {@link decodeDirectory} shares: the verified metadata, the kernel, the pool and the budget. */
interface DecodeRun {
  readonly dir: string;
  readonly options: StreamDecodeOptions;
  readonly withId: BlobMetadataWithId;
  readonly kernel: WasmKernel;
  readonly cfg: EncodingConfig;
  /** Unencoded length and symbol size. */
  readonly L: number;
  readonly S: number;
  readonly runner: TaskRunner;
  readonly budget: number;
  readonly rejected: (SliverVerificationError | TuskError)[];
  reject(e: SliverVerificationError | TuskError): void;
}

/** The slivers chosen to decode from: k of one axis, valid and distinct (index → file). */
interface ChosenSlivers {
  readonly axis: SliverAxis;
  readonly files: ReadonlyMap<number, string>;
}

/** Kernel memory kept out of every budget for small allocations (received maps, alignment). */
const BUDGET_RESERVE = 4 * 2 ** 20;

/** The phases in order; the temporary files and descriptors are this function's to clean up. */
async function decodeInto(dir: string, target: OutputTarget, options: StreamDecodeOptions): Promise<DecodeDirectoryResult> {
  const run = await openRun(dir, options);
  const { kernel, withId, L } = run;
  let chosen: ChosenSlivers;
  try {
    chosen = await chooseSlivers(run);
  } catch (e) {
    forgetKernel(kernel.id); // the cleanup below will not run
    kernel.recycle();
    throw e;
  }
  const temp = await makeTempDir('decode', options.tempDir);
  const fds: number[] = [];
  const open = (path: string, flags: string) => {
    const fd = openSync(path, flags);
    fds.push(fd);
    return fd;
  };
  try {
    const outFd = open(target.partialPath, 'w+');
    const restoredFd = open(join(temp, 'reconstructed.bin'), 'w+');
    const sliverFds = new Map([...chosen.files].map(([index, file]) => [index, open(file, 'r')] as const));
    const missing = await decodeStripes(run, chosen.axis, sliverFds, outFd, restoredFd);
    if ((options.consistencyCheck ?? 'default') === 'default' && missing.length > 0) {
      await checkReconstructed(run, chosen.axis, missing, restoredFd);
    }
    for (const fd of fds.splice(0)) closeSync(fd);
    await target.commit();
    return { blobId: withId.blobIdString, bytes: L, axis: chosen.axis, reconstructed: missing.length, rejected: run.rejected.length };
  } finally {
    for (const fd of fds) closeSync(fd);
    await target.discard().catch(() => {});
    await rm(temp, { recursive: true, force: true }).catch(() => {});
    forgetKernel(kernel.id);
    kernel.recycle(); // its memory serves the next encode or decode (no fresh pages)
  }
}

/** Phase 1: reads the directory's metadata, checks it against its blob ID and sets up the run. */
async function openRun(dir: string, options: StreamDecodeOptions): Promise<DecodeRun> {
  const withId = await readDirectoryMetadata(dir);
  const kernel = (options.kernel ?? defaultKernel()).fork();
  const cfg = verifyMetadata(withId, withId.metadata.hashes.length, kernel);
  const L = withId.metadata.unencodedLength;
  const rejected: (SliverVerificationError | TuskError)[] = [];
  return {
    dir,
    options,
    withId,
    kernel,
    cfg,
    L,
    S: cfg.symbolSize(L),
    runner: options.pool ?? defaultPool(),
    budget: options.memoryBudget ?? DEFAULT_BUDGET,
    rejected,
    reject: (e) => {
      rejected.push(e);
      options.onRejected?.(e);
    },
  };
}

/**
 * Expands `count` slivers of a batch and returns their Merkle roots (fresh arrays); `place(t, ptr)`
 * writes sliver t's k·S data bytes straight into kernel memory at `ptr` (`kernel.u8()`), e.g. with a
 * positional file read, so sliver bytes never pass through JS memory.
 */
type ExpandBatch = (count: number, place: (t: number, ptr: number) => void) => Promise<Uint8Array[]>;

/**
 * Runs `work` on up to `chainsWanted` concurrent chains, giving each an {@link ExpandBatch} that
 * expands a batch of `axis` slivers on the pool. Buffers come from the budget (planned by
 * codec/task-plan.ts) and are released afterwards.
 */
async function withExpandChains(
  run: DecodeRun,
  axis: SliverAxis,
  chainsWanted: number,
  work: (expand: ExpandBatch) => Promise<void>,
): Promise<void> {
  const { kernel, cfg, S, runner, budget } = run;
  // Kernel buffers per chain, with 64 bytes of alignment slack (sliver data is read straight into them).
  const need = (h: number) => planExpand(kernel, cfg, axis, S, h).chainBytes(h) + 64;
  const avail = budget - BUDGET_RESERVE;
  if (avail < need(1))
    throw new TuskInputError(
      `memory budget of ${budget} bytes is too small to verify slivers of this blob: it needs at least ${need(1) + BUDGET_RESERVE} bytes`,
    );
  const chains = Math.max(1, Math.min(chainsWanted, runner.slots, Math.floor(avail / need(1))));
  let per = VERIFY_BATCH;
  while (per > 1 && need(per) * chains > avail) per = Math.floor(per / 2);
  const plan = planExpand(kernel, cfg, axis, S, per);
  const mark = kernel.mark();
  try {
    const slots = Array.from({ length: chains }, () => plan.allocChain(kernel));
    await inSlots(chains, chains, async (c) => {
      const sl = slots[c];
      await work(async (count, place) => {
        const roots: Uint8Array[] = [];
        for (let t0 = 0; t0 < count; t0 += per) {
          const h = Math.min(per, count - t0);
          for (let t = 0; t < h; t++) place(t0 + t, sl.area + t * plan.n * S);
          await runner.run(kernel, plan.task(sl, h));
          for (let t = 0; t < h; t++) roots.push(kernel.u8().slice(sl.roots + t * 32, sl.roots + (t + 1) * 32));
        }
        return roots;
      });
    });
  } finally {
    kernel.release(mark);
  }
}

/**
 * Phase 2: reads and verifies candidate slivers, primary first and systematic first on each axis,
 * until one axis has k valid ones with distinct indices; the rest are not read.
 * @throws NotEnoughSliversError (retryable) naming what was found and rejected.
 */
async function chooseSlivers(run: DecodeRun): Promise<ChosenSlivers> {
  const { cfg } = run;
  const found: Record<SliverAxis, number> = { primary: 0, secondary: 0 };
  for (const axis of ['primary', 'secondary'] as const) {
    const valid = await verifyCandidates(run, axis, await listCandidates(run, axis));
    found[axis] = valid.size;
    if (valid.size >= decodeOriginals(cfg, axis)) return { axis, files: valid };
  }
  throw new NotEnoughSliversError(
    `not enough valid slivers to decode: ${found.primary} of ${cfg.primarySymbols} primary and ${found.secondary} of ${cfg.secondarySymbols} secondary needed` +
      (run.rejected.length ? ` (${run.rejected.length} rejected)` : ''),
    run.rejected.filter((e): e is SliverVerificationError => e instanceof SliverVerificationError),
  );
}

/** The `<index>.bcs` files of `axis` in the directory, by index (anything else is rejected). */
async function listCandidates(run: DecodeRun, axis: SliverAxis): Promise<{ index: number; file: string }[]> {
  const names = await readdir(join(run.dir, axis)).catch(() => [] as string[]);
  const candidates: { index: number; file: string }[] = [];
  for (const name of names) {
    const m = /^(0|[1-9]\d*)\.bcs$/.exec(name); // canonical only: "7.bcs", never "07.bcs"
    if (m && Number(m[1]) < run.cfg.nShards) candidates.push({ index: Number(m[1]), file: join(run.dir, axis, name) });
    else run.reject(new TuskError(`skipping ${join(run.dir, axis, name)}: not a <index>.bcs file of this committee`));
  }
  return candidates.sort((a, b) => a.index - b.index);
}

/** Verifies `candidates` (in order, in batches on the pool) until k are valid; @returns index → file. */
async function verifyCandidates(
  run: DecodeRun,
  axis: SliverAxis,
  candidates: { index: number; file: string }[],
): Promise<Map<number, string>> {
  const { S, options } = run;
  const meta = run.withId.metadata;
  const need = decodeOriginals(run.cfg, axis);
  const k = sliverSymbols(run.cfg, axis);
  const valid = new Map<number, string>();
  let next = 0;
  await withExpandChains(run, axis, run.runner.slots, async (expand) => {
    while (valid.size < need && next < candidates.length) {
      options.signal?.throwIfAborted();
      const batch = candidates.slice(next, next + Math.min(VERIFY_BATCH, need - valid.size));
      next += batch.length;
      const opened: SliverFile[] = [];
      for (const c of batch) {
        try {
          opened.push(openSliverFile(c.file, c.index, k, S));
        } catch (e) {
          run.reject(new SliverVerificationError(axis, c.index, `invalid (${(e as Error).message})`));
        }
      }
      let roots: Uint8Array[];
      try {
        roots = await expand(opened.length, (t, ptr) => readAll(opened[t].fd, run.kernel.u8(), ptr, k * S, opened[t].dataStart));
      } finally {
        for (const f of opened) closeSync(f.fd);
      }
      opened.forEach((f, t) => {
        if (!equalBytes(roots[t], expectedSliverHash(meta, axis, f.index))) {
          run.reject(new SliverVerificationError(axis, f.index, 'Merkle root of the expanded sliver does not match the metadata'));
        } else if (valid.has(f.index)) run.reject(new SliverVerificationError(axis, f.index, 'duplicate index (ignored)'));
        else if (valid.size < need) valid.set(f.index, f.file);
      });
      options.onProgress?.({ phase: 'verify', bytesDone: valid.size, bytesTotal: need });
    }
  });
  return valid;
}

/**
 * Phase 3: decodes stripes of symbol positions: one positional read per chosen sliver straight into
 * kernel memory, a `decode` task on the pool when source slivers are missing, positional writes of
 * the blob bytes to `outFd` and of the reconstructed source symbols to `restoredFd` (source sliver
 * i at i·symbols·S). @returns the indices of the reconstructed source slivers.
 */
async function decodeStripes(
  run: DecodeRun,
  axis: SliverAxis,
  sliverFds: ReadonlyMap<number, number>,
  outFd: number,
  restoredFd: number,
): Promise<number[]> {
  const { kernel, cfg, S, L, runner, budget, options } = run;
  const kS = cfg.secondarySymbols;
  const o = decodeOriginals(cfg, axis);
  const symbols = sliverSymbols(cfg, axis); // per sliver
  // Every chosen sliver was checked to hold exactly `symbols`·S data bytes, and SliverData BCS
  // has a canonical ULEB length: the data starts at the same offset in every file.
  const dataStart = ulebLength(symbols * S);
  const missing: number[] = [];
  for (let i = 0; i < o; i++) if (!sliverFds.has(i)) missing.push(i);
  const present = [...sliverFds.keys()];

  // Per chain: the plan's buffers and (secondary axis) the stripe's rows. As many chains as the budget holds.
  const rowsBytes = (ww: number) => (axis === 'secondary' ? ww * kS * S : 0);
  const need = (ww: number) => planDecode(kernel, cfg, o, S, ww, present).chainBytes + rowsBytes(ww);
  const avail = budget - BUDGET_RESERVE;
  if (avail < need(1)) {
    throw new TuskInputError(
      `memory budget of ${budget} bytes is too small to decode this blob: it needs at least ${need(1) + BUDGET_RESERVE} bytes`,
    );
  }
  const slots = Math.max(1, Math.min(runner.slots, Math.floor(avail / need(1))));
  let w = Math.max(1, Math.min(symbols, Math.floor(STRIPE_TARGET / S)));
  while (w > 1 && need(w) * slots > avail) w = Math.floor(w / 2);
  const plan = planDecode(kernel, cfg, o, S, w, present);

  const mark = kernel.mark();
  try {
    const received = plan.allocShared(kernel);
    const chains = Array.from({ length: slots }, () => ({
      ...plan.allocChain(kernel),
      rows: rowsBytes(w) > 0 ? kernel.alloc(rowsBytes(w)) : 0,
    }));
    const writeClipped = (ptr: number, length: number, position: number) => {
      const len = Math.min(length, L - position);
      if (len > 0) writeAll(outFd, kernel.u8(), ptr, len, position);
    };
    let done = 0;
    await inSlots(slots, Math.ceil(symbols / w), async (s, slotIndex) => {
      options.signal?.throwIfAborted();
      const p0 = s * w,
        ww = Math.min(w, symbols - p0);
      const sl = chains[slotIndex];
      for (const [idx, fd] of sliverFds) readAll(fd, kernel.u8(), sl.raw + plan.position(idx) * plan.rawStride, ww * S, dataStart + p0 * S);
      if (missing.length > 0) await runner.run(kernel, plan.task(sl, received, ww));
      // Source sliver i's symbols [p0, p0+ww): received → raw at its position, else restored.
      const src = (i: number) => (sliverFds.has(i) ? sl.raw + plan.position(i) * plan.rawStride : sl.restored + i * plan.rawStride);
      for (const i of missing) writeAll(restoredFd, kernel.u8(), sl.restored + i * plan.rawStride, ww * S, (i * symbols + p0) * S);
      if (axis === 'primary') {
        for (let i = 0; i < o; i++) writeClipped(src(i), ww * S, (i * kS + p0) * S);
      } else {
        // Columns → rows: row p0 + t is the stripe's symbol t of every source column.
        for (let j = 0; j < o; j++) kernel.exports.copySymbols(src(j), S, 0, ww, 1, S, sl.rows + j * S, kS * S, 0);
        for (let t = 0; t < ww; t++) writeClipped(sl.rows + t * kS * S, kS * S, (p0 + t) * kS * S);
      }
      done += ww;
      options.onProgress?.({ phase: 'decode', bytesDone: Math.min(L, Math.round((L * done) / symbols)), bytesTotal: L });
    });
    return missing;
  } finally {
    kernel.release(mark);
  }
}

/**
 * Phase 4, the consistency check: every reconstructed source sliver (read back from `restoredFd`)
 * is re-expanded and compared with the metadata.
 * @throws InconsistentBlobError when one differs (the writer encoded the blob inconsistently).
 */
async function checkReconstructed(run: DecodeRun, axis: SliverAxis, missing: readonly number[], restoredFd: number): Promise<void> {
  const { S, options, withId } = run;
  const symbols = sliverSymbols(run.cfg, axis);
  let next = 0,
    checked = 0;
  await withExpandChains(run, axis, Math.ceil(missing.length / VERIFY_BATCH), async (expand) => {
    while (next < missing.length) {
      options.signal?.throwIfAborted();
      const batch = missing.slice(next, next + VERIFY_BATCH);
      next += batch.length;
      const roots = await expand(batch.length, (t, ptr) => readAll(restoredFd, run.kernel.u8(), ptr, symbols * S, batch[t] * symbols * S));
      batch.forEach((i, t) => {
        if (!equalBytes(roots[t], expectedSliverHash(withId.metadata, axis, i))) {
          throw new InconsistentBlobError(
            `blob ${withId.blobIdString} is inconsistently encoded: reconstructed ${axis} sliver ${i} does not match its metadata hash`,
          );
        }
      });
      checked += batch.length;
      options.onProgress?.({ phase: 'check', bytesDone: checked, bytesTotal: missing.length });
    }
  });
}

/** A sliver file whose BCS frame checked out, open for a positional read of its data. */
interface SliverFile {
  readonly fd: number;
  readonly index: number;
  readonly file: string;
  /** Offset of the sliver data in the file (after the ULEB length). */
  readonly dataStart: number;
}

/**
 * Opens sliver `file` and checks its SliverData BCS frame (canonical length, k·S data bytes, symbol
 * size S, index `index`) from its first and last bytes, without reading the data.
 * @throws TuskInputError saying what is wrong (the file is closed again)
 */
function openSliverFile(file: string, index: number, k: number, S: number): SliverFile {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = new Uint8Array(Math.min(10, size));
    readAll(fd, head, 0, head.length, 0);
    const { value: len, next } = readUleb(head, 0);
    if (next + len + 4 !== size) throw new TuskInputError(`SliverData BCS: length ${size} does not match its data length ${len}`);
    const tail = new Uint8Array(4);
    readAll(fd, tail, 0, 4, next + len);
    const symbolSize = readU16(tail, 0);
    const got = readU16(tail, 2);
    if (got !== index) throw new TuskInputError(`file name says index ${index} but the sliver says ${got}`);
    if (symbolSize !== S) throw new TuskInputError(`symbol size ${symbolSize}, expected ${S}`);
    if (len !== k * S) throw new TuskInputError(`length ${len} bytes, expected ${k * S}`);
    return { fd, index, file, dataStart: next };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}
