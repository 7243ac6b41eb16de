/**
 * Signed protocol messages (walrus-protocol.md §6.1). `ProtocolMessage<T>` BCS =
 * intent_type u8 ‖ intent_version u8 (0) ‖ app_id u8 (3) ‖ epoch u32 LE ‖ T.
 * Storage confirmation (intent 1): blob_id[32] ‖ BlobPersistenceType, where Permanent = 0x00 and
 * Deletable = 0x01 ‖ object_id[32] (40 or 72 bytes in all). Invalid-blob attestation (intent 2):
 * blob_id[32].
 */
import { TuskInputError } from '../errors.ts';

/** Intent types of Walrus protocol messages. */
export const IntentType = {
  ProofOfPossession: 0,
  BlobCertification: 1,
  InvalidBlobId: 2,
  SyncShard: 3,
  DenyListUpdate: 4,
  DenyListBlobDeleted: 5,
  ProtocolVersion: 6,
} as const;

export const INTENT_VERSION = 0;
/** Walrus's application id in every protocol message. */
export const APP_ID = 3;

/** A parsed protocol message header and its body (a view into the input). */
export interface ProtocolMessage {
  intentType: number;
  intentVersion: number;
  appId: number;
  epoch: number;
  body: Uint8Array;
}

/** BCS of ProtocolMessage<body> for `intentType` in `epoch`. */
export function protocolMessage(intentType: number, epoch: number, body: Uint8Array): Uint8Array {
  if (!Number.isInteger(epoch) || epoch < 0 || epoch > 0xffffffff) throw new TuskInputError(`epoch must be a u32, got ${epoch}`);
  const out = new Uint8Array(7 + body.length);
  out[0] = intentType;
  out[1] = INTENT_VERSION;
  out[2] = APP_ID;
  new DataView(out.buffer).setUint32(3, epoch, true);
  out.set(body, 7);
  return out;
}

/** Parses a protocol message header. @throws TuskInputError when too short or not Walrus's. */
export function parseProtocolMessage(bytes: Uint8Array): ProtocolMessage {
  if (bytes.length < 7) throw new TuskInputError('protocol message: truncated');
  const m = {
    intentType: bytes[0],
    intentVersion: bytes[1],
    appId: bytes[2],
    epoch: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(3, true),
    body: bytes.subarray(7),
  };
  if (m.intentVersion !== INTENT_VERSION || m.appId !== APP_ID) {
    throw new TuskInputError(`protocol message: unexpected intent version ${m.intentVersion} or app id ${m.appId}`);
  }
  return m;
}

/** How a certified blob persists: permanent, or deletable through its Blob object. */
export type BlobPersistence = { kind: 'permanent' } | { kind: 'deletable'; objectId: Uint8Array };

function check32(what: string, b: Uint8Array): void {
  if (b.length !== 32) throw new TuskInputError(`${what} must be 32 bytes, got ${b.length}`);
}

/** The message a storage node signs to confirm it stores every sliver of `blobId` it should. */
export function storageConfirmationMessage(epoch: number, blobId: Uint8Array, persistence: BlobPersistence): Uint8Array {
  check32('blob ID', blobId);
  const body = new Uint8Array(persistence.kind === 'permanent' ? 33 : 65);
  body.set(blobId);
  if (persistence.kind === 'deletable') {
    check32('object ID', persistence.objectId);
    body[32] = 1;
    body.set(persistence.objectId, 33);
  }
  return protocolMessage(IntentType.BlobCertification, epoch, body);
}

/** Parses a storage confirmation. @throws TuskInputError on a wrong intent or layout. */
export function parseStorageConfirmation(bytes: Uint8Array): { epoch: number; blobId: Uint8Array; persistence: BlobPersistence } {
  const m = parseProtocolMessage(bytes);
  if (m.intentType !== IntentType.BlobCertification) throw new TuskInputError(`not a storage confirmation (intent ${m.intentType})`);
  const b = m.body;
  if (b.length === 33 && b[32] === 0) return { epoch: m.epoch, blobId: b.slice(0, 32), persistence: { kind: 'permanent' } };
  if (b.length === 65 && b[32] === 1)
    return { epoch: m.epoch, blobId: b.slice(0, 32), persistence: { kind: 'deletable', objectId: b.slice(33) } };
  throw new TuskInputError('storage confirmation: malformed body');
}

/** The attestation a node signs after verifying an inconsistency proof for `blobId`. */
export function invalidBlobIdMessage(epoch: number, blobId: Uint8Array): Uint8Array {
  check32('blob ID', blobId);
  return protocolMessage(IntentType.InvalidBlobId, epoch, blobId);
}

/**
 * The proof-of-possession message a storage node signs with its BLS key at registration
 * (Move `messages::ProofOfPossessionMessage::to_bcs`): intent type 0 ‖ intent version 0 ‖
 * app id 3 ‖ epoch u32 LE ‖ the operator's 32-byte Sui address ‖ the 48-byte compressed BLS
 * public key (its bytes appended one by one, so no length prefix): 87 bytes in all. Binding the
 * sender's address stops a key registered by one operator from being replayed by another.
 * @param suiAddress `0x` + 64 hex digits, or its 32 bytes.
 * @throws TuskInputError for a malformed address or a key that is not 48 bytes.
 */
export function proofOfPossessionMessage(epoch: number, suiAddress: string | Uint8Array, blsPublicKey: Uint8Array): Uint8Array {
  let address: Uint8Array;
  if (typeof suiAddress === 'string') {
    if (!/^0x[0-9a-fA-F]{64}$/.test(suiAddress))
      throw new TuskInputError(`Sui address must be 0x + 64 hex digits, got ${JSON.stringify(suiAddress)}`);
    address = new Uint8Array(Buffer.from(suiAddress.slice(2), 'hex'));
  } else {
    address = suiAddress;
  }
  check32('Sui address', address);
  if (blsPublicKey.length !== 48) throw new TuskInputError(`BLS public key must be 48 bytes (compressed), got ${blsPublicKey.length}`);
  const body = new Uint8Array(80);
  body.set(address);
  body.set(blsPublicKey, 32);
  return protocolMessage(IntentType.ProofOfPossession, epoch, body);
}
