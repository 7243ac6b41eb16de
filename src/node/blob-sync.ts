/**
 * Blob sync: after a blob is certified, the slivers of held shards this node still lacks (it was
 * down or stalled while the blob was stored, or the writer gave up on it) are rebuilt from peers —
 * as Walrus nodes do on a certification event — so the node does not wait for the next epoch
 * change (an hour in dev, weeks on Walrus).
 *
 * Each blob is its own entry with its own due time: first after `delayMs` (the writer's uploads
 * usually arrive in that time), then, while slivers stay missing (peers down, stalled or still
 * receiving the blob themselves), again with a backoff per blob (2 s doubling up to 60 s, with
 * jitter). Only blobs that failed are retried; a blob that completes, or is no longer certified and
 * live (deleted, expired, invalidated), leaves the queue. A few blobs are recovered at once, through
 * the node's shared {@link SliverRecoverer} (which never recovers one blob twice at once).
 *
 * The queue lives in memory, so a sweep ({@link BlobSyncQueue.sweep}: at `start()` and every
 * `sweepMs`) queues every certified, live blob that lacks a sliver of a held shard, whatever the
 * reason: a node killed with blobs queued, an epoch's recovery that gave up so the epoch change
 * could complete, a repair that failed. Checking is local and cheap (an index lookup per sliver).
 */
import { blobIdRotation, blobIdToString } from '../codec/blob-id.ts';
import { pairForShard } from '../protocol/placement.ts';
import type { SliverRecoverer } from './shard-recovery.ts';
import type { NodeStore } from './store.ts';

/** Longest stretch of synchronous store reads in a sweep before it yields to the event loop (ms). */
const SWEEP_SLICE_MS = 5;

/** Options of {@link BlobSyncQueue}. */
export interface BlobSyncOptions {
  readonly recoverer: SliverRecoverer;
  readonly store: NodeStore;
  /** The node's current epoch (null before the first). */
  readonly epoch: () => number | null;
  /** The committee size (throws when not known yet). */
  readonly nShards: () => number;
  /** Period of the sweep for blobs missing slivers (default 30 000 ms; 0: only at start). */
  readonly sweepMs?: number;
  /** Wait after the certification before the first attempt (default 10 000 ms). */
  readonly delayMs?: number;
  /** Blobs recovered at once (default 3). */
  readonly concurrency?: number;
  /** First retry delay after a failed attempt (default 2000 ms; doubles up to `maxBackoffMs`). */
  readonly backoffMs?: number;
  /** Longest retry delay (default 60 000 ms). */
  readonly maxBackoffMs?: number;
  /** Reports a failed attempt (slivers still missing, errors); default: none. */
  readonly onError?: (error: unknown) => void;
}

interface Entry {
  readonly blobId: Uint8Array;
  due: number;
  attempts: number;
  running: boolean;
}

/** The blobs waiting for their slivers, each retried on its own schedule until complete. */
export class BlobSyncQueue {
  private readonly o: BlobSyncOptions;
  private readonly entries = new Map<string, Entry>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;
  private active = 0;
  private readonly runs = new Set<Promise<void>>();

  constructor(options: BlobSyncOptions) {
    this.o = options;
  }

  /** Blobs queued or being synced. */
  get size(): number {
    return this.entries.size;
  }

  /** The queued blobs (for health: slivers still missing). */
  blobIds(): Uint8Array[] {
    return [...this.entries.values()].map((e) => e.blobId);
  }

  /**
   * Queues `blobId` for a sync after `delayMs` (default the queue's delay). A blob already queued
   * keeps its entry (the earlier due time wins, so a repeated event does not postpone it).
   */
  add(blobId: Uint8Array, delayMs = this.o.delayMs ?? 10_000): void {
    if (this.abort.signal.aborted) return;
    const key = blobIdToString(blobId);
    const due = Date.now() + delayMs;
    const e = this.entries.get(key);
    if (e) e.due = Math.min(e.due, due);
    else this.entries.set(key, { blobId, due, attempts: 0, running: false });
    this.pump();
  }

