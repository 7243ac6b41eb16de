/**
 * Reading a blob (walrus-protocol.md §4.1): metadata from any node, verified against the blob ID;
 * then primary slivers from the nodes holding them until k_p are in hand; decoded on the codec
 * pool with the default consistency check; secondary slivers (k_s) when too few primary ones can
 * be had.
 *
 * Before anything else the chain says whether the blob can be read at all: a blob ID without a
 * live, certified Blob object fails at once with what the chain knows (never registered,
 * deleted, expired at epoch N, registered but not certified), in one line.
 *
 * Slivers are spooled into a private temporary sliver directory (the `tusk encode` layout) and
 * decoded by the streaming decoder, which verifies each sliver on the pool and keeps memory
 * bounded whatever the blob size. A sliver that fails verification (a faulty or malicious node)
 * is dropped and replaced by one from another node, so a bad node cannot change what is read.
 */
import { readFile, rm, writeFile, mkdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { prepareOutput } from '../stream/output.ts';
import { makeTempDir, sweepStaleTempDirs } from '../stream/temp-dirs.ts';
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
import type { BlobObject, Chain, CommitteeInfo, CommitteeNode } from '../chain/types.ts';
import {
  MetadataVerificationError,
  NotEnoughSliversError,
  SliverVerificationError,
  StorageNodeError,
  TuskError,
  TuskInputError,
} from '../errors.ts';
import { StorageNodeClient } from '../node-api/client.ts';
import { placeBlob } from '../protocol/placement.ts';
import { withRetries } from '../util/async.ts';
import { shuffle } from '../util/shuffle.ts';
import { withDecryptedOutput, type ReadDecryptOptions } from './encryption.ts';

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
  /** Refuse (TuskInputError, before any sliver is downloaded) a blob larger than this. */
  readonly maxBytes?: number;
  readonly tempDir?: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ReadProgress) => void;
  readonly nodeClient?: (networkAddress: string) => StorageNodeClient;
  /** Decrypt the (age-encrypted) blob with these identities, optionally only `range` (docs/encryption.md). */
  readonly decrypt?: ReadDecryptOptions;
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

/**
 * A blob that cannot be read because of its state on chain (never registered, deleted, expired,
 * not certified). `state` says which; retryable only for `registered` (a store may still certify it).
 */
export class BlobUnavailableError extends TuskError {
  readonly state: 'nonexistent' | 'deleted' | 'expired' | 'registered';
  constructor(state: BlobUnavailableError['state'], message: string) {
    super(message, { retryable: state === 'registered' });
    this.state = state;
  }
}

/** Events scanned for a blob's deletion before saying "never registered, or deleted". */
const DELETION_SCAN_EVENTS = 20_000;

/**
 * What the chain says about reading `id`: nothing when a live certified Blob object carries it,
 * else a {@link BlobUnavailableError} describing its state (from the Blob objects, and for a blob
 * without any, a bounded scan of the event log for its deletion).
 */
export async function blobAvailability(chain: Chain, id: BlobId): Promise<BlobUnavailableError | null> {
  const [state, objects] = await Promise.all([chain.systemState(), chain.blobObjects(id)]);
  const name = blobIdToString(id);
  const live = objects.filter((b) => b.storage.endEpoch > state.epoch);
  if (live.some((b) => b.certifiedEpoch !== null)) return null;
  if (live.length > 0)
    return new BlobUnavailableError(
      'registered',
      `blob ${name} is registered but not certified yet (no quorum of nodes confirmed it); finish the store with tusk store`,
    );
  const certified = objects.filter((b: BlobObject) => b.certifiedEpoch !== null);
  if (objects.length > 0) {
    const end = Math.max(...(certified.length ? certified : objects).map((b) => b.storage.endEpoch));
    return new BlobUnavailableError(
      'expired',
      `blob ${name} expired at epoch ${end} (current epoch ${state.epoch}); its slivers are no longer kept`,
    );
  }
  const deletion = await findDeletion(chain, id).catch(() => ({ epoch: null, complete: false }));
  if (deletion.epoch !== null)
    return new BlobUnavailableError(
      'deleted',
      `blob ${name} was deleted at epoch ${deletion.epoch} (no Blob object on chain carries it any more)`,
    );
  return new BlobUnavailableError(
    'nonexistent',
    `blob ${name} does not exist: no Blob object on chain carries it (${deletion.complete ? 'never stored, or burnt' : 'never stored, deleted or burnt'})`,
  );
}

