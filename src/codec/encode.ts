/**
 * The RedStuff encoder: blob → sliver pairs, metadata, blob ID (walrus-protocol.md §1–§3). With
 * RS2 (the default) it is byte-identical to the official Walrus encoder; RS8 runs the same
 * pipeline over GF(2^8) (src/codec/encodings/).
 *
 * Pipeline (all heavy work in the WebAssembly kernels, memory bounded per stripe):
 *  A. Row stripes of the k_p × k_s message matrix: transpose the rows into the column-major
 *     "secondary area" (the top k_p rows of every column = every secondary sliver), gather them into
 *     planar shards (shard = column), run the row code RS(k_s → n) and scatter its f recovery
 *     columns into the secondary area.
 *  B. Column stripes: gather k_p symbols of each column (shard = row), run the column code
 *     RS(k_p → n) and scatter the 2f recovery rows; their first k_s symbols finish the primary
 *     slivers of rows ≥ k_p.
 *  Leaves: every one of the n² symbols is hashed once (H(0x00 ‖ symbol)); the leaf digest feeds
 *  both its row tree (primary hash) and its column tree (secondary hash).
 *  C. 2n Merkle roots, the root over the pair hashes, the blob ID.
 *
 * Each element position of a planar shard is an independent codeword, so one RS call encodes a
 * whole stripe of rows (or columns); stripes are sized so an RS call's work array stays in cache.
 */
import { type WasmKernel, defaultKernel } from '../wasm/kernel.ts';
import { TuskInputError } from '../errors.ts';
import { EncodingConfig, assertEncoderCommittee } from './config.ts';
import type { EncodingName, EncodingScheme } from './encodings/index.ts';
import { SliverData, writeSliverFrames, type SliverPair } from './sliver.ts';
import { BlobMetadata, BlobMetadataWithId, type SliverPairHashes } from './metadata.ts';
import { ulebLength } from './bcs.ts';
import { runStripeTask, slotShardBytes, type RowsTask, type StripeTask, type TaskRunner } from './tasks.ts';
import { inSlots } from '../util/slots.ts';
import { forgetKernel } from '../wasm/memory-release.ts';
import { type BlobId, blobIdToString, deriveBlobId } from './blob-id.ts';
import { merkleRootOfLeaves } from '../hash/blake2b.ts';
import { leafLayout, recoveryRootsTask, stripeLeafFields } from './leaf-layout.ts';

/** Options for {@link encodeBlob} and {@link computeBlobMetadata}. */
export interface EncodeOptions {
  /** Committee size (number of shards), e.g. 1000 on Walrus Mainnet/Testnet. */
  nShards: number;
  /** Encoding type (default RS2, the Walrus encoding; `rs8` for small private committees). */
  encoding?: EncodingScheme | EncodingName | Lowercase<EncodingName>;
  /** Kernel instance to run on; defaults to the calling thread's. */
  kernel?: WasmKernel;
  /**
   * Target bytes per planar shard in one RS call (default 8 KiB). Smaller keeps the FFT work
   * array in cache; larger means fewer kernel calls.
   */
  stripeShardBytes?: number;
}

/** The blob ID and the metadata it commits to. Arrays are owned by the caller. */
export interface EncodedMetadata {
  readonly blobId: BlobId;
  /** URL-safe base64 text form of the blob ID. */
  readonly blobIdString: string;
  readonly rootHash: Uint8Array;
  readonly metadata: BlobMetadata;
  readonly unencodedLength: number;
  readonly symbolSize: number;
  readonly nShards: number;
  /** The encoding type used. */
  readonly encoding: EncodingName;
  /** Metadata with its blob ID (BCS: `metadataWithId.toBcs()`). */
  readonly metadataWithId: BlobMetadataWithId;
}

/** Everything the encoder produces for one blob. Arrays are owned by the caller. */
export interface EncodedBlob extends EncodedMetadata {
  /** Sliver pair i = (primary sliver i, secondary sliver n − 1 − i), i = 0 … n−1. */
  readonly pairs: readonly SliverPair[];
  /** Primary slivers by sliver index. */
  readonly primarySlivers: readonly SliverData[];
  /** Secondary slivers by sliver index. */
  readonly secondarySlivers: readonly SliverData[];
  /**
   * Hands the memory behind the slivers back for reuse by later encodes (large blobs are encoded
   * on dedicated kernel memory that becomes the slivers' backing store; reusing it spares the next
   * encode the first-touch page faults of fresh memory). Optional: without it the memory is
   * garbage-collected with the result. Post: the slivers (and every view of them, `toBcs()`
   * included) must not be used any more — later encodes overwrite them. A no-op for small blobs.
   */
  dispose(): void;
}

