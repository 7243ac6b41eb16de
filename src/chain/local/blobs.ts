/**
 * The `walrus::system` calls of the local chain: WAL transfers, storage reservation, blob
 * registration, certification, extension, deletion, burning, invalid-blob IDs, attributes, and
 * the storage-resource and transfer operations. Each function mirrors the Move entry point's
 * checks in the same order (system_state_inner.move, blob.move, storage_resource.move,
 * messages.move, bls_aggregate.move) and aborts with the Move constant's name as the code.
 *
 * Every function runs inside the call's SQLite transaction; an abort rolls all of it back, so
 * the order of writes within a function does not matter for atomicity, only for clarity.
 */
import { ChainAbortError, CertificateError, TuskInputError } from '../../errors.ts';
import { deriveBlobId } from '../../codec/blob-id.ts';
import { equalBytes } from '../../util/bytes.ts';
import { EncodingConfig, ENCODING_TYPE_RS2 } from '../../codec/config.ts';
import { ENCODINGS, RS8 } from '../../codec/encodings/index.ts';
import { APP_ID, INTENT_VERSION, IntentType } from '../../protocol/messages.ts';
import { bitmapSigners, isAboveValidity, isQuorum, verifyCertificate, type CertificateThreshold } from '../../protocol/certificate.ts';
import { storageUnits, type BlobObject, type StorageResource } from '../types.ts';
import { argAddress, argAmount, argBool, argBytes, argString, argUint, notFound, requireOwner, type ExecContext } from './context.ts';

/** Storage units of `bytes` for pricing: ⌈bytes / 1 MiB⌉ (Move `storage_units_from_size`). */
export { storageUnits } from '../types.ts';

/**
 * Move `encoding::encoded_blob_length`, computed with the codec's EncodingConfig for the system's
 * n_shards. Walrus accepts RS2 only; Tusk's chain also prices RS8 (encoding type 127, a Tusk
 * extension) from RS8's own encoded length, on committees RS8 can serve (≤ 195 shards). Any other
 * type, or RS8 on a larger committee, aborts with `EInvalidEncodingType`.
 */
export function encodedBlobLength(size: number, encodingType: number, nShards: number): number {
  const scheme = ENCODINGS.find((e) => e.typeByte === encodingType);
  if (!scheme) {
    throw new ChainAbortError(
      'EInvalidEncodingType',
      `encoding type ${encodingType} is not supported (RS2 = ${ENCODING_TYPE_RS2}, RS8 = ${RS8.typeByte})`,
    );
  }
  if (nShards > scheme.maxShards || nShards < scheme.minShards) {
    throw new ChainAbortError(
      'EInvalidEncodingType',
      `${scheme.name} cannot encode for this committee of ${nShards} shards (it supports ${scheme.minShards}…${scheme.maxShards})`,
    );
  }
  const config = new EncodingConfig(nShards, scheme);
  // Above the largest encodable blob no storage can hold it; say so instead of a codec error.
  if (size > config.maxBlobSize)
    throw new ChainAbortError('EResourceSize', `blob of ${size} bytes exceeds the maximum ${config.maxBlobSize} for ${nShards} shards`);
  return config.encodedBlobLength(size);
}

// --- WAL -----------------------------------------------------------------------------------------

/** Moves `amount` FROST from the sender to `recipient` (`EInsufficientFunds` when short). */
export function transferWal(ctx: ExecContext, args: Readonly<Record<string, unknown>>): object {
  const recipient = argAddress(args, 'recipient');
  const amount = argAmount(args, 'amount');
  ctx.store.debit(ctx.sender, amount, 'transfer');
  ctx.store.credit(recipient, amount);
  return {};
}

// --- storage -------------------------------------------------------------------------------------

/**
 * Pays `storage price × units(size)` into the accounting of each epoch offset in [start, end)
 * (Move `process_storage_payments`). Aborts `EInsufficientFunds` if the sender cannot pay it all.
 */
function payStorage(ctx: ExecContext, size: number, startOffset: number, endOffset: number): void {
  const perEpoch = ctx.meta.storagePrice * storageUnits(size);
  ctx.store.debit(ctx.sender, perEpoch * BigInt(endOffset - startOffset), 'storage');
  for (let i = startOffset; i < endOffset; i++) {
    const e = ctx.meta.epoch + i;
    const a = ctx.store.accounting(e);
    ctx.store.setAccounting(e, { usedCapacity: a.usedCapacity, rewards: a.rewards + perEpoch });
  }
}

