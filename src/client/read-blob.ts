/**
 * Reading a blob (walrus-protocol.md §4.1): metadata from any node, verified against the blob ID;
 * then primary slivers from the nodes holding them until k_p are in hand; decoded on the codec
 * pool with the default consistency check; secondary slivers (k_s) when too few primary ones can
 * be had.
 *
 * Slivers are spooled into a private temporary sliver directory (the `tusk encode` layout) and
 * decoded by the streaming decoder, which verifies each sliver on the pool and keeps memory
 * bounded whatever the blob size. A sliver that fails verification (a faulty or malicious node)
 * is dropped and replaced by one from another node, so a bad node cannot change what is read.
 */
import { access, lstat, mkdtemp, readFile, rm, stat, writeFile, mkdir, unlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { BlobId } from '../codec/blob-id.ts';
import { blobIdFromString, blobIdToString } from '../codec/blob-id.ts';
import type { BlobMetadataWithId } from '../codec/metadata.ts';
import type { SliverAxis } from '../codec/sliver.ts';
import type { TaskRunner } from '../codec/tasks.ts';
import { EncodingConfig } from '../codec/config.ts';
import { encodingByType } from '../codec/encodings/index.ts';
import { verifyMetadata } from '../codec/verify.ts';
import { equalBytes } from '../util/bytes.ts';
import { decodeDirectory } from '../stream/decode-stream.ts';
import type { Chain, CommitteeInfo, CommitteeNode } from '../chain/types.ts';
import { MetadataVerificationError, NotEnoughSliversError, SliverVerificationError, TuskError, TuskInputError } from '../errors.ts';
import { StorageNodeClient } from '../node-api/client.ts';
import { placeBlob } from '../protocol/placement.ts';
import { withRetries } from '../util/async.ts';

/** Options of `readBlob` / `readBlobToFile`. */
export interface ReadBlobOptions {
  readonly chain: Chain;
  readonly pool?: TaskRunner;
  /** Sliver downloads in flight (default 32). */
  readonly concurrency?: number;
  /** Timeout of one request to a node in ms (default 30 000). */
  readonly nodeTimeoutMs?: number;
  /** Retries of one request that failed retryably (default 2). */
  readonly retries?: number;
  /** Replace an existing output file (readBlobToFile). */
  readonly overwrite?: boolean;
  readonly tempDir?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ReadProgress) => void;
  readonly nodeClient?: (networkAddress: string) => StorageNodeClient;
}

/** Progress of a read. */
export interface ReadProgress {
  readonly phase: 'metadata' | 'download' | 'decode' | 'done';
  readonly slivers?: number;
  readonly needed?: number;
}

/** What a read did. */
export interface ReadResult {
  readonly blobId: string;
  readonly bytes: number;
  readonly axis: SliverAxis;
  /** Slivers dropped because they failed verification or could not be fetched. */
  readonly rejected: number;
  readonly timings: { readonly metadataMs: number; readonly downloadMs: number; readonly decodeMs: number };
}

interface Source {
  readonly client: StorageNodeClient;
  readonly pair: number;
}

