/**
 * The encoder's units of kernel work. A task is plain numbers (offsets into one kernel memory), so
 * it runs the same on the calling thread or on a pool worker whose kernel instance shares that
 * memory (src/pool/). Tasks of one phase are independent; each uses only its own slot's scratch.
 *
 *  - `rows`  (Phase A): rows [r0, r0+h) of the message matrix → their columns' top symbols, the
 *    row code's recovery symbols, the leaf hashes of those n-symbol rows and their row roots.
 *  - `cols`  (Phase B): a stripe of columns [c0, c0+w) → the column code's 2f recovery rows, their
 *    leaf hashes, the stripe's column roots and its block nodes of the recovery rows.
 *  - `roots` (Phase C): the row roots of recovery rows [k_p + first, k_p + first + count).
 * Leaf digests are kept as src/codec/leaf-layout.ts describes.
 */
import type { KernelExports, WasmKernel } from '../wasm/kernel.ts';
import { encodingByName, type EncodingName } from './encodings/index.ts';

/**
 * Row blocks of the column trees (leaf-layout.ts): Phase A reduces each column's leaves of every
 * full block of 2^levels rows below k_p to one node, so the k_p·n Phase A leaves are never all
 * kept (at n = 1000, 10.7 MB of fresh memory → ~1 MB). Full blocks q < fullBlocks cover rows
 * [0, fullBlocks·2^levels); column c's node of block q is at colNodes + (c·fullBlocks + q)·32. The
 * rows from fullBlocks·2^levels to k_p (fewer than a block) keep their leaves: row r at
 * tailLeaves + (r − fullBlocks·2^levels)·n·32.
 */
export interface RowBlocks {
  levels: number;
  fullBlocks: number;
  colNodes: number;
  tailLeaves: number;
}

/** Phase A task. */
export interface RowsTask {
  kind: 'rows';
  encoding: EncodingName;
  n: number;
  kP: number;
  kS: number;
  S: number;
  r0: number;
  h: number;
  /** Row r0's k_s symbols (more rows follow every `rowStride` bytes). */
  rows: number;
  rowStride: number;
  /** Column c's top k_p symbols start at colBase + c·colStride. */
  colBase: number;
  colStride: number;
  work: number;
  workStride: number;
  /** Row r's n leaf digests go to leafHashes + r·n·32 (kept for Phase B's column trees). */
  leafHashes: number;
  /** Row r's Merkle root (pair r's primary hash) goes to pairHashes + 64r. */
  pairHashes: number;
  /** Merkle scratch of this slot (leafLayout().scratchBytes). */
  scratch: number;
  /**
   * Metadata-only encodes: the systematic columns (c < k_s) are NOT copied out of the rows — they
   * are read where the rows are (row r's symbol c at rows + (r − r0)·rowStride + c·S), and
   * colBase/colStride address only the recovery columns: column c ≥ k_s at colBase + (c − k_s)·colStride.
   */
  systematicInPlace?: boolean;
  /**
   * When set (scheme.slotBytes(S)): the RS work array holds the rows in slots of this many bytes
   * (scheme.gatherSlots / slotsToSymbols); the recovery symbols are hashed there and then copied to
   * their columns (plain copies, not the planar-to-symbol scatter).
   */
  slotBytes?: number;
  /**
   * When set (metadata-only encodes, with `systematicInPlace`): the recovery symbols go to one
   * dense block here instead of their columns — column k_s + a's symbols of rows r0… at
   * recovery + a·h·S — which the planner then moves on (to a spill file: src/codec/encode.ts
   * RecoverySpill). colBase/colStride are unused.
   */
  recovery?: number;
  /**
   * When set: row blocks (see {@link RowBlocks}); leafHashes is unused. Rows below the tail put
   * their leaves in this slot's `rowLeaves` (row r0 + i at i·n·32) until their blocks are reduced.
   * Pre: r0 is a multiple of 2^levels, and so is h unless the task ends at k_p.
   */
  rowBlocks?: RowBlocks & { rowLeaves: number };
}

