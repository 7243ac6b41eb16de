/**
 * Scrubbing: a storage node re-verifies the slivers it stores, in the background, and rebuilds a
 * rotten one from its peers before a reader or a challenge finds it. SQLite keeps no checksums of
 * its own, so bit rot, a bad disk sector or a stray write would otherwise only show when a reader
 * gets a sliver that fails verification (and goes to another node) — or never, for a sliver nobody
 * reads until the node is challenged.
 *
 * The walk is in key order, a page at a time, resuming after the last key checked (kept in the
 * store, so a restart does not start over); each sliver is verified against the stored metadata
 * on the codec pool (the same Merkle check as at upload). A sliver that fails — or whose metadata
 * is gone or unreadable — is deleted and its blob handed to `repair`, which rebuilds missing
 * slivers of held shards from peers' recovery symbols (shard-recovery.ts). Throughput is bounded
 * (`slivers per second`) so scrubbing never competes with uploads for more than a slice of the CPU.
 */
import { BlobMetadata } from '../codec/metadata.ts';
import { SliverData } from '../codec/sliver.ts';
import { EncodingConfig } from '../codec/config.ts';
import { encodingByType } from '../codec/encodings/index.ts';
import { TuskError } from '../errors.ts';
import type { PoolExpander } from './pool-expander.ts';
import type { NodeStore, StoredSliverKey } from './store.ts';

/** kv key: the last sliver key the scrubber checked (hex blob ID, pair, axis). */
const SCRUB_CURSOR_KEY = 'scrub_cursor';

/** Options of {@link SliverScrubber}. */
export interface ScrubberOptions {
  readonly store: NodeStore;
  readonly expander: PoolExpander;
  /** The committee size (the node's current one). */
  readonly nShards: () => number;
  /** Rebuilds the missing slivers of held shards of these blobs from peers. */
  readonly repair: (blobIds: Uint8Array[]) => Promise<{ recovered: number; failed: number }>;
  /** Slivers verified per second at most in the background loop (default 20). */
  readonly sliversPerSecond?: number;
  /** Reports errors the loop survives; default: stderr. */
  readonly onError?: (error: unknown) => void;
  /** Reports what a pass found (rotten slivers, repairs). */
  readonly onLog?: (line: string) => void;
}

/** What one scrub pass did. */
export interface ScrubReport {
  /** Slivers verified. */
  readonly checked: number;
  /** Slivers that failed verification (or lost their metadata) and were deleted. */
  readonly rotten: number;
  /** Of those, rebuilt from peers. */
  readonly repaired: number;
  /** True when the walk reached the end of the store (the next pass starts from the beginning). */
  readonly wrapped: boolean;
}

function cursorToText(k: StoredSliverKey): string {
  return `${Buffer.from(k.blobId).toString('hex')}:${k.pair}:${k.axis}`;
}

function cursorFromText(text: string | null): StoredSliverKey | null {
  if (!text) return null;
  const [hex, pair, axis] = text.split(':');
  if (!/^[0-9a-f]{64}$/.test(hex ?? '') || !(axis === 'primary' || axis === 'secondary')) return null;
  return { blobId: new Uint8Array(Buffer.from(hex, 'hex')), pair: Number(pair), axis };
}

/** Verifies stored slivers and repairs rotten ones. `start()` runs a paced loop until `stop()`. */
export class SliverScrubber {
  private readonly o: ScrubberOptions;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  /** Totals since start, for health and metrics. */
  readonly totals = { checked: 0, rotten: 0, repaired: 0, passes: 0 };

  constructor(options: ScrubberOptions) {
    this.o = options;
  }

