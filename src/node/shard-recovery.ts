/**
 * Recovery of the missing slivers of the shards a node holds (walrus-protocol.md §4.5): after each
 * epoch change, at start-up until it has completed once for the current epoch, after a blob's
 * certification (blob sync, ./blob-sync.ts) and for slivers the scrubber found rotten.
 *
 * Tusk has no shard transfer (`sync_shard`); per certified, live blob the node instead:
 *  1. fetches the whole sliver from the node that held the shard in the previous epoch, when the
 *     shard moved here (nodes keep slivers of shards they gave away): one GET per sliver, verified
 *     against the metadata like an upload;
 *  2. rebuilds the rest from recovery symbols: ONE request per peer and axis for all the blob's
 *     missing targets, in Walrus's ID-list form (`recoverySymbols?id=P-S&…&proofAxis=…`), so a peer
 *     expands each of its source slivers once per blob rather than once per missing sliver. Peers
 *     are asked in parallel, only as many as the k distinct symbols per target need (plus one
 *     peer's worth of margin), more when some fail; symbols from the node's own stored slivers
 *     count too (secondary slivers are rebuilt first, so they help rebuild the primary ones). Each
 *     symbol is verified as it arrives; the decode and the check against the metadata run on the
 *     codec pool. Metadata missing locally is fetched from a peer and verified first.
 *
 * A busy peer (429/503) is asked again with backoff. A peer that does not answer (timeout, refused
 * connection: a stopped or stalled process) is put in a cool-down and asked last, with a short
 * time limit, until it answers again, so one stalled peer does not cost every blob a full timeout.
 * A peer that stalls before anyone knows (its first request) is hedged: when no request in flight
 * has answered for a few times the usual answer latency, one more peer is asked.
 * Blobs are recovered a few at a time, and one blob is never recovered twice at once (the blob
 * sync, the epoch's recovery and the scrubber share one {@link SliverRecoverer}). A sliver that
 * cannot be rebuilt now is counted as failed; the caller retries later.
 */
import type { Chain, CommitteeInfo, CommitteeNode } from '../chain/types.ts';
import { blobIdRotation, blobIdToString } from '../codec/blob-id.ts';
import { EncodingConfig } from '../codec/config.ts';
import { encodingByType } from '../codec/encodings/index.ts';
import { BlobMetadata, BlobMetadataWithId } from '../codec/metadata.ts';
import { verifyRecoverySymbol, type RecoverySymbol } from '../codec/recovery.ts';
import type { SliverAxis } from '../codec/sliver.ts';
import { verifyMetadata } from '../codec/verify.ts';
import { sliverSymbols } from '../codec/task-plan.ts';
import { StorageNodeClient, type NodeRequestOptions } from '../node-api/client.ts';
import { MAX_BCS_BYTES, metadataAnswerLimit, recoverySymbolsAnswerLimit, type SymbolId } from '../node-api/wire.ts';
import { sleep } from '../util/async.ts';
import { inSlots } from '../util/slots.ts';
import { StorageNodeError, TuskError } from '../errors.ts';
import type { NodeStore } from './store.ts';
import type { PoolExpander } from './pool-expander.ts';
import { pairForShard } from '../protocol/placement.ts';

/** Outcome of one recovery run. */
export interface RecoveryReport {
  /** Slivers rebuilt and stored. */
  recovered: number;
  /** Slivers that could not be rebuilt (too few symbols, peers unreachable, inconsistent blob). */
  failed: number;
}

/** Options of {@link SliverRecoverer}. */
export interface SliverRecovererOptions {
  readonly chain: Chain;
  readonly store: NodeStore;
  /** This node's ID (null before registration: nothing is recovered then). */
  readonly nodeId: () => string | null;
  /** Runs the decodes, expansions and sliver checks on the codec pool. */
  readonly expander: PoolExpander;
  /** Per-request time limit in ms (default 10 000). */
  readonly timeoutMs?: number;
  /** Blobs recovered at once (default 3). */
  readonly blobConcurrency?: number;
  /**
   * The node's own answer to an ID-list recovery-symbol request (its stored slivers), so they
   * count as sources without an HTTP round trip; default: none.
   */
  readonly localSymbols?: (blobId: Uint8Array, ids: readonly SymbolId[], proofAxis: SliverAxis) => Promise<RecoverySymbol[]>;
}