/** Phase B task. */
export interface ColsTask {
  kind: 'cols';
  encoding: EncodingName;
  n: number;
  kP: number;
  S: number;
  /** The stripe: columns [c0, c0 + w), inside one block of 2^levels columns (leaf-layout.ts). */
  c0: number;
  w: number;
  /** Columns per RS call (≤ w; the work array holds this many): stripes of big symbols take several. */
  rsCols: number;
  colBase: number;
  colStride: number;
  work: number;
  workStride: number;
  /**
   * Where column c0's first symbol is, when not at colBase + c0·colStride; then column c0 + a's
   * symbol j is at src + a·colStride + j·symbolStride (metadata-only encodes read the systematic
   * columns in place from the row-major message, symbolStride = one row).
   */
  src?: number;
  symbolStride?: number;
  /**
   * Recovery row j (row k_p + j) of the RS call starting at column c0 + s goes to
   * out + s·outAdvance + j·outStride (outAdvance = S: in place, e.g. the primary frames; 0: a
   * scratch area each call reuses).
   */
  out: number;
  outStride: number;
  outAdvance: number;
  /**
   * When set (scheme.slotBytes(S), never with outAdvance ≠ 0): the recovery rows are not written
   * out but hashed where the RS call left them: the work array holds each call's symbols in slots
   * of this many bytes (scheme.gatherSlots / slotsToSymbols) and `out` is unused.
   */
  slotBytes?: number;
  /** Phase A's leaves (row r < k_p at leafHashes + r·n·32), unless `rowBlocks`. */
  leafHashes: number;
  /**
   * When set: Phase A left row blocks ({@link RowBlocks}); each column's tree is taken over its
   * ceil(n/2^levels) block nodes, gathered in this slot's `columnNodes` (column c0 + a's at
   * a·ceil(n/2^levels)·32).
   */
  rowBlocks?: RowBlocks & { columnNodes: number };
  /** This slot's column-leaf buffer (leafLayout().columnLeafBytes). */
  columnLeaves: number;
  /** Block size 2^levels and blocks per row. */
  levels: number;
  blocks: number;
  /** Recovery row j's node of block b goes to rowNodes + (j·blocks + b)·32 when the stripe is the whole block. */
  rowNodes: number;
  /**
   * Otherwise (a partial block, leaf-layout.ts) its index p among the P = `partials` partial
   * blocks, and row j's leaf of column c goes to partial + ((j·P + p)·2^levels + c − blockStart)·32.
   */
  partialIndex: number;
  partials: number;
  partial: number;
  /** Column c's root (pair n − 1 − c's secondary hash) goes to pairHashes + 64(n − 1 − c) + 32. */
  pairHashes: number;
  scratch: number;
}

/** Phase C task: recovery rows j in [first, first + count) (rows k_p + j). */
export interface RootsTask {
  kind: 'roots';
  n: number;
  kP: number;
  first: number;
  count: number;
  levels: number;
  blocks: number;
  /** Row j's block nodes at rowNodes + j·blocks·32. */
  rowNodes: number;
  /** The partial blocks (leaf-layout.ts), reduced first: row j's leaves of partialBlocks[p] at partial + (j·P + p)·2^levels·32. */
  partialBlocks: number[];
  partial: number;
  /** Row k_p + j's root goes to pairHashes + 64(k_p + j). */
  pairHashes: number;
  scratch: number;
}

/**
 * Decode task: one stripe of `w` symbol positions of a codeword family (o originals, r recovery).
 * The received shards' raw symbols sit at raw + x·rawStride for their decoder position x (see
 * rsDecodePosition); `received` is the o + r byte map. Missing original i is written (symbol
 * layout) to restored + i·rawStride.
 */
export interface DecodeTask {
  kind: 'decode';
  encoding: EncodingName;
  o: number;
  r: number;
  S: number;
  w: number;
  raw: number;
  rawStride: number;
  /** Received shard indices (i < o: original i; o + j: recovery j), also marked in `received`. */
  present: number[];
  received: number;
  /** The erasure locator of `received` (scheme.decodeLocator, computed once per plan), only read. */
  erasures: number;
  work: number;
  workStride: number;
  /** Positions per RS call (≤ w; the work array holds this many per shard). */
  rsWidth: number;
  restored: number;
}