/**
 * The epoch of the latest `BlobDeleted` event of `id` in the event log (read up to
 * DELETION_SCAN_EVENTS events), and whether the whole log was read.
 */
async function findDeletion(chain: Chain, id: BlobId): Promise<{ epoch: number | null; complete: boolean }> {
  let cursor: string | null = null;
  let epoch: number | null = null;
  for (let seen = 0; seen < DELETION_SCAN_EVENTS;) {
    const page = await chain.events({ cursor, limit: 1000 });
    for (const e of page.events) {
      if (e.event.type === 'BlobDeleted' && equalBytes(e.event.blobId, id)) epoch = e.event.epoch;
    }
    seen += page.events.length;
    if (page.events.length === 0 || page.nextCursor === null || page.nextCursor === cursor) return { epoch, complete: true };
    cursor = page.nextCursor;
  }
  return { epoch, complete: false };
}

/**
 * Reads blob `blobId` into `out`: a regular file is written atomically; `-` (stdout), a device,
 * FIFO or symbolic link are written in place once the blob is verified (src/stream/output.ts).
 * @throws BlobUnavailableError when the chain says the blob cannot be read; TuskInputError for an
 *   output that cannot be written (checked before any download).
 */
export async function readBlobToFile(blobId: BlobId | string, out: string, options: ReadBlobOptions): Promise<ReadResult> {
  if (options.decrypt) {
    const { result, bytes } = await withDecryptedOutput(out, options.decrypt, options.overwrite ?? false, options.tempDir, (c) =>
      readBlobToFile(blobId, c, { ...options, decrypt: undefined }),
    );
    return { ...result, bytes };
  }
  const id = typeof blobId === 'string' ? blobIdFromString(blobId) : blobId;
  const { chain, signal } = options;
  const clientFor = options.nodeClient ?? ((a: string) => new StorageNodeClient(a, { timeoutMs: options.nodeTimeoutMs }));
  const retry = { retries: options.retries ?? 2, signal, baseDelayMs: 100 };
  // Temporary folders of reads that were killed (SIGKILL) would otherwise stay forever.
  await sweepStaleTempDirs(options.tempDir);
  // Refuse an unwritable output before any download, not after.
  const target = await prepareOutput(out, { overwrite: options.overwrite, tempDir: options.tempDir });
  try {
    return await readInto(id, target, options, clientFor, retry);
  } finally {
    await target.release();
  }
}