/** Options of {@link recoverHeldShards}. */
export interface ShardRecoveryOptions {
  readonly chain: Chain;
  readonly store: NodeStore;
  readonly nodeId: string;
  /** Runs the decodes and expansions on the codec pool. */
  readonly expander: PoolExpander;
  /** Per-request time limit in ms (default 10 000). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Only these blobs (a blob sync after a certification event); default: every certified blob. */
  readonly blobIds?: readonly Uint8Array[];
}

/** Peer answers that mean "busy, ask again later" (rate limit, full expansion queue). */
const BUSY = new Set([429, 503]);
/** Attempts per peer request when the peer answers busy. */
const BUSY_ATTEMPTS = 4;
/** Symbol IDs per request (Tusk nodes take up to 1024; this keeps the URL near 8 KiB at most). */
const IDS_PER_REQUEST = 512;
/** Time limit for a peer in cool-down (it failed to answer recently). */
const COOLING_TIMEOUT_MS = 2000;
/** Committees are re-read after this long (a restarted peer may have a new address). */
const COMMITTEE_TTL_MS = 30_000;
/**
 * Bounds of the hedge delay: when no request in flight has answered for this long, one more peer
 * is asked even though those in flight would suffice if they answered. Without it a stalled peer
 * (SIGSTOPped, accepting connections and never answering) that was counted on for the last few
 * symbols costs a whole timeout per blob: in test/node/recovery-batching.test.ts that was 20 s in
 * 5 of 6 runs, against 0.4 s with the hedge.
 */
const HEDGE_MIN_MS = 500;
const HEDGE_MAX_MS = 5000;

/**
 * Rebuilds every missing sliver of every shard this node holds in `epoch`, for every certified,
 * live blob (or only `blobIds`). Not a diff against `epoch − 1`: a run interrupted by a crash, a
 * node that was down across an epoch change, or several epoch changes applied in one page all
 * leave missing slivers that the next run finds, because slivers already stored are skipped.
 * Pre: the store has applied `EpochChangeStart(epoch)`. Never throws for a single blob's failure.
 * @throws the signal's reason when `signal` aborts; chain errors reading the committee.
 */
export function recoverHeldShards(epoch: number, o: ShardRecoveryOptions): Promise<RecoveryReport> {
  const recoverer = new SliverRecoverer({ ...o, nodeId: () => o.nodeId });
  return recoverer.recoverBlobs(epoch, o.blobIds ?? null, o.signal);
}

/** One missing sliver of a held shard. */
interface Missing {
  readonly shard: number;
  readonly pair: number;
  readonly axis: SliverAxis;
}

/** Recovers missing slivers of held shards from peers; long-lived, shared by every caller in a node. */
export class SliverRecoverer {
  private readonly o: SliverRecovererOptions;
  private readonly clients = new Map<string, StorageNodeClient>();
  /** Peers that failed to answer recently, by network address: asked last, with a short limit. */
  private readonly cooling = new Map<string, { until: number; failures: number }>();
  private readonly committees = new Map<number, { at: number; info: Promise<CommitteeInfo> }>();
  /** The recovery running per blob (by ID text): a second caller waits for it. */
  private readonly running = new Map<string, Promise<unknown>>();
  /** Moving average of answered recovery-symbol requests' latency (ms), for the hedge delay. */
  private answerMs = 250;

  constructor(options: SliverRecovererOptions) {
    this.o = options;
  }