/**
 * Expand task: `h` slivers of one axis (k source symbols each, laid out as their n-symbol expanded
 * rows at area + t·n·S, source symbols already in place) → their recovery symbols, n leaf hashes
 * each (leaves + t·n·32) and Merkle roots (roots + 32t). Used to verify slivers and to produce
 * recovery symbols.
 */
export interface ExpandTask {
  kind: 'expand';
  encoding: EncodingName;
  n: number;
  k: number;
  S: number;
  h: number;
  area: number;
  work: number;
  workStride: number;
  leaves: number;
  roots: number;
  scratch: number;
}

export type StripeTask = RowsTask | ColsTask | RootsTask | DecodeTask | ExpandTask;

/**
 * Whether tasks are bounds-checked before they run: with `TUSK_DEBUG=1`, and always under vitest.
 * The kernels are built without bounds checks (asconfig.json: noAssert, uncheckedBehavior) and run
 * on memory shared with other workers, so a wrong offset would silently corrupt another task's data.
 */
export const CHECK_TASKS: boolean = typeof process !== 'undefined' && (process.env.TUSK_DEBUG === '1' || process.env.VITEST !== undefined);

/**
 * The memory regions `[start, end)` task `t` reads or writes, as far as they follow from the task
 * alone (work arrays: at least their original shards; decode inputs: at least the first position).
 */
export function taskRegions(t: StripeTask): [name: string, start: number, end: number][] {
  switch (t.kind) {
    case 'rows': {
      const { n, kS, S, r0, h } = t;
      const columns = t.systematicInPlace ? n - kS : n;
      return [
        ['rows', t.rows, t.rows + (h - 1) * t.rowStride + kS * S],
        t.recovery !== undefined
          ? ['recovery', t.recovery, t.recovery + (n - kS) * h * S]
          : ['colBase', t.colBase + r0 * S, t.colBase + (columns - 1) * t.colStride + (r0 + h) * S],
        ['work', t.work, t.work + kS * t.workStride],
        ...rowsLeafRegions(t),
        ['pairHashes', t.pairHashes + r0 * 64, t.pairHashes + (r0 + h) * 64],
        ['scratch', t.scratch, t.scratch + Math.ceil(n / 2) * 32],
      ];
    }
    case 'cols': {
      const { n, kP, S, c0, w } = t;
      const src = t.src ?? t.colBase + c0 * t.colStride;
      const B = 2 ** t.levels;
      const b = Math.floor(c0 / B);
      const at = (t.partialIndex * B + c0 - b * B) * 32;
      let outEnd = t.out;
      if (!t.slotBytes)
        for (let s = 0; s < w; s += t.rsCols)
          outEnd = Math.max(outEnd, t.out + s * t.outAdvance + (n - kP - 1) * t.outStride + Math.min(t.rsCols, w - s) * S);
      return [
        ['colBase', src, src + (w - 1) * t.colStride + (kP - 1) * (t.symbolStride ?? S) + S],
        ['work', t.work, t.work + kP * t.workStride],
        ['out', t.out, outEnd],
        ...colsLeafRegions(t),
        ['columnLeaves', t.columnLeaves, t.columnLeaves + w * n * 32],
        t.partialIndex < 0
          ? ['rowNodes', t.rowNodes + b * 32, t.rowNodes + ((n - kP - 1) * t.blocks + b + 1) * 32]
          : ['partial', t.partial + at, t.partial + (n - kP - 1) * t.partials * B * 32 + at + w * 32],
        ['pairHashes', t.pairHashes + (n - c0 - w) * 64, t.pairHashes + (n - c0) * 64],
        ['scratch', t.scratch, t.scratch + Math.max(Math.ceil(n / 2), 3 * Math.ceil(w / 2)) * 32],
      ];
    }
    case 'roots': {
      const { n, kP, first, count } = t;
      const B = 2 ** t.levels;
      const regions: [string, number, number][] = [
        ['rowNodes', t.rowNodes + first * t.blocks * 32, t.rowNodes + (first + count) * t.blocks * 32],
        ['pairHashes', t.pairHashes + (kP + first) * 64, t.pairHashes + (kP + first + count) * 64],
        ['scratch', t.scratch, t.scratch + Math.ceil(n / 2) * 32],
      ];
      const P = t.partialBlocks.length;
      if (P > 0) regions.push(['partial', t.partial + first * P * B * 32, t.partial + (first + count) * P * B * 32]);
      return regions;
    }
    case 'decode': {
      const { o, r, S, w } = t;
      const maxMissing = Math.max(-1, ...Array.from({ length: o }, (_, i) => i).filter((i) => !t.present.includes(i)));
      const regions: [string, number, number][] = [
        ['raw', t.raw, t.raw + w * S],
        ['received', t.received, t.received + o + r],
        ['erasures', t.erasures, t.erasures + encodingByName(t.encoding).erasureBytes],
        ['work', t.work, t.work + t.workStride],
      ];
      if (maxMissing >= 0) regions.push(['restored', t.restored, t.restored + maxMissing * t.rawStride + w * S]);
      return regions;
    }
    case 'expand': {
      const { n, k, S, h } = t;
      return [
        ['area', t.area, t.area + h * n * S],
        ['work', t.work, t.work + k * t.workStride],
        ['leaves', t.leaves, t.leaves + h * n * 32],
        ['roots', t.roots, t.roots + h * 32],
        ['scratch', t.scratch, t.scratch + 32],
      ];
    }
  }
}

