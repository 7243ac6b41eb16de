/**
 * A storage node's answers to peers and clients repairing or checking a blob (walrus-protocol.md
 * §4.5, §5 routes 9–11): recovery symbols with Merkle proofs (expanded on the codec pool, with
 * admission per expansion), raw decoding symbols, and inconsistency proofs answered with a signed
 * invalid-blob attestation. Part of {@link NodeService}, which owns the shared state.
 */
import { EncodingConfig } from '../codec/config.ts';
import { merkleProof } from '../codec/merkle.ts';
import { inconsistencyProofFromBcs, orthogonal, verifyRecoverySymbol, type RecoverySymbol } from '../codec/recovery.ts';
import { SliverData, type SliverAxis } from '../codec/sliver.ts';
import { TuskError } from '../errors.ts';
import { ApiError, badRequest, indexOutOfRange, metadataNotFound, sliverNotFound, unavailable } from '../node-api/errors.ts';
import type { SignedMessageJson } from '../node-api/wire.ts';
import { invalidBlobIdMessage } from '../protocol/messages.ts';
import type { NodeService } from './service.ts';

/** The recovery side of a storage node: see the file header. */
export class RecoveryApi {
  private readonly ctx: NodeService;

  constructor(ctx: NodeService) {
    this.ctx = ctx;
  }

  /**
   * `GET /v1/blobs/{id}/recoverySymbols?targetSliver=T&targetType=…[&proofAxis=…]`: one symbol per
   * source sliver this node stores on the proof axis (default: orthogonal to the target), each with
   * its Merkle proof in the source sliver's tree.
   */
  async recoverySymbolsForTarget(
    blobId: Uint8Array,
    targetIndex: number,
    targetAxis: SliverAxis,
    proofAxis: SliverAxis | null,
  ): Promise<RecoverySymbol[]> {
    const n = this.ctx.nShards;
    if (targetIndex >= n) throw indexOutOfRange(targetIndex, n);
    const source = proofAxis ?? orthogonal(targetAxis);
    if (source === targetAxis) throw badRequest('INVALID_QUERY', 'proofAxis must be orthogonal to targetType');
    // Every stored source sliver serves, also of shards held in earlier epochs: its symbols are
    // proven against the metadata all the same, and a node that gained a shard needs them.
    const tag = source === 'primary' ? 'p' : 's';
    const requests: { pair: number; targetIndex: number }[] = [];
    for (const k of this.ctx.store.storedSliverKeys(blobId)) {
      const [pair, axis] = k.split(':');
      if (axis === tag) requests.push({ pair: Number(pair), targetIndex });
    }
    requests.sort((a, b) => a.pair - b.pair);
    const out = await this.symbolsFrom(blobId, source, requests);
    if (out.length === 0) throw sliverNotFound();
    return out;
  }

  /**
   * `GET /v1/blobs/{id}/recoverySymbols?id=P-S&…[&proofAxis=…]`: the symbols at the intersections
   * (primary P, secondary S), each proven in the tree of a sliver this node stores (on `proofAxis`
   * when given, else whichever of the two slivers it stores, primary first).
   */
  async recoverySymbolsById(
    blobId: Uint8Array,
    ids: readonly { primary: number; secondary: number }[],
    proofAxis: SliverAxis | null,
  ): Promise<RecoverySymbol[]> {
    const n = this.ctx.nShards;
    if (ids.length === 0) throw new ApiError('FAILED_PRECONDITION', 'NO_SYMBOLS_SPECIFIED', 'at least one symbol ID must be specified');
    if (ids.length > this.ctx.limits.maxSymbolsPerRequest)
      throw badRequest('TOO_MANY_SYMBOLS', `at most ${this.ctx.limits.maxSymbolsPerRequest} symbols per request`);
    const stored = this.ctx.store.storedSliverKeys(blobId);
    const byAxis: Record<SliverAxis, { pair: number; targetIndex: number }[]> = { primary: [], secondary: [] };
    for (const id of ids) {
      if (id.primary >= n) throw indexOutOfRange(id.primary, n);
      if (id.secondary >= n) throw indexOutOfRange(id.secondary, n);
      const primaryPair = id.primary;
      const secondaryPair = n - 1 - id.secondary;
      const holdsPrimary = stored.has(`${primaryPair}:p`);
      const holdsSecondary = stored.has(`${secondaryPair}:s`);
      const axis: SliverAxis | null =
        proofAxis === 'primary'
          ? holdsPrimary
            ? 'primary'
            : null
          : proofAxis === 'secondary'
            ? holdsSecondary
              ? 'secondary'
              : null
            : holdsPrimary
              ? 'primary'
              : holdsSecondary
                ? 'secondary'
                : null;
      // As Walrus: symbols this node cannot serve are skipped; only an empty answer is an error.
      if (axis === null) continue;
      if (axis === 'primary') byAxis.primary.push({ pair: primaryPair, targetIndex: id.secondary });
      else byAxis.secondary.push({ pair: secondaryPair, targetIndex: id.primary });
    }
    const out = [
      ...(await this.symbolsFrom(blobId, 'primary', byAxis.primary)),
      ...(await this.symbolsFrom(blobId, 'secondary', byAxis.secondary)),
    ];
    if (out.length === 0) {
      throw new ApiError(
        'FAILED_PRECONDITION',
        'SYMBOL_NOT_PRESENT_AT_SHARDS',
        "none of the requested symbols is the responsibility of this node's shards",
      );
    }
    return out;
  }

