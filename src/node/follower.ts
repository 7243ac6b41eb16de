/**
 * The node's chain-event follower: reads `chain.events()` from the cursor persisted in the store
 * and applies each page in ONE store transaction together with the cursor after it, so a crash
 * never loses or repeats an event (walrus-protocol.md §7 events):
 *
 *  - BlobRegistered / BlobCertified / BlobDeleted → the live Blob objects per blob ID;
 *  - InvalidBlobID → the blob is marked invalid and its data dropped;
 *  - EpochChangeStart(e) → the current epoch becomes e, the node's shards for e are read from the
 *    committee of e, and objects that ended are expired (their blobs' data collected).
 *
 * After a page is committed, uploads buffered with `?pending=true` for newly registered blobs are
 * moved into the store, and long-polling confirmation requests are woken.
 *
 * Shard recovery (./shard-recovery.ts) runs as a background task with its own cancellation, so
 * events keep being applied meanwhile. It starts after each page that starts an epoch and at
 * start-up when the persisted marker `recovered_epoch` is behind the current epoch (a crash during
 * recovery, or a node down across epoch changes); `epochSyncDone` is sent only once it completed.
 * Each `BlobCertified` queues a blob sync (./blob-sync.ts) for the slivers this node still lacks;
 * both paths and the scrubber's repairs go through one SliverRecoverer (./shard-recovery.ts).
 */
import type { Signer } from '@mysten/sui/cryptography';
import type { Chain, ChainEventEnvelope, CommitteeInfo } from '../chain/types.ts';
import { TuskError } from '../errors.ts';
import type { NodeStore } from './store.ts';
import type { NodeService } from './service.ts';
import { SliverRecoverer } from './shard-recovery.ts';
import { BlobSyncQueue } from './blob-sync.ts';
import { pause } from '../util/async.ts';
import { pairForShard } from '../protocol/placement.ts';
import { blobIdRotation } from '../codec/blob-id.ts';

/** kv key: the last epoch whose shard recovery completed (the node may report it synced). */
export const RECOVERED_EPOCH_KEY = 'recovered_epoch';

/** Options of {@link EventFollower}. */
export interface FollowerOptions {
  readonly chain: Chain;
  readonly store: NodeStore;
  readonly service: NodeService;
  /** This node's ID once registered (read on every epoch change). */
  readonly nodeId: () => string | null;
  /** The operator's signer, for `epochSyncDone`. */
  readonly signer: Signer;
  /** Events per page (default 500). */
  readonly pageSize?: number;
  /** Long-poll wait per page when caught up (default 1000 ms). */
  readonly waitMs?: number;
  /** Per-request time limit of shard recovery in ms (default 10 000). */
  readonly recoveryTimeoutMs?: number;
  /** Recovery runs per epoch before the epoch is reported synced with slivers missing (default 5). */
  readonly recoveryAttempts?: number;
  /** Reports errors the loop survives (chain unreachable …); default: stderr. */
  readonly onError?: (error: unknown) => void;
  /** Reports what the node did: epoch changes, shard recoveries, the chain reachable again (default: none). */
  readonly onLog?: (line: string) => void;
  /**
   * After a blob is certified, how long to leave the writer's uploads to arrive before fetching
   * the slivers this node still lacks from its peers (default 10 000 ms).
   */
  readonly blobSyncDelayMs?: number;
  /** Called after a page that started a storage-challenge round is applied (the challenge responder). */
  readonly onChallengeRound?: () => void;
}

/** Follows the chain's events into the store. `start()` runs a loop until `stop()`. */
export class EventFollower {
  private readonly o: FollowerOptions;
  private running: Promise<void> | null = null;
  private abort = new AbortController();
  /** Events known to be waiting after the last page (0 when caught up). */
  lag = 0;

  constructor(options: FollowerOptions) {
    this.o = options;
    this.recoverer = new SliverRecoverer({
      chain: options.chain,
      store: options.store,
      nodeId: options.nodeId,
      expander: options.service.expander,
      timeoutMs: options.recoveryTimeoutMs,
      localSymbols: (blobId, ids, proofAxis) => options.service.recoverySymbolsById(blobId, ids, proofAxis),
    });
    this.blobSync = new BlobSyncQueue({
      recoverer: this.recoverer,
      store: options.store,
      epoch: () => options.store.currentEpoch(),
      nShards: () => options.service.nShards,
      delayMs: options.blobSyncDelayMs,
      onError: (e) => this.report(e),
    });
  }