/** The regions of a rows task's leaves: its rows in leafHashes, or its row-block regions. */
function rowsLeafRegions(t: RowsTask): [string, number, number][] {
  const { n, kP, r0, h } = t;
  const rb = t.rowBlocks;
  if (!rb) return [['leafHashes', t.leafHashes + r0 * n * 32, t.leafHashes + (r0 + h) * n * 32]];
  const A = 2 ** rb.levels;
  const tail = rb.fullBlocks * A;
  const regions: [string, number, number][] = [['rowLeaves', rb.rowLeaves, rb.rowLeaves + h * n * 32]];
  if (r0 < tail) regions.push(['colNodes', rb.colNodes, rb.colNodes + n * rb.fullBlocks * 32]);
  if (r0 + h > tail) regions.push(['tailLeaves', rb.tailLeaves, rb.tailLeaves + (kP - tail) * n * 32]);
  return regions;
}

/** The regions of a cols task's Phase A leaves: leafHashes, or the row-block regions. */
function colsLeafRegions(t: ColsTask): [string, number, number][] {
  const { n, kP, c0, w } = t;
  const rb = t.rowBlocks;
  if (!rb) return [['leafHashes', t.leafHashes + c0 * 32, t.leafHashes + ((kP - 1) * n + c0 + w) * 32]];
  const A = 2 ** rb.levels;
  const tail = rb.fullBlocks * A;
  const regions: [string, number, number][] = [['columnNodes', rb.columnNodes, rb.columnNodes + w * Math.ceil(n / A) * 32]];
  if (rb.fullBlocks > 0) regions.push(['colNodes', rb.colNodes + c0 * rb.fullBlocks * 32, rb.colNodes + (c0 + w) * rb.fullBlocks * 32]);
  if (kP > tail) regions.push(['tailLeaves', rb.tailLeaves + c0 * 32, rb.tailLeaves + ((kP - tail - 1) * n + c0 + w) * 32]);
  return regions;
}

/** Bytes of a work shard holding `count` symbol slots of `slotBytes` (RS calls process multiples of 64). */
export function slotShardBytes(count: number, slotBytes: number): number {
  return Math.ceil((count * slotBytes) / 64) * 64;
}

/**
 * Checks that every region of `t` lies inside a memory of `memoryBytes` bytes and that its offsets
 * are non-negative integers. @throws RangeError naming the task kind and the region: a planner bug,
 * caught before the unchecked kernel would write out of place.
 */
