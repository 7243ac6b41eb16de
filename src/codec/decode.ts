/**
 * RedStuff blob decoding (walrus-protocol.md §4.1–§4.4): verify metadata, verify slivers, decode from
 * k_p primary slivers (column codewords, shard = row) or, as the fallback axis, from k_s secondary
 * slivers (row codewords, shard = column), then run a consistency check.
 *
 * The decoder never returns bytes that do not match the blob ID: every input sliver is verified
 * against verified metadata, and every reconstructed source sliver is checked too ("default"), or
 * the whole blob is re-encoded ("strict").
 */
import { type WasmKernel, defaultKernel } from '../wasm/kernel.ts';
import { InconsistentBlobError, NotEnoughSliversError, SliverVerificationError, TuskInputError } from '../errors.ts';
import type { EncodingConfig } from './config.ts';
import type { BlobMetadataWithId } from './metadata.ts';
import type { SliverAxis, SliverData } from './sliver.ts';
import { expectedSliverHash, verifyMetadata, verifySlivers } from './verify.ts';
import { equalBytes } from '../util/bytes.ts';
import { expandSlivers } from './expand.ts';
import { computeBlobMetadata } from './encode.ts';
import { runStripeTask } from './tasks.ts';
import { decodeOriginals, planDecode } from './task-plan.ts';

/**
 * Post-decode check (Walrus `ConsistencyCheckType`): `default` re-expands every reconstructed
 * source sliver and compares it with the metadata; `strict` re-encodes the whole blob and compares
 * blob IDs; `skip` trusts the verified input slivers alone.
 */
export type ConsistencyCheck = 'default' | 'strict' | 'skip';

/** Options for {@link decodeBlob}. */
export interface DecodeOptions {
  /** Committee size the blob was encoded for. */
  nShards: number;
  kernel?: WasmKernel;
  /** Default `'default'`. */
  consistencyCheck?: ConsistencyCheck;
  /** Called for every sliver that is ignored (failed verification or duplicate index). */
  onRejected?: (error: SliverVerificationError) => void;
}

const STRIPE_BYTES = 8 * 1024;

/**
 * Rebuilds a blob from any mix of slivers: k_p distinct valid primary slivers (systematic or
 * recovery, in any order), or else k_s distinct valid secondary slivers.
 *
 * Post: returns exactly `metadata.unencodedLength` fresh bytes; with the `default` or `strict`
 * check their blob ID is `metadata.blobId` (with `skip`, only the input slivers were verified).
 * @throws MetadataVerificationError if the metadata does not match its blob ID;
 *   NotEnoughSliversError (retryable) with the rejected slivers when too few are valid;
 *   InconsistentBlobError when the writer encoded the blob inconsistently.
 */
export function decodeBlob(metadata: BlobMetadataWithId, slivers: readonly SliverData[], options: DecodeOptions): Uint8Array {
  const kernel = options.kernel ?? defaultKernel();
  const cfg = verifyMetadata(metadata, options.nShards, kernel);
  const m = metadata.metadata;
  const check = options.consistencyCheck ?? 'default';
  if (!['default', 'strict', 'skip'].includes(check)) throw new TuskInputError(`unknown consistency check ${String(check)}`);

  const verdicts = verifySlivers(cfg, m, slivers, kernel);
  const rejected: SliverVerificationError[] = [];
  const byAxis = { primary: new Map<number, SliverData>(), secondary: new Map<number, SliverData>() };
  slivers.forEach((s, i) => {
    let err = verdicts[i];
    if (!err && byAxis[s.axis].has(s.index)) err = new SliverVerificationError(s.axis, s.index, 'duplicate index (ignored)');
    if (err) {
      rejected.push(err);
      options.onRejected?.(err);
    } else {
      byAxis[s.axis].set(s.index, s);
    }
  });

  const kP = cfg.primarySymbols,
    kS = cfg.secondarySymbols;
  let axis: SliverAxis;
  if (byAxis.primary.size >= kP) axis = 'primary';
  else if (byAxis.secondary.size >= kS) axis = 'secondary';
  else {
    throw new NotEnoughSliversError(
      `not enough valid slivers to decode: ${byAxis.primary.size} of ${kP} primary and ${byAxis.secondary.size} of ${kS} secondary needed` +
        (rejected.length ? ` (${rejected.length} rejected)` : ''),
      rejected,
    );
  }
  // Prefer systematic slivers: with all of them present, decoding is a copy.
  const chosen = [...byAxis[axis].values()].sort((a, b) => a.index - b.index).slice(0, axis === 'primary' ? kP : kS);
  const { blob, reconstructed } = decodeAxis(kernel, cfg, axis, m.unencodedLength, chosen);

  if (check === 'default' && reconstructed.size > 0) {
    const indices = [...reconstructed.keys()];
    const roots = expandSlivers(
      kernel,
      cfg,
      axis,
      indices.map((i) => reconstructed.get(i)!),
      cfg.symbolSize(m.unencodedLength),
    );
    indices.forEach((i, t) => {
      if (!equalBytes(roots[t], expectedSliverHash(m, axis, i))) {
        throw new InconsistentBlobError(
          `blob ${metadata.blobIdString} is inconsistently encoded: reconstructed ${axis} sliver ${i} does not match its metadata hash`,
        );
      }
    });
  } else if (check === 'strict') {
    const again = computeBlobMetadata(blob, { nShards: cfg.nShards, encoding: cfg.scheme, kernel });
    if (!equalBytes(again.blobId, metadata.blobId)) {
      throw new InconsistentBlobError(
        `blob ${metadata.blobIdString} is inconsistently encoded: the decoded data has blob ID ${again.blobIdString}`,
      );
    }
  }
  return blob;
}