  /**
   * Recovers the missing slivers of held shards of `blobIds` (default: every certified, live blob)
   * in `epoch`, a few blobs at a time. Blobs not certified and live in `epoch` are skipped.
   * @throws the signal's reason when it aborts; chain errors reading the committee.
   */
  async recoverBlobs(epoch: number, blobIds: readonly Uint8Array[] | null, signal?: AbortSignal): Promise<RecoveryReport> {
    const report: RecoveryReport = { recovered: 0, failed: 0 };
    if ((this.o.store.shards(epoch) ?? []).length === 0) return report;
    const certified = this.o.store.certifiedBlobs(epoch);
    const only = blobIds ? new Set(blobIds.map((b) => blobIdToString(b))) : null;
    const list = only ? certified.filter((b) => only.has(blobIdToString(b))) : certified;
    await inSlots(this.o.blobConcurrency ?? 3, list.length, async (i) => {
      const r = await this.recoverBlob(epoch, list[i], signal, false);
      report.recovered += r.recovered;
      report.failed += r.failed;
    });
    return report;
  }

  /**
   * Recovers the missing slivers of held shards of one blob in `epoch`. A blob that is not (or no
   * longer) certified and live is skipped (reported as nothing to do). Waits for a recovery of the
   * same blob already running first.
   * @throws the signal's reason when it aborts; chain errors reading the committee.
   */
  async recoverBlob(epoch: number, blobId: Uint8Array, signal?: AbortSignal, checkCertified = true): Promise<RecoveryReport> {
    const key = blobIdToString(blobId);
    const before = this.running.get(key);
    const run = (async () => {
      await before?.catch(() => {});
      if (checkCertified && !this.o.store.liveObjects(blobId, epoch).some((r) => r.certifiedEpoch !== null))
        return { recovered: 0, failed: 0 };
      if (checkCertified && this.o.store.invalidEvent(blobId)) return { recovered: 0, failed: 0 };
      return this.recoverOne(epoch, blobId, signal);
    })();
    this.running.set(key, run);
    try {
      return await run;
    } finally {
      if (this.running.get(key) === run) this.running.delete(key);
    }
  }

  /** The committee of `epoch` (cached for a while). */
  private committee(epoch: number): Promise<CommitteeInfo> {
    const c = this.committees.get(epoch);
    if (c && Date.now() - c.at < COMMITTEE_TTL_MS) return c.info;
    const info = this.o.chain.committee(epoch);
    this.committees.set(epoch, { at: Date.now(), info });
    info.catch(() => this.committees.delete(epoch));
    for (const e of this.committees.keys()) if (e < epoch - 2) this.committees.delete(e);
    return info;
  }

  private client(peer: CommitteeNode): StorageNodeClient {
    let c = this.clients.get(peer.networkAddress);
    if (!c)
      this.clients.set(peer.networkAddress, (c = new StorageNodeClient(peer.networkAddress, { timeoutMs: this.o.timeoutMs ?? 10_000 })));
    return c;
  }

  private isCooling(peer: CommitteeNode): boolean {
    const c = this.cooling.get(peer.networkAddress);
    return c !== undefined && c.until > Date.now();
  }

  /** Healthy peers first (in random order, to spread the load), peers in cool-down last. */
  private order(peers: readonly CommitteeNode[]): CommitteeNode[] {
    const keyed = peers.map((p) => ({ p, k: (this.isCooling(p) ? 1 : 0) + Math.random() * 0.5 }));
    return keyed.sort((a, b) => a.k - b.k).map((x) => x.p);
  }