export function checkTask(t: StripeTask, memoryBytes: number): void {
  for (const [name, start, end] of taskRegions(t)) {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > memoryBytes) {
      throw new RangeError(`kernel task ${t.kind}: region ${name} [${start}, ${end}) is outside memory of ${memoryBytes} bytes`);
    }
  }
}

/**
 * Runs one task on kernel `k` (any thread whose instance uses the task's memory). With
 * {@link CHECK_TASKS} and `memoryBytes` given, the task is bounds-checked first ({@link checkTask}).
 */
export function runStripeTask(k: KernelExports, t: StripeTask, memoryBytes?: number): void {
  if (CHECK_TASKS && memoryBytes !== undefined) checkTask(t, memoryBytes);
  switch (t.kind) {
    case 'rows': {
      const scheme = encodingByName(t.encoding);
      const { n, kS, S, r0, h } = t;
      const inPlace = t.systematicInPlace === true;
      if (!inPlace) k.copySymbols(t.rows, t.rowStride, S, h, kS, S, t.colBase + r0 * S, S, t.colStride);
      // Row r0's recovery symbols: in their columns, or in the task's dense block.
      const spilled = t.recovery !== undefined;
      const recovery = spilled ? t.recovery! : (inPlace ? t.colBase : t.colBase + kS * t.colStride) + r0 * S;
      const recoveryStride = spilled ? h * S : t.colStride;
      if (t.slotBytes) {
        const slot = t.slotBytes;
        scheme.gatherSlots(k, t.rows, t.rowStride, S, h, kS, S, t.work, t.workStride, slot);
        scheme.encode(k, t.work, t.workStride, slotShardBytes(h, slot), kS, n - kS);
        scheme.slotsToSymbols(k, t.work, t.workStride, h, n - kS, S, slot);
        k.copySymbols(t.work, slot, t.workStride, h, n - kS, S, recovery, S, recoveryStride);
      } else {
        scheme.gather(k, t.rows, t.rowStride, S, h, kS, S, t.work, t.workStride);
        scheme.encode(k, t.work, t.workStride, scheme.planarBytes(h, S), kS, n - kS);
        scheme.scatter(k, t.work, t.workStride, h, n - kS, S, recovery, S, recoveryStride);
      }
      // Where row r's n leaves go: leafHashes, or (row blocks) the slot's staging or the tail.
      const rb = t.rowBlocks;
      const tail = rb ? rb.fullBlocks * 2 ** rb.levels : Infinity;
      const leafRow = (r: number) =>
        !rb ? t.leafHashes + r * n * 32 : r < tail ? rb.rowLeaves + (r - r0) * n * 32 : rb.tailLeaves + (r - tail) * n * 32;
      for (let r = r0; r < r0 + h; r++) {
        const leaves = leafRow(r);
        if (inPlace) {
          // Row r's n leaves: its k_s systematic symbols in place, then its n − k_s recovery symbols
          // (from the slots while they are hot, else from their columns).
          k.hashLeaves(t.rows + (r - r0) * t.rowStride, S, kS, S, leaves, 32);
          if (t.slotBytes) k.hashLeaves(t.work + (r - r0) * t.slotBytes, S, n - kS, t.workStride, leaves + kS * 32, 32);
          else k.hashLeaves(recovery + (r - r0) * S, S, n - kS, recoveryStride, leaves + kS * 32, 32);
        } else k.hashLeaves(t.colBase + r * S, S, n, t.colStride, leaves, 32);
        k.merkleRoot(leaves, n, 32, t.scratch, t.pairHashes + r * 64);
      }
      if (rb) {
        // Each full block of the task's rows → one node per column (n blocks in lockstep).
        const A = 2 ** rb.levels;
        for (let q = r0 / A; (q + 1) * A <= Math.min(r0 + h, tail); q++)
          k.merkleNodes(
            rb.rowLeaves + (q * A - r0) * n * 32,
            A,
            n * 32,
            rb.levels,
            n,
            32,
            t.scratch,
            rb.colNodes + q * 32,
            rb.fullBlocks * 32,
          );
      }
      return;
    }
    case 'cols': {
      const scheme = encodingByName(t.encoding);
      const { n, kP, S, c0, w } = t;
      const src = t.src ?? t.colBase + c0 * t.colStride;
      const symbolStride = t.symbolStride ?? S;
      // The column code in calls of ≤ rsCols columns; each call's recovery leaves go to the
      // column-leaf buffer (column a's n leaves at columnLeaves + a·n·32, rows k_p… here).
      for (let s = 0; s < w; s += t.rsCols) {
        const sw = Math.min(t.rsCols, w - s);
        const leaves = t.columnLeaves + (s * n + kP) * 32;
        if (t.slotBytes) {
          // Hashed in place: no copy of the recovery rows (at 256 MiB, n = 1000: 0.8 GB not written).
          const slot = t.slotBytes;
          scheme.gatherSlots(k, src + s * t.colStride, t.colStride, symbolStride, sw, kP, S, t.work, t.workStride, slot);
          scheme.encode(k, t.work, t.workStride, slotShardBytes(sw, slot), kP, n - kP);
          scheme.slotsToSymbols(k, t.work, t.workStride, sw, n - kP, S, slot);
          // Column by column: n − k_p leaves a call (the kernel hashes three at a time; row by row,
          // a call's last few would take the one-at-a-time path), written contiguously.
          for (let a = 0; a < sw; a++) k.hashLeaves(t.work + a * slot, S, n - kP, t.workStride, leaves + a * n * 32, 32);
          continue;
        }
        scheme.gather(k, src + s * t.colStride, t.colStride, symbolStride, sw, kP, S, t.work, t.workStride);
        scheme.encode(k, t.work, t.workStride, scheme.planarBytes(sw, S), kP, n - kP);
        const out = t.out + s * t.outAdvance;
        scheme.scatter(k, t.work, t.workStride, sw, n - kP, S, out, S, t.outStride);
        for (let a = 0; a < sw; a++) k.hashLeaves(out + a * S, S, n - kP, t.outStride, leaves + a * n * 32, 32);
      }
      const columnRoot = (a: number) => t.pairHashes + (n - 1 - c0 - a) * 64 + 32;
      const rb = t.rowBlocks;
      if (rb) {
        // Column trees over block nodes: Phase A's full blocks, then the tail's leaves with this
        // stripe's own below them, reduced block by block (the stripe's w columns in lockstep).
        const A = 2 ** rb.levels;
        const tail = rb.fullBlocks * A;
        const NB = Math.ceil(n / A);
        if (kP > tail) k.copySymbols(rb.tailLeaves + c0 * 32, n * 32, 32, kP - tail, w, 32, t.columnLeaves + tail * 32, 32, n * 32);
        if (rb.fullBlocks > 0)
          k.copySymbols(rb.colNodes + c0 * rb.fullBlocks * 32, 0, rb.fullBlocks * 32, 1, w, rb.fullBlocks * 32, rb.columnNodes, 0, NB * 32);
        for (let q = rb.fullBlocks; q < NB; q++)
          k.merkleNodes(
            t.columnLeaves + q * A * 32,
            Math.min(A, n - q * A),
            32,
            rb.levels,
            w,
            n * 32,
            t.scratch,
            rb.columnNodes + q * 32,
            NB * 32,
          );
        for (let a = 0; a < w; a++) k.merkleRoot(rb.columnNodes + a * NB * 32, NB, 32, t.scratch, columnRoot(a));
      } else {
        // Column trees: the stripe's k_p Phase A leaves of each column next to its own, then its root.
        k.copySymbols(t.leafHashes + c0 * 32, n * 32, 32, kP, w, 32, t.columnLeaves, 32, n * 32);
        for (let a = 0; a < w; a++) k.merkleRoot(t.columnLeaves + a * n * 32, n, 32, t.scratch, columnRoot(a));
      }
      // Recovery rows: the stripe's block node of each, or its leaves if the block is partial.
      const B = 2 ** t.levels;
      const b = Math.floor(c0 / B);
      if (t.partialIndex < 0) {
        k.merkleNodes(t.columnLeaves + kP * 32, w, n * 32, t.levels, n - kP, 32, t.scratch, t.rowNodes + b * 32, t.blocks * 32);
      } else {
        const at = t.partial + (t.partialIndex * B + c0 - b * B) * 32;
        k.copySymbols(t.columnLeaves + kP * 32, 32, n * 32, n - kP, w, 32, at, t.partials * B * 32, 32);
      }
      return;
    }
    case 'decode': {
      const scheme = encodingByName(t.encoding);
      const { o, r, S, w } = t;
      const missing = new Set<number>();
      for (let i = 0; i < o; i++) missing.add(i);
      for (const idx of t.present) missing.delete(idx);
      const position = (idx: number) => (idx < o ? k.rsDecodePosition(o, r, false, idx) : k.rsDecodePosition(o, r, true, idx - o));
      for (let s = 0; s < w; s += t.rsWidth) {
        const sw = Math.min(t.rsWidth, w - s);
        for (const idx of t.present) {
          const x = position(idx);
          scheme.gather(k, t.raw + x * t.rawStride + s * S, S, 0, sw, 1, S, t.work + x * t.workStride, t.workStride);
        }
        scheme.decodeWithLocator(k, t.work, t.workStride, scheme.planarBytes(sw, S), o, r, t.received, t.erasures);
        for (const i of missing) {
          const x = position(i);
          scheme.scatter(k, t.work + x * t.workStride, t.workStride, sw, 1, S, t.restored + i * t.rawStride + s * S, S, 0);
        }
      }
      return;
    }
    case 'expand': {
      const scheme = encodingByName(t.encoding);
      const { n, k: src, S, h } = t;
      scheme.gather(k, t.area, n * S, S, h, src, S, t.work, t.workStride);
      scheme.encode(k, t.work, t.workStride, scheme.planarBytes(h, S), src, n - src);
      scheme.scatter(k, t.work, t.workStride, h, n - src, S, t.area + src * S, n * S, S);
      for (let i = 0; i < h; i++) {
        k.hashLeaves(t.area + i * n * S, S, n, S, t.leaves + i * n * 32, 32);
        k.merkleRoot(t.leaves + i * n * 32, n, 32, t.scratch, t.roots + i * 32);
      }
      return;
    }
    case 'roots': {
      const { n, kP } = t;
      const B = 2 ** t.levels;
      const P = t.partialBlocks.length;
      for (let j = t.first; j < t.first + t.count; j++) {
        const nodes = t.rowNodes + j * t.blocks * 32;
        for (let p = 0; p < P; p++) {
          const b = t.partialBlocks[p];
          k.merkleNode(t.partial + (j * P + p) * B * 32, Math.min(B, n - b * B), 32, t.levels, t.scratch, nodes + b * 32);
        }
        k.merkleRoot(nodes, t.blocks, 32, t.scratch, t.pairHashes + (kP + j) * 64);
      }
      return;
    }
  }
}

/** Where a plan's tasks run: inline on the calling thread, or on a pool (see src/pool/). */
export interface TaskRunner {
  /** Slots that may run at once (each task uses scratch of slot `task.slot`). */
  readonly slots: number;
  /**
   * Runs `task` on `kernel`'s memory. `slot`: the chain (0 ≤ slot < slots) the task belongs to,
   * when the caller runs one chain per slot; a runner may run a given slot's chain on the calling
   * thread (src/pool/codec-pool.ts `callerSlot`).
   */
  run(kernel: WasmKernel, task: StripeTask, slot?: number): Promise<void>;
  /**
   * Optional: resolves once `slot` can start a task without waiting for a thread to boot. A
   * planner that hands out a phase's tasks to whichever slot is free waits for this before a
   * slot's first task, so threads already running take the work of one still booting.
   */
  ready?(slot: number): Promise<void>;
}