/** Reads blob `blobId` into the file `out` (written atomically). */
export async function readBlobToFile(blobId: BlobId | string, out: string, options: ReadBlobOptions): Promise<ReadResult> {
  const id = typeof blobId === 'string' ? blobIdFromString(blobId) : blobId;
  const { chain, signal } = options;
  const clientFor = options.nodeClient ?? ((a: string) => new StorageNodeClient(a, { timeoutMs: options.nodeTimeoutMs }));
  const retry = { retries: options.retries ?? 2, signal, baseDelayMs: 100 };
  // Refuse an existing output before any download, not after.
  if (!options.overwrite && (await lstat(out).then(() => true, (e) => e.code !== 'ENOENT'))) {
    throw new TuskInputError(`output file ${out} already exists (use --force to replace it)`);
  }
  // …and a destination that cannot be written: its directory must exist and take a new file.
  const parent = dirname(resolve(out));
  const parentStat = await stat(parent).catch(() => null);
  if (!parentStat?.isDirectory()) throw new TuskInputError(`cannot write ${out}: directory ${parent} does not exist`);
  await access(parent, constants.W_OK).catch(() => {
    throw new TuskInputError(`cannot write ${out}: directory ${parent} is not writable`);
  });
  const t0 = performance.now();
  options.onProgress?.({ phase: 'metadata' });

  // The current committee, then the previous one: during an epoch change, slivers of blobs
  // certified before it may still sit with the old holders.
  const current = await chain.committee();
  const committees: CommitteeInfo[] = [current];
  if (current.epoch > 1) committees.push(await chain.committee(current.epoch - 1).catch(() => current));
  const usable = committees.filter((c) => c.members.length > 0);
  if (usable.length === 0) throw new TuskError(`epoch ${current.epoch} has no committee: nothing is stored yet`, { retryable: true });

  const metadata = await fetchMetadata(id, usable[0], clientFor, retry);
  const cfg = new EncodingConfig(usable[0].nShards, encodingByType(metadata.metadata.encodingType));
  const metadataMs = performance.now() - t0;

  const dir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'tusk-read-'));
  let rejected = 0;
  const failures: string[] = [];
  const onFailed = (why: string) => {
    rejected++;
    if (failures.length < 3) failures.push(why);
  };
  try {
    await writeFile(join(dir, 'metadata.bcs'), metadata.toBcs());
    let downloadMs = 0, decodeMs = 0;
    for (const axis of ['primary', 'secondary'] as const) {
      const need = axis === 'primary' ? cfg.primarySymbols : cfg.secondarySymbols;
      const sources = sliverSources(id, usable, axis, need, clientFor);
      await mkdir(join(dir, axis), { recursive: true });
      const have = new Set<number>();
      let next = 0;
      for (;;) {
        const t = performance.now();
        const maxBytes = (axis === 'primary' ? cfg.secondarySymbols : cfg.primarySymbols) * cfg.symbolSize(metadata.metadata.unencodedLength) + 16;
        next = await download(id, axis, sources, next, need - have.size, have, dir, { ...options, maxBytes }, retry, onFailed);
        downloadMs += performance.now() - t;
        if (have.size < need) break; // this axis cannot reach k: try the other
        options.onProgress?.({ phase: 'decode' });
        const drops: Promise<void>[] = [];
        const td = performance.now();
        try {
          const res = await decodeDirectory(dir, out, {
            pool: options.pool, overwrite: options.overwrite, tempDir: options.tempDir, signal,
            onRejected: (e) => {
              // Drop the bad sliver so the next round replaces it from another node.
              if (e instanceof SliverVerificationError && e.axis === axis) {
                have.delete(e.index);
                onFailed(`${axis} sliver ${e.index}: ${e.message}`);
                drops.push(unlink(join(dir, axis, `${e.index}.bcs`)).catch(() => {}));
              }
            },
          });
          decodeMs += performance.now() - td;
          options.onProgress?.({ phase: 'done' });
          return { blobId: blobIdToString(id), bytes: res.bytes, axis: res.axis, rejected, timings: { metadataMs, downloadMs, decodeMs } };
        } catch (e) {
          decodeMs += performance.now() - td;
          await Promise.all(drops);
          if (!(e instanceof NotEnoughSliversError)) throw e;
          // Some slivers were invalid: they were removed from `have`; fetch replacements. (No
          // drop means nothing new can be learnt on this axis.)
          if (drops.length === 0 || next >= sources.length) break;
        }
      }
    }
    throw new NotEnoughSliversError(`could not obtain enough valid slivers of blob ${blobIdToString(id)} from the committee (${rejected} rejected or unavailable${failures.length ? `; e.g. ${failures.join('; ')}` : ''})`, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads blob `blobId` into memory. For large blobs prefer `readBlobToFile`. */
export async function readBlob(blobId: BlobId | string, options: ReadBlobOptions): Promise<Uint8Array> {
  const dir = await mkdtemp(join(options.tempDir ?? tmpdir(), 'tusk-readout-'));
  try {
    const file = join(dir, 'blob');
    await readBlobToFile(blobId, file, options);
    return new Uint8Array(await readFile(file));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Metadata from the first node whose answer verifies against the blob ID. Nodes are asked a few
 * at a time (random order), so one silent node costs no more than its timeout once.
 */
async function fetchMetadata(id: BlobId, committee: CommitteeInfo, clientFor: (a: string) => StorageNodeClient, retry: { retries: number; signal?: AbortSignal }): Promise<BlobMetadataWithId> {
  const nodes = shuffle([...committee.members]);
  const errors: string[] = [];
  const maxBytes = 64 + 66 * committee.nShards;
  const ask = async (node: CommitteeNode): Promise<BlobMetadataWithId> => {
    try {
      const m = await withRetries(() => clientFor(node.networkAddress).getMetadata(id, { signal: retry.signal, maxBytes }), { ...retry, retries: Math.min(retry.retries, 1) });
      if (!equalBytes(m.blobId, id)) throw new MetadataVerificationError('the node sent metadata of another blob');
      verifyMetadata(m, committee.nShards);
      return m;
    } catch (e) {
      errors.push(`${node.networkAddress}: ${(e as Error).message}`);
      throw e;
    }
  };
  for (let i = 0; i < nodes.length; i += METADATA_FANOUT) {
    retry.signal?.throwIfAborted();
    try {
      return await Promise.any(nodes.slice(i, i + METADATA_FANOUT).map(ask));
    } catch {
      if (retry.signal?.aborted) throw retry.signal.reason;
    }
  }
  throw new TuskError(`no node returned valid metadata for blob ${blobIdToString(id)} (${errors.slice(0, 3).join('; ')})`, { retryable: true });
}

/** Nodes asked for metadata at once. */
const METADATA_FANOUT = 3;

/**
 * Every (node, pair) that holds a sliver of `axis`, systematic slivers first (all k systematic
 * primary slivers decode with no Reed–Solomon work), the rest shuffled to spread the load.
 */
function sliverSources(id: BlobId, committees: CommitteeInfo[], axis: SliverAxis, k: number, clientFor: (a: string) => StorageNodeClient): (Source & { index: number })[] {
  const out: (Source & { index: number })[] = [];
  const seen = new Set<string>();
  for (const c of committees) {
    const n = c.nShards;
    for (const p of placeBlob(c, id)) {
      const client = clientFor(p.node.networkAddress);
      for (const pair of p.pairs) {
        // The previous committee usually has the same members: ask each node for a pair once.
        const key = `${client.url} ${pair}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({ client, pair, index: axis === 'primary' ? pair : n - 1 - pair });
      }
    }
  }
  const systematic = out.filter((s) => s.index < k).sort((a, b) => a.index - b.index);
  const others = shuffle(out.filter((s) => s.index >= k));
  return [...systematic, ...others];
}

/**
 * Downloads slivers from `sources[from…]` until `want` more distinct indices are written to `dir`
 * or the sources run out. Never has more requests in flight than slivers still missing, so no
 * source is spent on a sliver that would be thrown away (a later round may need it). Returns the
 * next unused source position.
 */
async function download(
  id: BlobId, axis: SliverAxis, sources: (Source & { index: number })[], from: number, want: number, have: Set<number>, dir: string,
  options: ReadBlobOptions & { maxBytes: number }, retry: { retries: number; signal?: AbortSignal }, onFailed: (why: string) => void,
): Promise<number> {
  if (want <= 0) return from;
  const concurrency = options.concurrency ?? 32;
  const target = have.size + want;
  const claimed = new Set<number>();
  // Sources of an index already in flight: kept for a later round in case that request fails.
  const deferred: (Source & { index: number })[] = [];
  let next = from;
  const worker = async () => {
    while (next < sources.length && have.size + claimed.size < target) {
      const s = sources[next++];
      if (have.has(s.index)) continue;
      if (claimed.has(s.index)) {
        deferred.push(s);
        continue;
      }
      claimed.add(s.index);
      try {
        const sliver = await withRetries(() => s.client.getSliver(id, s.pair, axis, { signal: options.signal, maxBytes: options.maxBytes }), retry);
        if (sliver.index !== s.index) throw new TuskInputError(`node sent sliver ${sliver.index} for index ${s.index}`);
        await writeFile(join(dir, axis, `${s.index}.bcs`), sliver.toBcs());
        have.add(s.index);
        options.onProgress?.({ phase: 'download', slivers: have.size, needed: target });
      } catch (e) {
        if (options.signal?.aborted) throw options.signal.reason;
        onFailed((e as Error).message);
      } finally {
        claimed.delete(s.index);
      }
    }
  };
  // A worker stops when the slivers in flight would cover the target; if some of those fail, the
  // next round picks up the slack.
  for (;;) {
    while (have.size < target && next < sources.length) {
      await Promise.all(Array.from({ length: Math.min(concurrency, target - have.size) }, worker));
    }
    const again = deferred.splice(0).filter((s) => !have.has(s.index));
    if (have.size >= target || again.length === 0) return next;
    // Every request of this round has settled: the deferred sources go to the end of the line.
    sources.splice(next, 0, ...again);
  }
}

function shuffle<T>(a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