async function readInto(
  id: BlobId,
  target: Awaited<ReturnType<typeof prepareOutput>>,
  options: ReadBlobOptions,
  clientFor: (a: string) => StorageNodeClient,
  retry: { retries: number; signal?: AbortSignal; baseDelayMs: number },
): Promise<ReadResult> {
  const { chain, signal } = options;
  const t0 = performance.now();
  options.onProgress?.({ phase: 'metadata' });
  const unavailable = await blobAvailability(chain, id);
  if (unavailable) throw unavailable;

  // The current committee, then the previous one: during an epoch change, slivers of blobs
  // certified before it may still sit with the old holders.
  const current = await chain.committee();
  const committees: CommitteeInfo[] = [current];
  if (current.epoch > 1) committees.push(await chain.committee(current.epoch - 1).catch(() => current));
  const usable = committees.filter((c) => c.members.length > 0);
  if (usable.length === 0) throw new TuskError(`epoch ${current.epoch} has no committee: nothing is stored yet`, { retryable: true });

  const metadata = await fetchMetadata(id, usable[0], clientFor, retry);
  if (options.maxBytes !== undefined && metadata.metadata.unencodedLength > options.maxBytes) {
    throw new TuskInputError(
      `blob ${blobIdToString(id)} is ${metadata.metadata.unencodedLength} bytes, more than the ${options.maxBytes} allowed here`,
    );
  }
  const cfg = new EncodingConfig(usable[0].nShards, encodingByType(metadata.metadata.encodingType));
  const metadataMs = performance.now() - t0;

  const dir = await makeTempDir('read', options.tempDir);
  let rejected = 0;
  const failures: string[] = [];
  const onFailed = (why: string) => {
    rejected++;
    if (failures.length < 3) failures.push(why);
  };
  try {
    await writeFile(join(dir, 'metadata.bcs'), metadata.toBcs());
    let downloadMs = 0,
      decodeMs = 0;
    for (const axis of ['primary', 'secondary'] as const) {
      const need = axis === 'primary' ? cfg.primarySymbols : cfg.secondarySymbols;
      const sources = sliverSources(id, usable, axis, need, clientFor);
      await mkdir(join(dir, axis), { recursive: true });
      const have = new Set<number>();
      let next = 0;
      for (;;) {
        const t = performance.now();
        const maxBytes =
          (axis === 'primary' ? cfg.secondarySymbols : cfg.primarySymbols) * cfg.symbolSize(metadata.metadata.unencodedLength) + 16;
        next = await download(id, axis, sources, next, need - have.size, have, dir, { ...options, maxBytes }, retry, onFailed);
        downloadMs += performance.now() - t;
        if (have.size < need) break; // this axis cannot reach k: try the other
        options.onProgress?.({ phase: 'decode' });
        const drops: Promise<void>[] = [];
        const td = performance.now();
        try {
          const res = await decodeDirectory(dir, target, {
            pool: options.pool,
            overwrite: options.overwrite,
            tempDir: options.tempDir,
            signal,
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
    throw new NotEnoughSliversError(
      `could not obtain enough valid slivers of blob ${blobIdToString(id)} from the committee (${rejected} rejected or unavailable${failures.length ? `; e.g. ${failures.join('; ')}` : ''})`,
      [],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reads blob `blobId` into memory. For large blobs prefer `readBlobToFile`. */
export async function readBlob(blobId: BlobId | string, options: ReadBlobOptions): Promise<Uint8Array> {
  const dir = await makeTempDir('out', options.tempDir);
  try {
    const file = join(dir, 'blob');
    await readBlobToFile(blobId, file, options);
    return new Uint8Array(await readFile(file));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Metadata from the first node whose answer verifies against the blob ID (also used by the quilt
 * reader). Nodes are asked a few
 * at a time (random order), so one silent node costs no more than its timeout once.
 */
export async function fetchMetadata(
  id: BlobId,
  committee: CommitteeInfo,
  clientFor: (a: string) => StorageNodeClient,
  retry: { retries: number; signal?: AbortSignal },
): Promise<BlobMetadataWithId> {
  const nodes = shuffle([...committee.members]);
  const errors: string[] = [];
  const maxBytes = 64 + 66 * committee.nShards;
  const ask = async (node: CommitteeNode): Promise<BlobMetadataWithId> => {
    try {
      const m = await withRetries(() => clientFor(node.networkAddress).getMetadata(id, { signal: retry.signal, maxBytes }), {
        ...retry,
        retries: Math.min(retry.retries, 1),
      });
      if (!equalBytes(m.blobId, id)) throw new MetadataVerificationError('the node sent metadata of another blob');
      verifyMetadata(m, committee.nShards);
      return m;
    } catch (e) {
      // A node error already names its node (and the request): say it once.
      errors.push(e instanceof StorageNodeError ? e.message : `${node.networkAddress}: ${(e as Error).message}`);
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
  throw new TuskError(
    `no node returned valid metadata for blob ${blobIdToString(id)} (${errors.length} asked; e.g. ${errors.slice(0, 2).join('; ')})`,
    { retryable: true },
  );
}

/** Nodes asked for metadata at once. */
const METADATA_FANOUT = 3;

/**
 * Every (node, pair) that holds a sliver of `axis`, systematic slivers first (all k systematic
 * primary slivers decode with no Reed–Solomon work), the rest shuffled to spread the load.
 */
function sliverSources(
  id: BlobId,
  committees: CommitteeInfo[],
  axis: SliverAxis,
  k: number,
  clientFor: (a: string) => StorageNodeClient,
): (Source & { index: number })[] {
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
  id: BlobId,
  axis: SliverAxis,
  sources: (Source & { index: number })[],
  from: number,
  want: number,
  have: Set<number>,
  dir: string,
  options: ReadBlobOptions & { maxBytes: number },
  retry: { retries: number; signal?: AbortSignal },
  onFailed: (why: string) => void,
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
        const sliver = await withRetries(
          () => s.client.getSliver(id, s.pair, axis, { signal: options.signal, maxBytes: options.maxBytes }),
          retry,
        );
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
