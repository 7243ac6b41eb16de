/**
 * Where an encode keeps the leaf digests of its n × n expanded symbols while it builds the 2n
 * Merkle trees (row tree i = primary hash of pair i, column tree n − 1 − i = its secondary hash).
 *
 * Storing all n² digests (32 MB at n = 1000, every blob size) cost first-touch page faults
 * (~13 µs per 4 KiB page on the VMs measured) and a column-tree pass that read them 32 KB apart.
 * Instead:
 *  - Phase A (rows r < k_p) takes each row's root at once, and keeps its rows' leaves for the
 *    column trees: all of them (k_p·n·32 bytes, a third), or — with row blocks (tasks.ts
 *    `RowBlocks`, what src/codec/encode.ts plans when its row stripes hold ≥ 2 rows) — one node per
 *    column for every full block of 2^m rows and only the last k_p mod 2^m rows' leaves;
 *  - Phase B (a stripe of columns) has its columns' other 2f leaves: it takes their column roots
 *    at once (with the Phase A leaves of those columns) and reduces each recovery row's leaves in
 *    the stripe to one node `levels` levels up (an aligned block of 2^levels columns);
 *  - Phase C takes the roots of the 2f recovery rows over those block nodes.
 * Phase B stripes lie inside one block and never straddle column k_s (systematic and recovery
 * columns are read from different places). A block that one stripe covers whole is reduced by that
 * stripe; the recovery-row leaves of any other block (the one holding k_s when k_s is not a
 * multiple of the block size; every block when stripes are narrower than blocks) are kept
 * (`partial` blocks) and reduced in Phase C. The tree is the same: a Walrus level pads only its
 * last node, so an aligned full block (or the level's last block, padded level by level) reduces
 * to the tree's own node (kernel `merkleNode`), and the levels above are a tree over those nodes.
 */
import { merkleScratchBytes } from '../hash/blake2b.ts';
import type { ColsTask, RootsTask } from './tasks.ts';

/** Most levels a Phase B block spans: 16 columns, a 512 KB column-leaf buffer per slot at n = 1000. */
const MAX_BLOCK_LEVELS = 4;

/** The block geometry and Phase B stripes of one committee (sizes in bytes; offsets are the planner's). */
export interface LeafLayout {
  readonly n: number;
  readonly kP: number;
  /** Levels a block spans; a block is 2^levels columns. */
  readonly levels: number;
  readonly blockSize: number;
  /** Blocks per row: ceil(n / blockSize) ≥ 2. */
  readonly blocks: number;
  /** The widest Phase B stripe: min(blockSize, maxStripe) columns. */
  readonly stripeWidth: number;
  /** Phase B's column stripes [c0, c0 + w), in order, covering [0, n). */
  readonly stripes: readonly { c0: number; w: number }[];
  /** The blocks no single stripe covers, ascending: partial block p = partialBlocks[p]. */
  readonly partialBlocks: readonly number[];
  /** Phase A leaves: row r < k_p at r·n·32. */
  readonly leafBytes: number;
  /** Block nodes of the recovery rows: (j, b) at (j·blocks + b)·32. */
  readonly rowNodeBytes: number;
  /** Recovery-row leaves of the partial blocks: (j, p, c − block start) at ((j·P + p)·blockSize + ·)·32, P = partialBlocks.length. */
  readonly partialBytes: number;
  /** One slot's column-leaf buffer for a stripe: maxStripe·n·32 (column a's n leaves at a·n·32). */
  readonly columnLeafBytes: number;
  /** Merkle scratch one slot needs for any tree of the encode. */
  readonly scratchBytes: number;
}

/**
 * The leaf layout of a committee of n shards with k_p primary and k_s secondary source symbols,
 * for Phase B stripes at most `maxStripe` (≥ 1) columns wide.
 */
export function leafLayout(n: number, kP: number, kS: number, maxStripe: number = Infinity): LeafLayout {
  // ≥ 2 blocks per row (n > blockSize): the block nodes must lie below every tree's root.
  const levels = Math.min(MAX_BLOCK_LEVELS, Math.floor(Math.log2(n - 1)));
  const blockSize = 2 ** levels;
  const blocks = Math.ceil(n / blockSize);
  const width = Math.max(1, Math.min(blockSize, Math.floor(maxStripe)));
  const stripes: { c0: number; w: number }[] = [];
  const perBlock = new Array<number>(blocks).fill(0);
  for (let c0 = 0; c0 < n;) {
    const b = Math.floor(c0 / blockSize);
    let end = Math.min(n, c0 + width, (b + 1) * blockSize);
    if (c0 < kS && end > kS) end = kS;
    stripes.push({ c0, w: end - c0 });
    perBlock[b]++;
    c0 = end;
  }
  const partialBlocks = perBlock.flatMap((count, b) => (count > 1 ? [b] : []));
  return {
    n,
    kP,
    levels,
    blockSize,
    blocks,
    stripeWidth: width,
    stripes,
    partialBlocks,
    leafBytes: kP * n * 32,
    rowNodeBytes: (n - kP) * blocks * 32,
    partialBytes: (n - kP) * partialBlocks.length * blockSize * 32,
    columnLeafBytes: width * n * 32,
    // merkleNodes reduces three blocks at once (3·ceil(blockSize/2)·32 bytes).
    scratchBytes: Math.max(merkleScratchBytes(n), 3 * merkleScratchBytes(blockSize)),
  };
}

/** Where an encode placed its leaf regions in kernel memory (sizes from its {@link LeafLayout}). */
export interface LeafRegions {
  readonly leafHashes: number;
  readonly rowNodes: number;
  /** 0 when the layout has no partial blocks. */
  readonly partial: number;
  readonly pairHashes: number;
}

/**
 * The leaf fields of the Phase B task for the stripe starting at column `c0`, on a slot whose
 * column-leaf buffer and Merkle scratch are given.
 */
export function stripeLeafFields(
  layout: LeafLayout,
  regions: LeafRegions,
  c0: number,
  columnLeaves: number,
  scratch: number,
): Pick<
  ColsTask,
  'leafHashes' | 'columnLeaves' | 'levels' | 'blocks' | 'rowNodes' | 'partialIndex' | 'partials' | 'partial' | 'pairHashes' | 'scratch'
> {
  return {
    leafHashes: regions.leafHashes,
    columnLeaves,
    levels: layout.levels,
    blocks: layout.blocks,
    rowNodes: regions.rowNodes,
    partialIndex: layout.partialBlocks.indexOf(Math.floor(c0 / layout.blockSize)),
    partials: layout.partialBlocks.length,
    partial: regions.partial,
    pairHashes: regions.pairHashes,
    scratch,
  };
}

/** Phase C's task for recovery rows [first, first + count), on a slot with Merkle scratch `scratch`. */
export function recoveryRootsTask(layout: LeafLayout, regions: LeafRegions, first: number, count: number, scratch: number): RootsTask {
  return {
    kind: 'roots',
    n: layout.n,
    kP: layout.kP,
    first,
    count,
    levels: layout.levels,
    blocks: layout.blocks,
    rowNodes: regions.rowNodes,
    partialBlocks: [...layout.partialBlocks],
    partial: regions.partial,
    pairHashes: regions.pairHashes,
    scratch,
  };
}
