/**
 * `BlobReader`: any byte range of a blob, straight from the storage nodes, fetching only the
 * systematic primary slivers that hold it (used by `tusk read --range`, encrypted range reads,
 * the gateway's Range responses, quilt patches and datasets).
 *
 * Why this works: a blob is laid out row-major in the k_p × k_s message matrix; row r (k_s symbols
 * of S bytes) is exactly the data of primary sliver r for r < k_p (walrus-protocol.md §1.3). A byte
 * range therefore maps to the rows ⌊a / (k_s·S)⌋ … ⌊(b−1) / (k_s·S)⌋, i.e. to those slivers. Each is
 * verified on its own against the (verified) metadata — its expansion's Merkle root must equal the
 * metadata's hash — before a byte of it is released. When a systematic sliver cannot be had from
 * any holder, the reader falls back to a full read with recovery (`readBlobToFile`) and serves the
 * rest from that file. Rows are produced in order as they arrive, so the first byte leaves before
 * the blob is read.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BlobId } from '../codec/blob-id.ts';
import { blobIdToString } from '../codec/blob-id.ts';
import type { BlobMetadataWithId } from '../codec/metadata.ts';
import { EncodingConfig } from '../codec/config.ts';
import { encodingByType } from '../codec/encodings/index.ts';
import { verifySlivers } from '../codec/verify.ts';
import type { TaskRunner } from '../codec/tasks.ts';
import type { Chain, CommitteeInfo } from '../chain/types.ts';
import { StorageNodeClient } from '../node-api/client.ts';
import { placeBlob } from '../protocol/placement.ts';
import { fetchMetadata, readBlobToFile } from './read-blob.ts';
import { TuskError } from '../errors.ts';

/** A satisfiable byte range, inclusive `start…end` (RFC 9110 first-byte-pos / last-byte-pos). */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/** Options of a `BlobReader`. */
export interface BlobReaderOptions {
  readonly chain: Chain;
  readonly pool?: TaskRunner;
  /** Timeout of one node request in ms (default 30 000). */
  readonly nodeTimeoutMs?: number;
  /** Systematic slivers fetched ahead of the one being sent (default 8). */
  readonly prefetch?: number;
  readonly tempDir?: string;
  /** Called with the size of every body received from a storage node (metrics, tests). */
  readonly onNodeBytes?: (bytes: number) => void;
  /** Builds a node client (tests inject faults); receives the counting fetch to use. */
  readonly nodeClient?: (networkAddress: string, fetchImpl: typeof fetch) => StorageNodeClient;
}

/** A blob's verified metadata with its geometry. */
export interface BlobLayout {
  readonly metadata: BlobMetadataWithId;
  readonly cfg: EncodingConfig;
  readonly size: number;
  readonly symbolSize: number;
  /** Bytes per message row (= per systematic primary sliver): k_s · S. */
  readonly rowBytes: number;
  readonly committees: readonly CommitteeInfo[];
}

/** Reads byte ranges of blobs from the storage nodes (see the file header). */
export class BlobReader {
  private readonly o: BlobReaderOptions;
  private readonly fetchImpl: typeof fetch;
  private readonly layouts = new Map<string, BlobLayout>();

  constructor(options: BlobReaderOptions) {
    this.o = options;
    const count = options.onNodeBytes;
    this.fetchImpl = !count
      ? fetch
      : async (input, init) => {
          const res = await fetch(input, init);
          const body = new Uint8Array(await res.arrayBuffer());
          count(body.length);
          return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
        };
  }

  private client(address: string): StorageNodeClient {
    return (
      this.o.nodeClient?.(address, this.fetchImpl) ??
      new StorageNodeClient(address, { timeoutMs: this.o.nodeTimeoutMs, fetch: this.fetchImpl })
    );
  }