const DEFAULT_STRIPE_SHARD_BYTES = 8 * 1024;
/**
 * Most bytes of systematic columns one Phase B stripe reads from a source (per slot). Blobs up to
 * ~640 MiB at n = 1000 keep whole 16-column blocks; larger ones take narrower stripes.
 */
const SOURCE_COLUMN_BYTES = 8 * 2 ** 20;

/**
 * Outputs at least this large are encoded on a dedicated kernel instance whose memory becomes the
 * slivers' backing store (zero-copy). Below it, the thread's kernel is reused and the slivers are
 * copied out. Why: on the VMs we measured, first-touch page faults cost 0.25–1.3 GB/s, so copying
 * 1.2 GB of slivers (a 256 MiB blob) out of wasm memory into fresh buffers took ~4.7 s.
 */
const DEDICATED_KERNEL_MIN_OUTPUT = 32 * 2 ** 20;

/**
 * Encodes `data` for a committee of `options.nShards` shards (RS2 unless `options.encoding`).
 *
 * Pre: nShards within the encoding's range (RS2: 4…49155, RS8: 4…195) and ≤ MAX_ENCODER_SHARDS,
 * data.length ≤ the committee's max blob size.
 * Post: `data` is not modified. The slivers' bytes are owned by the result: for large blobs they
 * are views into a (shared) WebAssembly memory dedicated to this result, kept alive by the views.
 * They are backed by a SharedArrayBuffer: copy them (`slice()`) before handing them to APIs that
 * reject shared memory (e.g. WebCrypto) or before posting them to another thread.
 * @throws TuskInputError / BlobTooLargeError on bad input; RangeError if the encoding does not fit
 *   the 4 GiB wasm32 address space (in-memory encoding handles blobs up to ~800 MiB).
 */
export function encodeBlob(data: Uint8Array, options: EncodeOptions): EncodedBlob {
  return runEncode(data, options, true) as EncodedBlob;
}

/**
 * Computes only the blob ID and metadata of `data`: the same expansion and hashing as
 * {@link encodeBlob} without keeping the primary slivers (kernel memory ≈ 1.5× the blob plus
 * k_p·n·32 bytes of leaf digests, src/codec/leaf-layout.ts; use encodeStream for bounded memory).
 */
export function computeBlobMetadata(data: Uint8Array, options: EncodeOptions): EncodedMetadata {
  return runEncode(data, options, false);
}

/**
 * The last step of every encode: root hash over the n pair hashes at `pairHashes` (64 bytes each,
 * in `kernel` memory), metadata and blob ID. `scratch`: merkleScratchBytes(n) bytes.
 * @internal for src/stream/encode-stream.ts; not part of any public entry point.
 */
export function finishMetadata(kernel: WasmKernel, cfg: EncodingConfig, L: number, pairHashes: number, scratch: number): EncodedMetadata {
  const n = cfg.nShards;
  const mark = kernel.mark();
  try {
    const rootHash = merkleRootOfLeaves(kernel, pairHashes, n, 64, scratch);
    const mem = kernel.u8();
    const hashes: SliverPairHashes[] = [];
    for (let i = 0; i < n; i++) {
      const p = pairHashes + i * 64;
      hashes.push({ primary: mem.slice(p, p + 32), secondary: mem.slice(p + 32, p + 64) });
    }
    const metadata = new BlobMetadata(cfg.encodingType, L, hashes);
    const blobId = deriveBlobId(cfg.encodingType, L, rootHash);
    return {
      blobId,
      blobIdString: blobIdToString(blobId),
      rootHash,
      metadata,
      metadataWithId: new BlobMetadataWithId(blobId, metadata),
      unencodedLength: L,
      symbolSize: cfg.symbolSize(L),
      nShards: n,
      encoding: cfg.scheme.name,
    };
  } finally {
    kernel.release(mark);
  }
}

function checkData(data: unknown): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) throw new TuskInputError('blob data must be a Uint8Array');
}

type SlottedTask = StripeTask & { slot: number };

