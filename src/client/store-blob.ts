/**
 * Storing a blob (walrus-protocol.md §6.0): encode on the codec pool → reserve space and register
 * on the chain → upload metadata and slivers to the nodes holding each shard → collect and verify
 * their signed confirmations → aggregate and certify as soon as the signers hold a quorum of
 * shards, while the remaining uploads finish in the background.
 *
 * The flow is a sequence of resumable steps (`BlobStoreFlow`): an interrupted store run again
 * with the same data and owner reuses its registered, uncertified Blob object instead of paying
 * twice, and skips slivers the nodes already hold. An epoch change between confirmation and
 * certification (the certificate no longer fits the chain's committee) restarts the upload against
 * the new committee, asking nodes what they already hold.
 */
import type { Signer } from '@mysten/sui/cryptography';
import { type EncodedMetadata } from '../codec/encode.ts';
import { encodeBlobAsync } from '../pool/async-codec.ts';
import { type TaskRunner } from '../codec/tasks.ts';
import { SliverData, type SliverAxis } from '../codec/sliver.ts';
import { encodeStream } from '../stream/encode-stream.ts';
import { directorySink } from '../stream/sliver-dir.ts';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EncodingConfig } from '../codec/config.ts';
import { encodingByName, type EncodingScheme } from '../codec/encodings/index.ts';
import { blsVerify } from '../crypto/bls.ts';
import { aggregateCertificate, isQuorum, signersBitmap } from '../protocol/certificate.ts';
import { parseStorageConfirmation, storageConfirmationMessage, type BlobPersistence } from '../protocol/messages.ts';
import { storageUnits, type BlobObject, type Chain, type CommitteeInfo, type CommitteeNode, type ObjectId } from '../chain/types.ts';
import { ChainAbortError, NotEnoughConfirmationsError, StorageNodeError, TuskError, TuskInputError } from '../errors.ts';
import { StorageNodeClient } from '../node-api/client.ts';
import { type SignedNodeMessage } from '../node-api/wire.ts';
import { NOT_YET_REASONS } from '../node-api/errors.ts';
import { certificateCommittee, placeBlob, type NodePlacement } from '../protocol/placement.ts';
import { isRetryable, Semaphore, withRetries } from '../util/async.ts';
import { equalBytes } from '../util/bytes.ts';
import type { EncryptOptions } from '../age/age.ts';
import { withEncryptedInput } from './encryption.ts';

/** Options of `storeBlob` / `BlobStoreFlow`. */
export interface StoreBlobOptions {
  readonly chain: Chain;
  /** Pays for storage and owns the Blob object. */
  readonly signer: Signer;
  /** Epochs to store for, from the current one (1…maxEpochsAhead). */
  readonly epochs: number;
  /** Deletable (default, as in the Walrus CLI) or permanent. */
  readonly deletable?: boolean;
  /** Reuse a live Blob object the signer owns for this blob (default true); false always registers a new one (the publisher's `force`). */
  readonly reuseExisting?: boolean;
  /**
   * Encoding: `'rs2'` (default; the Walrus encoding) or `'rs8'` (GF(2^8), committees of 4…195
   * shards; a Tusk extension the Walrus network does not accept). Checked against the committee
   * before anything is encoded or paid (TuskInputError).
   */
  readonly encoding?: string | EncodingScheme;
  /** Attributes to set on the Blob object after certification. */
  readonly attributes?: Readonly<Record<string, string>>;
  /** Where encoding runs (default: the process-wide codec pool). */
  readonly pool?: TaskRunner;
  /** Sliver uploads in flight across all nodes (default 64). */
  readonly uploadConcurrency?: number;
  /** Sliver uploads in flight per node (default 8). */
  readonly perNodeConcurrency?: number;
  /** Timeout of one request to a node in ms (default 30 000). */
  readonly nodeTimeoutMs?: number;
  /** Retries of one request that failed retryably (default 5, exponential backoff). */
  readonly retries?: number;
  /** Ask each node for a sliver's status before uploading it (default: only when resuming). */
  readonly checkStatus?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: StoreProgress) => void;
  /** Parent of the temporary sliver directory of a file input (default: the OS temp dir). */
  readonly tempDir?: string;
  /** Builds the client of a node from its on-chain network address (tests inject timeouts). */
  readonly nodeClient?: (networkAddress: string) => StorageNodeClient;
  /** Encrypt client-side to these age recipients first: the nodes store ciphertext (docs/encryption.md). */
  readonly encrypt?: EncryptOptions;
  /**
   * Upload slots shared with other flows running at the same time (a pipeline of many blobs):
   * together they keep within one store's concurrency, and one flow alone gets all of it. Takes
   * the place of `uploadConcurrency` / `perNodeConcurrency`.
   */
  readonly uploadSlots?: UploadSlots;
  /**
   * Permits for stream-encoding a file input, shared with other flows of a pipeline: each file
   * encode may hold up to its memory budget of kernel memory and already uses every pool thread,
   * so two at once can only add memory, not speed. (It did not lower the 1.5 GiB peak RSS of a
   * 5 GiB dataset publish: docs/datasets.md.) Default: no limit.
   */
  readonly encodeSlots?: Semaphore;
}

