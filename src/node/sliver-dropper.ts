/**
 * The drop fault (./faults.ts) at work: deletes the node's share of selected slivers of certified
 * blobs, and keeps them deleted. A real loss, not a pretence: the slivers are removed from the
 * store, the store refuses to write them back (so blob sync, shard recovery and the scrubber's
 * repair cannot restore them), and reads of them fail like reads of any sliver the node lacks.
 *
 * Only slivers of certified blobs are dropped: uploads are accepted and confirmed as usual (the
 * blob certifies), and the data disappears afterwards, which is what storage challenges must catch.
 */
import type { SliverAxis } from '../codec/sliver.ts';
import type { NodeStore } from './store.ts';
import { droppedByFault } from './faults.ts';

/** Options of {@link SliverDropper}. */
export interface SliverDropperOptions {
  readonly store: NodeStore;
  /** Fraction of slivers dropped (0 < f ≤ 1). */
  readonly fraction: number;
  /** The node's ID once registered (the selection depends on it). */
  readonly nodeId: () => string | null;
  /** Sweep period, ms (default 2000). */
  readonly everyMs?: number;
  readonly onLog?: (line: string) => void;
}

/** Deletes the selected slivers now and on a timer; installs the store's write filter. */
export class SliverDropper {
  private readonly o: SliverDropperOptions;
  private timer: NodeJS.Timeout | null = null;
  /** Slivers deleted so far (this process). */
  dropped = 0;

  constructor(options: SliverDropperOptions) {
    this.o = options;
    options.store.setSliverFilter((blobId, pair, axis) => this.selected(blobId, pair, axis) && this.certified(blobId));
  }

  private selected(blobId: Uint8Array, pair: number, axis: SliverAxis): boolean {
    const me = this.o.nodeId();
    return me !== null && droppedByFault(me, this.o.fraction, blobId, pair, axis);
  }

  private certified(blobId: Uint8Array): boolean {
    const epoch = this.o.store.currentEpoch();
    return epoch !== null && this.o.store.liveObjects(blobId, epoch).some((o) => o.certifiedEpoch !== null);
  }

  /** Deletes every selected sliver of the certified blobs now. @returns how many were deleted. */
  sweep(): number {
    const { store } = this.o;
    const epoch = store.currentEpoch();
    if (epoch === null || this.o.nodeId() === null) return 0;
    let n = 0;
    for (const blobId of store.certifiedBlobs(epoch)) {
      for (const key of store.storedSliverKeys(blobId)) {
        const [p, a] = key.split(':');
        const axis: SliverAxis = a === 'p' ? 'primary' : 'secondary';
        if (this.selected(blobId, Number(p), axis) && store.deleteSliver(blobId, Number(p), axis)) n++;
      }
    }
    if (n > 0) {
      this.dropped += n;
      this.o.onLog?.(`fault drop=${this.o.fraction}: deleted ${n} sliver${n === 1 ? '' : 's'} (${this.dropped} so far)`);
    }
    return n;
  }

  /** Sweeps every `everyMs` until {@link stop}. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.sweep();
      } catch {
        /* the store is closing; the next sweep retries */
      }
    }, this.o.everyMs ?? 2000);
    this.timer.unref?.();
  }

  /** Stops sweeping and removes the store's filter. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.o.store.setSliverFilter(null);
  }
}
