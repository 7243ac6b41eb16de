/**
 * Reuse of the Storage resources a wallet already owns (Walrus client's `reuseStorage`): before a
 * store reserves (and pays for) new space, it looks for owned Storage that covers the current epoch
 * through the wanted end epoch and holds at least the encoded blob length, the way a `delete`
 * returns it. One resource that fits is used directly; several resources of the same period that
 * fit only together are fused by size (`storage_resource::fuse`). A resource larger than needed is
 * split by size first (`split_by_size`), so the rest stays in the wallet for the next blob instead
 * of being locked into this one. Pure planning (`planStorageReuse`) is separate from the chain
 * calls that carry it out (`acquireStorage`), so the choice can be tested without a chain.
 */
import type { Signer } from '@mysten/sui/cryptography';
import type { Chain, ObjectId, StorageResource } from '../chain/types.ts';

/** What a blob needs from a Storage resource. */
export interface StorageNeed {
  /** Encoded blob length in bytes. */
  readonly size: number;
  /** The current epoch: the resource must cover it (`register_blob` asserts start ≤ epoch < end). */
  readonly epoch: number;
  /** The wanted end epoch (exclusive): the resource must last at least this long. */
  readonly endEpoch: number;
}

/** Owned resources to fuse (in order, onto the first) and the size to split the result down to. */
export interface StoragePlan {
  /** One resource, or several of the same period to fuse by size. */
  readonly pieces: readonly StorageResource[];
  /** Split the (fused) resource down to this many bytes; null when it fits exactly. */
  readonly splitTo: number | null;
}

/**
 * Chooses owned Storage for `need`, or null when none fits (then the caller reserves new space).
 * Prefers one resource (the smallest that fits, then the one ending first: it wastes least), else
 * the fewest same-period resources whose sizes add up (largest first).
 * @pre `owned` are the wallet's Storage resources (any period; unusable ones are ignored).
 */
export function planStorageReuse(owned: readonly StorageResource[], need: StorageNeed): StoragePlan | null {
  if (!(need.size > 0) || !(need.endEpoch > need.epoch)) return null;
  const usable = owned.filter((s) => s.startEpoch <= need.epoch && s.endEpoch > need.epoch && s.endEpoch >= need.endEpoch && s.storageSize > 0);
  const single = usable
    .filter((s) => s.storageSize >= need.size)
    .sort((a, b) => a.storageSize - b.storageSize || a.endEpoch - b.endEpoch)[0];
  if (single) return { pieces: [single], splitTo: single.storageSize > need.size ? need.size : null };
  // Fusing by size needs the same start and end (Move `fuse_amount`).
  const groups = new Map<string, StorageResource[]>();
  for (const s of usable) {
    const key = `${s.startEpoch}:${s.endEpoch}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  let best: StorageResource[] | null = null;
  for (const group of groups.values()) {
    const sorted = [...group].sort((a, b) => b.storageSize - a.storageSize);
    const pieces: StorageResource[] = [];
    let total = 0;
    for (const s of sorted) {
      if (total >= need.size) break;
      pieces.push(s);
      total += s.storageSize;
    }
    if (total < need.size) continue;
    if (!best || pieces.length < best.length || (pieces.length === best.length && pieces[0].endEpoch < best[0].endEpoch)) best = pieces;
  }
  if (!best) return null;
  const total = best.reduce((s, p) => s + p.storageSize, 0);
  return { pieces: best, splitTo: total > need.size ? need.size : null };
}

/**
 * Carries out `plan`: fuses its pieces onto the first, then splits off what is not needed (the
 * rest stays with the signer as a new Storage). Returns the ID of the resource to register with.
 * @throws ChainAbortError when a piece is gone (used by a concurrent store) or not the signer's;
 *   the caller then reserves new space. A failure after a fuse leaves the fused resource owned.
 */
export async function acquireStorage(chain: Chain, signer: Signer, plan: StoragePlan): Promise<ObjectId> {
  const [first, ...rest] = plan.pieces;
  for (const piece of rest) await chain.fuseStorage(signer, first.id, piece.id);
  if (plan.splitTo !== null) await chain.splitStorage(signer, first.id, plan.splitTo);
  return first.id;
}