  /**
   * Applies one page of events (waiting up to `waitMs` for one). Returns the number applied.
   * @throws ChainUnavailableError and other chain errors (nothing is applied then).
   */
  syncOnce(waitMs = 0): Promise<number> {
    // One page at a time: two overlapping calls would read the same cursor and apply a page twice.
    const run = this.turn.then(() => this.syncPage(waitMs));
    this.turn = run.catch(() => {});
    return run;
  }

  private turn: Promise<unknown> = Promise.resolve();

  private async syncPage(waitMs: number): Promise<number> {
    const { chain, store, service } = this.o;
    const cursor = store.eventCursor();
    const page = await chain.events({ cursor, limit: this.o.pageSize ?? 500, waitMs, signal: this.abort.signal });
    if (page.events.length === 0) {
      if (store.currentEpoch() === null) await this.bootstrapEpoch();
      this.lag = 0;
      return 0;
    }
    // Committees of the epochs that start in this page (reads happen before the transaction).
    const committees = new Map<number, CommitteeInfo>();
    for (const env of page.events) {
      if (env.event.type === 'EpochChangeStart' && !committees.has(env.event.epoch))
        committees.set(env.event.epoch, await chain.committee(env.event.epoch));
    }
    const registered: Uint8Array[] = [];
    const invalidated: Uint8Array[] = [];
    const certified: Uint8Array[] = [];
    let newEpoch: number | null = null;
    store.transaction(() => {
      for (const env of page.events) {
        const e = this.apply(env, committees);
        if (e === 'registered') registered.push((env.event as { blobId: Uint8Array }).blobId);
        if (e === 'invalidated') invalidated.push((env.event as { blobId: Uint8Array }).blobId);
        if (e === 'certified') certified.push((env.event as { blobId: Uint8Array }).blobId);
        if (env.event.type === 'EpochChangeStart') newEpoch = env.event.epoch;
      }
      store.setEventCursor(page.nextCursor ?? page.events[page.events.length - 1].cursor);
      store.countEvents(page.events.length);
    });
    for (const b of invalidated) service.dropPending(b);
    for (const b of registered) {
      try {
        service.flushPending(b);
      } catch (e) {
        this.report(e);
      }
    }
    service.notifyApplied();
    this.lag = page.events.length === (this.o.pageSize ?? 500) ? 1 : 0;
    if (newEpoch !== null) {
      const shards = store.shards(newEpoch) ?? [];
      this.log(
        `epoch ${newEpoch} started: this node holds ${shards.length} shard${shards.length === 1 ? '' : 's'}${shards.length ? ` (${summarizeShards(shards)})` : ''}`,
      );
      this.startRecovery(newEpoch);
    }
    for (const b of certified) this.blobSync.add(b);
    if (page.events.some((env) => env.event.type === 'ChallengeRoundStarted')) this.o.onChallengeRound?.();
    return page.events.length;
  }

  private apply(env: ChainEventEnvelope, committees: Map<number, CommitteeInfo>): 'registered' | 'invalidated' | 'certified' | null {
    const { store } = this.o;
    const ev = env.event;
    switch (ev.type) {
      case 'BlobRegistered':
        store.registerObject(ev.blobId, ev.objectId, ev.deletable, ev.endEpoch, env.id);
        return 'registered';
      case 'BlobCertified':
        store.certifyObject(ev.blobId, ev.objectId, ev.deletable, ev.epoch, ev.endEpoch, env.id);
        return ev.isExtension ? null : 'certified';
      case 'BlobDeleted':
        store.deleteObject(ev.objectId, store.currentEpoch() ?? ev.epoch);
        return null;
      case 'InvalidBlobID':
        store.invalidate(ev.blobId, env.id);
        return 'invalidated';
      case 'EpochChangeStart': {
        const committee = committees.get(ev.epoch)!;
        this.o.service.setShardCount(committee.nShards);
        const me = this.o.nodeId();
        const member = me === null ? undefined : committee.members.find((m) => m.nodeId === me);
        store.setShards(ev.epoch, member ? member.shards : []);
        store.setCurrentEpoch(ev.epoch);
        store.expire(ev.epoch);
        return null;
      }
      default:
        return null;
    }
  }