  /**
   * Verifies up to `limit` slivers after the persisted cursor (all of them with `Infinity`),
   * deletes the rotten ones and has them repaired. Resolves with what it did.
   */
  async scrubOnce(limit = Infinity): Promise<ScrubReport> {
    const { store } = this.o;
    let cursor = cursorFromText(store.getValue(SCRUB_CURSOR_KEY));
    let checked = 0;
    let wrapped = false;
    const rotten = new Map<string, { blobId: Uint8Array; keys: StoredSliverKey[] }>();
    while (checked < limit) {
      this.abort.signal.throwIfAborted();
      const page = store.sliverKeysAfter(cursor, Math.min(64, limit - checked));
      if (page.length === 0) {
        wrapped = true;
        cursor = null;
        break;
      }
      for (const key of page) {
        if (!(await this.verify(key))) {
          const id = Buffer.from(key.blobId).toString('hex');
          const entry = rotten.get(id) ?? { blobId: key.blobId, keys: [] };
          entry.keys.push(key);
          rotten.set(id, entry);
        }
        checked++;
        cursor = key;
      }
    }
    store.setValue(SCRUB_CURSOR_KEY, cursor ? cursorToText(cursor) : '');
    let rottenCount = 0;
    for (const { keys } of rotten.values()) {
      for (const k of keys) if (store.deleteSliver(k.blobId, k.pair, k.axis)) rottenCount++;
    }
    let repaired = 0;
    if (rotten.size > 0) {
      const blobIds = [...rotten.values()].map((r) => r.blobId);
      const report = await this.o.repair(blobIds);
      // Count only the rotten slivers that are back.
      for (const { keys } of rotten.values()) for (const k of keys) if (store.hasSliver(k.blobId, k.pair, k.axis)) repaired++;
      this.o.onLog?.(
        `scrub: ${rottenCount} rotten sliver(s) of ${blobIds.length} blob(s) deleted; ${repaired} rebuilt from peers${report.failed > 0 ? `, ${report.failed} not yet` : ''}`,
      );
    }
    this.totals.checked += checked;
    this.totals.rotten += rottenCount;
    this.totals.repaired += repaired;
    if (wrapped) this.totals.passes++;
    return { checked, rotten: rottenCount, repaired, wrapped };
  }

  /** True when the stored sliver at `key` verifies against the stored metadata. */
  private async verify(key: StoredSliverKey): Promise<boolean> {
    const { store } = this.o;
    const bcs = store.getSliver(key.blobId, key.pair, key.axis);
    if (!bcs) return true; // deleted meanwhile (blob expired or deleted): nothing to check
    const metaBytes = store.getMetadata(key.blobId);
    if (!metaBytes) return false;
    try {
      const metadata = BlobMetadata.fromBcs(metaBytes);
      const cfg = new EncodingConfig(this.o.nShards(), encodingByType(metadata.encodingType));
      const sliver = SliverData.fromBcs(key.axis, bcs);
      const n = cfg.nShards;
      // The sliver of pair p is primary p or secondary n−1−p: a frame naming another index is rotten too.
      const expectedIndex = key.axis === 'primary' ? key.pair : n - 1 - key.pair;
      if (sliver.index !== expectedIndex) return false;
      return (await this.o.expander.verify(cfg, metadata, sliver)) === null;
    } catch (e) {
      if (e instanceof TuskError) return false; // unparseable bytes are rot as well
      throw e;
    }
  }

  /** Starts the paced background loop (idempotent). */
  start(): void {
    if (this.loop) return;
    const rate = this.o.sliversPerSecond ?? 20;
    const batch = Math.max(1, Math.ceil(rate));
    this.loop = (async () => {
      while (!this.abort.signal.aborted) {
        const t0 = performance.now();
        try {
          const r = await this.scrubOnce(batch);
          // An empty store: wait a while before looking again.
          const idle = r.checked === 0 ? 10_000 : 0;
          const spent = performance.now() - t0;
          await sleepUnlessAborted(Math.max(idle, (r.checked / rate) * 1000 - spent), this.abort.signal);
        } catch (e) {
          if (this.abort.signal.aborted) break;
          (this.o.onError ?? ((x) => process.stderr.write(`scrub: ${(x as Error)?.message ?? x}\n`)))(e);
          await sleepUnlessAborted(5000, this.abort.signal);
        }
      }
    })();
  }

  /** Stops the loop and waits for it. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }
}

function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
