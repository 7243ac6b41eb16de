/**
 * Tusk's library entry point, the simple tier: encode and decode a blob (in memory, on the worker
 * pool, or streaming from and to files), store and read blobs through a network, and the errors
 * those calls throw. Everything else is one subpath away (package.json `exports`):
 *   tusk/codec    slivers, metadata, blob IDs, verification, recovery, Merkle proofs, BCS, encodings
 *   tusk/kernel   the WebAssembly kernels and the raw Reed–Solomon functions
 *   tusk/chain    the `Chain` interface, the embedded local chain, its server and client, transactions
 *   tusk/node     storage nodes, their REST API client and wire types, placement, signed messages
 *   tusk/network  a local network of processes (`tusk dev`) and the client's config files
 * Modules under src/ that no entry point re-exports are internal.
 */
export { encodeBlob, computeBlobMetadata } from './codec/encode.ts';
export type { EncodeOptions, EncodedBlob, EncodedMetadata } from './codec/encode.ts';
export { decodeBlob } from './codec/decode.ts';
export type { DecodeOptions } from './codec/decode.ts';
export { blobIdToString, blobIdFromString } from './codec/blob-id.ts';
export type { BlobId } from './codec/blob-id.ts';
export { encodeBlobAsync, computeBlobMetadataAsync } from './pool/async-codec.ts';
export type { EncodeAsyncOptions } from './pool/async-codec.ts';
export { CodecPool } from './pool/codec-pool.ts';
export type { CodecPoolOptions } from './pool/codec-pool.ts';
export { encodeStream } from './stream/encode-stream.ts';
export type { StreamEncodeOptions, EncodeProgress } from './stream/encode-stream.ts';
export { decodeDirectory } from './stream/decode-stream.ts';
export type { StreamDecodeOptions, DecodeProgress, DecodeDirectoryResult } from './stream/decode-stream.ts';
export { callbackSink } from './stream/sink.ts';
export type { SliverSink } from './stream/sink.ts';
export { directorySink } from './stream/sliver-dir.ts';
export type { DirectorySinkOptions } from './stream/sliver-dir.ts';
export type { BlobInput } from './stream/source.ts';
export { storeBlob, storeFile, BlobStoreFlow } from './client/store-blob.ts';
export type { StoreBlobOptions, StoreProgress, StoreResult } from './client/store-blob.ts';
export { readBlob, readBlobToFile } from './client/read-blob.ts';
export type { ReadBlobOptions, ReadProgress, ReadResult } from './client/read-blob.ts';
export { readBlobRange, readBlobRangeToFile } from './client/read-range.ts';
export type { ReadRange, ReadRangeOptions, ReadRangeResult } from './client/read-range.ts';
export {
  TuskError,
  TuskInputError,
  BlobTooLargeError,
  MetadataVerificationError,
  SliverVerificationError,
  NotEnoughSliversError,
  NotEnoughSymbolsError,
  InconsistentBlobError,
  CertificateError,
  ChainAbortError,
  ChainUnavailableError,
  StorageNodeError,
  NotEnoughConfirmationsError,
} from './errors.ts';
