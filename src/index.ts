/**
 * Tusk's library entry point: the RedStuff codec (RS2, byte-compatible with Walrus; RS8 for small
 * private committees), the codec worker pool, and streaming encode/decode.
 */
export { encodeBlob, computeBlobMetadata } from './codec/encode.ts';
export type { EncodeOptions, EncodedBlob, EncodedMetadata } from './codec/encode.ts';
export { EncodingConfig, ENCODING_TYPE_RS2, MAX_SYMBOL_SIZE, MIN_N_SHARDS, MAX_N_SHARDS, MAX_ENCODER_SHARDS } from './codec/config.ts';
export { SliverData, sliverPairToBcs } from './codec/sliver.ts';
export type { SliverAxis, SliverPair } from './codec/sliver.ts';
export { BlobMetadata, BlobMetadataWithId } from './codec/metadata.ts';
export type { SliverPairHashes } from './codec/metadata.ts';
export { deriveBlobId, blobIdToString, blobIdFromString, blobIdRotation } from './codec/blob-id.ts';
export type { BlobId } from './codec/blob-id.ts';
export { encodeRecoveryShards, supportsCounts } from './rs/reed-solomon.ts';
export { WasmKernel, defaultKernel } from './wasm/kernel.ts';
export type { KernelFlavor } from './wasm/kernel.ts';
export { TuskError, TuskInputError, BlobTooLargeError } from './errors.ts';
export { decodeBlob } from './codec/decode.ts';
export type { DecodeOptions, ConsistencyCheck } from './codec/decode.ts';
export { verifyMetadata, verifySlivers, metadataRootHash } from './codec/verify.ts';
export { expandSlivers } from './codec/expand.ts';
export { writeSliverDirectory, readSliverDirectory, blobSummary } from './stream/sliver-dir.ts';
export type { SliverDirectory, BlobSummary } from './stream/sliver-dir.ts';
export { MetadataVerificationError, SliverVerificationError, NotEnoughSliversError, NotEnoughSymbolsError, InconsistentBlobError } from './errors.ts';
export {
  recoverySymbolsFrom, verifyRecoverySymbol, recoverSliver, verifyInconsistencyProof, orthogonal,
  recoverySymbolsToBcs, recoverySymbolsFromBcs, inconsistencyProofToBcs, inconsistencyProofFromBcs,
} from './codec/recovery.ts';
export type { RecoverySymbol, InconsistencyProof, RecoveryResult } from './codec/recovery.ts';
export { merkleProof, verifyMerkleProof, merkleProofToBcs, merkleProofFromBcs } from './codec/merkle.ts';
export type { MerkleNode } from './codec/merkle.ts';
export { encodeBlobAsync, computeBlobMetadataAsync } from './pool/async-codec.ts';
export type { EncodeAsyncOptions } from './pool/async-codec.ts';
export type { TaskRunner } from './codec/tasks.ts';
export { CodecPool, defaultPool } from './pool/codec-pool.ts';
export type { CodecPoolOptions } from './pool/codec-pool.ts';
export { ENCODINGS, RS2, RS8, encodingByName, encodingByType } from './codec/encodings/index.ts';
export type { EncodingName, EncodingScheme } from './codec/encodings/index.ts';
export { encodeStream } from './stream/encode-stream.ts';
export type { StreamEncodeOptions, EncodeProgress } from './stream/encode-stream.ts';
export { callbackSink } from './stream/sink.ts';
export { directorySink } from './stream/sliver-dir.ts';
export type { SliverSink } from './stream/sink.ts';
export type { DirectorySinkOptions } from './stream/sliver-dir.ts';
export type { BlobInput } from './stream/source.ts';
export { decodeDirectory } from './stream/decode-stream.ts';
export type { StreamDecodeOptions, DecodeProgress, DecodeDirectoryResult } from './stream/decode-stream.ts';
export { generateBlsKeyPair, blsPublicKey, blsPublicKeyUncompressed, blsSign, blsVerify, blsAggregateSignatures, blsAggregatePublicKeys } from './crypto/bls.ts';
export type { BlsKeyPair } from './crypto/bls.ts';
export { IntentType, INTENT_VERSION, APP_ID, protocolMessage, parseProtocolMessage, storageConfirmationMessage, parseStorageConfirmation, invalidBlobIdMessage } from './protocol/messages.ts';
export type { ProtocolMessage, BlobPersistence } from './protocol/messages.ts';
export { isQuorum, isAboveValidity, signersBitmap, bitmapSigners, aggregateCertificate, verifyCertificate, certificateToBcs } from './protocol/certificate.ts';
export type { Committee, CommitteeMember, Certificate, CertificateThreshold } from './protocol/certificate.ts';
export { CertificateError } from './errors.ts';

// --- the chain (src/chain/): the `Chain` interface, the embedded local chain, its server and client
export type {
  Address, ObjectId, Chain, DevChain, SystemState, CommitteeInfo, CommitteeNode, EpochState, StorageResource, BlobObject, StakedWal,
  StorageNodeInfo, ChainEvent, ChainEventEnvelope, EventCursor, EventPage, EventQueryOptions, TxEffects, ReserveSpaceOptions,
  RegisterBlobOptions, CertificateOptions, RegisterNodeOptions, UpdateNodeOptions, OwnedObject, ShardMove,
} from './chain/types.ts';
export { FROST_PER_WAL, BYTES_PER_UNIT_SIZE } from './chain/types.ts';
export { LocalChain } from './chain/local/index.ts';
export type { LocalChainOptions } from './chain/local/index.ts';
export { RemoteChain } from './chain/remote/client.ts';
export type { RemoteChainOptions } from './chain/remote/client.ts';
export { startChainServer } from './chain/remote/server.ts';
export type { ChainServerOptions, ChainServer } from './chain/remote/server.ts';
export { signTransaction, verifyTransaction, transactionDigest } from './chain/transaction.ts';
export type { SignedTransaction, TransactionData } from './chain/transaction.ts';
export { ChainAbortError, ChainUnavailableError, StorageNodeError, NotEnoughConfirmationsError } from './errors.ts';
export { proofOfPossessionMessage } from './protocol/messages.ts';

// --- storage nodes (src/node/)
export { startStorageNode } from './node/node.ts';
export type { StorageNodeOptions, StorageNodeHandle } from './node/node.ts';

// --- the client (src/client/): store and read through a network
export { storeBlob, storeFile, BlobStoreFlow, storageCost } from './client/store.ts';
export type { StoreBlobOptions, StoreProgress, StoreResult, UploadSummary } from './client/store.ts';
export { readBlob, readBlobToFile } from './client/read.ts';
export type { ReadBlobOptions, ReadProgress, ReadResult } from './client/read.ts';
export { StorageNodeClient } from './node-api/client.ts';
export type { StorageNodeClientOptions } from './node-api/client.ts';
export type { StoredOnNodeStatus, SignedNodeMessage, ConfirmationKind, NodeBlobStatus } from './node-api/wire.ts';
export { placeBlob, pairForShard, shardForPair } from './protocol/placement.ts';
export { loadClientConfig, writeClientConfig, loadWallet } from './client/config.ts';
export type { ClientConfig } from './client/config.ts';

// --- a local network of processes (src/network/)
export { startDevNetwork } from './network/dev-network.ts';
export type { DevNetwork, DevNetworkOptions } from './network/dev-network.ts';
