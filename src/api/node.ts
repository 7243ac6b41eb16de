/**
 * `tusk/node`: storage nodes and the protocol between them and clients — starting a node, the
 * REST API client and wire types (src/node-api/), which node holds which sliver (placement), the
 * signed protocol messages, certificates and BLS keys.
 */
export { startStorageNode } from '../node/node.ts';
export type { StorageNodeOptions, StorageNodeHandle } from '../node/node.ts';
export { StorageNodeClient } from '../node-api/client.ts';
export type { StorageNodeClientOptions } from '../node-api/client.ts';
export type { StoredOnNodeStatus, SignedNodeMessage, ConfirmationKind, NodeBlobStatus } from '../node-api/wire.ts';
export { placeBlob, pairForShard, shardForPair } from '../protocol/placement.ts';
export {
  IntentType,
  INTENT_VERSION,
  APP_ID,
  protocolMessage,
  parseProtocolMessage,
  storageConfirmationMessage,
  parseStorageConfirmation,
  invalidBlobIdMessage,
  proofOfPossessionMessage,
} from '../protocol/messages.ts';
export type { ProtocolMessage, BlobPersistence } from '../protocol/messages.ts';
export {
  isQuorum,
  isAboveValidity,
  signersBitmap,
  bitmapSigners,
  aggregateCertificate,
  verifyCertificate,
  certificateToBcs,
} from '../protocol/certificate.ts';
export type { Committee, CommitteeMember, Certificate, CertificateThreshold } from '../protocol/certificate.ts';
export {
  generateBlsKeyPair,
  blsPublicKey,
  blsPublicKeyUncompressed,
  blsSign,
  blsVerify,
  blsAggregateSignatures,
  blsAggregatePublicKeys,
} from '../crypto/bls.ts';
export type { BlsKeyPair } from '../crypto/bls.ts';