/** Everything one encode needs: regions in kernel memory, its tasks per phase, and the finish step. */
interface EncodePlan {
  kernel: WasmKernel;
  dedicated: boolean;
  rows: SlottedTask[];
  cols: SlottedTask[];
  roots: SlottedTask[];
  /** Copies a task's input to where it reads it: a rows task's rows (frames, message area or its
   * slot's row buffer), a systematic cols task's columns (its slot's column buffer, from a source). */
  stage(t: SlottedTask): void;
  /** Moves a finished task's output on (a rows task's recovery block to the spill), before its slot's next task. */
  unstage(t: SlottedTask): void;
  /** `t` on slot `slot`'s scratch (work arrays, recovery-row scratch, Merkle scratch). */
  bind(t: SlottedTask, slot: number): SlottedTask;
  finish(): EncodedMetadata | EncodedBlob;
}

function runEncode(data: Uint8Array, options: EncodeOptions, keep: boolean): EncodedMetadata | EncodedBlob {
  const template = options.kernel ?? defaultKernel();
  // Taken before planning: a plan that fails half-way must not leave its allocations behind.
  const mark = template.mark();
  try {
    checkData(data);
    const plan = planEncode(data, options, keep, 1);
    const k = plan.kernel.exports;
    for (const phase of [plan.rows, plan.cols, plan.roots]) {
      for (const t of phase) {
        plan.stage(t);
        runStripeTask(k, t, plan.kernel.u8().byteLength);
        plan.unstage(t);
      }
    }
    return plan.finish();
  } finally {
    template.release(mark);
  }
}

/**
 * Runs an encode's tasks on `runner` (phase by phase; within a phase, one chain per slot).
 * The calling thread only stages input and waits, so its event loop stays free.
 * @internal for src/pool/async-codec.ts; not part of any public entry point.
 */
export async function runEncodeOn(
  runner: TaskRunner,
  data: Uint8Array,
  options: EncodeOptions,
  keep: boolean,
): Promise<EncodedMetadata | EncodedBlob> {
  checkData(data);
  return runPlanOn(runner, data, options, keep);
}

/** The message matrix of a blob: `rows` (k_p) rows of `rowBytes` (k_s symbols of `symbolSize`), zero past `length`. */
export interface MessageLayout {
  readonly rows: number;
  readonly rowBytes: number;
  readonly symbolSize: number;
  readonly length: number;
}

/**
 * Reads parts of a blob's message matrix for a metadata-only encode that never holds the whole
 * blob in memory: each row task reads its rows, and each task of a systematic column stripe its
 * columns, into its slot's buffer just before it runs (the blob is read about twice). Fresh memory
 * is what this saves: first-touch page faults cost ~4 ms of CPU per MiB on the VMs measured, more
 * than re-reading a file from the page cache. Reads are synchronous (they run between tasks).
 */
export interface MessageSource {
  /** Writes rows [r0, r0 + count) (rowBytes each, zero past the blob's end) to `mem` at `dst`, back to back. */
  readRows(mem: Uint8Array, dst: number, r0: number, count: number): void;
  /**
   * Writes symbols [c0, c0 + w) (c0 + w ≤ k_s) of every row to `mem` at `dst`: row r's w·S bytes
   * at dst + r·w·S, zero past the blob's end.
   */
  readColumns(mem: Uint8Array, dst: number, c0: number, w: number): void;
  /**
   * Opens a store where the recovery columns wait between Phase A and Phase B instead of kernel
   * memory (see {@link RecoverySpill}), or returns undefined if none can be had. Called at most once,
   * only for columns big enough to pay; without it they take ~0.5× the blob of fresh kernel memory.
   */
  openSpill?(): RecoverySpill | undefined;
}

/**
 * A byte store for the recovery columns of a metadata-only encode (a temporary file: see
 * src/stream/spill-file.ts). Why: Phase A makes them row by row and Phase B reads them column by
 * column, so all of them (~0.5× the blob) wait in between. Fresh kernel memory for them costs a
 * first-touch page fault per 4 KiB (~12 µs of CPU on the VMs measured: ~0.4 s at 256 MiB), while
 * the page cache takes the same bytes through write/read in ~0.06 s and maps no page. Each Phase A
 * task writes one block; each Phase B stripe reads its columns' part of every block. Calls are
 * synchronous, between tasks, on the planning thread.
 */
export interface RecoverySpill {
  /** Stores mem[src, src + length) at byte `position` of the store. */
  write(mem: Uint8Array, src: number, length: number, position: number): void;
  /**
   * Reads store bytes [position, position + dsts.length·pieceBytes): piece i (pieceBytes bytes)
   * to mem at dsts[i]. @throws if the store holds fewer bytes
   */
  read(mem: Uint8Array, position: number, dsts: readonly number[], pieceBytes: number): void;
}