/** Sliver upload slots shared by concurrent store flows: a global limit and a limit per node. */
export class UploadSlots {
  readonly global: Semaphore;
  private readonly perNode = new Map<string, Semaphore>();
  private readonly perNodeLimit: number;
  /**
   * @param globalLimit uploads in flight across all nodes (default 64, as one store)
   * @param perNodeLimit uploads in flight per node (default 8, as one store)
   */
  constructor(globalLimit = 64, perNodeLimit = 8) {
    if (!Number.isInteger(globalLimit) || globalLimit < 1 || !Number.isInteger(perNodeLimit) || perNodeLimit < 1)
      throw new TuskInputError('UploadSlots: limits must be positive integers');
    this.global = new Semaphore(globalLimit);
    this.perNodeLimit = perNodeLimit;
  }
  /** The slots of the node at `networkAddress`. */
  node(networkAddress: string): Semaphore {
    let s = this.perNode.get(networkAddress);
    if (!s) this.perNode.set(networkAddress, (s = new Semaphore(this.perNodeLimit)));
    return s;
  }
}

/** Progress of a store. */
export interface StoreProgress {
  readonly phase: 'encode' | 'register' | 'upload' | 'certify' | 'done';
  /** Bytes of a file input encoded so far / in total (encode phase, file input). */
  readonly bytesDone?: number;
  readonly bytesTotal?: number;
  /** Slivers stored on nodes so far / in total (upload phase). */
  readonly sliversStored?: number;
  readonly sliversTotal?: number;
  /** Shards whose node confirmed / needed for a quorum. */
  readonly confirmedWeight?: number;
  readonly quorumWeight?: number;
}

/** What a finished store returns. */
export interface StoreResult {
  readonly blobId: string;
  readonly blobObjectId: ObjectId;
  readonly endEpoch: number;
  readonly certifiedEpoch: number;
  readonly deletable: boolean;
  /** FROST paid by this call (0 when an earlier registration was reused). */
  readonly cost: bigint;
  /** True when an existing Blob object was reused (resumed or already certified; extended if it ended too early). */
  readonly reused: boolean;
  /** The owned Storage object the registration used instead of buying space (null: none). */
  readonly storageReused: ObjectId | null;
  readonly unencodedLength: number;
  readonly timings: { readonly encodeMs: number; readonly registerMs: number; readonly uploadMs: number; readonly certifyMs: number };
  /** Settles when every node has been tried (the uploads continuing after the quorum). */
  readonly background: Promise<UploadSummary>;
  /** Stops the background uploads (they then settle with the nodes not yet done as failed). */
  readonly cancelBackground: () => void;
}

/** Outcome of the uploads to all nodes. */
export interface UploadSummary {
  readonly confirmedNodes: number;
  readonly failedNodes: { readonly nodeId: ObjectId; readonly error: string }[];
}

/** The cost of storing `unencodedLength` bytes for `epochs` epochs at the given prices (FROST). */
export function storageCost(
  unencodedLength: number,
  epochs: number,
  nShards: number,
  storagePrice: bigint,
  writePrice: bigint,
  encoding = 'RS2',
): bigint {
  const encoded = new EncodingConfig(nShards, encodingByName(encoding)).encodedBlobLength(unencodedLength);
  const units = storageUnits(encoded);
  return storagePrice * units * BigInt(epochs) + writePrice * units;
}