/** Adds `size` to the used capacity of each epoch offset in [start, end); `EStorageExceeded` past capacity. */
function useCapacity(ctx: ExecContext, size: number, startOffset: number, endOffset: number): void {
  for (let i = startOffset; i < endOffset; i++) {
    const e = ctx.meta.epoch + i;
    const a = ctx.store.accounting(e);
    const used = a.usedCapacity + size;
    if (used > ctx.meta.totalCapacity) {
      throw new ChainAbortError('EStorageExceeded', `epoch ${e} would use ${used} of ${ctx.meta.totalCapacity} bytes of capacity`);
    }
    ctx.store.setAccounting(e, { usedCapacity: used, rewards: a.rewards });
  }
}

/** `reserve_space(size, epochs_ahead)`: a new Storage of the sender for [epoch, epoch + epochsAhead). */
export function reserveSpace(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { storage: StorageResource } {
  return { storage: reserve(ctx, argUint(args, 'size'), argUint(args, 'epochsAhead', 0xffffffff)) };
}

function reserve(ctx: ExecContext, size: number, epochsAhead: number): StorageResource {
  if (epochsAhead === 0 || epochsAhead > ctx.meta.maxEpochsAhead) {
    throw new ChainAbortError('EInvalidEpochsAhead', `epochs ahead must be in 1…${ctx.meta.maxEpochsAhead}, got ${epochsAhead}`);
  }
  payStorage(ctx, size, 0, epochsAhead);
  if (size <= 0) throw new ChainAbortError('EInvalidResourceSize', 'storage size must be positive');
  useCapacity(ctx, size, 0, epochsAhead);
  const storage: StorageResource = {
    id: ctx.newId(),
    owner: ctx.sender,
    startEpoch: ctx.meta.epoch,
    endEpoch: ctx.meta.epoch + epochsAhead,
    storageSize: size,
  };
  ctx.store.putStorage(storage);
  return storage;
}

/** `register_blob`: consumes a Storage of the sender (or reserves one now) and pays the write price. */
export function registerBlob(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { blob: BlobObject; storage?: StorageResource } {
  const blobId = argBytes(args, 'blobId', 32);
  const rootHash = argBytes(args, 'rootHash', 32);
  const size = argUint(args, 'size');
  const encodingType = argUint(args, 'encodingType', 255);
  const deletable = argBool(args, 'deletable');
  const s = args.storage;
  let storage: StorageResource;
  if (typeof s === 'string') {
    storage = ownedStorage(ctx, args, 'storage');
  } else if (s !== null && typeof s === 'object' && !(s instanceof Uint8Array)) {
    const o = s as Record<string, unknown>;
    storage = reserve(ctx, argUint(o, 'size'), argUint(o, 'epochsAhead', 0xffffffff));
  } else {
    throw new TuskInputError('argument storage must be a Storage object ID or { size, epochsAhead }');
  }

  // blob::new, in Move's order.
  const epoch = ctx.meta.epoch;
  if (epoch < storage.startEpoch || epoch >= storage.endEpoch) {
    throw new ChainAbortError(
      'EResourceBounds',
      `storage covers epochs ${storage.startEpoch}…${storage.endEpoch - 1}, not the current epoch ${epoch}`,
    );
  }
  const encodedSize = encodedBlobLength(size, encodingType, ctx.meta.nShards);
  if (encodedSize > storage.storageSize) {
    throw new ChainAbortError('EResourceSize', `encoded blob length ${encodedSize} exceeds the storage size ${storage.storageSize}`);
  }
  if (!equalBytes(deriveBlobId(encodingType, size, rootHash), blobId)) {
    throw new ChainAbortError('EInvalidBlobId', 'blob ID is not derived from (encoding type, size, root hash)');
  }
  const blob: BlobObject = {
    id: ctx.newId(),
    owner: ctx.sender,
    registeredEpoch: epoch,
    blobId: blobId.slice(),
    rootHash: rootHash.slice(),
    size,
    encodingType,
    certifiedEpoch: null,
    storage: { id: storage.id, startEpoch: storage.startEpoch, endEpoch: storage.endEpoch, storageSize: storage.storageSize },
    deletable,
    attributes: {},
  };
  ctx.emit({
    type: 'BlobRegistered',
    epoch,
    blobId: blob.blobId,
    size,
    encodingType,
    endEpoch: storage.endEpoch,
    deletable,
    objectId: blob.id,
  });

  // The write price is paid into the current epoch's rewards (system_state_inner::register_blob).
  const writeCost = ctx.meta.writePrice * storageUnits(encodedSize);
  ctx.store.debit(ctx.sender, writeCost, 'write');
  const a = ctx.store.accounting(epoch);
  ctx.store.setAccounting(epoch, { usedCapacity: a.usedCapacity, rewards: a.rewards + writeCost });

  ctx.store.deleteStorage(storage.id);
  ctx.store.putBlob(blob);
  return { blob };
}

/** Most entries of one `registerBlobs` / `certifyBlobs` call. */
export const MAX_BATCH_ENTRIES = 256;

/** The `blobs` / `certificates` array argument of a batched call: 1…MAX_BATCH_ENTRIES objects. */
function batchEntries(args: Readonly<Record<string, unknown>>, name: string): Readonly<Record<string, unknown>>[] {
  const list = args[name];
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BATCH_ENTRIES)
    throw new TuskInputError(`argument ${name} must be an array of 1…${MAX_BATCH_ENTRIES} entries`);
  for (const e of list)
    if (e === null || typeof e !== 'object' || Array.isArray(e) || e instanceof Uint8Array)
      throw new TuskInputError(`every entry of ${name} must be an object`);
  return list as Readonly<Record<string, unknown>>[];
}

/** Runs `fn` for entry `i`; an abort names the entry (same code and retryability). */
function inEntry<T>(i: number, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ChainAbortError)
      throw new ChainAbortError(e.code, `entry ${i}: ${e.message.slice(e.code.length + 2)}`, { retryable: e.retryable });
    if (e instanceof TuskInputError) throw new TuskInputError(`entry ${i}: ${e.message}`);
    throw e;
  }
}