/** How far a metadata-only encode from a source has come ({@link SourceEncodeOptions.onProgress}). */
export interface SourceProgress {
  /** `rows`: Phase A (row code over message rows); `columns`: Phase B (column code). */
  phase: 'rows' | 'columns';
  /** The phase's finished tasks in blob bytes: its share of the blob, rounded down. */
  bytesDone: number;
  bytesTotal: number;
}

/** Options of an encode from a {@link MessageSource} (src/stream/file-metadata.ts). */
export interface SourceEncodeOptions extends EncodeOptions {
  /**
   * Most bytes of systematic columns one Phase B stripe reads from the source into a slot buffer
   * (default 8 MiB). The stripe width is capped at max(1, ⌊this / (k_p·S)⌋) columns, so the
   * per-slot memory stays bounded for blobs of any size.
   */
  columnStripeBytes?: number;
  /** Called after each finished task of Phase A and Phase B, on the calling thread. */
  onProgress?: (progress: SourceProgress) => void;
}

/**
 * Recovery columns smaller than this stay in kernel memory: a spill's writes and reads cost more
 * than the few faults they would spare.
 */
const SPILL_MIN_BYTES = 4 * 2 ** 20;

/**
 * {@link computeBlobMetadata} of a blob of `length` bytes read piecewise from the source `open`
 * returns for its layout, on `runner`: kernel memory holds the recovery columns, the leaf digests
 * and per-slot stripe buffers, never the blob. A throwing source fails the encode (after the tasks
 * in flight settle).
 * @internal for src/stream/file-metadata.ts; not part of any public entry point.
 */
export async function runSourceOn(
  runner: TaskRunner,
  length: number,
  options: SourceEncodeOptions,
  open: (layout: MessageLayout) => MessageSource,
): Promise<EncodedMetadata> {
  if (!Number.isSafeInteger(length) || length < 0) throw new TuskInputError(`blob length must be a non-negative integer, got ${length}`);
  return runPlanOn(runner, length, options, false, open) as Promise<EncodedMetadata>;
}

async function runPlanOn(
  runner: TaskRunner,
  data: Uint8Array | number,
  options: EncodeOptions,
  keep: boolean,
  open?: (layout: MessageLayout) => MessageSource,
): Promise<EncodedMetadata | EncodedBlob> {
  const template = options.kernel ?? defaultKernel();
  return template.exclusive(async () => {
    const mark = template.mark();
    try {
      const plan = planEncode(data, options, keep, runner.slots, open);
      const onProgress = open ? (options as SourceEncodeOptions).onProgress : undefined;
      const bytesTotal = typeof data === 'number' ? data : data.length;
      for (const [p, phase] of [plan.rows, plan.cols, plan.roots].entries()) {
        let done = 0;
        const report =
          onProgress && p < 2
            ? () =>
                onProgress({
                  phase: p === 0 ? 'rows' : 'columns',
                  bytesDone: Math.floor((bytesTotal * ++done) / phase.length),
                  bytesTotal,
                })
            : undefined;
        // One chain per slot, each taking the phase's next task when it is free (a slow or
        // late-starting thread takes fewer) and running it on its own slot's scratch. All chains
        // settle before a failure is thrown (no writes in flight).
        let next = 0;
        let stop = false;
        let taken!: () => void;
        const allTaken = new Promise<boolean>((r) => (taken = () => r(false)));
        const chain = async (s: number) => {
          // A slot whose thread is still booting joins when it is up, unless the phase's tasks
          // have all been taken by then.
          const ready = runner.ready?.(s);
          if (ready && !(await Promise.race([ready.then(() => true), allTaken]))) return;
          while (next < phase.length && !stop) {
            if (next === phase.length - 1) taken();
            const t = plan.bind(phase[next++], s);
            plan.stage(t);
            await runner.run(plan.kernel, t, s);
            plan.unstage(t);
            report?.();
          }
        };
        await inSlots(runner.slots, runner.slots, chain, () => (stop = true));
      }
      const result = plan.finish();
      // Workers drop their instance of a dedicated memory; the result alone keeps it alive.
      if (plan.dedicated) forgetKernel(plan.kernel.id);
      return result;
    } finally {
      template.release(mark);
    }
  });
}