/**
 * Decodes from exactly k slivers of one axis (distinct, verified). Returns the blob and the source
 * slivers that had to be reconstructed (index → data, fresh arrays). Each stripe of symbol
 * positions is one `decode` task (src/codec/tasks.ts), the same unit the streaming decoder runs.
 */
function decodeAxis(
  kernel: WasmKernel,
  cfg: EncodingConfig,
  axis: SliverAxis,
  length: number,
  slivers: readonly SliverData[],
): { blob: Uint8Array; reconstructed: Map<number, Uint8Array> } {
  const kP = cfg.primarySymbols,
    kS = cfg.secondarySymbols;
  const S = cfg.symbolSize(length);
  // Primary: codewords are columns, o = k_p source rows, each sliver has k_s symbols.
  // Secondary: codewords are rows, o = k_s source columns, each sliver has k_p symbols.
  const o = decodeOriginals(cfg, axis);
  const symbols = axis === 'primary' ? kS : kP;
  const kx = kernel.exports;
  const byIndex = new Map(slivers.map((s) => [s.index, s]));
  const reconstructed = new Map<number, Uint8Array>();
  for (let i = 0; i < o; i++) if (!byIndex.has(i)) reconstructed.set(i, new Uint8Array(symbols * S));
  const source = (i: number) => byIndex.get(i)?.data ?? reconstructed.get(i)!;

  const mark = kernel.mark();
  try {
    if (reconstructed.size > 0) {
      const per = Math.max(1, Math.min(symbols, Math.floor(STRIPE_BYTES / S)));
      const plan = planDecode(kernel, cfg, o, S, per, [...byIndex.keys()]);
      const received = plan.allocShared(kernel);
      const chain = plan.allocChain(kernel);
      for (let c0 = 0; c0 < symbols; c0 += per) {
        const w = Math.min(per, symbols - c0);
        let mem = kernel.u8();
        for (const [idx, s] of byIndex) mem.set(s.data.subarray(c0 * S, (c0 + w) * S), chain.raw + plan.position(idx) * plan.rawStride);
        runStripeTask(kx, plan.task(chain, received, w), kernel.u8().byteLength);
        mem = kernel.u8();
        const at = (i: number) => chain.restored + i * plan.rawStride;
        for (const [i, data] of reconstructed) data.set(mem.subarray(at(i), at(i) + w * S), c0 * S);
      }
    }

    const blob = new Uint8Array(length);
    if (axis === 'primary') {
      // The source rows are the blob, row after row.
      const rowBytes = kS * S;
      for (let i = 0; i < kP && i * rowBytes < length; i++)
        blob.set(source(i).subarray(0, Math.min(rowBytes, length - i * rowBytes)), i * rowBytes);
    } else {
      // Source columns → rows: symbol (row a, column b) from column-major to row-major.
      const colBytes = kP * S;
      const cols = kernel.alloc(kS * colBytes);
      const rows = kernel.alloc(kP * kS * S);
      for (let j = 0; j < kS; j++) kernel.u8().set(source(j), cols + j * colBytes);
      kx.copySymbols(cols, S, colBytes, kP, kS, S, rows, kS * S, S);
      blob.set(kernel.u8().subarray(rows, rows + length));
    }
    return { blob, reconstructed };
  } finally {
    kernel.release(mark);
  }
}