/**
 * `registerBlobs`: many `register_blob` calls in one transaction (what Walrus does with several
 * register_blob commands in one PTB; a Tusk call, not a Move entry point). Each entry is exactly
 * `registerBlob`'s arguments and is checked and paid in order; any abort rolls back the whole
 * transaction and names the entry.
 */
export function registerBlobs(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { blobs: BlobObject[] } {
  return { blobs: batchEntries(args, 'blobs').map((e, i) => inEntry(i, () => registerBlob(ctx, e).blob)) };
}

// --- certificates --------------------------------------------------------------------------------

/** A verified certificate's header and body. */
interface CertifiedMessage {
  intentType: number;
  epoch: number;
  body: Uint8Array;
}

/**
 * Verifies a certificate against the current committee as bls_aggregate.move and messages.move do:
 * bitmap (`EInvalidBitmap`), signer weight (`ENotEnoughStake`), aggregate signature
 * (`ESigVerification`), then the header: intent version (`EIncorrectIntentVersion`), app ID
 * (`EIncorrectAppId`), epoch = committee epoch (`EIncorrectEpoch`, retryable when the message is
 * from an earlier epoch: collect new signatures).
 * @post the returned `epoch` is the current epoch (the committee checked against is the current one).
 */
function verifyCommitteeCertificate(
  ctx: ExecContext,
  args: Readonly<Record<string, unknown>>,
  threshold: CertificateThreshold,
): CertifiedMessage {
  const signature = argBytes(args, 'signature');
  const bitmap = argBytes(args, 'signersBitmap');
  const message = argBytes(args, 'message');
  const committee = ctx.store.committee(ctx.meta.epoch, ctx.meta.nShards)!;
  if (committee.members.length === 0) {
    throw new ChainAbortError('ENoCommittee', `epoch ${ctx.meta.epoch} has no committee (advance to an epoch with staked nodes first)`);
  }
  let signers: number[];
  try {
    signers = bitmapSigners(bitmap, committee.members.length);
  } catch (e) {
    throw new ChainAbortError('EInvalidBitmap', (e as Error).message);
  }
  const weight = signers.reduce((s, i) => s + committee.members[i].weight, 0);
  const enough = threshold === 'quorum' ? isQuorum(weight, committee.nShards) : isAboveValidity(weight, committee.nShards);
  if (!enough)
    throw new ChainAbortError(
      'ENotEnoughStake',
      `signers hold ${weight} of ${committee.nShards} shards: not ${threshold === 'quorum' ? 'a quorum' : 'above validity'}`,
    );
  const members = committee.members.map((m) => ({ publicKey: m.publicKey, weight: m.weight }));
  try {
    verifyCertificate({ epoch: committee.epoch, nShards: committee.nShards, members }, signature, bitmap, message, threshold);
  } catch (e) {
    if (e instanceof CertificateError || e instanceof TuskInputError) throw new ChainAbortError('ESigVerification', (e as Error).message);
    throw e;
  }
  if (message.length < 7) throw new ChainAbortError('EMalformedMessage', 'certified message is shorter than its header');
  if (message[1] !== INTENT_VERSION) throw new ChainAbortError('EIncorrectIntentVersion', `intent version ${message[1]}`);
  if (message[2] !== APP_ID) throw new ChainAbortError('EIncorrectAppId', `app ID ${message[2]}`);
  const epoch = new DataView(message.buffer, message.byteOffset, message.byteLength).getUint32(3, true);
  if (epoch !== committee.epoch) {
    throw new ChainAbortError('EIncorrectEpoch', `message is for epoch ${epoch}, the committee's is ${committee.epoch}`, {
      retryable: epoch < committee.epoch,
    });
  }
  return { intentType: message[0], epoch, body: message.subarray(7) };
}

/** `certify_blob`: a quorum's storage confirmation of the current epoch for the sender's blob. */
export function certifyBlob(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { blob: BlobObject } {
  const blob = ownedBlob(ctx, args);
  // No separate epoch check here: verifyCommitteeCertificate already requires the message epoch to
  // be the current committee's (EIncorrectEpoch), so m.epoch === ctx.meta.epoch from here on.
  const m = verifyCommitteeCertificate(ctx, args, 'quorum');
  if (m.intentType !== IntentType.BlobCertification)
    throw new ChainAbortError('EInvalidMsgType', `intent type ${m.intentType} is not BLOB_CERT`);
  if (m.body.length < 33) throw new ChainAbortError('EMalformedMessage', 'storage confirmation body is truncated');
  const persistence = m.body[32];
  let objectId: string | null = null;
  if (persistence === 1) {
    if (m.body.length < 65) throw new ChainAbortError('EMalformedMessage', 'deletable confirmation lacks the object ID');
    objectId = '0x' + Buffer.from(m.body.subarray(33, 65)).toString('hex');
  } else if (persistence !== 0) {
    throw new ChainAbortError('EInvalidBlobPersistenceType', `unknown persistence type ${persistence}`);
  }
  // blob::certify_with_certified_msg, in Move's order.
  if (!equalBytes(m.body.subarray(0, 32), blob.blobId))
    throw new ChainAbortError('EInvalidBlobId', 'the certificate is for another blob ID');
  if (blob.certifiedEpoch !== null)
    throw new ChainAbortError('EAlreadyCertified', `blob ${blob.id} was certified in epoch ${blob.certifiedEpoch}`);
  if (ctx.meta.epoch >= blob.storage.endEpoch)
    throw new ChainAbortError('EResourceBounds', `blob ${blob.id} expired at epoch ${blob.storage.endEpoch}`);
  if (blob.deletable !== (persistence === 1)) {
    throw new ChainAbortError(
      'EInvalidBlobPersistenceType',
      `blob is ${blob.deletable ? 'deletable' : 'permanent'}, the certificate says ${persistence === 1 ? 'deletable' : 'permanent'}`,
    );
  }
  if (blob.deletable && objectId !== blob.id)
    throw new ChainAbortError('EInvalidBlobObject', `certificate names object ${objectId}, not ${blob.id}`);
  const certified: BlobObject = { ...blob, certifiedEpoch: ctx.meta.epoch };
  ctx.store.putBlob(certified);
  emitCertified(ctx, certified, false);
  return { blob: certified };
}

/**
 * `certifyBlobs`: many `certify_blob` calls in one transaction (several certify_blob commands in
 * one PTB on Walrus). Each entry is `certifyBlob`'s arguments (`blobObjectId`, `signature`,
 * `signersBitmap`, `message`), checked in order; any abort rolls back all of them and names the entry.
 */
export function certifyBlobs(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { blobs: BlobObject[] } {
  return { blobs: batchEntries(args, 'certificates').map((e, i) => inEntry(i, () => certifyBlob(ctx, e).blob)) };
}

function emitCertified(ctx: ExecContext, blob: BlobObject, isExtension: boolean): void {
  // Like Move, extensions report the original certification epoch (the committee holding it).
  ctx.emit({
    type: 'BlobCertified',
    epoch: blob.certifiedEpoch!,
    blobId: blob.blobId,
    endEpoch: blob.storage.endEpoch,
    deletable: blob.deletable,
    objectId: blob.id,
    isExtension,
  });
}

/** `invalidate_blob_id`: a certificate above validity over an invalid-blob-ID attestation. */
export function invalidateBlobId(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { blobId: Uint8Array } {
  const m = verifyCommitteeCertificate(ctx, args, 'validity');
  if (m.intentType !== IntentType.InvalidBlobId)
    throw new ChainAbortError('EInvalidMsgType', `intent type ${m.intentType} is not INVALID_BLOB_ID`);
  if (m.body.length < 32) throw new ChainAbortError('EMalformedMessage', 'invalid-blob-ID body is truncated');
  const blobId = m.body.slice(0, 32);
  // Move's invalidate_blob_id also asserts EInvalidIdEpoch (epoch = current); here that can never
  // fire, because verifyCommitteeCertificate verified against the current committee and already
  // refused any other message epoch with EIncorrectEpoch (as Move's verify_*_in_epoch does first).
  ctx.emit({ type: 'InvalidBlobID', epoch: m.epoch, blobId });
  // Storage challenges skip it from now on (nodes may drop an invalid blob's slivers).
  ctx.store.q('INSERT OR IGNORE INTO invalid_blob_ids(blob_id) VALUES (?)').run(blobId);
  return { blobId };
}

// --- blob lifetime ---------------------------------------------------------------------------------

function ownedBlob(ctx: ExecContext, args: Readonly<Record<string, unknown>>): BlobObject {
  const id = argAddress(args, 'blobObjectId');
  const blob = ctx.store.getBlob(id);
  if (!blob) notFound('Blob', id);
  requireOwner(ctx, blob.owner, `Blob ${id}`);
  return blob;
}

function ownedStorage(ctx: ExecContext, args: Readonly<Record<string, unknown>>, name: string): StorageResource {
  const id = argAddress(args, name);
  const s = ctx.store.getStorage(id);
  if (!s) notFound('Storage', id);
  requireOwner(ctx, s.owner, `Storage ${id}`);
  return s;
}

function assertCertifiedNotExpired(ctx: ExecContext, blob: BlobObject): void {
  if (blob.certifiedEpoch === null) throw new ChainAbortError('ENotCertified', `blob ${blob.id} is not certified`);
  if (ctx.meta.epoch >= blob.storage.endEpoch)
    throw new ChainAbortError('EResourceBounds', `blob ${blob.id} expired at epoch ${blob.storage.endEpoch}`);
}

/** `extend_blob`: pays storage for `epochs` more epochs of the blob's storage size. */
export function extendBlob(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { blob: BlobObject } {
  const blob = ownedBlob(ctx, args);
  const epochs = argUint(args, 'epochs', 0xffffffff);
  assertCertifiedNotExpired(ctx, blob);
  const startOffset = blob.storage.endEpoch - ctx.meta.epoch;
  const endOffset = startOffset + epochs;
  if (epochs === 0 || endOffset > ctx.meta.maxEpochsAhead) {
    throw new ChainAbortError(
      'EInvalidEpochsAhead',
      `extension to epoch ${ctx.meta.epoch + endOffset} exceeds ${ctx.meta.maxEpochsAhead} epochs ahead (or is empty)`,
    );
  }
  payStorage(ctx, blob.storage.storageSize, startOffset, endOffset);
  useCapacity(ctx, blob.storage.storageSize, startOffset, endOffset);
  const extended: BlobObject = { ...blob, storage: { ...blob.storage, endEpoch: blob.storage.endEpoch + epochs } };
  ctx.store.putBlob(extended);
  emitCertified(ctx, extended, true);
  return { blob: extended };
}

/** `extend_blob_with_resource`: fuses an adjacent Storage of the same size onto the blob's. */
export function extendBlobWithResource(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { blob: BlobObject } {
  const blob = ownedBlob(ctx, args);
  const ext = ownedStorage(ctx, args, 'storageId');
  assertCertifiedNotExpired(ctx, blob);
  if (ext.endEpoch <= blob.storage.endEpoch)
    throw new ChainAbortError('EResourceBounds', `extension ends at ${ext.endEpoch}, not after the blob's end ${blob.storage.endEpoch}`);
  // storage_resource::fuse_periods.
  if (ext.storageSize !== blob.storage.storageSize)
    throw new ChainAbortError(
      'EIncompatibleAmount',
      `extension has ${ext.storageSize} bytes, the blob's storage ${blob.storage.storageSize}`,
    );
  if (blob.storage.endEpoch !== ext.startEpoch)
    throw new ChainAbortError(
      'EIncompatibleEpochs',
      `extension starts at ${ext.startEpoch}, the blob's storage ends at ${blob.storage.endEpoch}`,
    );
  ctx.store.deleteStorage(ext.id);
  const extended: BlobObject = { ...blob, storage: { ...blob.storage, endEpoch: ext.endEpoch } };
  ctx.store.putBlob(extended);
  emitCertified(ctx, extended, true);
  return { blob: extended };
}

/** `delete_blob`: deletable, unexpired blobs only; the Storage goes back to the sender. */
export function deleteBlob(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { storage: StorageResource } {
  const blob = ownedBlob(ctx, args);
  if (!blob.deletable) throw new ChainAbortError('EBlobNotDeletable', `blob ${blob.id} is permanent`);
  if (blob.storage.endEpoch <= ctx.meta.epoch)
    throw new ChainAbortError('EResourceBounds', `blob ${blob.id} expired at epoch ${blob.storage.endEpoch}`);
  ctx.store.deleteBlob(blob.id);
  const storage: StorageResource = { ...blob.storage, owner: ctx.sender };
  ctx.store.putStorage(storage);
  ctx.emit({
    type: 'BlobDeleted',
    epoch: ctx.meta.epoch,
    blobId: blob.blobId,
    endEpoch: blob.storage.endEpoch,
    objectId: blob.id,
    wasCertified: blob.certifiedEpoch !== null,
  });
  return { storage };
}

/** `blob::burn`: destroys the Blob and its storage (no refund, no event). */
export function burnBlob(ctx: ExecContext, args: Readonly<Record<string, unknown>>): object {
  const blob = ownedBlob(ctx, args);
  ctx.store.deleteBlob(blob.id);
  return {};
}

/** `insert_or_update_metadata_pair`. */
export function setBlobAttribute(ctx: ExecContext, args: Readonly<Record<string, unknown>>): object {
  const blob = ownedBlob(ctx, args);
  const key = argString(args, 'key');
  const value = argString(args, 'value');
  const entries = new Map(Object.entries(blob.attributes));
  entries.set(key, value);
  ctx.store.putBlob({ ...blob, attributes: Object.fromEntries(entries) });
  return {};
}

/** `remove_metadata_pair`: `EMissingMetadata` without attributes, `EKeyDoesNotExist` without the key. */
export function removeBlobAttribute(ctx: ExecContext, args: Readonly<Record<string, unknown>>): object {
  const blob = ownedBlob(ctx, args);
  const key = argString(args, 'key');
  const entries = new Map(Object.entries(blob.attributes));
  if (entries.size === 0) throw new ChainAbortError('EMissingMetadata', `blob ${blob.id} has no attributes`);
  if (!entries.delete(key)) throw new ChainAbortError('EKeyDoesNotExist', `blob ${blob.id} has no attribute ${JSON.stringify(key)}`);
  ctx.store.putBlob({ ...blob, attributes: Object.fromEntries(entries) });
  return {};
}

// --- storage resources -----------------------------------------------------------------------------

/** `split_by_size`: the sender keeps `storageId` with `size` bytes and receives the rest as a new Storage. */
export function splitStorage(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { storage: StorageResource } {
  const s = ownedStorage(ctx, args, 'storageId');
  const size = argUint(args, 'size');
  if (size > s.storageSize) throw new ChainAbortError('EIncompatibleAmount', `cannot split ${size} bytes off ${s.storageSize}`);
  ctx.store.putStorage({ ...s, storageSize: size });
  const rest: StorageResource = {
    id: ctx.newId(),
    owner: ctx.sender,
    startEpoch: s.startEpoch,
    endEpoch: s.endEpoch,
    storageSize: s.storageSize - size,
  };
  ctx.store.putStorage(rest);
  return { storage: rest };
}

/** `split_by_epoch`: the sender keeps [start, splitEpoch) and receives [splitEpoch, end) as a new Storage. */
export function splitStorageByEpoch(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { storage: StorageResource } {
  const s = ownedStorage(ctx, args, 'storageId');
  const at = argUint(args, 'splitEpoch', 0xffffffff);
  if (!(at > s.startEpoch && at < s.endEpoch))
    throw new ChainAbortError('EInvalidEpoch', `split epoch ${at} is not strictly inside ${s.startEpoch}…${s.endEpoch}`);
  ctx.store.putStorage({ ...s, endEpoch: at });
  const later: StorageResource = { id: ctx.newId(), owner: ctx.sender, startEpoch: at, endEpoch: s.endEpoch, storageSize: s.storageSize };
  ctx.store.putStorage(later);
  return { storage: later };
}

/** `storage_resource::fuse`: same start → sizes add (same end required); else adjacent periods of equal size. */
export function fuseStorage(ctx: ExecContext, args: Readonly<Record<string, unknown>>): { storage: StorageResource } {
  const a = ownedStorage(ctx, args, 'first');
  const b = ownedStorage(ctx, args, 'second');
  if (a.id === b.id) throw new TuskInputError('cannot fuse a Storage with itself');
  let fused: StorageResource;
  if (a.startEpoch === b.startEpoch) {
    if (a.endEpoch !== b.endEpoch)
      throw new ChainAbortError('EIncompatibleEpochs', 'resources of the same start must have the same end to fuse their sizes');
    fused = { ...a, storageSize: a.storageSize + b.storageSize };
  } else {
    if (a.storageSize !== b.storageSize)
      throw new ChainAbortError('EIncompatibleAmount', `sizes ${a.storageSize} and ${b.storageSize} differ`);
    if (a.endEpoch === b.startEpoch) fused = { ...a, endEpoch: b.endEpoch };
    else if (a.startEpoch === b.endEpoch) fused = { ...a, startEpoch: b.startEpoch };
    else
      throw new ChainAbortError(
        'EIncompatibleEpochs',
        `periods ${a.startEpoch}…${a.endEpoch} and ${b.startEpoch}…${b.endEpoch} are not adjacent`,
      );
  }
  ctx.store.deleteStorage(b.id);
  ctx.store.putStorage(fused);
  return { storage: fused };
}

/** `transfer::public_transfer` of a Blob, Storage or StakedWal the sender owns. */
export function transferObject(ctx: ExecContext, args: Readonly<Record<string, unknown>>): object {
  const id = argAddress(args, 'objectId');
  const recipient = argAddress(args, 'recipient');
  const blob = ctx.store.getBlob(id);
  if (blob) {
    requireOwner(ctx, blob.owner, `Blob ${id}`);
    ctx.store.putBlob({ ...blob, owner: recipient });
    return {};
  }
  const storage = ctx.store.getStorage(id);
  if (storage) {
    requireOwner(ctx, storage.owner, `Storage ${id}`);
    ctx.store.putStorage({ ...storage, owner: recipient });
    return {};
  }
  const staked = ctx.store.getStakedWal(id);
  if (staked) {
    requireOwner(ctx, staked.owner, `StakedWal ${id}`);
    ctx.store.putStakedWal({ ...staked, owner: recipient });
    return {};
  }
  notFound('transferable object', id);
}