/** Plans an encode of `data`, or (metadata only) of a blob of `data` bytes read from the source `open` gives. */
function planEncode(
  data: Uint8Array | number,
  options: EncodeOptions,
  keep: boolean,
  slots: number,
  open?: (layout: MessageLayout) => MessageSource,
): EncodePlan {
  if (typeof data === 'number' && (keep || !open)) throw new TuskInputError('planEncode: a blob given by length needs a source');
  if (options === null || typeof options !== 'object') throw new TuskInputError('encode options are required ({ nShards })');
  const cfg = new EncodingConfig(options.nShards, options.encoding);
  assertEncoderCommittee(cfg.nShards);
  const scheme = cfg.scheme;
  const n = cfg.nShards;
  const kP = cfg.primarySymbols;
  const kS = cfg.secondarySymbols;
  const L = typeof data === 'number' ? data : data.length;
  const S = cfg.symbolSize(L);
  const rowBytes = kS * S; // one message row = one primary sliver's data
  const colBytes = kP * S; // one column's top k_p symbols = one secondary sliver's data
  const pFrame = SliverData.bcsLength(rowBytes);
  const sFrame = SliverData.bcsLength(colBytes);
  const target = options.stripeShardBytes ?? DEFAULT_STRIPE_SHARD_BYTES;
  const planar = (symbols: number) => scheme.planarBytes(symbols, S);

  const template = options.kernel ?? defaultKernel();
  const dedicated = keep && !options.kernel && n * (pFrame + sFrame) >= DEDICATED_KERNEL_MIN_OUTPUT;
  const kernel = dedicated ? template.fork() : template;
  // Leaf digests as leaf-layout.ts describes: Phase A's rows, the recovery rows' block nodes, the
  // partial blocks' leaves; pairHashes[i] = primary_hash[i] ‖ secondary_hash[i] (64 bytes), filled
  // by all three phases (row tree i and column tree n − 1 − i).
  // With a source (metadata only, blobs of any size) a Phase B stripe's systematic columns are
  // read into a slot buffer of k_p·w·S bytes: w is capped so that stays ≤ SOURCE_COLUMN_BYTES
  // (a 5 GiB blob at n = 1000 has 8 MB columns: one block of 16 would be 128 MB per slot).
  const columnBudget = (options as SourceEncodeOptions).columnStripeBytes ?? SOURCE_COLUMN_BYTES;
  const maxStripe = open && !keep ? Math.max(1, Math.floor(columnBudget / (kP * S))) : Infinity;
  const leaves = leafLayout(n, kP, kS, maxStripe);
  // On a pool, split each phase into ≥ 4 tasks per slot even when the stripes would fit the cache
  // target, so small blobs keep every worker busy (at 1 MiB, n = 1000, one stripe held all rows).
  const minTasks = slots > 1 ? slots * 4 : 1;
  const rowsWanted = Math.max(1, Math.min(kP, Math.floor(target / S), Math.ceil(kP / minTasks)));
  // Row blocks (tasks.ts RowBlocks): Phase A tasks cover whole blocks of A rows, the largest power
  // of two ≤ 16 that fits their stripe, and reduce each column's leaves of a block to one node.
  // At n = 1000 this keeps ~1 MB instead of 10.7 MB of Phase A leaves (fresh memory: ~12 µs of
  // CPU per 4 KiB page on the VMs measured). A stripe of one row keeps the rows whole.
  const A = 2 ** Math.floor(Math.log2(Math.min(16, rowsWanted)));
  const rowsPerStripe = A >= 2 ? Math.floor(rowsWanted / A) * A : rowsWanted;
  const rowLevels = Math.log2(A);
  const fullBlocks = A >= 2 ? Math.floor(kP / A) : 0;
  const tailRows = kP - fullBlocks * A;
  const blockNodes = Math.ceil(n / A); // a column tree's nodes at the row-block level
  const leafHashes = A >= 2 ? 0 : kernel.alloc(leaves.leafBytes);
  const colNodes = fullBlocks > 0 ? kernel.alloc(n * fullBlocks * 32) : 0;
  const tailLeaves = A >= 2 && tailRows > 0 ? kernel.alloc(tailRows * n * 32) : 0;
  const rowBlocks = A >= 2 ? { levels: rowLevels, fullBlocks, colNodes, tailLeaves } : undefined;
  const rowNodes = kernel.alloc(leaves.rowNodeBytes);
  const partial = leaves.partialBytes > 0 ? kernel.alloc(leaves.partialBytes) : 0;
  const pairHashes = kernel.alloc(n * 64);
  const regions = { leafHashes, rowNodes, partial, pairHashes };
  const rootScratch = Array.from({ length: slots }, () => kernel.alloc(leaves.scratchBytes));
  // Where the rows of the message matrix live (Phase A input) and where column c's top k_p
  // symbols live (Phase A output, Phase B input). With `keep` these are the sliver frames
  // themselves; otherwise per-slot staging stripes and a plain column area.
  // Phase B stripes are one block of columns at most (leaf-layout.ts); symbols too big for a
  // block's RS call to fit the cache target take several calls per stripe.
  const rsCols = Math.max(1, Math.min(leaves.stripeWidth, Math.floor(target / S)));
  let rowBase: number, rowStride: number, colBase: number, colStride: number;
  let pRegion = 0,
    sRegion = 0;
  let input = 0;
  // Per-slot buffers. The phases run one after the other, so a slot's Phase A buffers (its row
  // stripe in source mode, its RS work array) are reused for Phase B's (its systematic column
  // stripe, its recovery-row scratch, its work array): fresh memory costs ~13 µs of CPU per 4 KiB
  // page on the VMs measured, and at 256 MiB, n = 1000, 3 slots this spares ~36 MB (~9 k faults).
  const slotBytes = scheme.slotBytes(S);
  const strideA = Math.max(planar(rowsPerStripe), slotShardBytes(rowsPerStripe, slotBytes));
  // When the scheme's slot layout pays (scheme.slotBytes), Phase A copies its recovery symbols out
  // of slots instead of scattering planar shards, and Phase B hashes the recovery rows it does not
  // keep (every column without `keep`, columns ≥ k_s with it) in the work array itself: no scratch
  // rows to write and read back.
  const strideB = Math.max(planar(rsCols), slotShardBytes(rsCols, slotBytes));
  const workBytes = Math.max(kernel.exports.rsWorkShards(kS, n - kS) * strideA, kernel.exports.rsWorkShards(kP, n - kP) * strideB);
  const work = Array.from({ length: slots }, () => kernel.alloc(workBytes));
  const source = open?.({ rows: kP, rowBytes, symbolSize: S, length: L });
  // Metadata only, with a spill: each rows task's recovery symbols go to a block of its slot (after
  // its row stripe), and from there to the spill; Phase B reads recovery stripes back into its
  // slot's column buffer (column-major: column c0 + a at a·colBytes).
  const spill = !keep && (n - kS) * colBytes >= SPILL_MIN_BYTES ? source?.openSpill?.() : undefined;
  const blockBytes = (h: number) => h * (n - kS) * S; // a rows task's recovery block
  const rowBufBytes = open ? rowsPerStripe * rowBytes : 0; // source mode: a row stripe (Phase A)
  const spillBlockBytes = spill ? blockBytes(rowsPerStripe) : 0; // a rows task's recovery block
  const rowLeavesBytes = rowBlocks ? rowsPerStripe * n * 32 : 0; // a rows task's leaves (row blocks)
  const phaseA = rowBufBytes + spillBlockBytes + rowLeavesBytes;
  const colBufBytes = open ? kP * leaves.stripeWidth * S : 0; // source mode: a column stripe (Phase B)
  const scratchRowsBytes = slotBytes ? 0 : (n - kP) * rsCols * S; // Phase B: one RS call's recovery rows not written to frames
  const columnNodesBytes = rowBlocks ? (leaves.columnLeafBytes / (n * 32)) * blockNodes * 32 : 0; // a stripe's column-tree nodes
  const phaseB = colBufBytes + scratchRowsBytes + leaves.columnLeafBytes + columnNodesBytes;
  const stripeBuf = Array.from({ length: slots }, () => kernel.alloc(Math.max(phaseA, phaseB)));
  const rowBuf = stripeBuf;
  const recoveryBlock = stripeBuf.map((b) => b + rowBufBytes);
  const rowLeaves = stripeBuf.map((b) => b + rowBufBytes + spillBlockBytes);
  const colBuf = stripeBuf;
  const scratchRows = stripeBuf.map((b) => b + colBufBytes);
  const columnLeaves = stripeBuf.map((b) => b + colBufBytes + scratchRowsBytes);
  const columnNodes = columnLeaves.map((b) => b + leaves.columnLeafBytes);
  if (keep) {
    pRegion = kernel.alloc(n * pFrame, 8);
    sRegion = kernel.alloc(n * sFrame, 8);
    const mem = kernel.u8();
    writeSliverFrames(mem, pRegion, n, pFrame, rowBytes, S);
    writeSliverFrames(mem, sRegion, n, sFrame, colBytes, S);
    rowBase = pRegion + ulebLength(rowBytes);
    rowStride = pFrame;
    colBase = sRegion + ulebLength(colBytes);
    colStride = sFrame;
    // The input rows are copied into their frames by `stage`, stripe by stripe, so on a pool the
    // copy (first touch of fresh memory: slow on these VMs) overlaps the workers' compute.
  } else {
    // Metadata only: the message matrix in kernel memory, row after row (zero-padded past the
    // blob's end), and a column area for the n − k_s recovery columns alone: the systematic
    // columns are read in place (rows tasks with `systematicInPlace`, cols tasks with `src`), so
    // no sliver that is not kept is ever copied out — ~1× the blob less fresh memory. With a
    // source, not even the message: each slot reads its row stripe and its systematic column
    // stripe into buffers of its own (another ~1× the blob less).
    if (open) {
      rowBase = rowBuf[0];
    } else {
      input = kernel.alloc(kP * rowBytes);
      rowBase = input;
    }
    rowStride = rowBytes;
    colBase = spill ? 0 : kernel.alloc((n - kS) * colBytes);
    colStride = colBytes;
  }

  // Phase A: row code RS(k_s → n) over stripes of message rows (shard = column).
  const rows: SlottedTask[] = [];
  for (let r0 = 0, i = 0; r0 < kP; r0 += rowsPerStripe, i++) {
    const slot = i % slots;
    const h = Math.min(rowsPerStripe, kP - r0);
    rows.push({
      kind: 'rows',
      slot,
      encoding: scheme.name,
      n,
      kP,
      kS,
      S,
      r0,
      h,
      rows: open ? rowBuf[slot] : rowBase + r0 * rowStride,
      rowStride,
      colBase,
      colStride,
      work: work[slot],
      workStride: strideA,
      leafHashes,
      pairHashes,
      scratch: rootScratch[slot],
      ...(keep ? {} : { systematicInPlace: true }),
      ...(slotBytes ? { slotBytes } : {}),
      ...(spill ? { recovery: recoveryBlock[slot] } : {}),
      ...(rowBlocks ? { rowBlocks: { ...rowBlocks, rowLeaves: rowLeaves[slot] } } : {}),
    });
  }

  // Phase B: column code RS(k_p → n) over stripes of columns (shard = row). Stripes do not
  // straddle column k_s, so a stripe's recovery rows go either straight into the primary
  // frames (columns < k_s) or to a per-slot scratch area that is only hashed (columns ≥ k_s).
  const cols: SlottedTask[] = leaves.stripes.map(({ c0, w }, i) => {
    const slot = i % slots;
    const direct = keep && c0 < kS;
    // Metadata only: systematic columns from the row-major message, recovery ones from their area.
    const src = keep
      ? {}
      : c0 >= kS
        ? { src: spill ? colBuf[slot] : colBase + (c0 - kS) * colBytes }
        : open
          ? { src: colBuf[slot], symbolStride: w * S }
          : { src: input + c0 * S, symbolStride: rowBytes };
    return {
      kind: 'cols',
      slot,
      encoding: scheme.name,
      n,
      kP,
      S,
      c0,
      w,
      rsCols,
      colBase,
      colStride: keep || c0 >= kS ? colStride : S,
      ...src,
      work: work[slot],
      workStride: strideB,
      ...(direct
        ? { out: rowBase + kP * rowStride + c0 * S, outStride: rowStride, outAdvance: S }
        : { out: scratchRows[slot], outStride: rsCols * S, outAdvance: 0, ...(slotBytes ? { slotBytes } : {}) }),
      ...stripeLeafFields(leaves, regions, c0, columnLeaves[slot], rootScratch[slot]),
      ...(rowBlocks ? { rowBlocks: { ...rowBlocks, columnNodes: columnNodes[slot] } } : {}),
    };
  });

  // Phase C: the row roots of the recovery rows, over their block nodes.
  const roots: SlottedTask[] = [];
  const perRoots = Math.ceil((n - kP) / (slots * 4));
  for (let first = 0, i = 0; first < n - kP; first += perRoots, i++) {
    const slot = i % slots;
    roots.push({ ...recoveryRootsTask(leaves, regions, first, Math.min(perRoots, n - kP - first), rootScratch[slot]), slot });
  }

  /** Copies a task's input (zero-padded past the blob's end) to where the task reads it. */
  const stage = (t: SlottedTask) => {
    if (source) {
      if (t.kind === 'rows') source.readRows(kernel.u8(), t.rows, t.r0, t.h);
      else if (t.kind === 'cols' && t.c0 < kS) source.readColumns(kernel.u8(), t.src!, t.c0, t.w);
      else if (t.kind === 'cols' && spill) {
        // Columns [c0, c0 + w) of every rows task's block: w·h·S bytes in a row, column by column.
        const a = t.c0 - kS;
        for (const { r0, h } of rows as RowsTask[]) {
          const dsts = Array.from({ length: t.w }, (_, j) => t.src! + j * colBytes + r0 * S);
          spill.read(kernel.u8(), blockBytes(r0) + a * h * S, dsts, h * S);
        }
      }
      return;
    }
    if (t.kind !== 'rows' || typeof data === 'number') return;
    const mem = kernel.u8();
    for (let r = t.r0; r < t.r0 + t.h; r++) {
      const start = Math.min(L, r * rowBytes);
      const end = Math.min(L, start + rowBytes);
      const dst = t.rows + (r - t.r0) * t.rowStride;
      mem.set(data.subarray(start, end), dst);
      mem.fill(0, dst + (end - start), dst + rowBytes);
    }
  };

  const finish = (): EncodedMetadata | EncodedBlob => {
    const result = finishMetadata(kernel, cfg, L, pairHashes, rootScratch[0]);
    const mem = kernel.u8();
    if (!keep) return result;
    // A dedicated kernel's memory is handed to the result and never used again; a shared
    // kernel's memory is reused by the next call, so its frames are copied out.
    const pBuf = dedicated ? new Uint8Array(kernel.memory.buffer, pRegion, n * pFrame) : mem.slice(pRegion, pRegion + n * pFrame);
    const sBuf = dedicated ? new Uint8Array(kernel.memory.buffer, sRegion, n * sFrame) : mem.slice(sRegion, sRegion + n * sFrame);
    const primary = parseFrames('primary', pBuf, n, pFrame);
    const secondary = parseFrames('secondary', sBuf, n, sFrame);
    const pairs: SliverPair[] = primary.map((p, i) => ({ index: i, primary: p, secondary: secondary[n - 1 - i] }));
    let disposed = false;
    const dispose = () => {
      if (!dedicated || disposed) return;
      disposed = true;
      forgetKernel(kernel.id);
      kernel.recycle();
    };
    return { ...result, pairs, primarySlivers: primary, secondarySlivers: secondary, dispose };
  };

  /** Moves a finished task's output on: a rows task's recovery block to the spill. */
  const unstage = (t: SlottedTask) => {
    if (t.kind === 'rows' && t.recovery !== undefined) spill!.write(kernel.u8(), t.recovery, blockBytes(t.h), blockBytes(t.r0));
  };

  const bind = (t: SlottedTask, slot: number): SlottedTask => {
    if (t.slot === slot) return t;
    switch (t.kind) {
      case 'rows':
        return {
          ...t,
          slot,
          work: work[slot],
          scratch: rootScratch[slot],
          ...(source ? { rows: rowBuf[slot] } : {}),
          ...(spill ? { recovery: recoveryBlock[slot] } : {}),
          ...(t.rowBlocks ? { rowBlocks: { ...t.rowBlocks, rowLeaves: rowLeaves[slot] } } : {}),
        };
      case 'cols':
        return {
          ...t,
          slot,
          work: work[slot],
          out: t.out === scratchRows[t.slot] ? scratchRows[slot] : t.out,
          columnLeaves: columnLeaves[slot],
          scratch: rootScratch[slot],
          ...(source && (t.c0 < kS || spill) ? { src: colBuf[slot] } : {}),
          ...(t.rowBlocks ? { rowBlocks: { ...t.rowBlocks, columnNodes: columnNodes[slot] } } : {}),
        };
      case 'roots':
        return { ...t, slot, scratch: rootScratch[slot] };
      default:
        return t;
    }
  };

  return {
    kernel,
    dedicated,
    rows,
    cols,
    roots,
    stage,
    unstage,
    bind,
    finish,
  };
}

/** Slivers over n consecutive BCS frames in `buf` (views, no copy). */
function parseFrames(axis: 'primary' | 'secondary', buf: Uint8Array, n: number, frame: number): SliverData[] {
  const out: SliverData[] = [];
  for (let i = 0; i < n; i++) out.push(SliverData.fromBcs(axis, buf.subarray(i * frame, (i + 1) * frame)));
  return out;
}