  /** With no epoch event seen at all (a chain still in its first epoch), take the chain's epoch. */
  private async bootstrapEpoch(): Promise<void> {
    const state = await this.o.chain.systemState();
    this.o.service.setShardCount(state.nShards);
    const me = this.o.nodeId();
    const member = me === null ? undefined : state.committee.members.find((m) => m.nodeId === me);
    this.o.store.transaction(() => {
      this.o.store.setShards(state.epoch, member ? member.shards : []);
      this.o.store.setCurrentEpoch(state.epoch);
    });
    this.o.service.notifyApplied();
  }

  /** Recovers missing slivers from peers: shared by the blob sync, the epoch's recovery and the scrubber. */
  private readonly recoverer: SliverRecoverer;
  /** Blobs certified while this node may lack their slivers, each retried until complete (./blob-sync.ts). */
  private readonly blobSync: BlobSyncQueue;

  /**
   * Slivers of held shards still missing for blobs certified recently (queued or being fetched):
   * what health reports, so "every shard ready" is not claimed while slivers are missing.
   */
  missingSlivers(): number {
    const epoch = this.o.store.currentEpoch();
    if (epoch === null || this.blobSync.size === 0) return 0;
    const held = this.o.store.shards(epoch) ?? [];
    let n: number;
    try {
      n = this.o.service.nShards;
    } catch {
      return 0; // no committee size known yet
    }
    let missing = 0;
    for (const blobId of this.blobSync.blobIds()) {
      const rotation = blobIdRotation(blobId, n);
      for (const shard of held) {
        const pair = pairForShard(shard, rotation, n);
        if (!this.o.store.hasSliver(blobId, pair, 'primary')) missing++;
        if (!this.o.store.hasSliver(blobId, pair, 'secondary')) missing++;
      }
    }
    return missing;
  }

  /**
   * Rebuilds the missing slivers of held shards of `blobIds` from peers now (the scrubber's repair
   * of rotten slivers). Resolves with what was recovered and what could not be.
   */
  async repairBlobs(blobIds: Uint8Array[]): Promise<{ recovered: number; failed: number }> {
    const epoch = this.o.store.currentEpoch();
    if (this.o.nodeId() === null || epoch === null) return { recovered: 0, failed: 0 };
    const report = await this.recoverer.recoverBlobs(epoch, blobIds, this.abort.signal);
    // What could not be rebuilt now is retried by the blob sync, not left to the next epoch.
    if (report.failed > 0) for (const b of blobIds) this.blobSync.add(b, 0);
    return report;
  }

  /** The running recovery task, if any. */
  private recovery: { epoch: number; abort: AbortController; done: Promise<void> } | null = null;

  /**
   * Starts (in the background) the recovery of the missing slivers of the shards held in `epoch`,
   * then reports the epoch synced. A run for an older epoch is cancelled first. When the marker
   * says `epoch` was already recovered, only the report is sent (a node restarted during changeSync).
   * Post: {@link recovered} resolves once this run (and any it superseded) has ended.
   */
  startRecovery(epoch: number): void {
    if (this.abort.signal.aborted) return; // stopped
    const previous = this.recovery;
    if (previous && previous.epoch >= epoch) return;
    previous?.abort.abort();
    const abort = new AbortController();
    const done = (async () => {
      await previous?.done;
      await this.runRecovery(epoch, abort.signal);
    })().catch((e) => {
      if (!abort.signal.aborted) this.report(e);
    });
    this.recovery = { epoch, abort, done };
  }

  /** Resolves when the current recovery task (if any) has ended. */
  async recovered(): Promise<void> {
    let current: Promise<void> | undefined;
    while (this.recovery && current !== this.recovery.done) {
      current = this.recovery.done;
      await current;
    }
  }

