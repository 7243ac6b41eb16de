/**
 * Recovery of the missing slivers of the shards a node holds, run after each epoch change and at
 * start-up until it has completed once for the current epoch (walrus-protocol.md §4.5).
 *
 * Tusk has no shard transfer (`sync_shard`); instead, for every certified, live blob, the node
 * rebuilds each missing sliver of each held shard from its peers' recovery symbols: it asks every
 * other committee member for `recoverySymbols?targetSliver=T&targetType=…` through the
 * storage-node API client (src/node-api/) (one symbol per sliver
 * the member holds on the orthogonal axis, each with a Merkle proof), and decodes the target from
 * k distinct symbols, each verified as it arrives (k_s for a primary sliver, k_p for a secondary one),
 * on the codec pool. A busy peer (429/503) is asked again with backoff. A recovered sliver is
 * stored only if it matches the metadata; metadata missing locally is fetched from a peer and
 * verified against the blob ID first. Blobs for which too few symbols come back are skipped (they
 * stay missing; a client can still upload them).
 */
import type { Chain, CommitteeNode } from '../chain/types.ts';
import { blobIdRotation, blobIdToString } from '../codec/blob-id.ts';
import { EncodingConfig } from '../codec/config.ts';
import { encodingByType } from '../codec/encodings/index.ts';
import { BlobMetadata, BlobMetadataWithId } from '../codec/metadata.ts';
import { verifyRecoverySymbol, type RecoverySymbol } from '../codec/recovery.ts';
import type { SliverAxis } from '../codec/sliver.ts';
import { verifyMetadata } from '../codec/verify.ts';
import { sliverSymbols } from '../codec/task-plan.ts';
import { StorageNodeClient, type NodeRequestOptions } from '../node-api/client.ts';
import { metadataAnswerLimit, recoverySymbolsAnswerLimit } from '../node-api/wire.ts';
import { sleep } from '../util/async.ts';
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

/**
 * Rebuilds every missing sliver of every shard this node holds in `epoch`, for every certified,
 * live blob. Not a diff against `epoch − 1`: a run interrupted by a crash, a node that was down
 * across an epoch change, or several epoch changes applied in one page all leave missing slivers
 * that the next run finds, because slivers already stored are skipped.
 * Pre: the store has applied `EpochChangeStart(epoch)`. Never throws for a single blob's failure.
 * @throws the signal's reason when `signal` aborts; chain errors reading the committee.
 */
export async function recoverHeldShards(epoch: number, o: ShardRecoveryOptions): Promise<RecoveryReport> {
  const report: RecoveryReport = { recovered: 0, failed: 0 };
  const held = o.store.shards(epoch) ?? [];
  if (held.length === 0) return report;
  const committee = await o.chain.committee(epoch);
  const peers = committee.members.filter((m) => m.nodeId !== o.nodeId);
  const n = committee.nShards;
  const clients = new Map<CommitteeNode, StorageNodeClient>();
  /** One call to `peer` (through the storage-node API client); null when the peer cannot help. */
  const ask = async <T>(
    peer: CommitteeNode,
    call: (client: StorageNodeClient, options: NodeRequestOptions) => Promise<T>,
    maxBytes: number,
  ): Promise<T | null> => {
    for (let attempt = 0; ; attempt++) {
      o.signal?.throwIfAborted();
      try {
        let client = clients.get(peer);
        if (!client) clients.set(peer, (client = new StorageNodeClient(peer.networkAddress, { timeoutMs: o.timeoutMs ?? 10_000 })));
        return await call(client, { signal: o.signal, maxBytes });
      } catch (e) {
        if (o.signal?.aborted) throw o.signal.reason;
        // A busy peer is asked again after a backoff: it holds symbols nobody else may have.
        // Anything else (unreachable, an oversized or malformed answer) is one source fewer.
        if (!(e instanceof StorageNodeError) || !BUSY.has(e.status) || attempt + 1 >= BUSY_ATTEMPTS) {
          if (!(e instanceof TuskError)) throw e;
          return null;
        }
      }
      await sleep(100 * 2 ** attempt + Math.random() * 100, o.signal);
    }
  };

  const certified = o.store.certifiedBlobs(epoch);
  const only = o.blobIds ? new Set(o.blobIds.map((b) => blobIdToString(b))) : null;
  for (const blobId of only ? certified.filter((b) => only.has(blobIdToString(b))) : certified) {
    o.signal?.throwIfAborted();
    const rotation = blobIdRotation(blobId, n);
    const missing: { pair: number; axis: SliverAxis }[] = [];
    for (const shard of held) {
      const pair = pairForShard(shard, rotation, n);
      for (const axis of ['primary', 'secondary'] as SliverAxis[]) if (!o.store.hasSliver(blobId, pair, axis)) missing.push({ pair, axis });
    }
    if (missing.length === 0) continue;
    let metadata = o.store.getMetadata(blobId);
    let parsed: BlobMetadata | null = metadata ? BlobMetadata.fromBcs(metadata) : null;
    if (!parsed) {
      for (const peer of peers) {
        const withId = await ask(peer, (c, opts) => c.getMetadata(blobId, opts), metadataAnswerLimit(n));
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
        continue;
      }
      o.store.putMetadata(blobId, metadata.slice());
    }
    const cfg = new EncodingConfig(n, encodingByType(parsed.encodingType));
    const S = cfg.symbolSize(parsed.unencodedLength);
    const symbolsCap = recoverySymbolsAnswerLimit(n, S);
    for (const { pair, axis } of missing) {
      const target = axis === 'primary' ? pair : n - 1 - pair;
      const k = sliverSymbols(cfg, axis);
      // Distinct, verified symbols by source index: duplicates across peers and symbols whose
      // proofs fail do not count towards k, so a lying or overlapping peer cannot stop the search early.
      const symbols = new Map<number, RecoverySymbol>();
      for (const peer of peers) {
        if (symbols.size >= k) break;
        const decoded = await ask(peer, (c, opts) => c.getRecoverySymbols(blobId, target, axis, opts), symbolsCap);
        if (!decoded) continue;
        for (const s of decoded) {
          if (symbols.size >= k) break;
          if (s.targetAxis !== axis || s.targetIndex !== target || symbols.has(s.sourceIndex)) continue;
          if (verifyRecoverySymbol(cfg, parsed, s, axis, target)) symbols.set(s.sourceIndex, s);
        }
      }
      if (symbols.size < k) {
        report.failed++;
        continue;
      }
      try {
        // The decode and the check against the metadata run on the codec pool.
        const result = await o.expander.recoverSliver(cfg, parsed, axis, target, [...symbols.values()]);
        if (result.sliver) {
          o.store.putSliver(blobId, pair, axis, result.sliver.toBcs().slice());
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
  return report;
}