  /**
   * One call to `peer`; null when the peer cannot help now. A busy peer is asked again after a
   * backoff (it holds symbols nobody else may have); one that does not answer goes to cool-down.
   */
  private async ask<T>(
    peer: CommitteeNode,
    call: (client: StorageNodeClient, options: NodeRequestOptions) => Promise<T>,
    maxBytes: number,
    signal: AbortSignal | undefined,
  ): Promise<T | null> {
    const timeoutMs = this.isCooling(peer) ? Math.min(COOLING_TIMEOUT_MS, this.o.timeoutMs ?? 10_000) : undefined;
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      try {
        const out = await call(this.client(peer), { signal, maxBytes, timeoutMs });
        this.cooling.delete(peer.networkAddress);
        return out;
      } catch (e) {
        if (signal?.aborted) throw signal.reason;
        if (!(e instanceof TuskError)) throw e;
        if (e instanceof StorageNodeError && e.status === 0) {
          // No answer at all (refused, reset, timed out): cool down, longer after each failure.
          const prev = this.cooling.get(peer.networkAddress);
          const failures = (prev?.failures ?? 0) + 1;
          this.cooling.set(peer.networkAddress, { until: Date.now() + Math.min(5000 * 2 ** (failures - 1), 60_000), failures });
          return null;
        }
        // An oversized or malformed answer, or "not stored here": one source fewer.
        if (!(e instanceof StorageNodeError) || !BUSY.has(e.status) || attempt + 1 >= BUSY_ATTEMPTS) return null;
      }
      await sleep(100 * 2 ** attempt + Math.random() * 100, signal);
    }
  }

  private async recoverOne(epoch: number, blobId: Uint8Array, signal: AbortSignal | undefined): Promise<RecoveryReport> {
    const report: RecoveryReport = { recovered: 0, failed: 0 };
    const { store } = this.o;
    const me = this.o.nodeId();
    const held = store.shards(epoch) ?? [];
    if (me === null || held.length === 0) return report;
    signal?.throwIfAborted();
    const committee = await this.committee(epoch);
    const n = committee.nShards;
    const rotation = blobIdRotation(blobId, n);
    let missing: Missing[] = [];
    for (const shard of held) {
      const pair = pairForShard(shard, rotation, n);
      for (const axis of ['primary', 'secondary'] as const) if (!store.hasSliver(blobId, pair, axis)) missing.push({ shard, pair, axis });
    }
    if (missing.length === 0) return report;
    const peers = this.order(committee.members.filter((m) => m.nodeId !== me));

    let metadata = store.getMetadata(blobId);
    let parsed: BlobMetadata | null = metadata ? BlobMetadata.fromBcs(metadata) : null;
    if (!parsed) {
      for (const peer of peers) {
        const withId = await this.ask(peer, (c, opts) => c.getMetadata(blobId, opts), metadataAnswerLimit(n), signal);
        if (!withId) continue;
        try {
          verifyMetadata(new BlobMetadataWithId(blobId, withId.metadata), n);
          parsed = withId.metadata;
          metadata = withId.metadata.toBcs();
          break;
        } catch (e) {
          if (!(e instanceof TuskError)) throw e; // a peer's bad metadata: try the next one
        }
      }
      if (!parsed || !metadata) {
        report.failed += missing.length;
        return report;
      }
      store.putMetadata(blobId, metadata.slice());
    }
    const cfg = new EncodingConfig(n, encodingByType(parsed.encodingType));

    // 1. Shards that moved here: the previous holder still has the whole slivers.
    missing = await this.fetchFromPreviousHolders(epoch, me, blobId, cfg, parsed, missing, report, signal);
    // 2. The rest from recovery symbols, secondary slivers first (they are sources for primary ones).
    for (const axis of ['secondary', 'primary'] as const) {
      const targets = missing.filter((m) => m.axis === axis);
      if (targets.length > 0) await this.rebuildFromSymbols(committee, me, blobId, rotation, cfg, parsed, axis, targets, report, signal);
    }
    return report;
  }

  /**
   * Fetches missing slivers whole from the node that held their shard in `epoch − 1` (when that is
   * another node), verifies and stores them. @returns the slivers still missing.
   */
  private async fetchFromPreviousHolders(
    epoch: number,
    me: string,
    blobId: Uint8Array,
    cfg: EncodingConfig,
    metadata: BlobMetadata,
    missing: Missing[],
    report: RecoveryReport,
    signal: AbortSignal | undefined,
  ): Promise<Missing[]> {
    if (epoch < 1) return missing;
    let previous: CommitteeInfo;
    try {
      previous = await this.committee(epoch - 1);
    } catch (e) {
      if (signal?.aborted) throw e;
      return missing; // no previous committee (a fresh chain): symbols only
    }
    if (previous.nShards !== cfg.nShards) return missing;
    const byHolder = new Map<CommitteeNode, Missing[]>();
    for (const m of missing) {
      const holder = previous.members.find((p) => p.shards.includes(m.shard));
      if (!holder || holder.nodeId === me) continue;
      byHolder.set(holder, [...(byHolder.get(holder) ?? []), m]);
    }
    if (byHolder.size === 0) return missing;
    const done = new Set<Missing>();
    const S = cfg.symbolSize(metadata.unencodedLength);
    const cap = Math.min(MAX_BCS_BYTES, sliverSymbols(cfg, 'primary') * S + sliverSymbols(cfg, 'secondary') * S + 1024);
    await Promise.all(
      [...byHolder].map(async ([holder, list]) => {
        for (const m of list) {
          const sliver = await this.ask(holder, (c, opts) => c.getSliver(blobId, m.pair, m.axis, opts), cap, signal);
          if (!sliver) {
            if (this.isCooling(holder)) return; // it does not answer: the rest goes to symbols
            continue;
          }
          const expectedIndex = m.axis === 'primary' ? m.pair : cfg.nShards - 1 - m.pair;
          if (sliver.axis !== m.axis || sliver.index !== expectedIndex) continue;
          if ((await this.o.expander.verify(cfg, metadata, sliver)) !== null) continue;
          this.o.store.putSliver(blobId, m.pair, m.axis, sliver.toBcs().slice());
          report.recovered++;
          done.add(m);
        }
      }),
    );
    return missing.filter((m) => !done.has(m));
  }

  /**
   * Rebuilds the `axis` slivers `targets` of one blob from recovery symbols: one ID-list request
   * per peer (chunked for very large committees) for every target at once, peers asked in
   * parallel until every target has k distinct verified symbols or no peer is left.
   */
  private async rebuildFromSymbols(
    committee: CommitteeInfo,
    me: string,
    blobId: Uint8Array,
    rotation: number,
    cfg: EncodingConfig,
    metadata: BlobMetadata,
    axis: SliverAxis,
    targets: readonly Missing[],
    report: RecoveryReport,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const n = cfg.nShards;
    const k = sliverSymbols(cfg, axis);
    const proofAxis: SliverAxis = axis === 'primary' ? 'secondary' : 'primary';
    const targetIndex = (m: Missing) => (axis === 'primary' ? m.pair : n - 1 - m.pair);
    const have = new Map<number, Map<number, RecoverySymbol>>(targets.map((m) => [targetIndex(m), new Map()]));
    /** The IDs of the symbols at every target × the given source slivers (pairs). */
    const idsFor = (sourcePairs: readonly number[]): SymbolId[] => {
      const ids: SymbolId[] = [];
      for (const t of have.keys())
        for (const p of sourcePairs) ids.push(axis === 'primary' ? { primary: t, secondary: n - 1 - p } : { primary: p, secondary: t });
      return ids;
    };
    const take = (symbols: readonly RecoverySymbol[]) => {
      for (const s of symbols) {
        const got = have.get(s.targetIndex);
        if (!got || s.targetAxis !== axis || got.size >= k || got.has(s.sourceIndex)) continue;
        if (verifyRecoverySymbol(cfg, metadata, s, axis, s.targetIndex)) got.set(s.sourceIndex, s);
      }
    };
    const short = () => Math.max(0, ...[...have.values()].map((g) => k - g.size));

    // The node's own stored source slivers first (no round trip).
    const ownPairs = (this.o.store.shards(committee.epoch) ?? [])
      .map((s) => pairForShard(s, rotation, n))
      .filter((p) => this.o.store.hasSliver(blobId, p, proofAxis));
    if (this.o.localSymbols && ownPairs.length > 0) {
      try {
        take(await this.o.localSymbols(blobId, idsFor(ownPairs), proofAxis));
      } catch (e) {
        if (!(e instanceof TuskError)) throw e; // nothing servable locally after all
      }
    }

    const S = cfg.symbolSize(metadata.unencodedLength);
    const peers = this.order(committee.members.filter((m) => m.nodeId !== me));
    const sources = new Map(peers.map((p) => [p, p.shards.map((s) => pairForShard(s, rotation, n))]));
    const margin = Math.ceil(n / Math.max(1, committee.members.length));
    const inFlight = new Map<Promise<void>, number>();
    let next = 0;
    // Requests still running once every target has k symbols are cancelled (a stalled peer's too).
    const enough = new AbortController();
    const requestSignal = signal ? AbortSignal.any([signal, enough.signal]) : enough.signal;
    let failure: { error: unknown } | null = null;
    const askPeer = async (peer: CommitteeNode) => {
      const pairs = sources.get(peer)!;
      // Chunks split by target, each asking for every source: the peer expands each source once per chunk.
      const perChunk = Math.max(1, Math.floor(IDS_PER_REQUEST / Math.max(1, pairs.length)));
      const all = [...have.keys()];
      for (let i = 0; i < all.length; i += perChunk) {
        const chunk = new Set(all.slice(i, i + perChunk).filter((t) => have.get(t)!.size < k));
        if (chunk.size === 0) continue;
        const ids = idsFor(pairs).filter((id) => chunk.has(axis === 'primary' ? id.primary : id.secondary));
        const t0 = performance.now();
        const got = await this.ask(
          peer,
          (c, opts) => c.getRecoverySymbolsById(blobId, ids, proofAxis, opts),
          recoverySymbolsAnswerLimit(n, S, ids.length),
          requestSignal,
        );
        if (!got) return;
        this.answerMs = 0.8 * this.answerMs + 0.2 * (performance.now() - t0);
        take(got);
      }
    };
    let hedge = false;
    for (;;) {
      // Launch peers while the symbols expected from those in flight do not cover the shortfall,
      // and one more when those in flight have been silent for the hedge delay.
      while (short() > 0 && next < peers.length) {
        const expected = [...inFlight.values()].reduce((s, x) => s + x, 0);
        if (expected >= short() + margin && !hedge) break;
        const peer = peers[next++];
        const count = sources.get(peer)!.length;
        if (count === 0) continue;
        hedge = false;
        const p: Promise<void> = askPeer(peer)
          .catch((error: unknown) => {
            if (!enough.signal.aborted) failure ??= { error };
          })
          .finally(() => inFlight.delete(p));
        inFlight.set(p, count);
      }
      if (inFlight.size === 0 || short() === 0 || failure) break;
      const hedgeMs = Math.min(HEDGE_MAX_MS, Math.max(HEDGE_MIN_MS, 4 * this.answerMs));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const silent = new Promise<boolean>((r) => (timer = setTimeout(() => r(true), hedgeMs)));
      hedge = (await Promise.race([...inFlight.keys(), silent])) === true;
      clearTimeout(timer);
    }
    enough.abort();
    signal?.throwIfAborted();
    if (failure) throw (failure as { error: unknown }).error;

    for (const m of targets) {
      const got = have.get(targetIndex(m))!;
      if (got.size < k) {
        report.failed++;
        continue;
      }
      try {
        const result = await this.o.expander.recoverSliver(cfg, metadata, axis, targetIndex(m), [...got.values()]);
        if (result.sliver) {
          this.o.store.putSliver(blobId, m.pair, axis, result.sliver.toBcs().slice());
          report.recovered++;
        } else {
          report.failed++; // inconsistent blob: its invalidation is a client's (or a later version's) job
        }
      } catch (e) {
        if (!(e instanceof TuskError)) throw e;
        report.failed++;
      }
    }
  }
}