  /** Symbols from `source`-axis slivers of the given pairs at the given target positions. */
  private async symbolsFrom(
    blobId: Uint8Array,
    source: SliverAxis,
    requests: readonly { pair: number; targetIndex: number }[],
  ): Promise<RecoverySymbol[]> {
    if (requests.length === 0) return [];
    const metadata = this.ctx.storedMetadata(blobId);
    if (!metadata || !this.ctx.store.hasMetadata(blobId)) throw metadataNotFound(false);
    const cfg = this.ctx.configFor(metadata);
    const n = cfg.nShards;
    const S = cfg.symbolSize(metadata.unencodedLength);
    // One expansion per source sliver, however many targets it serves.
    const byPair = new Map<number, number[]>();
    for (const r of requests) byPair.set(r.pair, [...(byPair.get(r.pair) ?? []), r.targetIndex]);
    const out: RecoverySymbol[] = [];
    for (const [pair, targets] of byPair) {
      // Admission per expansion, not per request: this loop queues one expansion at a time, so a
      // node holding many slivers of the blob must not refuse for their count (at n = 1000 a
      // member holds hundreds). When the queue is full, as Walrus skips symbols it has no worker
      // for, a partial answer is served; only a request that got nothing answers 503.
      if (this.ctx.expander.pending >= this.ctx.limits.maxQueuedExpansions) {
        if (out.length > 0) break;
        throw unavailable('recovery-symbol computation is saturated; retry later');
      }
      const bcs = this.ctx.store.getSliver(blobId, pair, source);
      if (!bcs) continue; // not uploaded (yet): the caller asks other nodes too
      const sliver = SliverData.fromBcs(source, bcs);
      const { expanded, leaves } = await this.ctx.expander.expand(cfg, source, sliver.data, S, true);
      for (const t of targets) {
        out.push({
          targetAxis: orthogonal(source),
          sourceIndex: sliver.index,
          data: expanded!.slice(t * S, (t + 1) * S),
          targetIndex: t,
          proof: merkleProof(leaves!, n, t),
        });
      }
    }
    return out;
  }

  // ---- decoding symbols ---------------------------------------------------------------------

  /**
   * `GET /v1/blobs/{id}/decodingSymbols?targetSlivers=T…&targetType=…`: for each (systematic)
   * target sliver T of `targetType`, the raw source symbol at position T of every sliver this node
   * holds on the orthogonal axis, tagged with that sliver's index — without proofs, so the caller
   * must check what it decodes against the metadata. Slivers the node lacks are skipped.
   * @returns target index → symbols (in the node's shard order).
   */
  decodingSymbols(
    blobId: Uint8Array,
    targets: readonly number[],
    targetAxis: SliverAxis,
  ): Map<number, { sourceIndex: number; data: Uint8Array }[]> {
    if (targets.length === 0)
      throw new ApiError('FAILED_PRECONDITION', 'NO_TARGET_SLIVERS_SPECIFIED', 'at least one target sliver must be specified');
    if (targets.length > this.ctx.limits.maxSymbolsPerRequest)
      throw badRequest('TOO_MANY_SYMBOLS', `at most ${this.ctx.limits.maxSymbolsPerRequest} targets per request`);
    const cfg = new EncodingConfig(this.ctx.nShards);
    // Only source (systematic) slivers: their symbols are plain source symbols of the orthogonal slivers.
    const k = targetAxis === 'primary' ? cfg.primarySymbols : cfg.secondarySymbols;
    for (const t of targets) {
      if (t >= k)
        throw new ApiError(
          'INVALID_ARGUMENT',
          'RECOVERY_SYMBOL_OUT_OF_RANGE',
          `target ${targetAxis} sliver ${t} is not a source sliver (index must be < ${k})`,
        );
    }
    const unique = [...new Set(targets)];
    const shards = this.ctx.currentShards();
    // The answer holds targets × held slivers symbols: bounded like the symbol count of one
    // request, so a node holding many shards cannot be made to assemble an unbounded answer.
    if (unique.length * shards.length > this.ctx.limits.maxSymbolsPerRequest) {
      throw badRequest(
        'TOO_MANY_SYMBOLS',
        `at most ${this.ctx.limits.maxSymbolsPerRequest} symbols per request (targets × ${shards.length} held shards); ask for at most ${Math.max(1, Math.floor(this.ctx.limits.maxSymbolsPerRequest / Math.max(1, shards.length)))} targets`,
      );
    }
    const out = new Map<number, { sourceIndex: number; data: Uint8Array }[]>(unique.map((t) => [t, []]));
    const source = orthogonal(targetAxis);
    for (const shard of shards) {
      // Only the requested symbols are read (SQL substr), not each sliver in full.
      const got = this.ctx.store.sliverSymbolsAt(blobId, this.ctx.pairOfShard(blobId, shard), source, unique);
      if (!got) continue;
      unique.forEach((t, i) => out.get(t)!.push({ sourceIndex: got.index, data: got.symbols[i] }));
    }
    return out;
  }