  private async runRecovery(epoch: number, signal: AbortSignal): Promise<void> {
    const { store } = this.o;
    const me = this.o.nodeId();
    if (me === null) return;
    if (Number(store.getValue(RECOVERED_EPOCH_KEY) ?? -1) < epoch) {
      // A failing run (peers down or busy) is retried with backoff for a while; after that the
      // epoch is reported synced anyway, so one unrecoverable blob cannot stall the epoch change.
      // Slivers still missing are then found by the next epoch's run.
      // Chain errors (unreachable …) are retried without limit: giving up would leave the epoch
      // never reported synced.
      for (let failedRuns = 0, delay = 1000; ; delay = Math.min(delay * 2, 30_000)) {
        signal.throwIfAborted();
        try {
          // Only for the chain's current epoch: catching up through old epochs, the committee has
          // moved on and the run started for the newest epoch does the work.
          const state = await this.o.chain.systemState();
          if (state.epoch !== epoch) return;
          const report = await this.recoverer.recoverBlobs(epoch, null, signal);
          if (report.recovered > 0 || failedRuns > 0)
            this.log(
              `epoch ${epoch}: shard recovery rebuilt ${report.recovered} sliver${report.recovered === 1 ? '' : 's'}${report.failed ? `, ${report.failed} still missing` : ''}`,
            );
          if (report.failed === 0) break;
          this.report(
            new TuskError(`epoch ${epoch}: ${report.failed} slivers of held shards could not be recovered (${report.recovered} were)`, {
              retryable: true,
            }),
          );
          if (++failedRuns >= (this.o.recoveryAttempts ?? 5)) break;
        } catch (e) {
          if (signal.aborted) throw e;
          this.report(e);
        }
        await pause(delay, signal);
      }
      signal.throwIfAborted();
      store.setValue(RECOVERED_EPOCH_KEY, String(epoch));
      this.log(`epoch ${epoch}: shard recovery done`);
    }
    // A failed report (chain unreachable) is retried: without it the epoch change waits forever.
    for (let delay = 1000; !(await this.reportSynced(epoch)); delay = Math.min(delay * 2, 30_000)) {
      await pause(delay, signal);
      signal.throwIfAborted();
    }
  }

  /**
   * Tells the chain the node holds its shards for `epoch` when that is the chain's current epoch,
   * the chain is waiting for its committee (changeSync) and the node is a member. Called by the
   * recovery task once the epoch's recovery has completed. Errors are reported, not thrown.
   * @returns false when the report failed (worth retrying), true when sent or not needed.
   */
  async reportSynced(epoch: number): Promise<boolean> {
    const me = this.o.nodeId();
    if (me === null) return true;
    try {
      const state = await this.o.chain.systemState();
      if (state.epoch !== epoch || state.epochState !== 'changeSync') return true;
      if (!state.committee.members.some((m) => m.nodeId === me)) return true;
      await this.o.chain.epochSyncDone(this.o.signer, me, epoch);
      this.log(`epoch ${epoch}: reported synced (epochSyncDone)`);
      return true;
    } catch (e) {
      this.report(e);
      // A rejection for good (already reported, epoch moved on) is not retried; a transient one is.
      return !(e instanceof TuskError && e.retryable);
    }
  }

  private log(line: string): void {
    this.o.onLog?.(line);
  }

  private report(e: unknown): void {
    if (this.o.onError) this.o.onError(e);
    else process.stderr.write(`tusk node: ${e instanceof Error ? e.message : String(e)}\n`);
  }

  /** Starts the follow loop (idempotent). Errors are reported and retried with backoff. */
  start(): void {
    if (this.running) return;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.blobSync.start();
    this.running = (async () => {
      let delay = 100;
      let failing = 0;
      while (!signal.aborted) {
        try {
          const n = await this.syncOnce(this.o.waitMs ?? 1000);
          if (failing > 0) this.log(`following the chain again after ${failing} failed attempt${failing === 1 ? '' : 's'}`);
          failing = 0;
          delay = 100;
          if (n === 0 && !signal.aborted) await pause(20, signal);
        } catch (e) {
          if (signal.aborted) break;
          failing++;
          this.report(e);
          await pause(delay, signal);
          delay = Math.min(delay * 2, 5000);
          if (!(e instanceof TuskError) || !e.retryable) delay = Math.max(delay, 1000);
        }
      }
    })();
  }

  /** Stops the loop and the recovery task and waits for both to finish. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.recovery?.abort.abort();
    await this.blobSync.stop();
    await this.running?.catch(() => {});
    await this.recovery?.done;
    this.running = null;
  }
}

/** "0-3, 7, 9-12" for a sorted list of shard indices (short log lines for big committees). */
function summarizeShards(shards: readonly number[]): string {
  const sorted = [...shards].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}
