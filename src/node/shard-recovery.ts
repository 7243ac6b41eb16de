/**
 * Recovery of the slivers of shards a node gains at an epoch change (walrus-protocol.md §4.5).
 *
 * Tusk has no shard transfer (`sync_shard`); instead, for every certified, live blob, the node
 * rebuilds the sliver pair of each gained shard from its peers' recovery symbols: it asks every
 * other committee member for `recoverySymbols?targetSliver=T&targetType=…` (one symbol per sliver
 * the member holds on the orthogonal axis, each with a Merkle proof), and decodes the target from
 * k verified symbols (k_s for a primary sliver, k_p for a secondary one) on the codec pool. A recovered sliver is
 * stored only if it matches the metadata; metadata missing locally is fetched from a peer and
 * verified against the blob ID first. Blobs for which too few symbols come back are skipped (they
 * stay missing; a client can still upload them).
 */
import type { Chain, CommitteeNode } from '../chain/types.ts';
import { blobIdToString, blobIdRotation } from '../codec/blob-id.ts';
import { EncodingConfig } from '../codec/config.ts';
import { encodingByType } from '../codec/encodings/index.ts';
import { BlobMetadata, BlobMetadataWithId } from '../codec/metadata.ts';
import { recoverySymbolsFromBcs, type RecoverySymbol } from '../codec/recovery.ts';
import type { SliverAxis } from '../codec/sliver.ts';
import { verifyMetadata } from '../codec/verify.ts';
import { sliverSymbols } from '../codec/expand.ts';
import { normalizeNodeUrl } from '../client/node-client.ts';
import { TuskError } from '../errors.ts';
import type { NodeStore } from './store.ts';
import type { PoolExpander } from './pool-expander.ts';

/** Outcome of one recovery run. */
export interface RecoveryReport {
  /** Slivers rebuilt and stored. */
  recovered: number;
  /** Slivers that could not be rebuilt (too few symbols, peers unreachable, inconsistent blob). */
  failed: number;
}

/** Options of {@link recoverGainedShards}. */
export interface ShardRecoveryOptions {
  readonly chain: Chain;
  readonly store: NodeStore;
  readonly nodeId: string;
  /** Runs the decodes and expansions on the codec pool. */
  readonly expander: PoolExpander;
  /** Per-request time limit in ms (default 10 000). */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Rebuilds the slivers of the shards this node holds in `epoch` but did not hold in `epoch − 1`.
 * Pre: the store has applied `EpochChangeStart(epoch)`. Never throws for a single blob's failure.
 */
export async function recoverGainedShards(epoch: number, o: ShardRecoveryOptions): Promise<RecoveryReport> {
  const report: RecoveryReport = { recovered: 0, failed: 0 };
  const now = o.store.shards(epoch) ?? [];
  const before = new Set(o.store.shards(epoch - 1) ?? []);
  const gained = now.filter((s) => !before.has(s));
  if (gained.length === 0) return report;
  const committee = await o.chain.committee(epoch);
  const peers = committee.members.filter((m) => m.nodeId !== o.nodeId);
  const n = committee.nShards;
  const get = async (peer: CommitteeNode, path: string): Promise<Uint8Array | null> => {
    try {
      const signal = AbortSignal.any([AbortSignal.timeout(o.timeoutMs ?? 10_000), ...(o.signal ? [o.signal] : [])]);
      const res = await fetch(normalizeNodeUrl(peer.networkAddress) + path, { signal, headers: { accept: 'application/octet-stream' } });
      if (res.status !== 200) {
        await res.body?.cancel();
        return null;
      }
      return new Uint8Array(await res.arrayBuffer());
    } catch {
      if (o.signal?.aborted) throw o.signal.reason;
      return null; // an unreachable peer is one source fewer
    }
  };

  for (const blobId of o.store.certifiedBlobs(epoch)) {
    const id = blobIdToString(blobId);
    let metadata = o.store.getMetadata(blobId);
    let parsed: BlobMetadata | null = metadata ? BlobMetadata.fromBcs(metadata) : null;
    if (!parsed) {
      for (const peer of peers) {
        const bytes = await get(peer, `/v1/blobs/${id}/metadata`);
        if (!bytes) continue;
        try {
          const withId = BlobMetadataWithId.fromBcs(bytes);
          verifyMetadata(new BlobMetadataWithId(blobId, withId.metadata), n);
          parsed = withId.metadata;
          metadata = bytes.subarray(32);
          break;
        } catch (e) {
          if (!(e instanceof TuskError)) throw e; // a peer's bad metadata: try the next one
        }
      }
      if (!parsed || !metadata) {
        report.failed += 2 * gained.length;
        continue;
      }
      o.store.putMetadata(blobId, metadata.slice());
    }
    const cfg = new EncodingConfig(n, encodingByType(parsed.encodingType));
    const rotation = blobIdRotation(blobId, n);
    for (const shard of gained) {
      const pair = (n + shard - rotation) % n;
      for (const axis of ['primary', 'secondary'] as SliverAxis[]) {
        if (o.store.hasSliver(blobId, pair, axis)) continue;
        const target = axis === 'primary' ? pair : n - 1 - pair;
        const k = sliverSymbols(cfg, axis);
        const symbols: RecoverySymbol[] = [];
        for (const peer of peers) {
          if (symbols.length >= k) break;
          const bytes = await get(peer, `/v1/blobs/${id}/recoverySymbols?targetSliver=${target}&targetType=${axis}`);
          if (!bytes) continue;
          try {
            symbols.push(...recoverySymbolsFromBcs(bytes));
          } catch (e) {
            if (!(e instanceof TuskError)) throw e;
          }
        }
        try {
          // Invalid or unusable symbols are skipped; the decode and the check against the metadata
          // run on the codec pool.
          const result = await o.expander.recoverSliver(cfg, parsed, axis, target, symbols);
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
  }
  return report;
}