const now = () => performance.now();

/** Attempts at reusing an owned Storage object before a store buys new space. */
const STORAGE_PICK_ATTEMPTS = 2;
/** Aborts that mean an owned Storage object changed under the store (another process of the wallet). */
const STORAGE_RACE_CODES = new Set(['EIncompatibleAmount', 'EResourceSize', 'EObjectNotFound', 'EResourceBounds', 'ENotOwner']);
/** Each wallet's storage pick in this process, one at a time (see `register`). */
const ownerPicks = new Map<string, Semaphore>();
const ownerPick = (owner: string) => ownerPicks.get(owner) ?? ownerPicks.set(owner, new Semaphore(1)).get(owner)!;

/**
 * The store flow, step by step. `run()` does them all; each step may also be called on its own
 * (a later step runs the earlier ones it needs). Not safe for concurrent use.
 */
export class BlobStoreFlow {
  private readonly o: StoreBlobOptions;
  private readonly input: Uint8Array | { readonly path: string };
  private encoded: EncodedMetadata | null = null;
  /** Sliver by axis and sliver index: from memory, or from the spooled sliver directory. */
  private sliverAt: (axis: SliverAxis, index: number) => Promise<SliverData> = () => Promise.reject(new TuskError('not encoded'));
  /** Removes the spooled sliver directory (file input); runs once everything is uploaded or failed. */
  private cleanup: () => Promise<void> = async () => {};
  private blob: BlobObject | null = null;
  private reused = false;
  /** Epochs to add to a reused registration once it is certified (it ends before the wanted end). */
  private extendBy = 0;
  /** The owned Storage object registration used instead of buying space, if any. */
  private storageReused: ObjectId | null = null;
  private cost = 0n;
  private readonly timings = { encodeMs: 0, registerMs: 0, uploadMs: 0, certifyMs: 0 };

  /**
   * @param input the blob's bytes, or `{ path }` of a file: a file is stream-encoded on the pool
   *   into a private temporary sliver directory (memory stays bounded whatever its size; the
   *   directory needs ~4.5× the file's size on disk) and slivers are read back from it to upload.
   */
  constructor(input: Uint8Array | { readonly path: string }, options: StoreBlobOptions) {
    if (!(input instanceof Uint8Array) && (typeof input !== 'object' || input === null || typeof input.path !== 'string')) {
      throw new TuskInputError('storeBlob: data must be a Uint8Array or { path }');
    }
    if (!Number.isInteger(options.epochs) || options.epochs < 1)
      throw new TuskInputError(`storeBlob: epochs must be a positive integer, got ${options.epochs}`);
    this.input = input;
    this.o = options;
  }

  /** Step 1: encode for the current committee size on the pool. */
  async encode(): Promise<EncodedMetadata> {
    if (this.encoded) return this.encoded;
    this.o.signal?.throwIfAborted();
    this.o.onProgress?.({ phase: 'encode' });
    const t = now();
    const state = await this.o.chain.systemState();
    const encoding = typeof this.o.encoding === 'object' ? this.o.encoding : encodingByName(this.o.encoding ?? 'rs2');
    // Before reading a large file: a committee the encoding cannot serve is a clear input error.
    new EncodingConfig(state.nShards, encoding);
    if (this.input instanceof Uint8Array) {
      const blob = await encodeBlobAsync(this.input, { nShards: state.nShards, encoding, pool: this.o.pool });
      this.sliverAt = async (axis, index) => (axis === 'primary' ? blob.primarySlivers : blob.secondarySlivers)[index];
      this.encoded = blob;
    } else {
      const spool = await mkdtemp(join(this.o.tempDir ?? tmpdir(), 'tusk-store-'));
      const dir = join(spool, 'slivers');
      this.cleanup = () => rm(spool, { recursive: true, force: true });
      try {
        const path = this.input.path;
        const run = <T>(fn: () => Promise<T>) => (this.o.encodeSlots ? this.o.encodeSlots.run(fn) : fn());
        this.encoded = await run(async () =>
          encodeStream(path, {
            nShards: state.nShards,
            encoding,
            pool: this.o.pool,
            sink: await directorySink(dir),
            signal: this.o.signal,
            tempDir: this.o.tempDir,
            onProgress: (e) => this.o.onProgress?.({ phase: 'encode', bytesDone: e.bytesDone, bytesTotal: e.bytesTotal }),
          }),
        );
      } catch (e) {
        await this.cleanup();
        throw e;
      }
      this.sliverAt = async (axis, index) => SliverData.fromBcs(axis, new Uint8Array(await readFile(join(dir, axis, `${index}.bcs`))));
    }
    this.timings.encodeMs = now() - t;
    return this.encoded;
  }

