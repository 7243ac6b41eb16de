/**
 * `tusk/codec`: the RedStuff codec's parts below `encodeBlob`/`decodeBlob` — the encoding
 * configuration and schemes (RS2, RS8), slivers, metadata, blob IDs, verification, expansion,
 * recovery symbols and inconsistency proofs, Merkle proofs, the sliver-directory format, and the
 * task contract a custom runner implements. The simple tier is the package root (src/index.ts).
 */
export { EncodingConfig, ENCODING_TYPE_RS2, MAX_SYMBOL_SIZE, MIN_N_SHARDS, MAX_N_SHARDS, MAX_ENCODER_SHARDS } from '../codec/config.ts';
export { ENCODINGS, RS2, RS8, encodingByName, encodingByType } from '../codec/encodings/index.ts';
export type { EncodingName, EncodingScheme } from '../codec/encodings/index.ts';
export { SliverData, sliverPairToBcs } from '../codec/sliver.ts';
export type { SliverAxis, SliverPair } from '../codec/sliver.ts';
export { BlobMetadata, BlobMetadataWithId } from '../codec/metadata.ts';
export type { SliverPairHashes } from '../codec/metadata.ts';
export { deriveBlobId, blobIdRotation } from '../codec/blob-id.ts';
export type { ConsistencyCheck } from '../codec/decode.ts';
export { verifyMetadata, verifySlivers, metadataRootHash } from '../codec/verify.ts';
export { expandSlivers } from '../codec/expand.ts';
export {
  recoverySymbolsFrom,
  verifyRecoverySymbol,
  recoverSliver,
  verifyInconsistencyProof,
  orthogonal,
  recoverySymbolsToBcs,
  recoverySymbolsFromBcs,
  inconsistencyProofToBcs,
  inconsistencyProofFromBcs,
} from '../codec/recovery.ts';
export type { RecoverySymbol, InconsistencyProof, RecoveryResult } from '../codec/recovery.ts';
export { merkleProof, verifyMerkleProof, merkleProofToBcs, merkleProofFromBcs } from '../codec/merkle.ts';
export type { MerkleNode } from '../codec/merkle.ts';
export type { TaskRunner } from '../codec/tasks.ts';
export { defaultPool } from '../pool/codec-pool.ts';
export { writeSliverDirectory, readSliverDirectory, blobSummary } from '../stream/sliver-dir.ts';
export type { SliverDirectory, BlobSummary } from '../stream/sliver-dir.ts';