  /**
   * Starts the periodic sweep (and sweeps at once). Idempotent. The next sweep is timed from the
   * end of the previous one, so sweeps never pile up on a large store.
   */
  start(): void {
    if (this.started || this.abort.signal.aborted) return;
    this.started = true;
    const every = this.o.sweepMs ?? 30_000;
    const run = async () => {
      try {
        await this.sweep();
      } catch (e) {
        this.o.onError?.(e); // a store error: the next sweep tries again
      }
      if (every > 0 && !this.abort.signal.aborted) {
        this.sweeper = setTimeout(run, every);
        this.sweeper.unref?.();
      }
    };
    void run();
  }

  private started = false;
  private sweeper: NodeJS.Timeout | null = null;

  /**
   * Queues every certified, live blob of the current epoch that lacks a sliver of a held shard
   * (after the usual delay; a queued blob keeps its due time). @returns the blobs queued now.
   */
  async sweep(): Promise<number> {
    const epoch = this.o.epoch();
    if (epoch === null || this.abort.signal.aborted) return 0;
    const held = this.o.store.shards(epoch) ?? [];
    if (held.length === 0) return 0;
    let n: number;
    try {
      n = this.o.nShards();
    } catch {
      return 0; // no committee size known yet
    }
    let queued = 0;
    // The sweep reads the store synchronously; on a big store that is seconds of work. It yields
    // to the event loop every few milliseconds, or the node stops answering HTTP while it sweeps
    // (seen in the 30-minute soak: back-to-back sweeps of ~400 blobs × 20 shards starved two nodes
    // until their peers' requests timed out).
    let sliceStart = performance.now();
    for (const blobId of this.o.store.certifiedBlobs(epoch)) {
      if (performance.now() - sliceStart > SWEEP_SLICE_MS) {
        await new Promise((r) => setImmediate(r));
        if (this.abort.signal.aborted) return queued;
        sliceStart = performance.now();
      }
      if (this.entries.has(blobIdToString(blobId))) continue;
      const rotation = blobIdRotation(blobId, n);
      // One query per blob (its stored keys) instead of two per held shard.
      const stored = this.o.store.storedSliverKeys(blobId);
      const lacks = held.some((shard) => {
        const pair = pairForShard(shard, rotation, n);
        return !stored.has(`${pair}:p`) || !stored.has(`${pair}:s`);
      });
      if (lacks) {
        this.add(blobId);
        queued++;
      }
    }
    return queued;
  }

  /** Starts the due entries that fit and sets the timer for the next one. */
  private pump(): void {
    if (this.abort.signal.aborted) return;
    const now = Date.now();
    const limit = this.o.concurrency ?? 3;
    let nextDue = Infinity;
    const due = [...this.entries.values()].filter((e) => !e.running).sort((a, b) => a.due - b.due);
    for (const e of due) {
      if (e.due <= now && this.active < limit) this.launch(e);
      else if (!e.running) nextDue = Math.min(nextDue, e.due);
    }
    if (nextDue === Infinity || this.active >= limit) return; // a finishing run pumps again
    if (this.timer && this.timerDue <= nextDue) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = nextDue;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.timerDue = Infinity;
        this.pump();
      },
      Math.max(0, nextDue - now),
    );
    this.timer.unref?.();
  }

  private launch(e: Entry): void {
    e.running = true;
    this.active++;
    const run = this.attempt(e).finally(() => {
      e.running = false;
      this.active--;
      this.runs.delete(run);
      this.pump();
    });
    this.runs.add(run);
  }

  private async attempt(e: Entry): Promise<void> {
    const key = blobIdToString(e.blobId);
    const epoch = this.o.epoch();
    let done = false;
    if (epoch !== null) {
      try {
        const report = await this.o.recoverer.recoverBlob(epoch, e.blobId, this.abort.signal);
        done = report.failed === 0;
        if (!done)
          this.o.onError?.(
            new Error(
              `blob sync ${key}: ${report.failed} sliver(s) could not be recovered yet (attempt ${e.attempts + 1}); retrying later`,
            ),
          );
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.o.onError?.(err);
      }
    }
    if (done) {
      this.entries.delete(key);
      return;
    }
    e.attempts++;
    const base = Math.min((this.o.backoffMs ?? 2000) * 2 ** (e.attempts - 1), this.o.maxBackoffMs ?? 60_000);
    e.due = Date.now() + base * (0.75 + Math.random() * 0.5);
  }

  /** Stops the queue and waits for the attempts running. */
  async stop(): Promise<void> {
    this.abort.abort();
    if (this.sweeper) clearTimeout(this.sweeper);
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all([...this.runs].map((r) => r.catch(() => {})));
  }
}