  /**
   * The blob's metadata, verified against its ID, and its geometry (kept in a small in-memory LRU:
   * metadata never changes for a blob ID).
   * @throws TuskError (retryable) when no node returns valid metadata.
   */
  async layout(id: BlobId, signal?: AbortSignal): Promise<BlobLayout> {
    const key = blobIdToString(id);
    const hit = this.layouts.get(key);
    if (hit) {
      this.layouts.delete(key);
      this.layouts.set(key, hit);
      return hit;
    }
    const current = await this.o.chain.committee();
    const committees = [current];
    if (current.epoch > 1) committees.push(await this.o.chain.committee(current.epoch - 1).catch(() => current));
    const usable = committees.filter((c) => c.members.length > 0);
    if (usable.length === 0) throw new TuskError('no committee yet', { retryable: true });
    // Verified against the blob ID, a few nodes asked at once (shared with the full read).
    const metadata = await fetchMetadata(id, usable[0], (a) => this.client(a), { retries: 1, signal });
    const cfg = new EncodingConfig(usable[0].nShards, encodingByType(metadata.metadata.encodingType));
    const size = metadata.metadata.unencodedLength;
    const symbolSize = cfg.symbolSize(size);
    const layout: BlobLayout = { metadata, cfg, size, symbolSize, rowBytes: cfg.secondarySymbols * symbolSize, committees: usable };
    this.layouts.set(key, layout);
    if (this.layouts.size > 1024) this.layouts.delete(this.layouts.keys().next().value!);
    return layout;
  }

  /**
   * Yields the bytes `start…end` (inclusive) of the blob in order, as chunks (fresh buffers owned by
   * the consumer). Fetches only the systematic primary slivers covering the range, each verified;
   * falls back to a full read with recovery when one cannot be had.
   * @throws when the range is outside the blob, or neither path yields the data.
   */
  async *read(id: BlobId, layout: BlobLayout, range: ByteRange, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    if (range.start < 0 || range.end >= layout.size || range.start > range.end)
      throw new RangeError(`range ${range.start}-${range.end} outside 0…${layout.size - 1}`);
    const { rowBytes } = layout;
    const first = Math.floor(range.start / rowBytes);
    const last = Math.floor(range.end / rowBytes);
    const ahead = Math.max(1, this.o.prefetch ?? 8);
    const inflight = new Map<number, Promise<Uint8Array | null>>();
    const fetchRow = (r: number) => {
      const p = this.systematicRow(id, layout, r, signal);
      p.catch(() => {}); // awaited in order below; avoid an unhandled rejection meanwhile
      inflight.set(r, p);
    };
    try {
      for (let r = first; r <= last; r++) {
        for (let q = r; q <= Math.min(last, r + ahead - 1); q++) if (!inflight.has(q)) fetchRow(q);
        const row = await inflight.get(r)!;
        inflight.delete(r);
        const rowStart = r * rowBytes;
        if (row === null) {
          // A systematic sliver is missing everywhere: recover the whole blob, serve the rest from it.
          yield* this.fromFullRead(id, { start: Math.max(range.start, rowStart), end: range.end }, signal);
          return;
        }
        const from = Math.max(range.start, rowStart) - rowStart;
        const to = Math.min(range.end + 1, rowStart + rowBytes) - rowStart;
        yield row.subarray(from, to);
      }
    } finally {
      inflight.clear();
    }
  }

  /** Row `r` from the holders of primary sliver r (current committee, then previous), verified; null if none. */
  private async systematicRow(id: BlobId, layout: BlobLayout, r: number, signal?: AbortSignal): Promise<Uint8Array | null> {
    const seen = new Set<string>();
    for (const committee of layout.committees) {
      for (const p of placeBlob(committee, id)) {
        if (!p.pairs.includes(r)) continue;
        const client = this.client(p.node.networkAddress);
        if (seen.has(client.url)) continue;
        seen.add(client.url);
        try {
          const sliver = await client.getSliver(id, r, 'primary', { signal, maxBytes: layout.rowBytes + 16 });
          if (sliver.index !== r) continue;
          const [err] = verifySlivers(layout.cfg, layout.metadata.metadata, [sliver]);
          if (err === null) return sliver.data;
        } catch {
          signal?.throwIfAborted();
        }
      }
    }
    return null;
  }

  private async *fromFullRead(id: BlobId, range: ByteRange, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
    const dir = await mkdtemp(join(this.o.tempDir ?? tmpdir(), 'tusk-gw-recover-'));
    try {
      const file = join(dir, 'blob');
      await readBlobToFile(id, file, {
        chain: this.o.chain,
        pool: this.o.pool,
        signal,
        tempDir: this.o.tempDir,
        nodeClient: (a) => this.client(a),
      });
      for await (const chunk of createReadStream(file, { start: range.start, end: range.end, signal }))
        yield new Uint8Array(chunk as Buffer);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
