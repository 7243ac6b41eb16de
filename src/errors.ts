/**
 * Tusk's error hierarchy. Callers branch on two questions: is it my input (fix and retry with
 * different arguments), or is it transient (retry the same call later)?
 */

/** Base class of every error Tusk throws on purpose. `retryable` tells whether retrying may help. */
export class TuskError extends Error {
  readonly retryable: boolean;
  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryable = options.retryable ?? false;
  }
}

/** Invalid arguments or input data (bad sizes, counts, shapes). Fatal: fix the input. */
export class TuskInputError extends TuskError {}

/** The data is larger than the encoding allows for this committee size. Fatal. */
export class BlobTooLargeError extends TuskInputError {
  readonly size: number;
  readonly maxSize: number;
  constructor(size: number, maxSize: number, nShards: number) {
    super(`blob of ${size} bytes exceeds the maximum of ${maxSize} bytes for n_shards = ${nShards}`);
    this.size = size;
    this.maxSize = maxSize;
  }
}

/** Metadata that does not hash to its blob ID or does not fit the committee. Fatal. */
export class MetadataVerificationError extends TuskError {}

/** A sliver that does not match the blob's metadata (wrong length, index, symbol size or hash). */
export class SliverVerificationError extends TuskError {
  readonly axis: string;
  readonly index: number;
  constructor(axis: string, index: number, message: string) {
    super(`${axis} sliver ${index}: ${message}`);
    this.axis = axis;
    this.index = index;
  }
}

/**
 * Too few valid slivers to decode. Retryable: more slivers (from other nodes) may arrive.
 * `rejected` lists the slivers that failed verification.
 */
export class NotEnoughSliversError extends TuskError {
  readonly rejected: readonly SliverVerificationError[];
  constructor(message: string, rejected: readonly SliverVerificationError[]) {
    super(message, { retryable: true });
    this.rejected = rejected;
  }
}

/**
 * Too few valid recovery symbols to rebuild a sliver. Retryable: other nodes may supply more.
 */
export class NotEnoughSymbolsError extends TuskError {
  constructor(message: string) {
    super(message, { retryable: true });
  }
}

/**
 * The decoded data is not consistent with the metadata: the writer encoded the blob
 * inconsistently. Fatal for this blob ID (it can be proven invalid with an inconsistency proof).
 */
export class InconsistentBlobError extends TuskError {}

/** A certificate or signature that does not verify, or too little signer weight. Fatal. */
export class CertificateError extends TuskError {}

/**
 * A chain call was rejected by the chain's rules (a Move assert). `code` is the abort constant's
 * name as in the `walrus` Move package (e.g. `EInvalidBlobId`, `EResourceSize`), or a Tusk name
 * for checks outside Move (`EInvalidSignature`, `EInsufficientFunds`, `ENotOwner`). Retryable only
 * where the state may change under the caller: a certificate for a past epoch (`EInvalidEpoch`
 * → recollect confirmations) or an epoch change in progress.
 */
export class ChainAbortError extends TuskError {
  readonly code: string;
  constructor(code: string, message: string, options: { retryable?: boolean } = {}) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** The chain could not be reached or did not answer in time. Retryable. */
export class ChainUnavailableError extends TuskError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: true, cause: options.cause });
  }
}

/**
 * A storage node answered with an error (the AIP-193 envelope of walrus-protocol.md §5) or could
 * not be reached. `status` is the HTTP status (0 when there was no answer), `reason` the ErrorInfo
 * reason (e.g. `NOT_REGISTERED`, `SLIVER_NOT_FOUND`). Retryable for no answer, 429, 5xx and the
 * reasons that mean "not yet" (the node has not seen the registration, or a long poll ran out).
 */
export class StorageNodeError extends TuskError {
  readonly status: number;
  readonly reason: string | null;
  readonly nodeUrl: string;
  constructor(
    nodeUrl: string,
    status: number,
    reason: string | null,
    message: string,
    options: { retryable?: boolean; cause?: unknown } = {},
  ) {
    super(`${nodeUrl}: ${status === 0 ? '' : `${status} `}${reason ? `${reason}: ` : ''}${message}`, options);
    this.status = status;
    this.reason = reason;
    this.nodeUrl = nodeUrl;
  }
}

/** Too few storage nodes confirmed a blob to reach a quorum. Retryable: nodes may come back. */
export class NotEnoughConfirmationsError extends TuskError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { retryable: true, cause: options.cause });
  }
}