  /** Abandons the flow after `encode()` without storing: removes the spooled slivers of a file input. */
  async dispose(): Promise<void> {
    await this.cleanup();
  }

  /**
   * Step 2: register the blob (reserving space in the same transaction), or reuse a Blob object
   * the signer already owns for this blob ID and persistence that is still live.
   */
  async register(): Promise<BlobObject> {
    if (this.blob) return this.blob;
    const enc = await this.encode();
    this.o.signal?.throwIfAborted();
    this.o.onProgress?.({ phase: 'register' });
    const t = now();
    const { chain, signer } = this.o;
    const deletable = this.o.deletable ?? true;
    const state = await chain.systemState();
    if (state.committee.members.length === 0)
      throw new ChainAbortError('ENoCommittee', `epoch ${state.epoch} has no committee yet: no node can store blobs`, { retryable: true });
    const wantedEnd = state.epoch + this.o.epochs;
    const owner = signer.toSuiAddress();
    // Walrus's resource reuse (reuseRegistration / reuseAndExtend / reuseAndExtendNonCertified):
    // any live registration of this blob ID and persistence the signer owns is used, certified
    // first, then the longest-lived; if it ends before the wanted end it is extended once it is
    // certified, so a re-run (also after an epoch change) pays only for the missing epochs.
    const existing = (await chain.blobObjects(enc.blobId))
      .filter((b) => b.owner === owner && b.deletable === deletable && b.storage.endEpoch > state.epoch)
      .sort((a, b) => Number(b.certifiedEpoch !== null) - Number(a.certifiedEpoch !== null) || b.storage.endEpoch - a.storage.endEpoch);
    const reuse = this.o.reuseExisting === false ? null : (existing[0] ?? null);
    if (reuse) {
      this.blob = reuse;
      this.reused = true;
      this.extendBy = Math.max(0, wantedEnd - reuse.storage.endEpoch);
    } else {
      const scheme = encodingByName(enc.encoding);
      const size = new EncodingConfig(state.nShards, scheme).encodedBlobLength(enc.unencodedLength);
      // reuseStorage: an owned Storage object covering [now, wantedEnd) and the size (split or
      // fused to fit) instead of buying new space; the registration then pays the write fee only.
      const register = (storage: ObjectId | null) =>
        chain.registerBlob(signer, {
          storage: storage ?? { size, epochsAhead: this.o.epochs },
          blobId: enc.blobId,
          rootHash: enc.rootHash,
          size: enc.unencodedLength,
          encodingType: scheme.typeByte,
          deletable,
        });
      let storageId: ObjectId | null = null;
      let res: Awaited<ReturnType<typeof register>>;
      for (let attempt = 0; ; attempt++) {
        // The pick, its split and the registration with it run one at a time per wallet in this
        // process: two concurrent stores picking the same Storage object would split it twice or
        // register it twice, and one of them aborts (EIncompatibleAmount / EResourceSize: 9 of
        // 1,411 stores in a 30-minute soak at concurrency 3). Stores that buy new space do not wait.
        // An abort of that kind still means another process of the wallet took or reshaped the
        // object first: pick again (the last attempt buys new space).
        const picked =
          attempt < STORAGE_PICK_ATTEMPTS
            ? await ownerPick(owner)
                .run(async () => {
                  const id = await this.fittingStorage(size, state.epoch, wantedEnd);
                  return id ? { id, res: await register(id) } : null;
                })
                .catch((e: unknown) => {
                  if (e instanceof ChainAbortError && STORAGE_RACE_CODES.has(e.code)) return 'raced' as const;
                  throw e;
                })
            : null;
        if (picked === 'raced') continue;
        if (picked) ({ id: storageId, res } = picked);
        else res = await register(null);
        break;
      }
      this.blob = res.blob;
      this.storageReused = storageId;
      this.cost = storageId
        ? state.writePricePerUnitSize * storageUnits(size)
        : storageCost(
            enc.unencodedLength,
            this.o.epochs,
            state.nShards,
            state.storagePricePerUnitSize,
            state.writePricePerUnitSize,
            enc.encoding,
          );
    }
    this.timings.registerMs = now() - t;
    return this.blob;
  }

