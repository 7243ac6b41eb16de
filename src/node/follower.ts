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
 */
import type { Signer } from '@mysten/sui/cryptography';
import type { Chain, ChainEventEnvelope, CommitteeInfo } from '../chain/types.ts';
import { TuskError } from '../errors.ts';
import type { NodeStore } from './store.ts';
import type { NodeService } from './service.ts';
import { recoverGainedShards } from './shard-recovery.ts';

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
  /** Reports errors the loop survives (chain unreachable …); default: stderr. */
  readonly onError?: (error: unknown) => void;
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
      if (env.event.type === 'EpochChangeStart' && !committees.has(env.event.epoch)) committees.set(env.event.epoch, await chain.committee(env.event.epoch));
    }
    const registered: Uint8Array[] = [];
    const invalidated: Uint8Array[] = [];
    let newEpoch: number | null = null;
    store.transaction(() => {
      for (const env of page.events) {
        const e = this.apply(env, committees);
        if (e === 'registered') registered.push((env.event as { blobId: Uint8Array }).blobId);
        if (e === 'invalidated') invalidated.push((env.event as { blobId: Uint8Array }).blobId);
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
      await this.recover(newEpoch);
      await this.reportSynced(newEpoch);
    }
    return page.events.length;
  }

  private apply(env: ChainEventEnvelope, committees: Map<number, CommitteeInfo>): 'registered' | 'invalidated' | null {
    const { store } = this.o;
    const ev = env.event;
    switch (ev.type) {
      case 'BlobRegistered':
        store.registerObject(ev.blobId, ev.objectId, ev.deletable, ev.endEpoch, env.id);
        return 'registered';
      case 'BlobCertified':
        store.certifyObject(ev.blobId, ev.objectId, ev.deletable, ev.epoch, ev.endEpoch, env.id);
        return null;
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

  /**
   * Rebuilds the slivers of shards gained in `epoch` from the peers (./shard-recovery.ts) before
   * the node reports the epoch synced. Only for the chain's current epoch: catching up through
   * old epochs, the committee has moved on and the current epoch's run does the work.
   */
  private async recover(epoch: number): Promise<void> {
    const me = this.o.nodeId();
    if (me === null) return;
    try {
      const state = await this.o.chain.systemState();
      if (state.epoch !== epoch) return;
      const report = await recoverGainedShards(epoch, { chain: this.o.chain, store: this.o.store, nodeId: me, expander: this.o.service.expander, signal: this.abort.signal });
      if (report.failed > 0) this.report(new TuskError(`epoch ${epoch}: ${report.failed} slivers of gained shards could not be recovered (${report.recovered} were)`));
    } catch (e) {
      if (!this.abort.signal.aborted) this.report(e);
    }
  }

  /**
   * Tells the chain the node holds its shards for `epoch` when that is the chain's current epoch,
   * the chain is waiting for its committee (changeSync) and the node is a member. Called after each
   * page that starts an epoch, and at start-up (a node restarted during changeSync has already
   * applied the epoch's event). Errors are reported, not thrown. Shards move between nodes only through re-uploads in this
   * version (no shard sync), so the node is "synced" as soon as it knows its assignment.
   */
  async reportSynced(epoch: number): Promise<void> {
    const me = this.o.nodeId();
    if (me === null) return;
    try {
      const state = await this.o.chain.systemState();
      if (state.epoch !== epoch || state.epochState !== 'changeSync') return;
      if (!state.committee.members.some((m) => m.nodeId === me)) return;
      await this.o.chain.epochSyncDone(this.o.signer, me, epoch);
    } catch (e) {
      this.report(e);
    }
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
    this.running = (async () => {
      let delay = 100;
      while (!signal.aborted) {
        try {
          const n = await this.syncOnce(this.o.waitMs ?? 1000);
          delay = 100;
          if (n === 0 && !signal.aborted) await sleep(20, signal);
        } catch (e) {
          if (signal.aborted) break;
          this.report(e);
          await sleep(delay, signal);
          delay = Math.min(delay * 2, 5000);
          if (!(e instanceof TuskError) || !e.retryable) delay = Math.max(delay, 1000);
        }
      }
    })();
  }

  /** Stops the loop and waits for it to finish its current page. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.running?.catch(() => {});
    this.running = null;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
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