  // ---- inconsistency proofs -----------------------------------------------------------------

  /**
   * `POST /v1/blobs/{id}/inconsistencyProof/{axis}`: verifies the proof against the stored
   * metadata and, when it shows the blob is inconsistent, returns a signed invalid-blob-ID
   * attestation for the current epoch.
   */
  async inconsistencyProof(blobId: Uint8Array, axis: SliverAxis, body: Uint8Array): Promise<SignedMessageJson> {
    const metadata = this.ctx.storedMetadata(blobId);
    if (!metadata || !this.ctx.store.hasMetadata(blobId)) throw metadataNotFound(true);
    let proof;
    try {
      proof = inconsistencyProofFromBcs(axis, body);
    } catch (e) {
      throw badRequest('INVALID_BCS', `malformed InconsistencyProof BCS: ${(e as Error).message}`);
    }
    const cfg = this.ctx.configFor(metadata);
    const k = axis === 'primary' ? cfg.secondarySymbols : cfg.primarySymbols;
    const invalid = (why: string) => new ApiError('INVALID_ARGUMENT', 'INVALID_PROOF', `the inconsistency proof does not verify: ${why}`);
    // Cheap shape checks first: the decode below is only worth running for a well-formed proof.
    if (proof.symbols.length !== k) throw invalid(`it must hold exactly ${k} symbols, got ${proof.symbols.length}`);
    if (proof.targetIndex >= cfg.nShards) throw invalid(`target index ${proof.targetIndex} out of range`);
    const symbols: RecoverySymbol[] = proof.symbols.map((s) => ({
      targetAxis: axis,
      sourceIndex: s.sourceIndex,
      data: s.data,
      targetIndex: proof.targetIndex,
      proof: s.proof,
    }));
    // Fail fast, before any pool work: the first duplicated symbol or failing Merkle proof ends
    // the check (a proof check hashes one symbol and ⌈log2 n⌉ nodes: cheap on this thread).
    const seen = new Set<number>();
    for (const s of symbols) {
      if (seen.has(s.sourceIndex)) throw invalid(`symbol ${s.sourceIndex} is given twice`);
      seen.add(s.sourceIndex);
      if (!verifyRecoverySymbol(cfg, metadata, s, axis, proof.targetIndex))
        throw invalid(`the Merkle proof of symbol ${s.sourceIndex} fails`);
    }
    if (this.ctx.expander.pending + 2 > this.ctx.limits.maxQueuedExpansions)
      throw unavailable('proof verification is saturated; retry later');
    // Exactly k symbols given, so "k distinct valid ones" means every one is valid and distinct.
    // The decode and the expansion of the target run on the pool.
    let result;
    try {
      result = await this.ctx.expander.recoverSliver(cfg, metadata, axis, proof.targetIndex, symbols);
    } catch (e) {
      if (e instanceof TuskError && !(e instanceof ApiError)) throw invalid('a symbol is duplicated or its Merkle proof fails');
      throw e;
    }
    if (!result.inconsistent) throw invalid('the symbols decode to the sliver the metadata commits to');
    return this.ctx.sign(invalidBlobIdMessage(this.ctx.epoch(), blobId));
  }
}