  /** Waits (up to ~30 s) until the chain's committee is of an epoch after `epoch`. */
  private async waitForEpochAfter(epoch: number): Promise<void> {
    for (let i = 0; i < 300; i++) {
      if ((await this.o.chain.committee()).epoch > epoch) return;
      this.o.signal?.throwIfAborted();
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * An owned Storage object that can hold `size` bytes from `epoch` through `wantedEnd`, made to
   * fit: the smallest single object that covers the period is split to `size` (the remainder stays
   * the owner's); else two objects of the same period whose sizes add up are fused first. Returns
   * null when nothing owned fits (the caller buys space).
   */
  private async fittingStorage(size: number, epoch: number, wantedEnd: number): Promise<ObjectId | null> {
    const { chain, signer } = this.o;
    const owned = (await chain.ownedObjects(signer.toSuiAddress()))
      .flatMap((o) => (o.kind === 'storage' ? [o.object] : []))
      .filter((s) => s.startEpoch <= epoch && s.endEpoch >= wantedEnd)
      .sort((a, b) => a.storageSize - b.storageSize || a.endEpoch - b.endEpoch);
    let pick = owned.find((s) => s.storageSize >= size)?.id ?? null;
    if (!pick) {
      outer: for (let i = 0; i < owned.length; i++) {
        for (let j = i + 1; j < owned.length; j++) {
          const [a, b] = [owned[i], owned[j]];
          if (a.startEpoch === b.startEpoch && a.endEpoch === b.endEpoch && a.storageSize + b.storageSize >= size) {
            pick = (await chain.fuseStorage(signer, a.id, b.id)).storage.id;
            break outer;
          }
        }
      }
    }
    if (!pick) return null;
    const chosen = await chain.getStorage(pick);
    if (chosen && chosen.storageSize > size) await chain.splitStorage(signer, pick, size);
    return pick;
  }

  /**
   * Steps 3–5: upload, confirm, certify; returns the result once the blob is certified. The
   * uploads to nodes that had not confirmed by then go on in the background (`result.background`;
   * `result.cancelBackground()` stops them). On failure every upload of this flow is stopped.
   */
  async run(): Promise<StoreResult> {
    try {
      const result = await this.certify();
      // The spooled slivers of a file input are needed until the last upload has settled.
      return { ...result, background: result.background.finally(() => this.cleanup()) };
    } catch (e) {
      await this.cleanup();
      // A registration paid for by this run outlives the failure: the error says which, so the
      // caller can tell the user that a re-run resumes with it (register() reuses it).
      if (this.blob && this.cost > 0n && e !== null && typeof e === 'object') {
        Object.defineProperty(e, PAID_REGISTRATION, { value: { blobObjectId: this.blob.id, cost: this.cost }, enumerable: false });
      }
      throw e;
    }
  }

  private async certify(): Promise<StoreResult> {
    const blob = await this.register();
    const enc = this.encoded!;
    let background: Promise<UploadSummary> = Promise.resolve({ confirmedNodes: 0, failedNodes: [] });
    let cancel = () => {};
    let certified = blob;
    if (blob.certifiedEpoch === null) {
      for (let attempt = 0; ; attempt++) {
        const committee = await this.o.chain.committee();
        const uploads = new AbortController();
        const signal = this.o.signal ? AbortSignal.any([this.o.signal, uploads.signal]) : uploads.signal;
        const t = now();
        // A repeated attempt asks nodes what they already hold instead of re-sending it.
        const upload = this.uploadAll(committee, blob, signal, attempt > 0);
        background = upload.background;
        cancel = () => uploads.abort(new TuskError('store: background uploads cancelled'));
        let confirmations;
        try {
          confirmations = await upload.quorum;
        } catch (e) {
          cancel();
          // A node already in a later epoch confirmed for it: collect again from the new committee
          // and certify the same object (never a new registration).
          if (e instanceof StorageNodeError && e.reason === EPOCH_MOVED && attempt < 3) {
            await this.waitForEpochAfter(committee.epoch);
            continue;
          }
          throw e;
        } finally {
          this.timings.uploadMs += now() - t;
        }
        const t2 = now();
        this.o.onProgress?.({ phase: 'certify' });
        try {
          // Each confirmation was verified against its node's key when it arrived (uploadToNode).
          const cert = aggregateCertificate(certificateCommittee(committee), confirmations.message, confirmations.signatures, {
            verified: true,
          });
          const res = await this.o.chain.certifyBlob(this.o.signer, blob.id, {
            signature: cert.signature,
            signersBitmap: signersBitmap(cert.signers, committee.members.length),
            message: cert.serializedMessage,
          });
          certified = res.blob;
          break;
        } catch (e) {
          if (e instanceof ChainAbortError && e.code === 'EAlreadyCertified') {
            const current = await this.o.chain.getBlob(blob.id);
            if (!current || current.certifiedEpoch === null) throw e;
            certified = current;
            break;
          }
          // The committee moved on between confirmation and certification (the chain may say so
          // with any of its certificate aborts: the bitmap, weight or signature no longer fit the
          // new committee before the epoch is even compared): confirm again with the new one.
          const moved =
            e instanceof ChainAbortError &&
            (await this.o.chain.committee().then(
              (c) => c.epoch !== committee.epoch,
              () => false,
            ));
          cancel();
          if (moved && attempt < 3) continue;
          throw e;
        } finally {
          this.timings.certifyMs += now() - t2;
        }
      }
    }
    if (this.extendBy > 0) {
      // reuseAndExtend(NonCertified): the reused registration ended too early; pay only the missing epochs.
      const state = await this.o.chain.systemState();
      const extendBy = state.epoch + this.o.epochs - certified.storage.endEpoch;
      if (extendBy > 0) {
        certified = (await this.o.chain.extendBlob(this.o.signer, certified.id, extendBy)).blob;
        this.cost += state.storagePricePerUnitSize * storageUnits(certified.storage.storageSize) * BigInt(extendBy);
      }
    }
    if (this.o.attributes) {
      for (const [k, v] of Object.entries(this.o.attributes)) await this.o.chain.setBlobAttribute(this.o.signer, blob.id, k, v);
    }
    this.o.onProgress?.({ phase: 'done' });
    return {
      blobId: enc.blobIdString,
      blobObjectId: certified.id,
      endEpoch: certified.storage.endEpoch,
      certifiedEpoch: certified.certifiedEpoch!,
      deletable: certified.deletable,
      cost: this.cost,
      reused: this.reused,
      storageReused: this.storageReused,
      unencodedLength: enc.unencodedLength,
      timings: { ...this.timings },
      background,
      cancelBackground: cancel,
    };
  }

  /**
   * Uploads to every member of `committee` concurrently. `quorum` resolves with verified
   * signatures as soon as the confirmed shards reach a quorum, and rejects as soon as the failed
   * shards make a quorum impossible; `background` settles when every node is done.
   */
  private uploadAll(
    committee: CommitteeInfo,
    blob: BlobObject,
    signal: AbortSignal,
    recheck: boolean,
  ): { quorum: Promise<Confirmations>; background: Promise<UploadSummary> } {
    const enc = this.encoded!;
    const n = committee.nShards;
    if (n !== enc.nShards)
      throw new TuskError(`the committee now has ${n} shards, the blob was encoded for ${enc.nShards}: store it again`);
    const placements = placeBlob(committee, enc.blobId);
    const persistence: BlobPersistence = blob.deletable ? { kind: 'deletable', objectId: objectIdBytes(blob.id) } : { kind: 'permanent' };
    const message = storageConfirmationMessage(committee.epoch, enc.blobId, persistence);
    const global = this.o.uploadSlots?.global ?? new Semaphore(this.o.uploadConcurrency ?? 64);
    const total = 2 * n;
    let stored = 0,
      confirmedWeight = 0,
      failedWeight = 0;
    const quorumWeight = Math.ceil((2 * n + 1) / 3);
    const signatures: { member: number; signature: Uint8Array }[] = [];
    const failed: { nodeId: ObjectId; error: string }[] = [];
    const errors: unknown[] = [];
    const report = () =>
      this.o.onProgress?.({ phase: 'upload', sliversStored: stored, sliversTotal: total, confirmedWeight, quorumWeight });
    let settleQuorum!: { resolve: (v: Confirmations) => void; reject: (e: unknown) => void };
    const quorum = new Promise<Confirmations>((resolve, reject) => (settleQuorum = { resolve, reject }));
    let decided = false;
    report();
    const background = Promise.all(
      placements.map(async (p) => {
        try {
          const signed = await this.uploadToNode(p, blob, message, committee.epoch, signal, recheck, global, () => {
            stored++;
            report();
          });
          signatures.push({ member: p.member, signature: signed.signature });
          confirmedWeight += p.pairs.length;
          report();
          if (!decided && isQuorum(confirmedWeight, n)) {
            decided = true;
            settleQuorum.resolve({ message, signatures: [...signatures] });
          }
        } catch (e) {
          failed.push({ nodeId: p.node.nodeId, error: (e as Error).message });
          errors.push(e);
          failedWeight += p.pairs.length;
          if (!decided && e instanceof StorageNodeError && e.reason === EPOCH_MOVED) {
            decided = true;
            settleQuorum.reject(e);
          } else if (!decided && !isQuorum(n - failedWeight, n)) {
            decided = true;
            settleQuorum.reject(
              this.o.signal?.aborted
                ? this.o.signal.reason
                : new NotEnoughConfirmationsError(
                    `nodes holding ${failedWeight} of ${n} shards failed; a quorum needs ${quorumWeight}. First failures: ${failed
                      .slice(0, 3)
                      .map((f) => f.error)
                      .join('; ')}`,
                    { cause: errors[0] },
                  ),
            );
          }
        }
      }),
    ).then(() => ({ confirmedNodes: signatures.length, failedNodes: failed }));
    return { quorum, background };
  }

  /** Metadata, then the node's slivers, then its confirmation (unverified; the caller checks). */
  private async uploadToNode(
    p: NodePlacement<CommitteeNode>,
    blob: BlobObject,
    message: Uint8Array,
    epoch: number,
    signal: AbortSignal,
    recheck: boolean,
    global: Semaphore,
    onSliver: () => void,
  ): Promise<SignedNodeMessage> {
    const enc = this.encoded!;
    const n = enc.nShards;
    const client = (this.o.nodeClient ?? ((a) => new StorageNodeClient(a, { timeoutMs: this.o.nodeTimeoutMs })))(p.node.networkAddress);
    const retry = { retries: this.o.retries ?? 5, signal };
    // A node that has not seen the registration event yet (NOT_REGISTERED), or not every sliver
    // (MISSING_SLIVERS), gets a longer budget (~30 s) than a node that does not answer at all.
    const notYet = {
      maxDelayMs: 4000,
      signal,
      shouldRetry: (e: unknown, attempt: number) =>
        isRetryable(e) &&
        (attempt < retry.retries || (attempt < 12 && e instanceof StorageNodeError && e.reason !== null && NOT_YET_REASONS.has(e.reason))),
    };
    const checkStatus = this.o.checkStatus ?? (this.reused || recheck);
    await withRetries(() => client.storeMetadata(enc.blobId, enc.metadata, { signal }), notYet);
    const local = this.o.uploadSlots?.node(p.node.networkAddress) ?? new Semaphore(this.o.perNodeConcurrency ?? 8);
    const jobs: Promise<void>[] = [];
    for (const pair of p.pairs) {
      for (const [axis, index] of [
        ['primary', pair],
        ['secondary', n - 1 - pair],
      ] as const) {
        jobs.push(
          local.run(() =>
            global.run(async () => {
              signal.throwIfAborted();
              if (checkStatus) {
                const status = await withRetries(() => client.sliverStatus(enc.blobId, pair, axis, { signal }), retry).catch(
                  () => 'nonexistent',
                );
                if (status === 'stored') return onSliver();
              }
              const sliver = await this.sliverAt(axis, index);
              await withRetries(() => client.storeSliver(enc.blobId, pair, sliver, { signal }), retry);
              onSliver();
            }),
          ),
        );
      }
    }
    const results = await Promise.allSettled(jobs);
    const bad = results.find((r) => r.status === 'rejected');
    if (bad) throw (bad as PromiseRejectedResult).reason;
    const kind = blob.deletable ? { kind: 'deletable' as const, objectId: blob.id } : { kind: 'permanent' as const };
    return withRetries(async () => {
      const signed = await client.getConfirmation(enc.blobId, kind, { signal });
      if (!equalBytes(signed.serializedMessage, message)) {
        // A node that has not yet followed the chain into this epoch signs the previous one: ask
        // again shortly. Anything else is a wrong confirmation.
        let older = false;
        try {
          const c = parseStorageConfirmation(signed.serializedMessage);
          older = c.epoch < epoch;
          // The same confirmation for a later epoch: the node has followed the chain into it.
          if (
            c.epoch > epoch &&
            equalBytes(c.blobId, enc.blobId) &&
            equalBytes(
              c.persistence.kind === 'deletable' ? c.persistence.objectId : new Uint8Array(0),
              kind.kind === 'deletable' ? objectIdBytes(kind.objectId) : new Uint8Array(0),
            )
          ) {
            throw new StorageNodeError(
              client.url,
              200,
              EPOCH_MOVED,
              `node confirmed for epoch ${c.epoch}, after ${epoch}: the epoch moved on`,
              { retryable: false },
            );
          }
        } catch (e) {
          if (e instanceof StorageNodeError) throw e;
          // not a storage confirmation at all
        }
        throw new StorageNodeError(
          client.url,
          200,
          older ? 'NOT_CURRENTLY_REGISTERED' : 'WRONG_MESSAGE',
          older ? `confirmation signed for an earlier epoch than ${epoch}` : 'confirmation is not for this blob, persistence and epoch',
          { retryable: older },
        );
      }
      if (!blsVerify(signed.signature, p.node.publicKey, message))
        throw new StorageNodeError(client.url, 200, 'BAD_SIGNATURE', "confirmation signature does not verify with the node's key");
      return signed;
    }, notYet);
  }
}

const PAID_REGISTRATION = Symbol('tusk.paidRegistration');

/**
 * The registration a failed store had already paid for (its Blob object and the FROST paid), or
 * null when the failure came before any payment. A re-run of the same store reuses it.
 */
export function paidRegistration(error: unknown): { readonly blobObjectId: ObjectId; readonly cost: bigint } | null {
  return (
    (error !== null &&
      typeof error === 'object' &&
      ((error as Record<symbol, unknown>)[PAID_REGISTRATION] as { blobObjectId: ObjectId; cost: bigint })) ||
    null
  );
}

/** Reason of the error that ends an upload round when a node confirmed for a later epoch. */
const EPOCH_MOVED = 'EPOCH_MOVED';

/** Verified confirmations of one committee, ready to aggregate. */
interface Confirmations {
  readonly message: Uint8Array;
  readonly signatures: { member: number; signature: Uint8Array }[];
}

/** Stores `data` and resolves once it is certified (see `BlobStoreFlow`). */
export function storeBlob(data: Uint8Array, options: StoreBlobOptions): Promise<StoreResult> {
  if (options.encrypt)
    return withEncryptedInput(data, options.encrypt, options.tempDir, (path) => storeFile(path, { ...options, encrypt: undefined }));
  return new BlobStoreFlow(data, options).run();
}

/**
 * Stores the file at `path` with bounded memory, whatever its size: stream-encoded on the pool
 * into a temporary sliver directory (~4.5× the file on disk, removed when the uploads are done or
 * have failed), then uploaded from there. Resolves once certified (see `BlobStoreFlow`).
 */
export function storeFile(path: string, options: StoreBlobOptions): Promise<StoreResult> {
  if (options.encrypt)
    return withEncryptedInput({ path }, options.encrypt, options.tempDir, (p) => storeFile(p, { ...options, encrypt: undefined }));
  return new BlobStoreFlow({ path }, options).run();
}

/** The 32 bytes of a `0x…` object ID. */
export function objectIdBytes(id: ObjectId): Uint8Array {
  if (!/^0x[0-9a-f]{64}$/.test(id)) throw new TuskInputError(`malformed object ID ${id}`);
  return new Uint8Array(Buffer.from(id.slice(2), 'hex'));
}
